// The live Visitors screen (`/app/visitors`): who is on the workspace's sites now, one row
// per person and site, updated in place from the agent socket's `visitors` watch, with
// times ticking in the browser once a second. Sorting, filters (site, chat state, text)
// and an invite button per row. Only the rows in view are in the DOM, so 500 visitors
// scroll and update as cheaply as 20; at phone width the rows are cards.

import { useSignal } from '@preact/signals';
import { useLocation } from 'preact-iso';
import { useEffect, useRef, useState } from 'preact/hooks';
import { call, client } from '../api';
import { i18n, t } from '../i18n';
import { online } from '../online';
import { isAdmin } from '../session';
import { connection } from '../live/socket';
import { bindKeys } from '../inbox/keys';
import { Empty } from '../admin/ui';
import { InviteDialog, invited } from './Invite';
import { countryName, deviceText, duration, flag, languageName, now, pagePath, referrerHost, tick, utmText } from './format';
import { type ChatState, type LiveVisitor, type SortKey, filters, keyOf, shown, sort, startVisitors, status, rows } from './store';
import { agentName, loadDirectory, siteName, sites } from './directory';
import '../admin/admin.css';
import './visitors.css';

const SORTS: SortKey[] = ['time_on_site', 'score', 'pages', 'changed'];
const CHAT_STATES: ChatState[] = ['none', 'waiting', 'chatting'];
/** Row heights in CSS pixels; visitors.css gives rows exactly these. */
const ROW = { table: 64, card: 164 };
const OVERSCAN = 6;

/** The phone layout (cards) follows the same breakpoint as the shell. */
function usePhone(): boolean {
  const query = '(max-width: 640px)';
  const [phone, setPhone] = useState(() => matchMedia(query).matches);
  useEffect(() => {
    const list = matchMedia(query);
    const change = () => setPhone(list.matches);
    list.addEventListener('change', change);
    return () => list.removeEventListener('change', change);
  }, []);
  return phone;
}

export function Visitors() {
  const { route } = useLocation();
  const inviting = useSignal<LiveVisitor | null>(null);
  useEffect(() => {
    startVisitors();
    void loadDirectory();
    return tick();
  }, []);
  useEffect(
    () =>
      bindKeys(() => [
        { id: 'inbox', label: t('visitors.goInbox'), keys: ['KeyG KeyI'], run: () => route('/app') },
        { id: 'search', label: t('visitors.search'), keys: ['Slash'], run: () => document.querySelector<HTMLInputElement>('.visitors-search')?.focus() },
      ]),
    [],
  );
  const stale = !online.value || connection.value === 'reconnecting';
  const total = rows.value.size;

  return (
    <section class="visitors" aria-labelledby="visitors-h">
      <header class="visitors-head">
        <h1 id="visitors-h">{t('visitors.title')}</h1>
        <p class="muted" role="status" aria-live="polite">
          {status.value === 'ready' ? t('visitors.count', { count: total }) : ''}
        </p>
      </header>
      <Toolbar />
      {stale && status.value !== 'loading' && (
        <p class="banner banner-warn" role="status">
          {t('visitors.offline')}
        </p>
      )}
      <Body stale={stale} onInvite={(v) => (inviting.value = v)} />
      {inviting.value && <InviteDialog visitor={inviting.value} onClose={() => (inviting.value = null)} />}
    </section>
  );
}

function Toolbar() {
  const f = filters.value;
  const set = (change: Partial<typeof f>) => (filters.value = { ...filters.value, ...change });
  return (
    <div class="visitors-bar" role="search">
      <label class="field-inline">
        <span>{t('visitors.filter.site')}</span>
        <select value={f.site ?? ''} onChange={(e) => set({ site: e.currentTarget.value || null })}>
          <option value="">{t('visitors.filter.allSites')}</option>
          {sites.value.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name}
            </option>
          ))}
        </select>
      </label>
      <label class="field-inline">
        <span>{t('visitors.filter.chat')}</span>
        <select value={f.chat ?? ''} onChange={(e) => set({ chat: (e.currentTarget.value || null) as ChatState | null })}>
          <option value="">{t('visitors.filter.anyChat')}</option>
          {CHAT_STATES.map((c) => (
            <option key={c} value={c}>
              {t(`visitors.chatState.${c}`)}
            </option>
          ))}
        </select>
      </label>
      <label class="field-inline">
        <span>{t('visitors.sortBy')}</span>
        <select value={sort.value} onChange={(e) => (sort.value = e.currentTarget.value as SortKey)}>
          {SORTS.map((s) => (
            <option key={s} value={s}>
              {t(`visitors.sort.${s}`)}
            </option>
          ))}
        </select>
      </label>
      <label class="field-inline grow">
        <span class="visually-hidden">{t('visitors.search')}</span>
        <input
          class="visitors-search"
          type="search"
          value={f.text}
          placeholder={t('visitors.searchPlaceholder')}
          onInput={(e) => set({ text: e.currentTarget.value })}
        />
      </label>
    </div>
  );
}

function Body({ stale, onInvite }: { stale: boolean; onInvite: (v: LiveVisitor) => void }) {
  if (status.value === 'loading') {
    return (
      <div class="state" role="status" aria-live="polite">
        <span class="spinner" aria-hidden="true" />
        <span>{t('shell.loading')}</span>
      </div>
    );
  }
  if (status.value === 'error') {
    return (
      <div class="state state-error" role="alert">
        <p>{t('visitors.error')}</p>
        <button class="button" type="button" onClick={startVisitors}>
          {t('visitors.retry')}
        </button>
      </div>
    );
  }
  if (rows.value.size === 0) return <Nobody />;
  if (shown.value.length === 0) {
    return (
      <Empty title={t('visitors.noMatchTitle')} text={t('visitors.noMatchText')}>
        <button class="button" type="button" onClick={() => (filters.value = { site: null, chat: null, text: '' })}>
          {t('visitors.clearFilters')}
        </button>
      </Empty>
    );
  }
  return <Table stale={stale} onInvite={onInvite} />;
}

/** Nobody on the sites: how visitors get here, and where the snippet is. */
function Nobody() {
  const site = sites.value.find((s) => s.id === filters.value.site) ?? sites.value[0];
  return (
    <Empty title={t('visitors.emptyTitle')} text={t('visitors.emptyText')}>
      {isAdmin.value && site ? (
        <a class="button primary" href={`/app/settings/sites/${site.id}`}>
          {t('visitors.snippetLink', { site: site.name })}
        </a>
      ) : (
        <p class="muted">{t('visitors.askAdmin')}</p>
      )}
    </Empty>
  );
}

function Table({ stale, onInvite }: { stale: boolean; onInvite: (v: LiveVisitor) => void }) {
  const phone = usePhone();
  const height = phone ? ROW.card : ROW.table;
  const scroller = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, size: 800 });
  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    let frame = 0;
    const measure = () => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => setView({ top: el.scrollTop, size: el.clientHeight }));
    };
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    el.addEventListener('scroll', measure, { passive: true });
    measure();
    return () => {
      observer.disconnect();
      el.removeEventListener('scroll', measure);
      cancelAnimationFrame(frame);
    };
  }, []);
  const list = shown.value;
  const first = Math.max(0, Math.floor(view.top / height) - OVERSCAN);
  const last = Math.min(list.length, Math.ceil((view.top + view.size) / height) + OVERSCAN);
  const key = sort.value;
  const ariaSort = (k: SortKey) => (key === k ? 'descending' : undefined);

  return (
    <div class={`vtable ${stale ? 'stale' : ''}`}>
      {/* The scroller is the table (it takes focus to scroll by keys); its header row sticks. */}
      <div class="vscroll" ref={scroller} tabIndex={0} role="table" aria-label={t('visitors.listLabel')} aria-rowcount={list.length + 1}>
        <div role="rowgroup" class="vheadgroup">
          <div class="vrow vhead" role="row" aria-rowindex={1}>
            <span role="columnheader">{t('visitors.col.visitor')}</span>
            <span role="columnheader">{t('visitors.col.page')}</span>
            <span role="columnheader" aria-sort={ariaSort('time_on_site') ?? ariaSort('pages')}>
              <SortButton k="time_on_site" label={t('visitors.col.onSite')} />
            </span>
            <span role="columnheader">{t('visitors.col.source')}</span>
            <span role="columnheader">{t('visitors.col.device')}</span>
            <span role="columnheader" aria-sort={ariaSort('score')}>
              <SortButton k="score" label={t('visitors.col.score')} />
            </span>
            <span role="columnheader">{t('visitors.col.chat')}</span>
            <span role="columnheader">
              <span class="visually-hidden">{t('visitors.col.actions')}</span>
            </span>
          </div>
        </div>
        <div class="vbody" role="rowgroup" style={{ blockSize: `${list.length * height}px` }}>
          {list.slice(first, last).map((v, i) => (
            <Row key={keyOf(v)} v={v} index={first + i} height={height} onInvite={onInvite} />
          ))}
        </div>
      </div>
    </div>
  );
}

function SortButton({ k, label }: { k: SortKey; label: string }) {
  const active = sort.value === k;
  return (
    <button type="button" class={`sort ${active ? 'on' : ''}`} onClick={() => (sort.value = k)}>
      {label}
      {active && <span aria-hidden="true"> ↓</span>}
    </button>
  );
}

/** Seconds since `since`, re-rendered alone each tick. */
function Since({ at }: { at: number }) {
  // Reading `now` here subscribes this component alone to the tick, not the row.
  return <>{duration(now.value - at)}</>;
}

function Row({ v, index, height, onInvite }: { v: LiveVisitor; index: number; height: number; onInvite: (v: LiveVisitor) => void }) {
  const who = v.name || v.email || t('visitors.anonymous');
  const returning = v.visit_number > 1;
  const source = [referrerHost(v.referrer), utmText(v.utm)].filter(Boolean);
  const invitation = invited.value[v.contact_id];
  return (
    <div
      class="vrow"
      role="row"
      aria-rowindex={index + 2}
      data-contact={v.contact_id}
      style={{ insetBlockStart: `${index * height}px`, blockSize: `${height}px` }}
    >
      <span role="cell" class="c-who">
        <a class="who" href={`/app/visitors/${v.contact_id}`}>
          {who}
        </a>
        {v.name && v.email && <span class="sub">{v.email}</span>}
        <span class="sub">
          <span class={`tag ${returning ? 'returning' : 'new'}`}>{returning ? t('visitors.returning') : t('visitors.new')}</span>{' '}
          {t('visitors.visitNumber', { count: v.visit_number })}
          {v.country && (
            <>
              {' · '}
              <span title={countryName(v.country)}>
                <span aria-hidden="true">{flag(v.country)}</span> {countryName(v.country)}
              </span>
            </>
          )}
        </span>
      </span>
      <span role="cell" class="c-page">
        <span class="page-title" title={v.title ?? v.url}>
          {v.title || pagePath(v.url)}
        </span>
        <span class="sub url" dir="ltr" title={v.url}>
          {pagePath(v.url)}
        </span>
        <span class="sub">
          {t('visitors.onPage')} <Since at={v.page_since} />
        </span>
      </span>
      <span role="cell" class="c-site">
        <span class="num">
          <Since at={v.visit_started_at} />
        </span>
        <span class="sub">{t('visitors.pages', { count: v.pages_this_visit })}</span>
        {!filters.value.site && sites.value.length > 1 && <span class="sub">{siteName(v.site_id)}</span>}
      </span>
      <span role="cell" class="c-source">
        {source.length ? (
          source.map((s) => (
            <span class="sub" dir="ltr" key={s}>
              {s}
            </span>
          ))
        ) : (
          <span class="sub">{t('visitors.direct')}</span>
        )}
      </span>
      <span role="cell" class="c-device">
        <span class="sub">{deviceText(v.device)}</span>
        {languageName(v.device.language) && <span class="sub">{languageName(v.device.language)}</span>}
      </span>
      <span role="cell" class="c-score">
        <span class="score" title={t('visitors.col.score')}>
          {i18n.value?.number(v.lead_score)}
        </span>
      </span>
      <span role="cell" class="c-chat">
        <ChatCell v={v} />
        {invitation && v.chat.state === 'none' && <span class="sub invited">{t('visitors.invited')}</span>}
      </span>
      <span role="cell" class="c-actions">
        <button type="button" class="button" onClick={() => onInvite(v)} disabled={v.chat.state !== 'none' || !online.value}>
          {t('visitors.invite')}
        </button>
      </span>
    </div>
  );
}

/** None, waiting (a link to the conversation) or chatting with whom. */
export function ChatCell({ v }: { v: LiveVisitor }) {
  const { state, conversation_id, agent_id } = v.chat;
  if (state === 'none' || !conversation_id) return <span class="chat none">{t('visitors.chatState.none')}</span>;
  const text = state === 'chatting' && agent_id ? t('visitors.chattingWith', { agent: agentName(agent_id) || t('visitors.anAgent') }) : t(`visitors.chatState.${state}`);
  return (
    <a class={`chat ${state}`} href={`/app/c/${conversation_id}`}>
      {text}
    </a>
  );
}

/** The contact's conversations, for the visitor's page (newest first). */
export async function conversationsOf(contactId: string) {
  return (await call(client.GET('/api/v1/conversations', { params: { query: { contact_id: contactId, limit: 20 } } }))).items;
}
