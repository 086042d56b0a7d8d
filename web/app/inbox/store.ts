// The inbox's state: the workspace directory, every conversation the dashboard knows,
// the list being shown (a filter over the cursor API) and the open conversation's
// timeline. REST fills it; the agent socket's events keep it current without reloads.
//
// Invariants: a conversation is replaced only by a version at least as new (`last_seq`),
// and an event at or below a conversation's `last_seq` is already included (protocol §9),
// so REST pages and live events can arrive in any order without doubling anything.

import { type Signal, batch, computed, signal } from '@preact/signals';
import { ApiError, type Schemas, call, client } from '../api';
import { errorText } from '../i18n';
import { type AgentOut, type LiveEvent, connection, feedCursor, onFrame, send, sendNow, startLive } from '../live/socket';
import { me } from '../session';

export type Conversation = Schemas['Conversation'];
export type Status = Schemas['ConversationStatus'];
export type Priority = Schemas['Priority'];
export type Actor = Schemas['Actor'];
export type Attachment = Schemas['Attachment'];

// ---------------------------------------------------------------- the directory

export const agents = signal<Schemas['Agent'][]>([]);
export const teams = signal<Schemas['Team'][]>([]);
export const sites = signal<Schemas['Site'][]>([]);
export const cannedResponses = signal<Schemas['CannedResponse'][]>([]);
/** The labels the workspace manages (`GET /labels`), which the label filter offers. */
export const managedLabels = signal<Schemas['Label'][]>([]);
/** Every agent's presence (`online`, `away`, `offline`), from `welcome` and `presence`. */
export const presence = signal<Record<string, Schemas['PresenceStatus']>>({});
/** Who has each conversation open now (collision awareness), from `viewers` frames. */
export const viewers = signal<Record<string, string[]>>({});

export const agentName = (id: string | null | undefined) => agents.value.find((a) => a.id === id)?.name ?? '';
export const teamName = (id: string | null | undefined) => teams.value.find((x) => x.id === id)?.name ?? '';
export const siteName = (id: string | null | undefined) => sites.value.find((x) => x.id === id)?.name ?? '';

async function loadDirectory() {
  const [a, tm, s, c, l] = await Promise.allSettled([
    call(client.GET('/api/v1/agents')),
    call(client.GET('/api/v1/teams')),
    call(client.GET('/api/v1/sites')),
    call(client.GET('/api/v1/canned-responses')),
    call(client.GET('/api/v1/labels')),
  ]);
  batch(() => {
    if (a.status === 'fulfilled') agents.value = a.value;
    if (tm.status === 'fulfilled') teams.value = tm.value;
    if (s.status === 'fulfilled') sites.value = s.value;
    if (c.status === 'fulfilled') cannedResponses.value = c.value;
    if (l.status === 'fulfilled') managedLabels.value = l.value;
  });
}

/** Reads the agents again: their open chats and capacity, for the transfer dialog. */
export async function reloadAgents() {
  try {
    agents.value = await call(client.GET('/api/v1/agents'));
  } catch {
    // The list we have stays; the dialog says nothing is certain offline anyway.
  }
}

// ---------------------------------------------------------------- contacts

export type Contact = Schemas['Contact'];
/** Contacts read so far, by id (list rows show their names). */
export const contacts = signal<Record<string, Contact>>({});
/** Contacts whose data was erased (the server answers `contact_not_found` for them). */
export const erased = signal<ReadonlySet<string>>(new Set());
const asked = new Set<string>();

/** Forgets an erased contact's details; the panel then shows that they were erased. */
export function markErased(id: string) {
  erased.value = new Set([...erased.value, id]);
  const { [id]: _gone, ...rest } = contacts.value;
  contacts.value = rest;
}

/** Contact ids rows asked for in this turn of the event loop, read together. */
let wanted: Set<string> | null = null;

/**
 * Reads a contact once. The rows of a list page ask for theirs while they render; those
 * asks are gathered and read in one request (`GET /contacts?ids=`, at most 100 at a time).
 * `again` (the context panel) reads it afresh, on its own.
 */
export async function ensureContact(id: string, again = false) {
  if (asked.has(id) && !again) return;
  asked.add(id);
  if (again) {
    try {
      const c = await call(client.GET('/api/v1/contacts/{id}', { params: { path: { id } } }));
      contacts.value = { ...contacts.value, [id]: c };
    } catch (e) {
      asked.delete(id);
      if (e instanceof ApiError && e.code === 'contact_not_found') markErased(id);
    }
    return;
  }
  if (wanted) {
    wanted.add(id);
    return;
  }
  wanted = new Set([id]);
  queueMicrotask(() => {
    const ids = [...wanted!];
    wanted = null;
    for (let i = 0; i < ids.length; i += 100) void readContacts(ids.slice(i, i + 100));
  });
}

async function readContacts(ids: string[]) {
  try {
    const found = await call(client.GET('/api/v1/contacts', { params: { query: { ids: ids.join(',') } } }));
    const next = { ...contacts.value };
    for (const c of found) next[c.id] = c;
    contacts.value = next;
    // The rows' contacts are all of this workspace: one the server did not return was erased.
    for (const id of ids) if (!next[id]) markErased(id);
  } catch {
    for (const id of ids) asked.delete(id);
  }
}

// ---------------------------------------------------------------- conversations

const conversations = new Map<string, Signal<Conversation>>();
/** Bumped whenever any conversation changes: for the title count and the lists. */
export const changes = signal(0);

/** The conversation's signal; while it is unknown, the caller re-renders when it arrives. */
export function conversation(id: string): Signal<Conversation> | undefined {
  const found = conversations.get(id);
  if (!found) void changes.value;
  return found;
}

/** Stores `c` unless a newer version is already known. */
function put(c: Conversation) {
  const known = conversations.get(c.id);
  // The result of a change does not count unread messages (`null`): keep what we knew.
  if (c.unread == null && known) c = { ...c, unread: known.value.unread };
  if (!known) conversations.set(c.id, signal(c));
  else if (c.last_seq >= known.value.last_seq) known.value = c;
  else return;
  changes.value++;
}

/** A conversation after `e`. `e` must be newer than `c.last_seq`. */
export function applyEvent(c: Conversation, e: LiveEvent): Conversation {
  const n: Conversation = { ...c, last_seq: e.seq, updated_at: Math.max(c.updated_at, e.at) };
  switch (e.kind) {
    case 'message':
      n.last_message_seq = e.seq;
      n.last_message_at = e.at;
      if (e.actor.kind === 'contact') {
        n.waiting_since = c.waiting_since ?? e.at;
        n.unread = (c.unread ?? 0) + 1;
      }
      else {
        n.waiting_since = null;
        n.first_reply_at = c.first_reply_at ?? e.at;
      }
      break;
    case 'status_changed':
      n.status = e.status;
      n.snoozed_until = e.snoozed_until ?? null;
      if (e.status === 'resolved') n.resolved_at = e.at;
      break;
    case 'assigned':
      n.assignee_id = e.assignee_id ?? null;
      n.team_id = e.team_id ?? null;
      n.assigned_at = e.at;
      // An assignee takes it out of the queue; a release or a transfer to a team puts it
      // back, which the `queued` event that follows says.
      if (e.assignee_id) {
        n.queued_at = null;
        n.queue_position = null;
      }
      break;
    case 'queued':
      n.queued_at = e.at;
      n.team_id = e.team_id ?? null;
      // Its place in line is the server's to say: the next `queues` frame re-reads it.
      break;
    case 'dequeued':
      n.queued_at = null;
      n.queue_position = null;
      break;
    case 'labels_changed':
      n.labels = e.labels;
      break;
    case 'priority_changed':
      n.priority = e.priority;
      break;
    case 'contact_erased':
      // Their messages are gone: nobody is waiting for an answer to them.
      n.waiting_since = null;
      break;
    case 'receipt': {
      const side = e.side === 'visitor' ? 'visitor' : 'agent';
      const marks = { ...c[side] };
      marks.delivered_seq = Math.max(marks.delivered_seq, e.up_to_seq);
      if (e.receipt === 'read') marks.read_seq = Math.max(marks.read_seq, e.up_to_seq);
      n[side] = marks;
      if (side === 'agent' && e.receipt === 'read' && marks.read_seq >= c.last_message_seq) n.unread = 0;
      break;
    }
  }
  return n;
}

/** True while the visitor has written something the team has not read. */
export function isUnread(c: Conversation): boolean {
  if (c.unread != null) return c.unread > 0;
  return c.waiting_since != null && c.last_message_seq > c.agent.read_seq;
}

/** Reads a conversation again (after a lost claim: who has it now); undefined on failure. */
export async function fetchConversation(id: string): Promise<Conversation | undefined> {
  try {
    put(await call(client.GET('/api/v1/conversations/{id}', { params: { path: { id } } })));
    relist(id);
    return conversations.get(id)?.value;
  } catch {
    // It may belong to nothing we show; the next list load has it if it matters.
    return undefined;
  }
}

// ---------------------------------------------------------------- counts

/** The caller's live counts (views, statuses, teams, labels), re-read shortly after changes. */
export const counts = signal<Schemas['ConversationCounts'] | null>(null);
let countsTimer: ReturnType<typeof setTimeout> | undefined;
export function refreshCounts(delay = 400) {
  clearTimeout(countsTimer);
  countsTimer = setTimeout(() => {
    call(client.GET('/api/v1/conversations/counts')).then((c) => (counts.value = c), () => {});
  }, delay);
}

/**
 * What the label filter offers: the managed labels and every label the counts find on
 * open conversations (so a label on conversations not loaded yet, or on none, can be
 * chosen), with those on loaded conversations (resolved ones are not counted) and the
 * chosen one; each once, in `locale`'s alphabetical order.
 */
export function labelChoices(locale: string): string[] {
  const names = new Set([
    ...managedLabels.value.map((l) => l.name),
    ...Object.keys(counts.value?.by_label ?? {}),
    ...list.value.ids.flatMap((id) => conversation(id)?.value.labels ?? []),
  ]);
  if (filter.value.label) names.add(filter.value.label);
  return [...names].sort(new Intl.Collator(locale).compare);
}

// ---------------------------------------------------------------- the list

export type View = 'mine' | 'unassigned' | 'all';
/** `last_activity`: latest first; `waiting`: the longest-waiting visitor first. */
export type Sort = 'last_activity' | 'waiting';
export interface Filter {
  view: View;
  status: Status;
  sort: Sort;
  team_id: string | null;
  site_id: string | null;
  label: string | null;
}

const FILTER_KEY = 'sb.inbox.filter';
function savedFilter(): Filter {
  const base: Filter = { view: 'mine', status: 'open', sort: 'last_activity', team_id: null, site_id: null, label: null };
  try {
    return { ...base, ...(JSON.parse(localStorage.getItem(FILTER_KEY) ?? '{}') as Partial<Filter>) };
  } catch {
    return base;
  }
}

export const filter = signal<Filter>(savedFilter());
export const list = signal<{ ids: string[]; next: string | null; loading: boolean; error: string | null; loaded: boolean }>({
  ids: [],
  next: null,
  loading: false,
  error: null,
  loaded: false,
});

export function matches(c: Conversation, f: Filter, myId: string | undefined): boolean {
  if (c.status !== f.status) return false;
  if (f.view === 'mine' && c.assignee_id !== myId) return false;
  if (f.view === 'unassigned' && c.assignee_id != null) return false;
  if (f.team_id && c.team_id !== f.team_id) return false;
  if (f.site_id && c.site_id !== f.site_id) return false;
  if (f.label && !c.labels.includes(f.label)) return false;
  return true;
}

/**
 * The server's order, so live changes land where a later page would put them: latest
 * activity first, then id; or (`waiting`) the oldest `waiting_since` first, answered
 * conversations after every waiting one, then id ascending.
 */
function before(a: Conversation, b: Conversation): number {
  if (filter.value.sort === 'waiting') {
    const wait = (c: Conversation) => c.waiting_since ?? Number.MAX_SAFE_INTEGER;
    return wait(a) - wait(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  }
  return b.updated_at - a.updated_at || (b.id < a.id ? -1 : b.id > a.id ? 1 : 0);
}

let generation = 0;
/**
 * Conversations that changed while a page of the list was on its way. The page was read
 * before those changes, so once it lands each is put in or out again (`relist`).
 */
const changedWhileLoading = new Set<string>();

export function setFilter(next: Partial<Filter>) {
  filter.value = { ...filter.value, ...next };
  localStorage.setItem(FILTER_KEY, JSON.stringify(filter.value));
  void reloadList();
}

/**
 * Reads the list from its start. `quiet` keeps the rows on screen until the new first page
 * replaces them (a re-read after the socket started afresh, not a new filter).
 */
export async function reloadList(quiet = false) {
  generation++;
  changedWhileLoading.clear();
  if (quiet && list.value.loaded) return loadPage(true);
  list.value = { ids: [], next: null, loading: false, error: null, loaded: false };
  await loadPage(false);
}

/** The next page of the list (endless scroll). */
export function loadMore() {
  return loadPage(false);
}

/** Loads the next page, or (`again`) the loaded window from the start, replacing it. */
async function loadPage(again: boolean) {
  const state = list.value;
  if (!again && (state.loading || (state.loaded && !state.next))) return;
  const mine = generation;
  const f = filter.value;
  list.value = { ...state, loading: true, error: null };
  try {
    const page = await call(
      client.GET('/api/v1/conversations', {
        params: {
          query: {
            status: f.status,
            sort: f.sort,
            assignee: f.view === 'mine' ? 'me' : f.view === 'unassigned' ? 'none' : undefined,
            team_id: f.team_id ?? undefined,
            site_id: f.site_id ?? undefined,
            label: f.label ?? undefined,
            cursor: again ? undefined : state.next ?? undefined,
            limit: again ? Math.min(100, Math.max(50, state.ids.length)) : 50,
          },
        },
      }),
    );
    if (mine !== generation) return;
    const myId = me.value?.agent.id;
    batch(() => {
      for (const c of page.items) put(c);
      const ids = again ? [] : [...list.value.ids];
      for (const c of page.items) {
        // An event that arrived while the page was on its way is newer than the page:
        // a conversation it took out of this list stays out.
        const now = conversations.get(c.id)?.value ?? c;
        if (!ids.includes(c.id) && matches(now, f, myId)) ids.push(c.id);
      }
      list.value = { ids, next: page.next_cursor ?? null, loading: false, error: null, loaded: true };
    });
    sortList();
    // And one it brought into this list is not on the page: put it in now.
    const changed = [...changedWhileLoading];
    changedWhileLoading.clear();
    for (const id of changed) relist(id);
  } catch (e) {
    if (mine !== generation) return;
    list.value = { ...list.value, loading: false, error: e instanceof ApiError ? errorText(e.code) : errorText('internal') };
  }
}

function sortList() {
  const ids = list.value.ids
    .map((id) => conversations.get(id)?.value)
    .filter((c): c is Conversation => !!c)
    .sort(before)
    .map((c) => c.id);
  list.value = { ...list.value, ids };
}

/** Puts `id` in or out of the shown list after it changed, keeping the server's order. */
function relist(id: string) {
  const c = conversations.get(id)?.value;
  const state = list.value;
  if (!c) return;
  if (state.loading) changedWhileLoading.add(id);
  if (!state.loaded) return;
  const shown = state.ids.includes(id);
  const fits = matches(c, filter.value, me.value?.agent.id);
  if (fits && !shown) {
    // Only inside the loaded window; beyond it, a later page brings it.
    const last = state.ids.length ? conversations.get(state.ids[state.ids.length - 1]!)?.value : undefined;
    if (state.next && last && before(c, last) > 0) return;
    list.value = { ...state, ids: [...state.ids, id] };
    sortList();
  } else if (!fits && shown) {
    list.value = { ...state, ids: state.ids.filter((x) => x !== id) };
  } else if (fits) {
    sortList();
  }
}

// ---------------------------------------------------------------- waiting queues

type QueuesFrame = Extract<AgentOut, { type: 'queues' }>;
/** One team's waiting queue (`team_id` null: the workspace-wide queue of everyone). */
export type Queue = QueuesFrame['queues'][number];
/** Every queue's length and oldest entry, from the socket's `queues` frames. */
export const queues = signal<Queue[]>([]);

let positionsTimer: ReturnType<typeof setTimeout> | undefined;
/**
 * Re-reads the places in line of the waiting conversations on screen. A queue changed
 * (the server coalesces its `queues` frames), and a place in line moves without an event
 * of its own, so the shown rows and the open conversation are read again, at most twice
 * a second: one page of the list and, when it is not on that page, the open one.
 */
function refreshPositions() {
  clearTimeout(positionsTimer);
  positionsTimer = setTimeout(() => {
    const state = list.value;
    const waiting = (id: string) => conversations.get(id)?.value.queued_at != null;
    const open = openId.value;
    if (state.loaded && state.ids.some(waiting)) {
      const f = filter.value;
      client
        .GET('/api/v1/conversations', {
          params: {
            query: {
              status: f.status,
              sort: f.sort,
              assignee: f.view === 'mine' ? 'me' : f.view === 'unassigned' ? 'none' : undefined,
              team_id: f.team_id ?? undefined,
              site_id: f.site_id ?? undefined,
              label: f.label ?? undefined,
              limit: Math.min(100, Math.max(1, state.ids.length)),
            },
          },
        })
        .then(({ data }) => data && batch(() => data.items.forEach(put)), () => {});
    }
    if (open && waiting(open) && !state.ids.includes(open)) void fetchConversation(open);
  }, 500);
}

// ---------------------------------------------------------------- the open conversation

export interface Pending {
  client_id: string;
  body: string;
  note: boolean;
  attachments: Attachment[];
  state: 'sending' | 'sent' | 'failed';
  error?: string;
}

export interface Thread {
  id: string;
  events: LiveEvent[];
  /** `before_seq` cursor for older events; null when the start is loaded. */
  older: string | null;
  loadingOlder: boolean;
  error: string | null;
  loaded: boolean;
  /** The seq to bring into view and highlight (a search hit). */
  focusSeq: number | null;
}

export const openId = signal<string | null>(null);
export const thread = signal<Thread | null>(null);
/** Own messages not yet confirmed, by conversation. */
export const pending = signal<Record<string, Pending[]>>({});
/** Who is typing where: conversation id → the actor and when the news goes stale. */
export const typing = signal<Record<string, { actor: Actor; until: number }>>({});

/** Tells the team which conversation this tab shows (they see it as "viewing"). */
function announceView() {
  sendNow({ type: 'view', conversation_id: openId.value });
}

export async function openConversation(id: string | null, focusSeq: number | null = null) {
  if (openId.value === id && thread.value?.loaded && focusSeq === null) return;
  openId.value = id;
  announceView();
  if (!id) {
    thread.value = null;
    return;
  }
  if (!conversations.has(id)) void fetchConversation(id);
  thread.value = { id, events: [], older: null, loadingOlder: false, error: null, loaded: false, focusSeq };
  try {
    let page = await history(id, null, 50);
    let events = page.items;
    // A hit deep in the history: page back until it is loaded.
    while (focusSeq !== null && page.next_cursor && (events[0]?.seq ?? 0) > focusSeq) {
      page = await history(id, page.next_cursor, 200);
      events = [...page.items, ...events];
    }
    if (openId.value !== id) return;
    thread.value = { id, events: merge(thread.value?.events ?? [], events), older: page.next_cursor ?? null, loadingOlder: false, error: null, loaded: true, focusSeq };
    markRead();
  } catch (e) {
    if (openId.value !== id) return;
    thread.value = { ...thread.value!, error: e instanceof ApiError ? errorText(e.code) : errorText('internal'), loaded: true };
  }
}

function history(id: string, beforeSeq: string | null, limit: number) {
  return call(
    client.GET('/api/v1/conversations/{id}/messages', {
      params: { path: { id }, query: { before_seq: beforeSeq === null ? undefined : Number(beforeSeq), limit } },
    }),
  );
}

/** Two runs of events as one, in `seq` order, each once. */
function merge(a: LiveEvent[], b: LiveEvent[]): LiveEvent[] {
  const bySeq = new Map<number, LiveEvent>();
  for (const e of a) bySeq.set(e.seq, e);
  for (const e of b) bySeq.set(e.seq, e);
  return [...bySeq.values()].sort((x, y) => x.seq - y.seq);
}

export async function loadOlder() {
  const t = thread.value;
  if (!t || !t.older || t.loadingOlder) return;
  thread.value = { ...t, loadingOlder: true };
  try {
    const page = await history(t.id, t.older, 50);
    const now = thread.value;
    if (now?.id !== t.id) return;
    thread.value = { ...now, events: merge(page.items, now.events), older: page.next_cursor ?? null, loadingOlder: false };
  } catch (e) {
    const now = thread.value;
    if (now?.id === t.id) thread.value = { ...now, loadingOlder: false, error: e instanceof ApiError ? errorText(e.code) : errorText('internal') };
  }
}

/** Tells the team's read mark that the agent has seen the open conversation. */
export function markRead() {
  const id = openId.value;
  const c = id ? conversations.get(id)?.value : undefined;
  if (!c || document.visibilityState !== 'visible') return;
  if (c.last_message_seq > c.agent.read_seq) send({ type: 'read', conversation_id: c.id, up_to_seq: c.last_message_seq });
}

// ---------------------------------------------------------------- sending

function setPending(conversationId: string, update: (list: Pending[]) => Pending[]) {
  const all = { ...pending.value };
  all[conversationId] = update(all[conversationId] ?? []);
  pending.value = all;
}

/** Sends a reply or note over the socket; it shows at once with a clock until confirmed. */
export function sendMessage(conversationId: string, body: string, note: boolean, attachments: Attachment[]) {
  const client_id = crypto.randomUUID();
  setPending(conversationId, (l) => [...l, { client_id, body, note, attachments, state: 'sending' }]);
  send({ type: 'send', client_id, conversation_id: conversationId, body, note, attachment_ids: attachments.map((a) => a.id) });
}

/** Sends a failed message again with the same `client_id` (the server stores it once). */
export function retry(conversationId: string, clientId: string) {
  const p = pending.value[conversationId]?.find((x) => x.client_id === clientId);
  if (!p) return;
  setPending(conversationId, (l) => l.map((x) => (x.client_id === clientId ? { ...x, state: 'sending', error: undefined } : x)));
  send({ type: 'send', client_id: clientId, conversation_id: conversationId, body: p.body, note: p.note, attachment_ids: p.attachments.map((a) => a.id) });
}

// ---------------------------------------------------------------- live frames

type Listener = (e: LiveEvent, c: Conversation | undefined) => void;
const eventListeners = new Set<Listener>();
/** Runs `fn` for every new live event (notifications). */
export function onLiveEvent(fn: Listener) {
  eventListeners.add(fn);
  return () => eventListeners.delete(fn);
}

function onEvent(e: LiveEvent) {
  const known = conversations.get(e.conversation_id);
  if (known) {
    if (e.seq > known.value.last_seq) {
      known.value = applyEvent(known.value, e);
      changes.value++;
    }
    relist(e.conversation_id);
  } else {
    void fetchConversation(e.conversation_id);
  }
  const t = thread.value;
  if (t && t.id === e.conversation_id && t.loaded) {
    const last = t.events[t.events.length - 1]?.seq ?? 0;
    // An erasure's tombstone takes the person's messages out of the transcript.
    const kept = e.kind === 'contact_erased' ? t.events.filter((x) => !(x.kind === 'message' && x.actor.kind === 'contact')) : t.events;
    if (e.seq > last) thread.value = { ...t, events: [...kept, e] };
    if (e.kind === 'message' && e.actor.kind === 'contact') markRead();
  }
  if (e.kind === 'message' || e.kind === 'note') {
    const cid = e.message.client_id;
    if (cid) setPending(e.conversation_id, (l) => l.filter((p) => p.client_id !== cid));
    if (e.actor.kind === 'contact') clearTyping(e.conversation_id);
  }
  if (e.kind === 'contact_erased') {
    const who = conversations.get(e.conversation_id)?.value.contact_id;
    if (who) markErased(who);
  }
  if (e.kind !== 'receipt' || e.side === 'agent') refreshCounts();
  // Entering or leaving a queue moves places in line; the `queues` frame may come first.
  if (e.kind === 'queued' || e.kind === 'dequeued') refreshPositions();
  for (const fn of eventListeners) fn(e, conversations.get(e.conversation_id)?.value);
}

/** Teammates (not me) who have `id` open, and the one typing in it, if any. */
export function collision(id: string): { viewing: string[]; typing: string | null } {
  const myId = me.value?.agent.id;
  const who = typing.value[id];
  return {
    viewing: (viewers.value[id] ?? []).filter((a) => a !== myId),
    typing: who?.actor.kind === 'agent' && who.actor.id && who.actor.id !== myId ? who.actor.id : null,
  };
}

function clearTyping(conversationId: string) {
  if (!typing.value[conversationId]) return;
  const next = { ...typing.value };
  delete next[conversationId];
  typing.value = next;
}

function onFrameReceived(frame: AgentOut) {
  switch (frame.type) {
    case 'welcome':
      // A socket that said hello without a cursor starts from the feed's head now: what
      // changed between an earlier read of the list and that moment would never come.
      // The list and counts are read again, after the socket already hears everything.
      if (feedCursor() === null) {
        void reloadList(true);
        refreshCounts(0);
      }
      presence.value = Object.fromEntries(frame.agents.map((a) => [a.agent_id, a.status]));
      // A new socket is in nobody's viewer sets: what we knew of them may be stale.
      viewers.value = {};
      break;
    case 'event':
      onEvent(frame.event);
      break;
    case 'caught_up':
      announceView();
      markRead();
      break;
    case 'ack':
      setPending(frame.conversation_id, (l) => l.map((p) => (p.client_id === frame.client_id ? { ...p, state: 'sent' } : p)));
      break;
    case 'error': {
      const ref = frame.ref;
      if (!ref) break;
      for (const [cid, l] of Object.entries(pending.value)) {
        if (l.some((p) => p.client_id === ref)) {
          setPending(cid, (x) => x.map((p) => (p.client_id === ref ? { ...p, state: 'failed', error: errorText(frame.code) } : p)));
        }
      }
      break;
    }
    case 'typing': {
      const next = { ...typing.value };
      if (frame.typing) next[frame.conversation_id] = { actor: frame.actor, until: Date.now() + 6000 };
      else delete next[frame.conversation_id];
      typing.value = next;
      // The protocol has no time-out of its own: stale news goes after a few seconds.
      if (frame.typing) setTimeout(() => {
        const now = typing.value[frame.conversation_id];
        if (now && now.until <= Date.now()) clearTyping(frame.conversation_id);
      }, 6100);
      break;
    }
    case 'presence':
      presence.value = { ...presence.value, [frame.agent_id]: frame.status };
      break;
    case 'viewers':
      viewers.value = { ...viewers.value, [frame.conversation_id]: frame.agent_ids };
      break;
    case 'queues':
      queues.value = frame.queues;
      refreshPositions();
      break;
  }
}

/** Unread conversations the agent is responsible for (the tab title shows this). */
export const unreadCount = computed(() => {
  void changes.value;
  const myId = me.value?.agent.id;
  let n = 0;
  for (const s of conversations.values()) {
    const c = s.value;
    if (c.status === 'open' && (c.assignee_id === myId || c.assignee_id == null) && isUnread(c)) n++;
  }
  return n;
});

let started = false;
/** Starts the socket and the first loads, once per page. */
export function startInbox() {
  if (started) return;
  started = true;
  // A socket the shell opened already hands its `welcome` over first, which (without a
  // cursor yet) reads the list: a read from here on hears every change, one is enough.
  onFrame(onFrameReceived);
  startLive();
  void loadDirectory();
  if (!list.value.loading) void reloadList();
  refreshCounts(0);
  document.addEventListener('visibilitychange', markRead);
}

export { connection };
