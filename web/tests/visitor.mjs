// A website visitor for browser tests, speaking the visitor socket protocol from Node
// (docs/protocol.md §5): hello, send with a client id, typing, receipts, profile.

import { randomUUID } from 'node:crypto';

// Node 22 has a global WebSocket; Node 20 has the same implementation (undici) as a module.
const Socket = globalThis.WebSocket ?? (await import('undici')).WebSocket;

/** Opens a visitor socket on `site` (its public key) and waits for `welcome`. */
export async function visitor(base, siteKey, token) {
  const ws = new Socket(`${base.replace(/^http/, 'ws')}/ws/visitor?site=${siteKey}`);
  const frames = [];
  const waiters = new Set();
  ws.onmessage = (m) => {
    const frame = JSON.parse(m.data);
    frames.push(frame);
    for (const w of waiters) w();
  };
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error('the visitor socket did not open'));
  });
  const raw = (frame) => ws.send(JSON.stringify(frame));

  /** The first frame (already received or still to come) that `match` accepts. */
  const waitFor = (match, what, timeoutMs = 10_000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const found = frames.find(match);
        if (!found) return false;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`the visitor timed out waiting for ${what}`));
      }, timeoutMs);
      if (!check()) waiters.add(check);
    });

  raw({ type: 'hello', ...(token ? { token } : {}) });
  const welcome = await waitFor((f) => f.type === 'welcome', 'welcome');
  let conversationId = welcome.conversations[0]?.id ?? null;
  return {
    frames,
    token: welcome.token,
    contactId: welcome.contact_id,
    get conversationId() {
      return conversationId;
    },
    waitFor,
    /** Sends a message (starting a conversation the first time) and waits for its ack. */
    async say(body) {
      const client_id = randomUUID();
      raw({ type: 'send', client_id, body, ...(conversationId ? { conversation_id: conversationId } : {}) });
      const ack = await waitFor((f) => f.type === 'ack' && f.client_id === client_id, `the ack of "${body}"`);
      conversationId = ack.conversation_id;
      return ack;
    },
    /** Starts a new conversation (a send without `conversation_id`) and waits for its ack. */
    start: (client_id, body) => {
      raw({ type: 'send', client_id, body });
      return waitFor((f) => f.type === 'ack' && f.client_id === client_id, `the ack of ${client_id}`, 60_000);
    },
    send: raw,
    profile: (details) => raw({ type: 'profile', ...details }),
    page: (url, title) => raw({ type: 'page', url, title }),
    typing: (typing) => raw({ type: 'typing', conversation_id: conversationId, typing }),
    read: (upToSeq) => raw({ type: 'receipt', conversation_id: conversationId, kind: 'read', up_to_seq: upToSeq }),
    /** Agent messages this visitor received, in order. */
    replies: () => frames.filter((f) => f.type === 'event' && f.event.kind === 'message' && f.event.actor.kind === 'agent').map((f) => f.event.message.body),
    close: () => ws.close(),
  };
}
