// The dashboard's REST client: typed by the OpenAPI document (`generated/api.ts`), with
// the session's CSRF header on every unsafe request and one error type for every failure.

import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from '../generated/api';

export type Schemas = components['schemas'];
export type ErrorCode = Schemas['ErrorCode'];

/** A failed call: the server's code (or `unavailable` when it could not be reached). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly fields: Schemas['FieldError'][] = [],
  ) {
    super(message);
  }
}

let csrf: string | null = null;
/** Remembers the CSRF token of the session (from sign-in or `GET /me`). */
export function setCsrf(token: string | null | undefined) {
  csrf = token ?? null;
}

/** Called when a request answers 401: the session ended (signed out elsewhere, expired). */
let onSignedOut: () => void = () => {};
export function whenSignedOut(handler: () => void) {
  onSignedOut = handler;
}

const headers: Middleware = {
  onRequest({ request }) {
    if (csrf && !['GET', 'HEAD'].includes(request.method)) request.headers.set('x-csrf-token', csrf);
    return request;
  },
};

export const client = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });
client.use(headers);

/**
 * The body of a successful answer, or an `ApiError`. Use as
 * `await call(client.GET('/api/v1/conversations', { params: { query } }))`.
 */
export async function call<T>(request: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let answer: { data?: T; error?: unknown; response: Response };
  try {
    answer = await request;
  } catch {
    throw new ApiError(0, 'unavailable', 'the server could not be reached');
  }
  const { data, error, response } = answer;
  if (response.ok) return data as T;
  const body = (error ?? {}) as Partial<Schemas['ErrorBody']>;
  const failure = new ApiError(response.status, body.code ?? 'internal', body.message ?? response.statusText, body.fields ?? []);
  // Only a session that ended signs the agent out, not a wrong password or code.
  const stillSignedIn: ErrorCode[] = ['invalid_credentials', 'two_factor_code_invalid', 'token_expired'];
  if (response.status === 401 && !stillSignedIn.includes(failure.code)) onSignedOut();
  throw failure;
}
