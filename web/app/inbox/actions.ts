// What an agent does to a conversation: claim, transfer, assign, resolve, reopen,
// snooze, priority and labels. Each is one REST call; the server records it as a system event that reaches
// the transcript over the socket. A failure is shown as a toast in the agent's language.

import { signal } from '@preact/signals';
import { ApiError, type Schemas, call, client } from '../api';
import { errorText, t } from '../i18n';
import { me } from '../session';
import { type Conversation, type Priority, type Status, agentName, fetchConversation } from './store';

/** The last thing that went wrong (or was done), shown as a toast. */
export const toast = signal<{ text: string; error: boolean; at: number } | null>(null);

export function say(text: string, error = false) {
  toast.value = { text, error, at: Date.now() };
}

async function act(request: Promise<{ data?: Schemas['ChangeResult']; error?: unknown; response: Response }>) {
  try {
    return await call(request);
  } catch (e) {
    say(errorText(e instanceof ApiError ? e.code : 'internal'), true);
    return null;
  }
}

const path = (id: string) => ({ params: { path: { id } } });

export function assign(id: string, agentId: string | null, teamId: string | null = null) {
  return act(client.PUT('/api/v1/conversations/{id}/assignee', { ...path(id), body: { agent_id: agentId, team_id: teamId } }));
}

export function assignToMe(id: string) {
  return assign(id, me.value?.agent.id ?? null);
}

/**
 * Takes a waiting conversation: the first claim wins. A lost race is no failure of the
 * agent's, so it says kindly who was quicker (read again from the server, which knows).
 */
export async function claim(id: string): Promise<Conversation | null> {
  try {
    return await call(client.POST('/api/v1/conversations/{id}/claim', path(id)));
  } catch (e) {
    if (e instanceof ApiError && e.code === 'already_assigned') {
      const now = await fetchConversation(id);
      if (now?.assignee_id && now.assignee_id === me.value?.agent.id) say(t('inbox.claim.yours'));
      else {
        const winner = agentName(now?.assignee_id);
        say(winner ? t('inbox.claim.lost', { name: winner }) : t('inbox.claim.lostSomeone'));
      }
    } else {
      say(errorText(e instanceof ApiError ? e.code : 'internal'), true);
    }
    return null;
  }
}

export type TransferTarget = { agent_id: string } | { team_id: string };

/** Hands the conversation to an agent or a team, with a note only the team reads. */
export async function transfer(id: string, to: TransferTarget, note: string): Promise<ApiError | null> {
  try {
    await call(client.POST('/api/v1/conversations/{id}/transfer', { ...path(id), body: { ...to, note: note.trim() || null } }));
    return null;
  } catch (e) {
    return e instanceof ApiError ? e : new ApiError(0, 'internal', String(e));
  }
}

export function setStatus(id: string, status: Status, snoozedUntil: number | null = null) {
  return act(client.PUT('/api/v1/conversations/{id}/status', { ...path(id), body: { status, snoozed_until: snoozedUntil } }));
}

export function setPriority(id: string, priority: Priority) {
  return act(client.PUT('/api/v1/conversations/{id}/priority', { ...path(id), body: { priority } }));
}

export function setLabels(id: string, labels: string[]) {
  return act(client.PUT('/api/v1/conversations/{id}/labels', { ...path(id), body: { labels } }));
}

/** Snooze presets: later today (+3 h), tomorrow 09:00, next week (Monday 09:00). */
export function snoozePresets(now = new Date()): { key: string; at: number }[] {
  const tomorrow = new Date(now);
  tomorrow.setDate(now.getDate() + 1);
  tomorrow.setHours(9, 0, 0, 0);
  const monday = new Date(now);
  monday.setDate(now.getDate() + (((8 - now.getDay()) % 7) || 7));
  monday.setHours(9, 0, 0, 0);
  return [
    { key: 'later', at: now.getTime() + 3 * 3600_000 },
    { key: 'tomorrow', at: tomorrow.getTime() },
    { key: 'nextWeek', at: monday.getTime() },
  ];
}
