// The dashboard's one agent WebSocket: says hello with the feed cursor it holds, replays
// what it missed, and reconnects by itself (backoff with jitter) after a cut, a server
// restart, a `reconnect` frame, the browser coming back online or the tab waking up.
// It never reloads the page; the inbox reads `connection` to show "reconnecting".
//
// Invariant: the cursor moves only on `event` and `caught_up` (protocol §9), and an event
// at or below it is dropped, so nothing is applied twice across sockets.

import { signal } from '@preact/signals';
import type { Schemas } from '../api';

export type AgentIn = Schemas['AgentIn'];
export type AgentOut = Schemas['AgentOut'];
export type LiveEvent = Schemas['Event'];

/** `connecting` before the first welcome; `live` once caught up; `reconnecting` after a cut. */
export type Connection = 'connecting' | 'catching_up' | 'live' | 'reconnecting';

export const connection = signal<Connection>('connecting');
/** Milliseconds until the next attempt while reconnecting (for the banner). */
export const retryAt = signal<number | null>(null);

type Handler = (frame: AgentOut) => void;
const handlers = new Set<Handler>();

const CURSOR_KEY = 'sb.feed_seq';
let cursor: number | null = null;
let socket: WebSocket | null = null;
let attempt = 0;
let timer: ReturnType<typeof setTimeout> | undefined;
let started = false;
/** Sends waiting for a socket (a reply typed while the network was down). */
const queue: AgentIn[] = [];

/** The highest `feed_seq` applied (for tests and for the first load). */
export function feedCursor(): number | null {
  return cursor;
}

/**
 * The last `welcome` and `queues`: they describe the present (who is online, the queues)
 * and come once per socket, so a screen that subscribes after the socket opened (the
 * shell opens it at sign-in for the visitor count; the inbox's chunk loads later) is
 * handed them first.
 */
const present = new Map<'welcome' | 'queues', AgentOut>();

/**
 * Runs `handler` for every frame the server sends, in order, starting with the socket's
 * last `welcome` and `queues` if they came already; returns the unsubscribe.
 */
export function onFrame(handler: Handler): () => void {
  handlers.add(handler);
  for (const frame of present.values()) handler(frame);
  return () => handlers.delete(handler);
}

/** Sends a frame now if the socket is live, else when it is (a `send` is idempotent). */
export function send(frame: AgentIn): boolean {
  if (socket?.readyState === WebSocket.OPEN && connection.value !== 'reconnecting') {
    socket.send(JSON.stringify(frame));
    return true;
  }
  if (frame.type === 'send' || frame.type === 'read') queue.push(frame);
  return false;
}

/** Sends a frame only if the socket is open right now (typing: stale news is worthless). */
export function sendNow(frame: AgentIn) {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
}

/** Opens the socket once for the page; later calls do nothing. */
export function startLive() {
  if (started) return;
  started = true;
  const saved = sessionStorage.getItem(CURSOR_KEY);
  // A cursor from this tab's previous page is only useful with the state it described,
  // which a page load has thrown away: the lists reload from REST, so start from now.
  if (saved) sessionStorage.removeItem(CURSOR_KEY);
  addEventListener('online', () => reconnectSoon(0));
  watchActivity();
  document.addEventListener('visibilitychange', () => {
    // After a laptop sleep the socket may look open while dead; a ping proves it.
    if (document.visibilityState === 'visible') probe();
  });
  connect();
}

/** The server shows an idle agent as away (the workspace's auto-away, protocol §11). */
const ACTIVITY_EVERY_MS = 60_000;
let lastActivity = 0;

/** Tells the server, at most once a minute, that the person is using the page: any key,
 * click, touch, scroll or the tab coming to the front. A new socket counts by itself. */
function watchActivity() {
  const used = () => {
    const now = Date.now();
    if (now - lastActivity < ACTIVITY_EVERY_MS || socket?.readyState !== WebSocket.OPEN) return;
    lastActivity = now;
    socket.send(JSON.stringify({ type: 'activity' } satisfies AgentIn));
  };
  for (const kind of ['keydown', 'pointerdown', 'wheel', 'touchstart', 'focus'] as const) {
    addEventListener(kind, used, { passive: true, capture: true });
  }
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') used();
  });
}

function url(): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws/agent`;
}

let probeTimer: ReturnType<typeof setTimeout> | undefined;
/** Pings the server; no pong within 5 s means the socket is dead, so reconnect. */
function probe() {
  if (!socket || socket.readyState !== WebSocket.OPEN) return reconnectSoon(0);
  clearTimeout(probeTimer);
  socket.send(JSON.stringify({ type: 'ping' } satisfies AgentIn));
  probeTimer = setTimeout(() => socket?.close(), 5000);
}

function connect() {
  clearTimeout(timer);
  retryAt.value = null;
  const ws = new WebSocket(url());
  socket = ws;
  ws.onopen = () => {
    const hello: AgentIn = cursor === null ? { type: 'hello' } : { type: 'hello', after_feed_seq: cursor };
    ws.send(JSON.stringify(hello));
  };
  ws.onmessage = (message) => {
    if (ws !== socket) return;
    let frame: AgentOut;
    try {
      frame = JSON.parse(String(message.data)) as AgentOut;
    } catch {
      return;
    }
    receive(ws, frame);
  };
  ws.onclose = () => {
    if (ws !== socket) return;
    socket = null;
    clearTimeout(probeTimer);
    connection.value = 'reconnecting';
    reconnectSoon(backoff());
  };
}

function receive(ws: WebSocket, frame: AgentOut) {
  switch (frame.type) {
    case 'welcome':
      connection.value = 'catching_up';
      // Opening a socket counts as activity on the server: the next minute is covered.
      lastActivity = Date.now();
      break;
    case 'event': {
      const seq = frame.event.feed_seq;
      if (typeof seq === 'number') {
        if (cursor !== null && seq <= cursor) return; // already applied (replay after a cut)
        cursor = seq;
        sessionStorage.setItem(CURSOR_KEY, String(seq));
      }
      break;
    }
    case 'caught_up':
      if (cursor === null || frame.feed_seq > cursor) cursor = frame.feed_seq;
      attempt = 0;
      connection.value = 'live';
      // Sends typed while away go out now; a repeated `client_id` is answered, not stored twice.
      for (const queued of queue.splice(0)) ws.send(JSON.stringify(queued));
      break;
    case 'pong':
      clearTimeout(probeTimer);
      break;
    case 'reconnect':
      // The server is going away (restart) or we fell behind: come back after its delay.
      socket = null;
      connection.value = 'reconnecting';
      ws.close();
      reconnectSoon(frame.retry_after_ms + jitter(frame.retry_after_ms));
      break;
  }
  if (frame.type === 'welcome' || frame.type === 'queues') present.set(frame.type, frame);
  for (const handler of handlers) handler(frame);
}

function jitter(base: number): number {
  return Math.round(Math.random() * Math.max(250, base * 0.5));
}

/** 0.5 s, 1 s, 2 s … up to 15 s, each with random jitter so a restart is not stormed. */
function backoff(): number {
  const base = Math.min(15_000, 500 * 2 ** attempt);
  attempt += 1;
  return base + jitter(base);
}

function reconnectSoon(delay: number) {
  if (socket && socket.readyState <= WebSocket.OPEN) return;
  clearTimeout(timer);
  retryAt.value = Date.now() + delay;
  timer = setTimeout(connect, delay);
}
