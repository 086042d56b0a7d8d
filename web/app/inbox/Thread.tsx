// The open conversation's transcript: pages back through history as the agent scrolls
// up (keeping the scroll anchor), shows every system event the server records, the
// visitor's typing, and the delivery state of the agent's own messages.

import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';
import { Icon } from '../Shell';
import { i18n, t } from '../i18n';
import type { LiveEvent } from '../live/socket';
import { me } from '../session';
import { span } from './Queues';
import {
  type Attachment,
  type Conversation,
  type Pending,
  agentName,
  conversation,
  loadOlder,
  pending,
  retry,
  teamName,
  thread,
  typing,
} from './store';

export function Transcript({ id }: { id: string }) {
  const t0 = thread.value;
  const c = conversation(id)?.value;
  const scroller = useRef<HTMLDivElement>(null);
  const top = useRef<HTMLDivElement>(null);
  // Where the oldest shown item sits in the viewport, to put it back there after a prepend.
  const anchor = useRef<{ first: number; seq: string | null; offset: number; atBottom: boolean }>({ first: 0, seq: null, offset: 0, atBottom: true });
  const events = t0?.id === id ? t0.events : [];
  const mine = pending.value[id] ?? [];
  // When each stretch in the queue began, by the `dequeued` event that ended it.
  const queuedSince = new Map<number, number>();
  let since: number | null = null;
  for (const e of events) {
    if (e.kind === 'queued') since = e.at;
    else if (e.kind === 'dequeued' && since !== null) {
      queuedSince.set(e.seq, since);
      since = null;
    }
  }
  const who = typing.value[id];

  // Older pages load when the top of the transcript comes into view.
  useEffect(() => {
    const el = top.current;
    if (!el || !scroller.current) return;
    const seen = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && void loadOlder(), {
      root: scroller.current,
      rootMargin: '600px 0px 0px 0px',
    });
    seen.observe(el);
    return () => seen.disconnect();
  }, [id, t0?.loaded, t0?.older]);

  // Keep the reader's place: a prepended page must not move what they look at, and new
  // messages scroll into view only for a reader who was already at the bottom.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const first = events[0]?.seq ?? 0;
    const focus = t0?.focusSeq;
    if (focus != null && t0?.loaded) {
      const hit = el.querySelector<HTMLElement>(`[data-seq="${focus}"]`);
      if (hit) {
        hit.scrollIntoView({ block: 'center' });
        hit.classList.add('hit');
        thread.value = { ...t0, focusSeq: null };
      }
    } else if (anchor.current.first && first < anchor.current.first) {
      const kept = anchor.current.seq ? el.querySelector<HTMLElement>(`[data-seq="${anchor.current.seq}"]`) : null;
      if (kept) el.scrollTop = kept.offsetTop - anchor.current.offset;
    } else if (anchor.current.atBottom) {
      el.scrollTop = el.scrollHeight;
    }
    anchor.current.first = first;
  }, [events.length, events[0]?.seq, mine.length, !!who, t0?.loaded]);

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    const top = el.querySelector<HTMLElement>('[data-seq]');
    anchor.current.seq = top?.dataset.seq ?? null;
    anchor.current.offset = top ? top.offsetTop - el.scrollTop : 0;
    anchor.current.atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
  };

  if (!t0 || t0.id !== id) return null;
  const shownIds = new Set(events.flatMap((e) => ((e.kind === 'message' || e.kind === 'note') && e.message.client_id ? [e.message.client_id] : [])));
  return (
    <div class="transcript" ref={scroller} onScroll={onScroll} role="log" aria-live="polite" aria-label={t('inbox.thread.label')} tabIndex={0}>
      <div ref={top} class="transcript-top">
        {t0.loadingOlder && <span class="spinner small" role="status" aria-label={t('inbox.thread.loadingOlder')} />}
        {t0.loaded && !t0.older && <p class="muted start-note">{t('inbox.thread.start')}</p>}
      </div>
      {!t0.loaded && <div class="thread-loading"><span class="spinner" role="status" aria-label={t('shell.loading')} /></div>}
      {t0.error && <p class="banner banner-warn" role="alert">{t0.error}</p>}
      {events.map((e, i) => <Item key={e.seq} e={e} c={c} prev={events[i - 1]} since={queuedSince.get(e.seq) ?? null} />)}
      {mine.filter((p) => !shownIds.has(p.client_id)).map((p) => <PendingBubble key={p.client_id} p={p} id={id} />)}
      {who && who.actor.kind === 'contact' && (
        <div class="typing" aria-live="polite">
          <span class="dots" aria-hidden="true"><i /><i /><i /></span>
          {t('inbox.thread.visitorTyping')}
        </div>
      )}
      {who && who.actor.kind === 'agent' && who.actor.id !== me.value?.agent.id && (
        <div class="typing">{t('inbox.thread.agentTyping', { name: agentName(who.actor.id) })}</div>
      )}
    </div>
  );
}

function time(at: number) {
  return <time dateTime={new Date(at).toISOString()} title={i18n.value?.date(at)}>{i18n.value?.date(at, { hour: 'numeric', minute: '2-digit' })}</time>;
}

function Item({ e, c, prev, since }: { e: LiveEvent; c: Conversation | undefined; prev: LiveEvent | undefined; since: number | null }) {
  const day = new Date(e.at).toDateString();
  const divider = !prev || new Date(prev.at).toDateString() !== day;
  return (
    <>
      {divider && <div class="day" role="separator">{i18n.value?.date(e.at, { day: 'numeric', month: 'long', year: 'numeric' })}</div>}
      <Event e={e} c={c} since={since} />
    </>
  );
}

function Event({ e, c, since }: { e: LiveEvent; c: Conversation | undefined; since: number | null }) {
  const actor = e.actor.kind === 'agent' ? agentName(e.actor.id) || t('inbox.someone') : e.actor.kind === 'contact' ? t('inbox.theVisitor') : t('inbox.system');
  switch (e.kind) {
    case 'message':
    case 'note': {
      const m = e.message;
      const fromVisitor = m.author.kind === 'contact';
      const own = m.author.kind === 'agent' && m.author.id === me.value?.agent.id;
      return (
        <article class={`bubble ${fromVisitor ? 'theirs' : 'ours'} ${e.kind === 'note' ? 'note' : ''}`} data-seq={e.seq} aria-label={e.kind === 'note' ? t('inbox.thread.noteBy', { name: actor }) : actor}>
          {e.kind === 'note' && <span class="note-tag">{t('inbox.thread.note')}</span>}
          {!fromVisitor && <span class="author"><bdi>{actor}</bdi></span>}
          {m.body && <p dir="auto" class="body">{m.body}</p>}
          <Attachments list={m.attachments} />
          <span class="meta">
            {time(m.created_at)}
            {own && e.kind === 'message' && c && <Delivery seq={e.seq} c={c} />}
          </span>
        </article>
      );
    }
    case 'receipt':
      return null;
    case 'assigned':
      return (
        <div class="system" data-seq={e.seq}>
          <p><span>{systemText(e, actor)}</span> {time(e.at)}</p>
          {e.note && (
            <blockquote class="transfer-note" dir="auto" aria-label={t('inbox.event.noteLabel')}>
              <span class="note-tag">{t('inbox.event.noteLabel')}</span>
              {e.note}
            </blockquote>
          )}
        </div>
      );
    default:
      return <p class="system" data-seq={e.seq}><span>{systemText(e, actor, since)}</span> {time(e.at)}</p>;
  }
}

/** The sentence of a system event; `since` is when the stretch in the queue a `dequeued` ends began. */
export function systemText(e: LiveEvent, actor: string, since: number | null = null): string {
  switch (e.kind) {
    case 'conversation_started':
      return t('inbox.event.started');
    case 'status_changed':
      return e.status === 'snoozed' && e.snoozed_until
        ? t('inbox.event.snoozed', { name: actor, until: i18n.value?.date(e.snoozed_until) ?? '' })
        : t(`inbox.event.status.${e.status}`, { name: actor });
    case 'assigned': {
      const agent = agentName(e.assignee_id) || t('inbox.someone');
      const team = teamName(e.team_id) || t('inbox.queues.everyone');
      const to = e.assignee_id ? 'agent' : 'team';
      switch (e.reason) {
        case 'routed':
        case 'rerouted':
        case 'released':
        case 'transferred':
          return t(`inbox.event.${e.reason}.${to}`, { name: actor, agent, team });
        case 'claimed':
          return t('inbox.event.claimed', { agent });
        default:
          if (e.assignee_id) return t('inbox.event.assigned', { name: actor, agent });
          if (e.team_id) return t('inbox.event.assignedTeam', { name: actor, team });
          return t('inbox.event.unassigned', { name: actor });
      }
    }
    case 'queued': {
      const team = teamName(e.team_id) || t('inbox.queues.everyone');
      return e.priority === 'none' ? t('inbox.event.queued', { team }) : t('inbox.event.queuedPriority', { team, priority: t(`inbox.priority.${e.priority}`) });
    }
    case 'dequeued': {
      const team = teamName(e.team_id) || t('inbox.queues.everyone');
      if (e.reason === 'assigned' && since !== null) return t('inbox.event.dequeued.waited', { team, wait: span(e.at - since) });
      return t(`inbox.event.dequeued.${e.reason}`, { team });
    }
    case 'labels_changed':
      return e.labels.length ? t('inbox.event.labels', { name: actor, labels: new Intl.ListFormat(i18n.value?.locale).format(e.labels) }) : t('inbox.event.labelsCleared', { name: actor });
    case 'priority_changed':
      return t('inbox.event.priority', { name: actor, priority: t(`inbox.priority.${e.priority}`) });
    case 'contact_erased':
      return t('inbox.event.contactErased', { name: actor });
    case 'outside_hours':
      // The reopening in the agent's own language and time zone; the visitor reads theirs.
      return e.reopens_at == null
        ? t('inbox.event.outsideHoursNoTime')
        : t('inbox.event.outsideHours', { until: i18n.value?.date(e.reopens_at, { weekday: 'long', day: 'numeric', month: 'long', hour: 'numeric', minute: '2-digit' }) ?? '' });
    default:
      return '';
  }
}

function Delivery({ seq, c }: { seq: number; c: Conversation }) {
  const state = c.visitor.read_seq >= seq ? 'read' : c.visitor.delivered_seq >= seq ? 'delivered' : 'sent';
  return <span class={`delivery ${state}`} title={t(`inbox.delivery.${state}`)}>{state === 'sent' ? '✓' : '✓✓'}<span class="visually-hidden">{t(`inbox.delivery.${state}`)}</span>{state === 'read' && <span aria-hidden="true" class="seen">{t('inbox.delivery.read')}</span>}</span>;
}

function PendingBubble({ p, id }: { p: Pending; id: string }) {
  return (
    <article class={`bubble ours pending ${p.note ? 'note' : ''} ${p.state}`}>
      {p.note && <span class="note-tag">{t('inbox.thread.note')}</span>}
      {p.body && <p dir="auto" class="body">{p.body}</p>}
      <Attachments list={p.attachments} />
      <span class="meta">
        {p.state === 'failed' ? (
          <>
            <span class="failed-text" role="alert">{p.error ?? t('inbox.delivery.failed')}</span>
            <button type="button" class="link-button" onClick={() => retry(id, p.client_id)}>{t('inbox.retry')}</button>
          </>
        ) : (
          <span class="delivery sending" title={t('inbox.delivery.sending')}><Icon name="clock" /><span class="visually-hidden">{t('inbox.delivery.sending')}</span></span>
        )}
      </span>
    </article>
  );
}

function Attachments({ list }: { list: Attachment[] }) {
  if (!list.length) return null;
  return (
    <ul class="attachments">
      {list.map((a) => (
        <li key={a.id}>
          {a.content_type.startsWith('image/') ? (
            <a href={a.url} target="_blank" rel="noopener"><img src={a.url} alt={a.filename} loading="lazy" width={a.width ?? undefined} height={a.height ?? undefined} /></a>
          ) : (
            <a href={a.url} download={a.filename} class="file"><bdi>{a.filename}</bdi> <span class="muted">{i18n.value?.number(Math.max(1, a.size / 1024), { style: 'unit', unit: 'kilobyte', maximumFractionDigits: 0 })}</span></a>
          )}
        </li>
      ))}
    </ul>
  );
}
