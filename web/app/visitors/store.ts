// The live visitors the dashboard knows: a first read over REST (so a failure has a
// retry), then the agent socket's `visitors` watch keeps the list current: a snapshot on
// every (re)connect, then `visitor` and `visitor_left` applied in place. Nothing polls.
//
// Invariant: a row is keyed by contact and site; a `visitor` frame replaces that row and
// nothing else, so the rows around it keep their place unless the chosen sort moves it.

import { batch, computed, signal } from '@preact/signals';
import { type Schemas, call, client } from '../api';
import { connection, onFrame, send, startLive } from '../live/socket';
import { onSite } from './count';

export type LiveVisitor = Schemas['LiveVisitor'];
export type ChatState = Schemas['ChatState'];

export type SortKey = 'time_on_site' | 'score' | 'pages' | 'changed';
export interface Filters {
  site: string | null;
  chat: ChatState | null;
  text: string;
}

/** `loading` until the first list; `error` when it could not be read (with a retry). */
export const status = signal<'loading' | 'ready' | 'error'>('loading');
/** Every visitor on the workspace's sites now, by `contact_id:site_id`. */
export const rows = signal<ReadonlyMap<string, LiveVisitor>>(new Map());
/** When the dashboard last heard a change of each row (the "last change" sort). */
const changedAt = new Map<string, number>();

export const sort = signal<SortKey>('time_on_site');
export const filters = signal<Filters>({ site: null, chat: null, text: '' });

export const keyOf = (v: Pick<LiveVisitor, 'contact_id' | 'site_id'>) => `${v.contact_id}:${v.site_id}`;
export const lastChange = (v: LiveVisitor) => changedAt.get(keyOf(v)) ?? v.page_since;

/** Whether a row is one the filters keep. Text matches name, e-mail, page title or URL. */
export function matches(v: LiveVisitor, f: Filters): boolean {
  if (f.site && v.site_id !== f.site) return false;
  if (f.chat && v.chat.state !== f.chat) return false;
  const needle = f.text.trim().toLocaleLowerCase();
  if (!needle) return true;
  return [v.name, v.email, v.title, v.url].some((s) => s?.toLocaleLowerCase().includes(needle));
}

/** The sort's order, best first; ties keep arrival order (then the contact), so rows hold still. */
export function compare(key: SortKey): (a: LiveVisitor, b: LiveVisitor) => number {
  const by: Record<SortKey, (v: LiveVisitor) => number> = {
    time_on_site: (v) => -v.visit_started_at,
    score: (v) => v.lead_score,
    pages: (v) => v.pages_this_visit,
    changed: lastChange,
  };
  const value = by[key];
  return (a, b) => value(b) - value(a) || a.visit_started_at - b.visit_started_at || (a.contact_id < b.contact_id ? -1 : 1);
}

/** The rows on screen, in order. */
export const shown = computed(() => {
  const f = filters.value;
  return [...rows.value.values()].filter((v) => matches(v, f)).sort(compare(sort.value));
});

function replaceAll(list: LiveVisitor[]) {
  const next = new Map(list.map((v) => [keyOf(v), v]));
  for (const key of changedAt.keys()) if (!next.has(key)) changedAt.delete(key);
  batch(() => {
    rows.value = next;
    status.value = 'ready';
    onSite.value = next.size;
  });
}

function upsert(v: LiveVisitor) {
  const next = new Map(rows.value);
  next.set(keyOf(v), v);
  changedAt.set(keyOf(v), Date.now());
  rows.value = next;
  onSite.value = next.size;
}

function remove(contactId: string, siteId: string) {
  const key = `${contactId}:${siteId}`;
  if (!rows.value.has(key)) return;
  const next = new Map(rows.value);
  next.delete(key);
  changedAt.delete(key);
  rows.value = next;
  onSite.value = next.size;
}

let started = false;
let watching = false;
/** Bumped by every socket snapshot: a REST answer older than one is dropped. */
let snapshots = 0;

/** Reads the list and follows it on the socket; later calls only retry a failed read. */
export function startVisitors() {
  if (status.value === 'error') status.value = 'loading';
  void load();
  if (started) return;
  started = true;
  startLive();
  onFrame((frame) => {
    switch (frame.type) {
      case 'caught_up':
        // A new socket knows no watch: ask again after every (re)connect.
        watching = send({ type: 'visitors', watch: true, site_id: null });
        break;
      case 'visitors':
        snapshots++;
        replaceAll(frame.visitors);
        break;
      case 'visitor':
        upsert(frame.visitor);
        break;
      case 'visitor_left':
        remove(frame.contact_id, frame.site_id);
        break;
    }
  });
  if (connection.value === 'live' && !watching) watching = send({ type: 'visitors', watch: true, site_id: null });
}

async function load() {
  const before = snapshots;
  try {
    const answer = await call(client.GET('/api/v1/visitors/live'));
    // The socket's snapshot (and changes after it) may have come first: they are newer.
    if (snapshots === before) replaceAll(answer.visitors);
    else status.value = 'ready';
  } catch {
    if (status.value !== 'ready') status.value = 'error';
  }
}

/** The live row of a contact (on any site), if they are on one now. */
export function liveRow(contactId: string): LiveVisitor | undefined {
  for (const v of rows.value.values()) if (v.contact_id === contactId) return v;
  return undefined;
}
