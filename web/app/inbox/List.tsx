// The conversation list: views (Mine, Unassigned, All), status tabs, filters by team,
// site and label, endless scroll over the cursor API, and rows that change live.

import { useEffect, useRef } from 'preact/hooks';
import { Avatar } from '../Shell';
import { QueuePlace } from './Queues';
import { i18n, t } from '../i18n';
import {
  type Conversation,
  type Sort,
  type Status,
  type View,
  agentName,
  collision,
  contacts,
  conversation,
  counts,
  ensureContact,
  filter,
  isUnread,
  labelChoices,
  list,
  loadMore,
  openId,
  setFilter,
  siteName,
  sites,
  teams,
  typing,
} from './store';

export const VIEWS: View[] = ['mine', 'unassigned', 'all'];
export const STATUSES: Status[] = ['open', 'pending', 'snoozed', 'resolved'];

export function ConversationList({ onOpen }: { onOpen: (id: string) => void }) {
  const f = filter.value;
  const state = list.value;
  const sentinel = useRef<HTMLLIElement>(null);

  // Endless scroll: the next page loads when the end of the list comes into view.
  useEffect(() => {
    const end = sentinel.current;
    if (!end) return;
    const seen = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && void loadMore(), { rootMargin: '400px' });
    seen.observe(end);
    return () => seen.disconnect();
  }, [state.ids.length, state.next]);

  const labels = labelChoices(i18n.value?.locale ?? 'en');

  return (
    <section class="list-pane" aria-labelledby="list-heading">
      <header class="list-head">
        <h1 id="list-heading">{t('inbox.title')}</h1>
        <div class="segmented" role="tablist" aria-label={t('inbox.views')}>
          {VIEWS.map((v) => (
            <button key={v} role="tab" type="button" aria-selected={f.view === v} onClick={() => setFilter({ view: v })}>
              {t(`inbox.view.${v}`)}
              {counts.value && <span class="count">{i18n.value?.number(counts.value[v])}</span>}
            </button>
          ))}
        </div>
        <div class="tabs" role="tablist" aria-label={t('inbox.statusLabel')}>
          {STATUSES.map((s) => (
            <button key={s} role="tab" type="button" aria-selected={f.status === s} onClick={() => setFilter({ status: s })}>
              {t(`inbox.status.${s}`)}
              {counts.value && <span class="count">{i18n.value?.number(counts.value.by_status[s])}</span>}
            </button>
          ))}
        </div>
        <div class="filters">
          <select aria-label={t('inbox.filter.sort')} value={f.sort} onChange={(e) => setFilter({ sort: e.currentTarget.value as Sort })}>
            <option value="last_activity">{t('inbox.filter.byActivity')}</option>
            <option value="waiting">{t('inbox.filter.byWaiting')}</option>
          </select>
          {teams.value.length > 0 && (
            <select aria-label={t('inbox.filter.team')} value={f.team_id ?? ''} onChange={(e) => setFilter({ team_id: e.currentTarget.value || null })}>
              <option value="">{t('inbox.filter.anyTeam')}</option>
              {teams.value.map((x) => <option key={x.id} value={x.id}>{x.name}</option>)}
            </select>
          )}
          {sites.value.length > 1 && (
            <select aria-label={t('inbox.filter.site')} value={f.site_id ?? ''} onChange={(e) => setFilter({ site_id: e.currentTarget.value || null })}>
              <option value="">{t('inbox.filter.anySite')}</option>
              {sites.value.map((x) => <option key={x.id} value={x.id}>{x.name}</option>)}
            </select>
          )}
          {labels.length > 0 && (
            <select aria-label={t('inbox.filter.label')} value={f.label ?? ''} onChange={(e) => setFilter({ label: e.currentTarget.value || null })}>
              <option value="">{t('inbox.filter.anyLabel')}</option>
              {labels.map((l) => <option key={l} value={l}>{l}</option>)}
            </select>
          )}
        </div>
      </header>
      <ul class="conversations" aria-label={t('inbox.listLabel')} aria-busy={state.loading}>
        {state.ids.map((id) => <Row key={id} id={id} onOpen={onOpen} />)}
        {state.loaded && state.ids.length === 0 && !state.error && <Empty />}
        {state.error && (
          <li class="list-state" role="alert">
            <p>{state.error}</p>
            <button class="button" type="button" onClick={() => void loadMore()}>{t('inbox.retry')}</button>
          </li>
        )}
        {!state.loaded && !state.error && [0, 1, 2, 3, 4].map((n) => <li key={n} class="row skeleton" aria-hidden="true" />)}
        <li ref={sentinel} class="sentinel" aria-hidden="true" />
      </ul>
    </section>
  );
}

function Empty() {
  const f = filter.value;
  const filtered = f.team_id || f.site_id || f.label;
  return (
    <li class="list-state">
      <p class="empty-title">{t(filtered ? 'inbox.empty.filtered' : 'inbox.empty.title')}</p>
      {filtered ? (
        <button class="button" type="button" onClick={() => setFilter({ team_id: null, site_id: null, label: null })}>{t('inbox.empty.clear')}</button>
      ) : (
        f.view !== 'unassigned' && (
          <button class="button" type="button" onClick={() => setFilter({ view: 'unassigned' })}>{t('inbox.empty.unassigned')}</button>
        )
      )}
    </li>
  );
}

function Row({ id, onOpen }: { id: string; onOpen: (id: string) => void }) {
  const c = conversation(id)?.value;
  if (!c) return null;
  const unread = isUnread(c);
  const open = openId.value === id;
  const who = contactLabel(c);
  const isTyping = typing.value[id]?.actor.kind === 'contact';
  const others = collision(id);
  return (
    <li class="row" data-id={id} data-unread={unread || undefined} aria-current={open ? 'true' : undefined}>
      <a href={`/app/c/${id}`} onClick={(e) => { e.preventDefault(); onOpen(id); }} class="row-link">
        <Avatar name={who} url={null} size={36} />
        <span class="row-main">
          <span class="row-top">
            <bdi class="row-name">{who}</bdi>
            <time class="row-time" dateTime={new Date(c.updated_at).toISOString()}>{i18n.value?.relative(c.updated_at)}</time>
          </span>
          <span class="row-bottom">
            <span class="row-meta">
              {isTyping ? <em class="typing-text">{t('inbox.thread.visitorTyping')}</em> : <>
                {c.assignee_id ? <bdi>{agentName(c.assignee_id)}</bdi> : <span>{t('inbox.unassigned')}</span>}
                {siteName(c.site_id) && <> · <bdi>{siteName(c.site_id)}</bdi></>}
              </>}
            </span>
            {c.priority !== 'none' && <span class={`chip priority-${c.priority}`}>{t(`inbox.priority.${c.priority}`)}</span>}
            <QueuePlace c={c} />
            {c.waiting_since != null && <span class="chip waiting" title={t('inbox.waiting')}>{waited(c.waiting_since)}</span>}
            {others.viewing.length > 0 && <Collision id={id} />}
            {unread && (c.unread ? (
              <span class="unread-count" role="img" aria-label={t('inbox.unreadCount', { count: c.unread })}>{i18n.value?.number(c.unread)}</span>
            ) : <span class="unread-dot" role="img" aria-label={t('inbox.unread')} />)}
          </span>
          {c.labels.length > 0 && (
            <span class="row-labels">{c.labels.map((l) => <span key={l} class="label-chip">{l}</span>)}</span>
          )}
        </span>
      </a>
    </li>
  );
}

/** How a conversation is named in lists: the visitor's name, else a short visitor number. */
export function contactLabel(c: Conversation): string {
  const known = contacts.value[c.contact_id];
  if (!known) void ensureContact(c.contact_id);
  return known?.name || known?.email || t('inbox.visitor', { n: c.contact_id.slice(-4).toUpperCase() });
}

/** How long a visitor has waited, compact and in the agent's digits: "4 min", "2 hr", "3 d". */
export function waited(since: number, now = Date.now()): string {
  const minutes = Math.max(0, Math.floor((now - since) / 60_000));
  const [value, unit] = minutes < 60 ? [minutes, 'minute'] : minutes < 48 * 60 ? [Math.floor(minutes / 60), 'hour'] : [Math.floor(minutes / 1440), 'day'];
  return i18n.value?.number(value, { style: 'unit', unit, unitDisplay: 'short' }) ?? '';
}

/** Teammates in a conversation: a marker (amber: viewing, red: typing) and their initials. */
export function Collision({ id, wide = false }: { id: string; wide?: boolean }) {
  const { viewing, typing: typist } = collision(id);
  if (!viewing.length && !typist) return null;
  const names = new Intl.ListFormat(i18n.value?.locale).format(viewing.map((a) => agentName(a) || t('inbox.someone')));
  const text = typist ? t('inbox.collision.typing', { name: agentName(typist) || t('inbox.someone') }) : t('inbox.collision.viewing', { names });
  return (
    <span class={`collision ${typist ? 'is-typing' : ''}`} role="status" title={text}>
      {viewing.slice(0, 3).map((a) => <Avatar key={a} name={agentName(a)} url={null} size={20} />)}
      {wide ? <span>{text}</span> : <span class="visually-hidden">{text}</span>}
    </span>
  );
}
