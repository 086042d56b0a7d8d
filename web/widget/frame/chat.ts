// The visitor's side of the conversation, as signals the UI reads: one WebSocket per
// browser (shared by the tabs showing this site's chat, see `share`) that resumes from
// its cursors after any drop, an outbox keyed by `client_id` (a retry is
// idempotent on the server, so a message typed while offline is stored exactly once, in
// order), read marks that come from the server (so every tab agrees on "unread"), and
// the page's requests (identify, attributes, page views) sent once the socket is up.
//
// It knows nothing of the DOM; `ui.tsx` draws these signals and calls the functions here.

import { batch, computed, effect, signal } from '@preact/signals';
import type { components } from '../../generated/api';
import { solve } from './pow';
import type { PageView } from '../bridge';

type S = components['schemas'];
export type Event = S['Event'];
export type Message = S['Message'];
export type PublicSite = S['PublicSite'];
export type WidgetSite = S['WidgetSite'];
export type PublicAgent = S['PublicAgent'];
export type Attachment = S['Attachment'];
export type VisitorConversation = S['VisitorConversation'];
type VisitorIn = S['VisitorIn'];
type VisitorOut = S['VisitorOut'];
export type ErrorCode = S['ErrorCode'];

/** One line of the transcript as the visitor sees it. */
export interface Line {
  key: string;
  seq: number | null;
  mine: boolean;
  body: string;
  format: 'text' | 'markdown';
  attachments: Attachment[];
  at: number;
  author: PublicAgent | null;
  /** Only for the visitor's own messages. */
  state?: 'sending' | 'sent' | 'delivered' | 'seen' | 'failed';
  /** Why a send failed, when the server said. */
  error?: ErrorCode;
  /** The automatic reply outside business hours (`outside_hours`): when the team is back. */
  closedUntil?: { reopensAt: number | null };
}

interface Pending {
  client_id: string;
  body: string;
  attachments: Attachment[];
  at: number;
  failed: ErrorCode | null;
  /** Sent on the current socket and not yet answered. */
  inFlight: boolean;
  /** `rate_limited`: not sent again before this time (ms since the epoch). */
  notBefore?: number;
  /** The site asked for a proof of work: being solved (`null`) or solved. */
  pow?: S['PowSolution'] | null;
}

export type Link = 'connecting' | 'online' | 'reconnecting' | 'offline';

// --- state the UI reads --------------------------------------------------------------
export const site = signal<PublicSite | null>(null);
export const agents = signal<PublicAgent[]>([]);
export const agentsOnline = signal<number | null>(null);
export const link = signal<Link>('connecting');
/** A server error to show at the top (an expired token, a refused origin…). */
export const notice = signal<ErrorCode | null>(null);
/** The workspace banned this visitor: the chat says so once and stops connecting. */
export const banned = signal(false);
export const conversation = signal<VisitorConversation | null>(null);
const events = signal<Map<number, Event>>(new Map());
const pending = signal<Pending[]>([]);
export const agentTyping = signal<PublicAgent | null>(null);
export const historyLoaded = signal(false);
/** The conversation was resolved (and the visitor has not written since). */
export const resolved = computed(() => conversation.value?.status === 'resolved');
/** The panel is on screen (always, on the chat page): only then are messages read. */
export const visible = signal(true);
export const identified = signal(false);
/** The visitor's read mark as the server last told this tab (`read_mark`, on every tab). */
const readMark = signal(0);
/** The transcript was requested for this conversation. */
export const transcriptRequested = signal(false);
/** The visitor's place in line while the conversation waits for an agent (`queue` frames). */
export const queue = signal<{ position: number; estimate: number | null } | null>(null);
/** The conversation waited longer than the team allows: the offline form is offered. */
export const queueTimedOut = signal(false);

/** The team the visitor picked in the pre-chat form (one of `site.teams`), sent with the
 * `send` that starts a conversation. */
export const chosenTeam = signal<string | null>(null);

/** What the visitor's read mark and the team's marks say, from receipt events. */
const marks = computed(() => {
  const c = conversation.value;
  let visitorRead = Math.max(c?.visitor_read_seq ?? 0, readMark.value);
  let agentRead = c?.agent_read_seq ?? 0;
  let agentDelivered = agentRead;
  for (const e of events.value.values()) {
    if (e.kind !== 'receipt') continue;
    if (e.side === 'visitor' && e.receipt === 'read') visitorRead = Math.max(visitorRead, e.up_to_seq);
    if (e.side === 'agent') {
      agentDelivered = Math.max(agentDelivered, e.up_to_seq);
      if (e.receipt === 'read') agentRead = Math.max(agentRead, e.up_to_seq);
    }
  }
  return { visitorRead, agentRead, agentDelivered };
});

export const lines = computed<Line[]>(() => {
  const m = marks.value;
  const byId = new Map(agents.value.map((a) => [a.id, a]));
  const out: Line[] = [];
  const acked = new Set<string>();
  for (const e of [...events.value.values()].sort((a, b) => a.seq - b.seq)) {
    if (e.kind === 'outside_hours') {
      const closedUntil = { reopensAt: e.reopens_at ?? null };
      out.push({ key: `hours-${e.seq}`, seq: e.seq, mine: false, body: '', format: 'text', attachments: [], at: e.at, author: null, closedUntil });
      continue;
    }
    if (e.kind !== 'message') continue;
    const msg = e.message;
    const mine = msg.author.kind === 'contact';
    if (msg.client_id) acked.add(msg.client_id);
    out.push({
      key: msg.client_id ?? msg.id,
      seq: e.seq,
      mine,
      body: msg.body,
      format: msg.format,
      attachments: msg.attachments,
      at: msg.created_at,
      author: mine ? null : (byId.get(msg.author.id ?? '') ?? null),
      state: mine ? (m.agentRead >= e.seq ? 'seen' : m.agentDelivered >= e.seq ? 'delivered' : 'sent') : undefined,
    });
  }
  for (const p of pending.value) {
    if (acked.has(p.client_id)) continue;
    out.push({
      key: p.client_id,
      seq: null,
      mine: true,
      body: p.body,
      format: 'text',
      attachments: p.attachments,
      at: p.at,
      author: null,
      state: p.failed ? 'failed' : 'sending',
      ...(p.failed ? { error: p.failed } : {}),
    });
  }
  return out;
});

/** The visitor's rating of the conversation, once given (a `conversation_rated` event). */
export const rating = computed(() => {
  let last: { score: number; comment: string | null } | null = null;
  for (const e of events.value.values()) if (e.kind === 'conversation_rated') last = { score: e.score, comment: e.comment ?? null };
  return last;
});

/** Team messages after the visitor's read mark: the badge, in every tab alike. */
export const unread = computed(() => {
  const read = marks.value.visitorRead;
  return lines.value.filter((l) => !l.mine && !l.closedUntil && l.seq !== null && l.seq > read);
});

// --- wiring --------------------------------------------------------------------------
export interface Options {
  base: string;
  siteKey: string;
  /** The stored token (host page's storage for the widget, ours for the chat page). */
  token: string | null;
  saveToken(token: string): void;
  /** Told when the visitor starts or changes conversation. */
  onConversation(id: string): void;
  onEvent(name: 'message' | 'conversation_started' | 'conversation_resolved', data: unknown): void;
  /** An agent or a rule invites the visitor: the loader shows it beside the launcher. */
  onInvitation(invitation: S['Invitation']): void;
}

let opts: Options;
let ws: WebSocket | null = null;
let welcomed = false;
let backoff = 500;
/** A `hello` refused as `rate_limited` says how long to wait before the next socket. */
let helloNotBefore = 0;
let flushTimer: ReturnType<typeof setTimeout> | undefined;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let pingTimer: ReturnType<typeof setInterval> | undefined;
let pongDeadline: ReturnType<typeof setTimeout> | undefined;
let typingTimer: ReturnType<typeof setTimeout> | undefined;
let cursor = 0;
/** Frames the page asked for before the socket was up (profile, identify, track). */
const later: VisitorIn[] = [];
/**
 * The page's consent and its current page, sent again first on every new socket: the
 * server holds consent per socket, and counts a socket as a tab from its first page.
 */
let consented = false;
let lastPage: Extract<VisitorIn, { type: 'page' }> | null = null;
/**
 * The page view a `pong` after it showed the server had read (or the loader's socket had
 * reported, `PageView.again`): a new socket of this page load (a reconnect after a dropped
 * network or a sleep, however long) says it `again`, and the server records it once.
 */
let told = '';
/** The page view sent last; told once a `pong` comes after it. */
let telling = '';
/** The invitation the visitor opened: the `send` that starts the conversation answers it. */
export const invitation = signal<S['Invitation'] | null>(null);
let identity: VisitorIn | null = null;

/** This tab holds the socket; the others reach the server through it (see `share`). */
let leading = true;
let channel: BroadcastChannel | null = null;
const tab = uuid();
/** The socket's last `welcome`, to bring a tab that joins later up to date. */
let lastWelcome: Extract<VisitorOut, { type: 'welcome' }> | null = null;
/** The `identify` sent on this socket: every tab's page may ask for the same one. */
let sentIdentity = '';

/** What the tabs sharing one socket tell each other. */
type Peer =
  /** A tab that joins (or was told to refresh) asks the leading tab for the state. */
  | { k: 'hello'; from: string }
  /** The leading tab passes on what the server said, to every tab or to one (`to`). */
  | { k: 'frame'; frame: VisitorOut; to?: string }
  /** A frame of another tab for the server. */
  | { k: 'send'; frame: VisitorIn }
  /** The leading tab's connection. */
  | { k: 'link'; link: Link };

const peer = (m: Peer) => channel?.postMessage(m);

export function start(options: Options) {
  opts = options;
  keepOutbox(`switchboard-outbox:${options.siteKey}`);
  addEventListener('online', () => connect());
  addEventListener('offline', () => {
    link.value = 'offline';
    ws?.close();
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') {
      markRead();
      if (!ws) connect();
    }
  });
  share();
}

/**
 * One socket per browser: the tabs showing this site's chat share the socket of the one
 * holding the Web Lock `switchboard:<site>`, and the others reach the server through it
 * over a BroadcastChannel of the same name. Both are partitioned by the top-level site,
 * so the tabs sharing are exactly the tabs of this website. The leading tab passes on
 * every frame the server sends (a tab takes what concerns it: events by conversation, acks
 * by `client_id`); when it goes, the next tab in the lock's queue connects and resumes
 * from its own cursor. Where either API is missing, every tab has its own socket.
 */
function share() {
  const name = `switchboard:${opts.siteKey}`;
  if (!navigator.locks || typeof BroadcastChannel !== 'function') return connect();
  leading = false;
  channel = new BroadcastChannel(name);
  channel.onmessage = (m: MessageEvent) => fromPeer(m.data as Peer);
  effect(() => {
    const now = link.value;
    if (leading) peer({ k: 'link', link: now });
  });
  void navigator.locks.request(name, () => {
    leading = true;
    // The tabs that counted on the last leader send nothing until this socket is welcomed.
    peer({ k: 'link', link: 'reconnecting' });
    connect();
    // Held for as long as this tab shows the chat.
    return new Promise<never>(() => {});
  });
  peer({ k: 'hello', from: tab });
}

function fromPeer(m: Peer) {
  if (leading) {
    if (m.k === 'send') {
      const frame = m.frame.type === 'identify' ? JSON.stringify(m.frame) : null;
      if (frame === null || frame !== sentIdentity) send(m.frame);
    } else if (m.k === 'hello' && welcomed && lastWelcome) {
      const c = conversation.value;
      peer({ k: 'frame', to: m.from, frame: { ...lastWelcome, token: opts.token ?? lastWelcome.token, conversations: c ? [c] : lastWelcome.conversations } });
    }
    return;
  }
  if (m.k === 'link') {
    link.value = m.link;
    if (m.link !== 'online') {
      welcomed = false;
      for (const p of pending.value) p.inFlight = false;
    }
  } else if (m.k === 'frame' && (!m.to || m.to === tab)) {
    receive(m.frame, false);
  }
}

/** Drops the socket and connects again (another tab started a conversation, a new token). */
export function reconnect(token?: string | null) {
  if (token !== undefined) opts.token = token;
  if (!leading) return peer({ k: 'hello', from: tab });
  ws?.close();
  connect();
}

function connect() {
  clearTimeout(retryTimer);
  if (!leading) return;
  if (banned.value) return;
  if (ws && ws.readyState <= WebSocket.OPEN) return;
  if (!navigator.onLine) {
    link.value = 'offline';
    return;
  }
  const url = new URL(`/ws/visitor?site=${encodeURIComponent(opts.siteKey)}`, opts.base);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const socket = new WebSocket(url);
  ws = socket;
  welcomed = false;
  sentIdentity = '';
  socket.onopen = () => {
    const c = conversation.value;
    send({ type: 'hello', token: opts.token, resume: c && cursor ? [{ conversation_id: c.id, after_seq: cursor }] : [] });
  };
  socket.onmessage = (m) => {
    try {
      const frame = JSON.parse(m.data as string) as VisitorOut;
      peer({ k: 'frame', frame });
      receive(frame, true);
    } catch (e) {
      console.error('switchboard: a frame could not be handled', e);
    }
  };
  socket.onclose = () => {
    if (ws !== socket) return;
    ws = null;
    welcomed = false;
    clearInterval(pingTimer);
    clearTimeout(pongDeadline);
    for (const p of pending.value) p.inFlight = false;
    if (banned.value) return;
    link.value = navigator.onLine ? 'reconnecting' : 'offline';
    if (!navigator.onLine) return;
    // Exponential backoff with jitter, so visitors cut off together do not return together.
    retryTimer = setTimeout(connect, Math.max(helloNotBefore - Date.now(), backoff * (0.5 + Math.random())));
    backoff = Math.min(backoff * 2, 15_000);
  };
}

function send(frame: VisitorIn): boolean {
  if (!leading) {
    if (!welcomed) return false;
    peer({ k: 'send', frame });
    return true;
  }
  if (!ws || ws.readyState !== WebSocket.OPEN) return false;
  const text = JSON.stringify(frame);
  if (frame.type === 'identify') sentIdentity = text;
  ws.send(text);
  return true;
}

/** Sends `frame` now if the socket is welcomed, else once it is. */
function sendOrQueue(frame: VisitorIn) {
  if (!(welcomed && send(frame))) later.push(frame);
}

/** A frame from the server: on this tab's socket (`own`), or passed on by the leading tab. */
function receive(f: VisitorOut, own: boolean) {
  switch (f.type) {
    case 'welcome': {
      welcomed = true;
      lastWelcome = f;
      backoff = 500;
      opts.token = f.token;
      opts.saveToken(f.token);
      batch(() => {
        site.value = f.site;
        agents.value = f.agents;
        agentsOnline.value = f.agents_online;
        link.value = 'online';
        if (notice.value === 'unavailable') notice.value = null;
        adopt(f.conversations);
      });
      if (consented) send({ type: 'consent', granted: true });
      sendPage();
      if (identity) send(identity);
      for (const frame of later.splice(0)) send(frame);
      flush();
      if (own)
        pingTimer = setInterval(() => {
        if (!send({ type: 'ping' })) return;
        clearTimeout(pongDeadline);
        pongDeadline = setTimeout(() => ws?.close(), 10_000);
      }, 25_000);
      break;
    }
    case 'pong':
      clearTimeout(pongDeadline);
      if (telling) told = telling;
      break;
    case 'ack':
      settle(f.client_id, f.conversation_id);
      break;
    case 'event':
      take([f.event]);
      break;
    case 'history':
      take(f.events);
      historyLoaded.value = true;
      break;
    case 'caught_up':
      if (f.conversation_id === conversation.value?.id) cursor = Math.max(cursor, f.seq);
      break;
    case 'typing':
      agentTyping.value = f.typing ? (agents.value.find((a) => a.id === f.actor.id) ?? { id: '', name: '' }) : null;
      clearTimeout(typingTimer);
      if (f.typing) typingTimer = setTimeout(() => (agentTyping.value = null), 6_000);
      break;
    case 'identified':
      opts.token = f.token;
      opts.saveToken(f.token);
      identified.value = true;
      batch(() => {
        events.value = new Map();
        cursor = 0;
        adopt(f.conversations);
      });
      break;
    case 'error':
      if ((f.code === 'pow_required' || f.code === 'pow_invalid') && f.pow && prove(f.ref ?? null, f.pow)) break;
      failed(f.code, f.ref ?? null, f.retry_after_ms ?? null);
      break;
    case 'read_mark':
      if (f.conversation_id === conversation.value?.id) readMark.value = Math.max(readMark.value, f.up_to_seq);
      break;
    case 'transcript_requested':
      if (f.conversation_id === conversation.value?.id) transcriptRequested.value = true;
      break;
    case 'queue':
      // The first message's `queue` may come before its `ack` names the conversation.
      if (conversation.value && f.conversation_id !== conversation.value.id) break;
      queue.value = f.position > 0 ? { position: f.position, estimate: f.estimated_wait_seconds ?? null } : null;
      break;
    case 'queue_timeout':
      if (conversation.value && f.conversation_id !== conversation.value.id) break;
      queue.value = null;
      queueTimedOut.value = true;
      break;
    case 'invitation':
      opts.onInvitation(f.invitation);
      break;
    case 'reconnect':
      clearTimeout(retryTimer);
      backoff = Math.max(500, f.retry_after_ms);
      break;
  }
}

/** Takes the newest of the visitor's conversations as the current one, and its history. */
function adopt(list: VisitorConversation[]) {
  const newest = [...list].sort((a, b) => b.created_at - a.created_at)[0] ?? null;
  const before = conversation.value?.id;
  conversation.value = newest;
  if (!newest) {
    historyLoaded.value = true;
    return;
  }
  if (newest.id !== before) {
    events.value = new Map();
    cursor = 0;
    readMark.value = 0;
    transcriptRequested.value = false;
    queue.value = null;
    queueTimedOut.value = false;
    opts.onConversation(newest.id);
  }
  // A page load (or a new socket on a conversation we hold no events of) reads the
  // transcript; a resume got what it missed from its cursor already.
  if (events.value.size === 0) send({ type: 'history', conversation_id: newest.id, after_seq: 0, limit: 200 });
  else historyLoaded.value = true;
}

function take(list: Event[]) {
  const c = conversation.value;
  if (!c) return;
  const next = new Map(events.value);
  let newTeamMessage: Message | null = null;
  for (const e of list) {
    if (e.conversation_id !== c.id || next.has(e.seq)) continue;
    next.set(e.seq, e);
    cursor = Math.max(cursor, e.seq);
    if (e.kind === 'message' && e.message.author.kind !== 'contact') newTeamMessage = e.message;
    if (e.kind === 'message') opts.onEvent('message', { body: e.message.body, mine: e.message.author.kind === 'contact', at: e.message.created_at });
    // An agent joined: the wait is over, whatever the queue said.
    if (e.kind === 'assigned' && e.assignee_id) queue.value = null;
    if (e.kind === 'status_changed') {
      conversation.value = { ...conversation.value!, status: e.status };
      if (e.status === 'resolved') opts.onEvent('conversation_resolved', { id: c.id });
    }
  }
  events.value = next;
  if (newTeamMessage) {
    agentTyping.value = null;
    if (visible.value && document.visibilityState === 'visible') markRead();
    else send({ type: 'receipt', conversation_id: c.id, kind: 'delivered', up_to_seq: newTeamMessage.seq });
  }
}

/** Moves the visitor's read mark to the newest team message, when the chat is on screen. */
export function markRead() {
  const c = conversation.value;
  const last = unread.value.at(-1);
  if (!c || !last?.seq || !visible.value || document.visibilityState !== 'visible') return;
  send({ type: 'receipt', conversation_id: c.id, kind: 'read', up_to_seq: last.seq });
}

// --- sending ---------------------------------------------------------------------------
function uuid(): string {
  return crypto.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export function say(body: string, attachments: Attachment[] = []) {
  const text = body.trim();
  if (!text && attachments.length === 0) return;
  notice.value = null;
  pending.value = [...pending.value, { client_id: uuid(), body: text, attachments, at: Date.now(), failed: null, inFlight: false }];
  flush();
}

/**
 * Keeps the outbox in this tab's session storage, so a message typed while the network
 * was down survives a reload or a navigation and is sent once the socket is back (its
 * `client_id` makes a second send of a stored message harmless). Session storage is
 * per tab, so two tabs never send each other's messages; where the browser refuses
 * storage to the frame, the outbox lives in memory only.
 */
function keepOutbox(key: string) {
  let storage: Storage | null = null;
  try {
    storage = sessionStorage;
    const saved = JSON.parse(storage.getItem(key) ?? '[]') as Pending[];
    if (Array.isArray(saved) && saved.length) pending.value = saved.map((p) => ({ ...p, inFlight: false }));
  } catch {
    storage = null;
  }
  effect(() => {
    const outbox = pending.value;
    try {
      if (outbox.length) storage?.setItem(key, JSON.stringify(outbox));
      else storage?.removeItem(key);
    } catch {
      // Storage full or refused: the outbox still works in memory.
    }
  });
}

/**
 * Sends every pending message that is not in flight, oldest first. A message told to
 * wait (`rate_limited`) holds back the ones after it, so they still arrive in order.
 */
function flush() {
  if (!welcomed) return;
  const conv = conversation.value;
  for (const p of pending.value) {
    if (p.inFlight || p.failed) continue;
    // Being proved (a proof of work): the ones after it wait, to keep the order.
    if (p.pow === null) return;
    const wait = (p.notBefore ?? 0) - Date.now();
    if (wait > 0) {
      clearTimeout(flushTimer);
      flushTimer = setTimeout(flush, wait);
      return;
    }
    const frame: VisitorIn = {
      type: 'send',
      client_id: p.client_id,
      body: p.body,
      attachment_ids: p.attachments.map((a) => a.id),
      ...(conv && conv.status !== 'resolved' ? { conversation_id: conv.id } : { pow: p.pow ?? null, team_id: chosenTeam.value, invitation_id: invitation.value?.id ?? null }),
    };
    if (!send(frame)) return;
    p.inFlight = true;
    // Without a conversation, the first send starts one: wait for its ack before the
    // next, so they all land in the same conversation.
    if (!conv || conv.status === 'resolved') return;
  }
}

export function retry(clientId: string) {
  pending.value = pending.value.map((p) => (p.client_id === clientId ? { ...p, failed: null, inFlight: false } : p));
  flush();
}

export function discard(clientId: string) {
  pending.value = pending.value.filter((p) => p.client_id !== clientId);
}

function settle(clientId: string, conversationId: string) {
  const started = conversation.value?.id !== conversationId;
  // Tabs sharing a socket all see every ack: each follows a conversation another tab
  // started, but only the tab that sent the message tells its page.
  const mine = pending.value.some((p) => p.client_id === clientId);
  pending.value = pending.value.filter((p) => p.client_id !== clientId);
  if (started) {
    // The first message started a conversation; the socket follows it from now on, and
    // replays it from the start (conversation_started, the message, caught_up).
    events.value = new Map();
    cursor = 0;
    conversation.value = { id: conversationId, status: 'open', last_seq: 0, created_at: Date.now(), agent_read_seq: 0, visitor_read_seq: 0, unread: 0 };
    historyLoaded.value = true;
    invitation.value = null;
    if (mine) {
      opts.onConversation(conversationId);
      opts.onEvent('conversation_started', { id: conversationId });
    }
  }
  flush();
}

/**
 * The site asks for a proof of work before this message may start a conversation: it
 * stays "sending" while the challenge is solved, then goes again with the solution.
 */
function prove(ref: string | null, challenge: S['PowChallenge']): boolean {
  const mine = ref ? pending.value.find((p) => p.client_id === ref) : undefined;
  if (!mine) return false;
  pending.value = pending.value.map((p) => (p === mine ? { ...p, inFlight: false, pow: null } : p));
  void solve(challenge.challenge, challenge.difficulty).then((nonce) => {
    pending.value = pending.value.map((p) => (p.client_id === ref ? { ...p, pow: { challenge: challenge.challenge, nonce } } : p));
    flush();
  });
  return true;
}

const FATAL_HELLO: ReadonlySet<string> = new Set(['token_expired', 'invalid_token', 'unauthenticated']);
const RETRYABLE: ReadonlySet<string> = new Set(['unavailable', 'internal', 'server_busy']);

function failed(code: ErrorCode, ref: string | null, retryAfterMs: number | null) {
  if (code === 'banned') {
    // Refused before anything was stored; retrying cannot help, and the server closes.
    banned.value = true;
    notice.value = code;
    return;
  }
  const mine = ref ? pending.value.find((p) => p.client_id === ref) : undefined;
  if (code === 'rate_limited') {
    const until = Date.now() + (retryAfterMs ?? 1000);
    if (mine) {
      // Nothing was stored: the message stays in the outbox, still "sending", and the same
      // frame (same `client_id`) goes again once the server said it may.
      pending.value = pending.value.map((p) => (p === mine ? { ...p, inFlight: false, notBefore: until } : p));
      flush();
    } else if (!welcomed) {
      // Too many new visitors from this address: the server closes the socket; the next
      // one waits as long as it was told.
      helloNotBefore = until;
    }
    // A typing, page or track frame over its limit is dropped: none is worth a retry.
    return;
  }
  if (mine && RETRYABLE.has(code)) {
    // The server could not take it just now: the same frame again, by itself, a bit later
    // (the `client_id` makes a retry of a stored message harmless).
    mine.inFlight = false;
    setTimeout(flush, 2000 * (0.5 + Math.random()));
    return;
  }
  if (mine) {
    // The server judged this message (too long, a missing file…): sending it again as it
    // is cannot help. The visitor can edit, retry by hand, or drop it.
    pending.value = pending.value.map((p) => (p === mine ? { ...p, failed: code, inFlight: false } : p));
    flush();
    return;
  }
  if (!welcomed && FATAL_HELLO.has(code)) {
    // The stored token is no longer good: start over as a new visitor, keeping what was typed.
    notice.value = 'token_expired';
    opts.token = null;
    conversation.value = null;
    events.value = new Map();
    cursor = 0;
    return;
  }
  if (code === 'conversation_not_found' && ref === conversation.value?.id) {
    conversation.value = null;
    cursor = 0;
    return;
  }
  notice.value = code;
}

// --- what the page asks for -------------------------------------------------------------
export function typing(on: boolean) {
  const c = conversation.value;
  if (c) send({ type: 'typing', conversation_id: c.id, typing: on });
}

export function profile(fields: { name?: string; email?: string; phone?: string; attributes?: Record<string, string | number | boolean | null> }) {
  const frame = { type: 'profile', ...fields } as VisitorIn;
  sendOrQueue(frame);
}

/**
 * `Switchboard('identify', …)`: with an id, the `identify` frame (the server checks the
 * hash, and without one sets only the name, e-mail and phone, or refuses on a site that
 * requires identity); without an id, only the visitor's details (`profile`).
 */
export function identify(who: { id?: string; name?: string; email?: string; phone?: string; hash?: string }) {
  identified.value = true;
  if (who.id) {
    identity = { type: 'identify', external_id: who.id, user_hash: who.hash ?? null, name: who.name ?? null, email: who.email ?? null, phone: who.phone ?? null };
    if (welcomed) send(identity);
    return;
  }
  const details = { name: who.name, email: who.email, phone: who.phone };
  if (details.name || details.email || details.phone) profile(details);
}

/** The visitor rates the resolved conversation (again replaces). */
export function rate(score: number, comment: string) {
  const c = conversation.value;
  if (c) sendOrQueue({ type: 'rate', conversation_id: c.id, score, comment: comment.trim() || null });
}

/** The visitor asks for the conversation by e-mail (stored; sent with the e-mail channel). */
export function transcript(email: string) {
  const c = conversation.value;
  if (c) sendOrQueue({ type: 'transcript', conversation_id: c.id, email: email.trim() });
}

export function page(view: PageView) {
  if (!/^https?:/.test(view.url)) return;
  lastPage = { type: 'page', url: view.url.slice(0, 2000), title: view.title?.slice(0, 500) || null, referrer: view.referrer?.slice(0, 2000) || null };
  // A navigation is a new view; the loader's own report of this one is not.
  told = view.again ? lastPage.url : '';
  telling = '';
  if (welcomed) sendPage();
}

/** Sends the current page, `again` when this page load's report of it was read, then a `ping` to learn it was. */
function sendPage() {
  if (!lastPage || !send({ ...lastPage, again: told === lastPage.url })) return;
  telling = lastPage.url;
  send({ type: 'ping' });
}

/**
 * A frame the loader queued or the page asked for: `track`, `exit_intent`, an
 * invitation's answer, or `consent` (kept, and sent first on every new socket).
 */
export function out(frame: VisitorIn) {
  if (frame.type === 'consent') {
    // Pages before consent were not recorded: the first one after it is.
    if (frame.granted && !consented) told = telling = '';
    consented = frame.granted;
    if (welcomed) send(frame);
    if (consented && welcomed) sendPage();
    return;
  }
  sendOrQueue(frame);
}

/** Starts over: the next message opens a new conversation. */
export function startNew() {
  batch(() => {
    conversation.value = null;
    queue.value = null;
    queueTimedOut.value = false;
    events.value = new Map();
    cursor = 0;
  });
}

/** The visitor token, for uploads and downloads. */
export function token(): string | null {
  return opts.token;
}
