// Who is signed in. `me` is `undefined` while the first `GET /me` runs, `null` when no one
// is signed in, and the agent and workspace otherwise.

import { computed, signal } from '@preact/signals';
import { ApiError, type Schemas, call, client, setCsrf, whenSignedOut } from './api';

export const me = signal<Schemas['Me'] | null | undefined>(undefined);
export const isAdmin = computed(() => me.value?.agent.role === 'owner' || me.value?.agent.role === 'admin');

function remember(who: Schemas['Me'] | null) {
  setCsrf(who?.csrf_token);
  me.value = who;
}

whenSignedOut(() => remember(null));

/** True while the first `GET /me` cannot reach the server (offline, or the server down). */
export const unreachable = signal(false);

/**
 * Asks the server who the session belongs to (at start). Only the server's answer says
 * the session is gone: an installed app opened offline, or a server that does not answer,
 * waits and asks again instead of sending a signed-in agent to the login page.
 */
export async function restore() {
  clearTimeout(retry);
  try {
    remember(await call(client.GET('/api/v1/me')));
    unreachable.value = false;
    retryDelay = 2000;
  } catch (e) {
    if (e instanceof ApiError && (e.status === 0 || e.status >= 500)) {
      // A server that is down fires no `online` event: ask again, less and less often.
      unreachable.value = true;
      retry = setTimeout(() => void restore(), retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30_000);
      return;
    }
    unreachable.value = false;
    remember(null);
  }
}
let retry: ReturnType<typeof setTimeout> | undefined;
let retryDelay = 2000;
addEventListener('online', () => {
  if (unreachable.value) void restore();
});

/**
 * The password step. Signed in, it returns `null`; an agent with two-factor sign-in
 * gets the challenge to send with a code to `signInWithCode`.
 */
export async function signIn(email: string, password: string): Promise<Schemas['TwoFactorChallenge'] | null> {
  const answer = await call(client.POST('/api/v1/sessions', { body: { email, password } }));
  if ('challenge' in answer) return answer;
  remember(answer);
  return null;
}

/** The second step: a code from the authenticator app, or a recovery code. */
export async function signInWithCode(challenge: string, code: string) {
  remember(await call(client.POST('/api/v1/sessions/two-factor', { body: { challenge, code } })));
}

/**
 * Accepts an invitation: the new agent is signed in as a password sign-in would sign
 * them in (a workspace that requires two-factor sign-in asks them to set it up first).
 */
export async function acceptInvitation(token: string, body: Schemas['AcceptInvitation']) {
  remember(await call(client.POST('/api/v1/invitations/{token}', { params: { path: { token } }, body })));
}

/** After enrolling while the workspace required it, the session may do everything. */
export function enrolled() {
  if (me.value) me.value = { ...me.value, two_factor_setup_required: false };
}

export async function signOut() {
  try {
    await call(client.DELETE('/api/v1/sessions/current'));
  } finally {
    remember(null);
  }
}
