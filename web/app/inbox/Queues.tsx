// The waiting queues at a glance: each team's queue (and the workspace-wide one of
// everyone) with how many visitors wait and how long the longest has waited, ticking
// every second. The socket's `queues` frames keep it live; a queue opens the list of
// unassigned conversations of that team, longest waiting first.

import { useEffect, useState } from 'preact/hooks';
import { i18n, t } from '../i18n';
import { type Conversation, type Queue, queues, setFilter, teamName, teams } from './store';

/** A wait as a clock, "4:07" or "1:02:09", in the agent's digits. */
export function clock(ms: number): string {
  const tr = i18n.value;
  const total = Math.max(0, Math.floor(ms / 1000));
  const two = (n: number) => tr?.number(n, { minimumIntegerDigits: 2 }) ?? String(n).padStart(2, '0');
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const first = (n: number) => tr?.number(n) ?? String(n);
  return h > 0 ? `${first(h)}:${two(m)}:${two(s)}` : `${first(m)}:${two(s)}`;
}

/** A wait in words for screen readers and titles: "45 seconds", "4 minutes", "2 hours". */
export function span(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const [value, unit] =
    seconds < 60 ? [seconds, 'second'] : seconds < 3600 ? [Math.floor(seconds / 60), 'minute'] : seconds < 48 * 3600 ? [Math.floor(seconds / 3600), 'hour'] : [Math.floor(seconds / 86400), 'day'];
  return i18n.value?.number(value, { style: 'unit', unit, unitDisplay: 'long' }) ?? '';
}

export const queueName = (q: { team_id?: string | null }) => (q.team_id ? teamName(q.team_id) || t('inbox.someone') : t('inbox.queues.everyone'));

export function QueueStrip() {
  const all = queues.value;
  const [now, setNow] = useState(Date.now());
  const ticking = all.some((q) => q.oldest_queued_at != null);
  useEffect(() => {
    if (!ticking) return;
    setNow(Date.now());
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(tick);
  }, [ticking]);
  // The workspace-wide queue matters when it has someone in it, or when there are no teams.
  const shown = all.filter((q) => q.team_id != null || q.length > 0 || teams.value.length === 0);
  if (!shown.length) return null;
  const waiting = all.reduce((n, q) => n + q.length, 0);
  return (
    <section class="queues" aria-labelledby="queues-h">
      <h2 id="queues-h">
        {t('inbox.queues.title')}
        <span class="count">{t('inbox.queues.waiting', { count: waiting })}</span>
      </h2>
      <ul>
        {shown.map((q) => {
          const wait = q.oldest_queued_at != null ? now - q.oldest_queued_at : null;
          const label = wait != null ? t('inbox.queues.summary', { team: queueName(q), count: q.length, wait: span(wait) }) : t('inbox.queues.empty', { team: queueName(q) });
          return (
            <li key={q.team_id ?? 'everyone'} class={`queue ${q.length ? 'busy' : ''}`}>
              <button type="button" title={label} onClick={() => setFilter({ view: 'unassigned', status: 'open', sort: 'waiting', team_id: q.team_id ?? null })}>
                {/* Screen readers get the sentence; the ticking clock would be noise to them. */}
                <span class="visually-hidden">{label}</span>
                <bdi class="queue-name" aria-hidden="true">{queueName(q)}</bdi>
                <span class="queue-length" aria-hidden="true">{i18n.value?.number(q.length)}</span>
                {wait != null && (
                  <time class="queue-wait" dir="ltr" aria-hidden="true" dateTime={`PT${Math.floor(wait / 1000)}S`}>
                    {clock(wait)}
                  </time>
                )}
              </button>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

/** A waiting conversation's place in its team's line: "No. 3 in line". */
export function QueuePlace({ c }: { c: Conversation }) {
  if (c.queue_position == null || c.queued_at == null) return null;
  const where = t('inbox.queue.where', { n: c.queue_position, team: queueName(c) });
  return (
    <span class="chip queued" title={where}>
      {t('inbox.queue.place', { n: c.queue_position })}
      <span class="visually-hidden"> {where}</span>
    </span>
  );
}
