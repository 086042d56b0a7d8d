// The two socket sides of a browser story, spoken from Node: a website visitor on the
// visitor socket (docs/protocol.md §5: hello, send with a client id, typing, receipts,
// profile, pages) and an agent on the agent socket (the owner's session by default),
// each keeping every frame it heard and waiting on the one a story expects.

import { randomUUID } from 'node:crypto';

// Node 22 has a global WebSocket; Node 20 has the same implementation (undici) as a module.
// The agent's socket sends a cookie, which only undici's constructor takes.
const { WebSocket: Undici } = await import('undici');
const Socket = globalThis.WebSocket ?? Undici;

/**
 * Every frame `ws` receives, in order, and `waitFor(match, what)`: the first frame
 * (already received or still to come) that `match` accepts, or an error naming `what`.
 */
function framesOf(ws, who) {
  const frames = [];
  const waiters = new Set();
  ws.addEventListener('message', (m) => {
    frames.push(JSON.parse(m.data));
    for (const w of waiters) w();
  });
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
        reject(new Error(`the ${who} timed out waiting for ${what}`));
      }, timeoutMs);
      if (!check()) waiters.add(check);
    });
  return { frames, waitFor };
}

function opened(ws, who) {
  return new Promise((resolve, reject) => {
    ws.addEventListener('open', resolve);
    ws.addEventListener('error', () => reject(new Error(`the ${who} socket did not open`)));
  });
}

/** Opens a visitor socket on `site` (its public key) and waits for `welcome`. */
export async function visitor(base, siteKey, token) {
  const ws = new Socket(`${base.replace(/^http/, 'ws')}/ws/visitor?site=${siteKey}`);
  const { frames, waitFor } = framesOf(ws, 'visitor');
  await opened(ws, 'visitor');
  const raw = (frame) => ws.send(JSON.stringify(frame));

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

/**
 * An agent's dashboard socket, signed in with `cookie` (the owner's session unless told),
 * so the team counts as online for visitors. Resolves once welcomed; `close()` goes offline.
 */
export async function agentSocket(server, { cookie = server.cookie } = {}) {
  const ws = new Undici(`${server.base.replace(/^http/, 'ws')}/ws/agent`, { headers: { cookie } });
  const { frames, waitFor } = framesOf(ws, 'agent');
  await opened(ws, 'agent');
  ws.send(JSON.stringify({ type: 'hello' }));
  await waitFor((f) => f.type === 'welcome', 'welcome');
  return {
    frames,
    waitFor,
    send: (frame) => ws.send(JSON.stringify(frame)),
    /** The bodies of the messages it heard, in order (the visitor's and the team's). */
    bodies: () => frames.filter((f) => f.type === 'event' && f.event.kind === 'message').map((f) => f.event.message.body),
    close: () => ws.close(),
  };
}
