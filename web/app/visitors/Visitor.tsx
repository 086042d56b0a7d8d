// A visitor's page (`/app/visitors/{contact_id}`): who they are (details, attributes,
// score, device, country, language), where they are now (live from the watch, ticking),
// their browsing history (`GET /contacts/{id}/visits`, newest visit first, paged), their
// conversations (links into the inbox) and the invite action, whose answer shows up as a
// link to the conversation it started.

import { useSignal } from '@preact/signals';
import { useEffect, useState } from 'preact/hooks';
import { type Schemas, call, client } from '../api';
import { i18n, t } from '../i18n';
import { online } from '../online';
import { Empty, Header, Loading, useLoad } from '../admin/ui';
import { InviteDialog, invited } from './Invite';
import { ChatCell, conversationsOf } from './Visitors';
import { countryName, deviceText, duration, flag, languageName, now, pagePath, referrerHost, tick, utmText } from './format';
import { liveRow, startVisitors } from './store';
import { loadDirectory, siteName } from './directory';
import '../admin/admin.css';
import './visitors.css';

type Visit = Schemas['Visit'];

export function VisitorPage({ contactId }: { contactId: string }) {
  useEffect(() => {
    startVisitors();
    void loadDirectory();
    return tick();
  }, []);
  const contact = useLoad(() => call(client.GET('/api/v1/contacts/{id}', { params: { path: { id: contactId } } })), [contactId]);
  return (
    <section class="visitor-page">
      <Header title={t('visitors.visitorTitle')} back="/app/visitors" level={1} />
      {!online.value && (
        <p class="banner banner-warn" role="status">
          {t('visitors.offline')}
        </p>
      )}
      <Loading loaded={contact.value} retry={contact.reload}>
        {(c) => (
          <div class="visitor-grid">
            <Who c={c} />
            <Now contactId={c.id} c={c} />
            <Conversations contactId={c.id} />
            <History contactId={c.id} />
          </div>
        )}
      </Loading>
    </section>
  );
}

function Who({ c }: { c: Schemas['Contact'] }) {
  const live = liveRow(c.id);
  // Live, where they are now; else where they last connected from.
  const country = live?.country ?? c.country;
  const attributes = Object.entries(c.attributes as Record<string, unknown>);
  return (
    <section class="card" aria-labelledby="who-h">
      <h2 id="who-h">{c.name || c.email || t('visitors.anonymous')}</h2>
      <dl class="facts">
        {c.email && <Fact term={t('visitors.email')} value={c.email} />}
        {c.phone && <Fact term={t('visitors.phone')} value={c.phone} />}
        <Fact term={t('visitors.col.score')} value={i18n.value?.number(c.lead_score) ?? ''} />
        <Fact term={t('visitors.col.device')} value={deviceText(c.device) || '—'} />
        {languageName(c.device.language) && <Fact term={t('visitors.language')} value={languageName(c.device.language)} />}
        {country && <Fact term={t('visitors.country')} value={`${flag(country)} ${countryName(country)}`} />}
        <Fact term={t('visitors.firstSeen')} value={i18n.value?.date(c.first_seen) ?? ''} />
        {attributes.map(([k, v]) => (
          <Fact key={k} term={k} value={typeof v === 'string' ? v : JSON.stringify(v)} />
        ))}
      </dl>
    </section>
  );
}

function Fact({ term, value }: { term: string; value: string }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd>{value}</dd>
    </div>
  );
}

/** Where they are now, live; the invite action and its outcome. */
function Now({ contactId, c }: { contactId: string; c: Schemas['Contact'] }) {
  const inviting = useSignal(false);
  const live = liveRow(contactId);
  const invitation = invited.value[contactId];
  const answered = invitation && live && live.chat.conversation_id;
  return (
    <section class="card now" aria-labelledby="now-h">
      <h2 id="now-h">{t('visitors.now')}</h2>
      {live ? (
        <>
          <p class="current">
            <span class="live-dot" aria-hidden="true" /> {t('visitors.onSiteNow', { site: siteName(live.site_id) || '—' })}
          </p>
          <p>
            <a href={live.url} target="_blank" rel="noreferrer noopener" class="page-title">
              {live.title || pagePath(live.url)}
            </a>
            <br />
            <span class="sub url" dir="ltr">
              {live.url}
            </span>
          </p>
          <dl class="facts">
            <Fact term={t('visitors.timeOnPage')} value={duration(now.value - live.page_since)} />
            <Fact term={t('visitors.col.onSite')} value={duration(now.value - live.visit_started_at)} />
            <Fact term={t('visitors.pagesLabel')} value={i18n.value?.number(live.pages_this_visit) ?? ''} />
          </dl>
          <p>
            <ChatCell v={live} />
          </p>
          {answered ? (
            <p class="invite-state" role="status">
              {t('visitors.answered')}{' '}
              <a href={`/app/c/${live.chat.conversation_id}`}>{t('visitors.openConversation')}</a>
            </p>
          ) : invitation ? (
            <p class="invite-state" role="status">
              {t('visitors.invitedWaiting')}
            </p>
          ) : null}
          <button class="button primary" type="button" disabled={live.chat.state !== 'none'} onClick={() => (inviting.value = true)}>
            {t('visitors.invite')}
          </button>
        </>
      ) : (
        <p class="muted">{t('visitors.notOnSite', { when: i18n.value?.relative(c.last_seen, now.value) ?? '' })}</p>
      )}
      {inviting.value && <InviteDialog visitor={{ contact_id: c.id, name: c.name, email: c.email }} onClose={() => (inviting.value = false)} />}
    </section>
  );
}

function Conversations({ contactId }: { contactId: string }) {
  const loaded = useLoad(() => conversationsOf(contactId), [contactId]);
  // A reply to an invitation starts a conversation: read the list again when one appears.
  const live = liveRow(contactId)?.chat.conversation_id ?? null;
  useEffect(() => {
    if (live) loaded.reload();
  }, [live]);
  return (
    <section class="card" aria-labelledby="conv-h">
      <h2 id="conv-h">{t('visitors.conversations')}</h2>
      <Loading loaded={loaded.value} retry={loaded.reload}>
        {(items) =>
          items.length ? (
            <ul class="conversations">
              {items.map((x) => (
                <li key={x.id}>
                  <a href={`/app/c/${x.id}`}>{i18n.value?.date(x.created_at, { day: 'numeric', month: 'short', year: 'numeric', hour: 'numeric', minute: '2-digit' })}</a>{' '}
                  <span class="tag">{t(`visitors.status.${x.status}`)}</span>
                </li>
              ))}
            </ul>
          ) : (
            <p class="muted">{t('visitors.noConversations')}</p>
          )
        }
      </Loading>
    </section>
  );
}

/** The visits, newest first, a page at a time. */
function History({ contactId }: { contactId: string }) {
  const [visits, setVisits] = useState<Visit[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [state, setState] = useState<'loading' | 'ready' | 'error'>('loading');
  const page = async (before: string | null) => {
    setState('loading');
    try {
      const answer = await call(
        client.GET('/api/v1/contacts/{id}/visits', { params: { path: { id: contactId }, query: { limit: 10, ...(before ? { before } : {}) } } }),
      );
      setVisits((had) => (before ? [...had, ...answer.visits] : answer.visits));
      setNext(answer.next ?? null);
      setState('ready');
    } catch {
      setState('error');
    }
  };
  useEffect(() => {
    void page(null);
  }, [contactId]);
  return (
    <section class="card history" aria-labelledby="history-h">
      <h2 id="history-h">{t('visitors.history')}</h2>
      {visits.length === 0 && state === 'ready' && <Empty title={t('visitors.noVisitsTitle')} text={t('visitors.noVisitsText')} />}
      <ol class="visits">
        {visits.map((v) => (
          <VisitItem key={v.id} v={v} />
        ))}
      </ol>
      {state === 'loading' && (
        <p class="state" role="status">
          <span class="spinner" aria-hidden="true" /> {t('shell.loading')}
        </p>
      )}
      {state === 'error' && (
        <p class="state state-error" role="alert">
          {t('visitors.historyError')}{' '}
          <button class="button" type="button" onClick={() => void page(visits.length ? next : null)}>
            {t('visitors.retry')}
          </button>
        </p>
      )}
      {state === 'ready' && next && (
        <button class="button" type="button" onClick={() => void page(next)}>
          {t('visitors.olderVisits')}
        </button>
      )}
    </section>
  );
}

function VisitItem({ v }: { v: Visit }) {
  const tr = i18n.value;
  const source = [referrerHost(v.referrer), utmText(v.utm)].filter(Boolean).join(' · ');
  return (
    <li class="visit">
      <h3>
        {t('visitors.visitHeading', { count: v.number })}
        <span class="muted">
          {' · '}
          {tr?.date(v.started_at)} · {duration(v.last_seen_at - v.started_at)}
          {v.country && ` · ${flag(v.country)} ${countryName(v.country)}`}
        </span>
      </h3>
      <p class="sub">
        {t('visitors.cameFrom')} <span dir="ltr">{source || t('visitors.direct')}</span>
        {siteName(v.site_id) && ` · ${siteName(v.site_id)}`}
      </p>
      <ol class="pages">
        {v.pages.map((p, i) => (
          <li key={`${p.at}-${i}`}>
            <time dateTime={new Date(p.at).toISOString()}>{tr?.date(p.at, { hour: 'numeric', minute: '2-digit', second: '2-digit' })}</time>{' '}
            <span class="page-title">{p.title || pagePath(p.url)}</span>{' '}
            <span class="sub url" dir="ltr">
              {p.url}
            </span>
          </li>
        ))}
      </ol>
    </li>
  );
}
