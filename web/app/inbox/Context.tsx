// The context panel beside a conversation: what to do with it (claim, transfer, assign, resolve, snooze,
// priority, labels, block the visitor), who the visitor is (editable details, device, pages with times,
// earlier conversations, and for owners and admins their data: export, erase) and the
// conversation's own facts.

import { useEffect, useState } from 'preact/hooks';
import { ApiError, type Schemas, call, client } from '../api';
import { errorText, i18n, t } from '../i18n';
import { me } from '../session';
import { BlockDialog } from './Block';
import { waited } from './List';
import { assign, claim, say, setLabels, setPriority, setStatus, snoozePresets } from './actions';
import { PrivacyCard } from './Privacy';
import { countryName, flag } from '../visitors/format';
import { type Conversation, type Priority, agentName, agents, contacts, erased, presence, conversation, ensureContact, siteName, teamName, teams } from './store';

export const PRIORITIES: Priority[] = ['none', 'low', 'medium', 'high', 'urgent'];

export function ContextPanel({ id, onOpen, onTransfer }: { id: string; onOpen: (id: string) => void; onTransfer: () => void }) {
  const c = conversation(id)?.value;
  if (!c) return null;
  return (
    <aside class="context" aria-label={t('inbox.context.label')}>
      <Actions c={c} onTransfer={onTransfer} />
      <ContactCard contactId={c.contact_id} />
      <PrivacyCard contactId={c.contact_id} />
      <Details c={c} />
      <Pages contactId={c.contact_id} />
      <Previous c={c} onOpen={onOpen} />
    </aside>
  );
}

function Actions({ c, onTransfer }: { c: Conversation; onTransfer: () => void }) {
  const myId = me.value?.agent.id;
  const [snoozing, setSnoozing] = useState(false);
  const [custom, setCustom] = useState('');
  const [blocking, setBlocking] = useState(false);
  return (
    <section class="card" aria-labelledby="actions-h">
      <h2 id="actions-h">{t('inbox.actions.title')}</h2>
      <div class="action-row">
        {c.status === 'resolved' ? (
          <button class="button" type="button" onClick={() => void setStatus(c.id, 'open')}>{t('inbox.actions.reopen')} <kbd>E</kbd></button>
        ) : (
          <button class="button primary" type="button" onClick={() => void setStatus(c.id, 'resolved')}>{t('inbox.actions.resolve')} <kbd>E</kbd></button>
        )}
        <button class="button" type="button" aria-expanded={snoozing} onClick={() => setSnoozing(!snoozing)}>{t('inbox.actions.snooze')} <kbd>H</kbd></button>
        {c.assignee_id == null && c.status !== 'resolved' ? (
          <button class="button" type="button" onClick={() => void claim(c.id)}>{t('inbox.actions.claim')} <kbd>C</kbd></button>
        ) : c.assignee_id !== myId && <button class="button" type="button" onClick={() => void assign(c.id, myId ?? null)}>{t('inbox.actions.assignMe')} <kbd>I</kbd></button>}
        {c.status !== 'resolved' && <button class="button" type="button" onClick={onTransfer}>{t('inbox.actions.transfer')} <kbd>T</kbd></button>}
      </div>
      {snoozing && <SnoozeMenu id={c.id} custom={custom} setCustom={setCustom} done={() => setSnoozing(false)} />}
      <label>
        {t('inbox.actions.assignee')}
        <select id="assign-agent" value={c.assignee_id ?? ''} onChange={(e) => void assign(c.id, e.currentTarget.value || null, c.team_id ?? null)}>
          <option value="">{t('inbox.unassigned')}</option>
          {agents.value.map((a) => (
            <option key={a.id} value={a.id}>
              {a.id === myId ? t('inbox.actions.me', { name: a.name }) : presence.value[a.id] && presence.value[a.id] !== 'online' ? t('inbox.actions.withStatus', { name: a.name, status: t(`inbox.presence.${presence.value[a.id]}`) }) : a.name}
            </option>
          ))}
        </select>
      </label>
      {teams.value.length > 0 && (
        <label>
          {t('inbox.actions.team')}
          <select value={c.team_id ?? ''} onChange={(e) => void assign(c.id, null, e.currentTarget.value || null)}>
            <option value="">{t('inbox.actions.noTeam')}</option>
            {teams.value.map((x) => <option key={x.id} value={x.id}>{x.name}</option>)}
          </select>
        </label>
      )}
      <label>
        {t('inbox.actions.priority')}
        <select id="set-priority" value={c.priority} onChange={(e) => void setPriority(c.id, e.currentTarget.value as Priority)}>
          {PRIORITIES.map((p) => <option key={p} value={p}>{t(`inbox.priority.${p}`)}</option>)}
        </select>
      </label>
      <Labels c={c} />
      <button class="button danger block-button" type="button" onClick={() => setBlocking(true)}>
        {t('inbox.block.action')}
      </button>
      {blocking && <BlockDialog id={c.id} onClose={() => setBlocking(false)} />}
    </section>
  );
}

export function SnoozeMenu({ id, custom, setCustom, done }: { id: string; custom: string; setCustom: (v: string) => void; done: () => void }) {
  const snooze = (at: number) => {
    void setStatus(id, 'snoozed', at);
    done();
  };
  return (
    <div class="snooze-menu" role="group" aria-label={t('inbox.actions.snooze')}>
      {snoozePresets().map((p) => (
        <button key={p.key} type="button" class="button" onClick={() => snooze(p.at)}>
          {t(`inbox.snooze.${p.key}`)} <span class="muted">{i18n.value?.date(p.at, { weekday: 'short', hour: 'numeric', minute: '2-digit' })}</span>
        </button>
      ))}
      <form class="snooze-custom" onSubmit={(e) => { e.preventDefault(); const at = new Date(custom).getTime(); if (at > Date.now()) snooze(at); else say(t('inbox.snooze.future'), true); }}>
        <label>
          {t('inbox.snooze.until')}
          <input type="datetime-local" value={custom} onInput={(e) => setCustom(e.currentTarget.value)} required />
        </label>
        <button class="button" type="submit">{t('inbox.snooze.set')}</button>
      </form>
    </div>
  );
}

function Labels({ c }: { c: Conversation }) {
  const [adding, setAdding] = useState('');
  const add = (e: Event) => {
    e.preventDefault();
    const name = adding.trim();
    if (!name || c.labels.includes(name)) return;
    void setLabels(c.id, [...c.labels, name]);
    setAdding('');
  };
  return (
    <div class="labels-edit">
      <span class="field-label">{t('inbox.actions.labels')}</span>
      <ul class="label-list">
        {c.labels.map((l) => (
          <li key={l} class="label-chip">
            <bdi>{l}</bdi>
            <button type="button" aria-label={t('inbox.actions.removeLabel', { label: l })} onClick={() => void setLabels(c.id, c.labels.filter((x) => x !== l))}>×</button>
          </li>
        ))}
      </ul>
      <form onSubmit={add} class="inline-form">
        <input id="add-label" value={adding} onInput={(e) => setAdding(e.currentTarget.value)} aria-label={t('inbox.actions.addLabel')} placeholder={t('inbox.actions.addLabel')} />
        <button class="button" type="submit">{t('inbox.actions.add')}</button>
      </form>
    </div>
  );
}

function ContactCard({ contactId }: { contactId: string }) {
  const contact = contacts.value[contactId];
  const [editing, setEditing] = useState(false);
  useEffect(() => void ensureContact(contactId, true), [contactId]);
  if (erased.value.has(contactId)) {
    return (
      <section class="card" aria-labelledby="contact-h">
        <h2 id="contact-h">{t('inbox.privacy.erasedTitle')}</h2>
        <p class="erased-note">{t('inbox.privacy.erased')}</p>
      </section>
    );
  }
  if (!contact) return <section class="card"><span class="spinner small" role="status" aria-label={t('shell.loading')} /></section>;
  const d = contact.device;
  const attributes = Object.entries(contact.attributes as Record<string, unknown>);
  return (
    <section class="card" aria-labelledby="contact-h">
      <div class="card-head">
        <h2 id="contact-h"><bdi>{contact.name || t('inbox.context.anonymous')}</bdi></h2>
        {!editing && <button type="button" class="link-button" onClick={() => setEditing(true)}>{t('inbox.context.edit')}</button>}
      </div>
      {editing ? (
        <ContactForm contact={contact} done={() => setEditing(false)} />
      ) : (
        <dl class="facts">
          <dt>{t('inbox.context.email')}</dt><dd dir="ltr">{contact.email || '—'}</dd>
          <dt>{t('inbox.context.phone')}</dt><dd dir="ltr">{contact.phone || '—'}</dd>
          <dt>{t('rules.leadScore')}</dt><dd class="lead-score">{i18n.value?.number(contact.lead_score)}</dd>
          {attributes.map(([k, v]) => <><dt key={`k${k}`}><bdi>{k}</bdi></dt><dd key={`v${k}`} dir="auto">{String(v)}</dd></>)}
        </dl>
      )}
      <dl class="facts">
        {d.browser && <><dt>{t('inbox.context.browser')}</dt><dd dir="auto">{d.browser}</dd></>}
        {d.os && <><dt>{t('inbox.context.os')}</dt><dd dir="auto">{d.os}</dd></>}
        {d.device && <><dt>{t('inbox.context.device')}</dt><dd dir="auto">{i18n.value?.has(`inbox.deviceKind.${d.device}`) ? t(`inbox.deviceKind.${d.device}`) : d.device}</dd></>}
        {d.language && d.language !== '*' && <><dt>{t('inbox.context.language')}</dt><dd>{languageName(d.language)}</dd></>}
        {contact.country && <><dt>{t('inbox.context.country')}</dt><dd>{flag(contact.country)} {countryName(contact.country)}</dd></>}
        <dt>{t('inbox.context.firstSeen')}</dt><dd>{i18n.value?.date(contact.first_seen)}</dd>
        <dt>{t('inbox.context.lastSeen')}</dt><dd>{i18n.value?.relative(contact.last_seen)}</dd>
      </dl>
    </section>
  );
}

function languageName(tag: string): string {
  try {
    return new Intl.DisplayNames([i18n.value?.locale ?? 'en'], { type: 'language' }).of(tag.split(',')[0]!.split(';')[0]!.trim()) ?? tag;
  } catch {
    return tag;
  }
}

function ContactForm({ contact, done }: { contact: Schemas['Contact']; done: () => void }) {
  const [name, setName] = useState(contact.name ?? '');
  const [email, setEmail] = useState(contact.email ?? '');
  const [phone, setPhone] = useState(contact.phone ?? '');
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const save = async (e: Event) => {
    e.preventDefault();
    const attributes = key.trim() ? { [key.trim()]: value } : undefined;
    try {
      const saved = await call(
        client.PATCH('/api/v1/contacts/{id}', {
          params: { path: { id: contact.id } },
          body: { name: name.trim() || null, email: email.trim() || null, phone: phone.trim() || null, ...(attributes ? { attributes: attributes as Record<string, never> } : {}) },
        }),
      );
      contacts.value = { ...contacts.value, [contact.id]: saved };
      done();
    } catch (err) {
      setError(err instanceof ApiError ? (err.fields[0] ? `${errorText(err.code)} (${err.fields[0].field})` : errorText(err.code)) : errorText('internal'));
    }
  };
  return (
    <form class="contact-form" onSubmit={save}>
      <label>{t('inbox.context.name')}<input value={name} dir="auto" onInput={(e) => setName(e.currentTarget.value)} /></label>
      <label>{t('inbox.context.email')}<input type="email" dir="ltr" value={email} onInput={(e) => setEmail(e.currentTarget.value)} /></label>
      <label>{t('inbox.context.phone')}<input type="tel" dir="ltr" value={phone} onInput={(e) => setPhone(e.currentTarget.value)} /></label>
      <fieldset class="attr-add">
        <legend>{t('inbox.context.attribute')}</legend>
        <input aria-label={t('inbox.context.attributeKey')} placeholder={t('inbox.context.attributeKey')} value={key} onInput={(e) => setKey(e.currentTarget.value)} />
        <input aria-label={t('inbox.context.attributeValue')} placeholder={t('inbox.context.attributeValue')} value={value} dir="auto" onInput={(e) => setValue(e.currentTarget.value)} />
      </fieldset>
      {error && <p class="form-error" role="alert">{error}</p>}
      <div class="action-row">
        <button class="button primary" type="submit">{t('inbox.context.save')}</button>
        <button class="button" type="button" onClick={done}>{t('inbox.context.cancel')}</button>
      </div>
    </form>
  );
}

function Details({ c }: { c: Conversation }) {
  const tr = i18n.value;
  return (
    <section class="card" aria-labelledby="details-h">
      <h2 id="details-h">{t('inbox.context.details')}</h2>
      <dl class="facts">
        <dt>{t('inbox.context.site')}</dt><dd><bdi>{siteName(c.site_id) || '—'}</bdi></dd>
        <dt>{t('inbox.actions.team')}</dt><dd><bdi>{teamName(c.team_id) || '—'}</bdi></dd>
        <dt>{t('inbox.actions.assignee')}</dt><dd><bdi>{agentName(c.assignee_id) || t('inbox.unassigned')}</bdi></dd>
        <dt>{t('inbox.actions.priority')}</dt><dd>{t(`inbox.priority.${c.priority}`)}</dd>
        <dt>{t('inbox.context.status')}</dt><dd>{t(`inbox.status.${c.status}`)}{c.status === 'snoozed' && c.snoozed_until ? ` · ${tr?.date(c.snoozed_until)}` : ''}</dd>
        <dt>{t('inbox.context.created')}</dt><dd>{tr?.date(c.created_at)}</dd>
        <dt>{t('inbox.context.firstReply')}</dt><dd>{c.first_reply_at ? tr?.date(c.first_reply_at) : '—'}</dd>
        <dt>{t('inbox.waiting')}</dt><dd>{c.waiting_since ? waited(c.waiting_since) : '—'}</dd>
      </dl>
    </section>
  );
}

function Pages({ contactId }: { contactId: string }) {
  const [pages, setPages] = useState<Schemas['PageView'][] | null>(null);
  useEffect(() => {
    setPages(null);
    call(client.GET('/api/v1/contacts/{id}/pages', { params: { path: { id: contactId } } })).then(setPages, () => setPages([]));
  }, [contactId]);
  if (!pages?.length) return null;
  const [current, ...earlier] = [...pages].sort((a, b) => b.at - a.at);
  return (
    <section class="card" aria-labelledby="pages-h">
      <h2 id="pages-h">{t('inbox.context.pages')}</h2>
      <p class="current-page"><span class="muted">{t('inbox.context.currentPage')}</span> <a href={current!.url} target="_blank" rel="noopener noreferrer" dir="auto">{current!.title || current!.url}</a></p>
      <ol class="pages">
        {earlier.slice(0, 15).map((p) => (
          <li key={`${p.at}${p.url}`}>
            <a href={p.url} target="_blank" rel="noopener noreferrer" dir="auto">{p.title || p.url}</a>
            <time class="muted" dateTime={new Date(p.at).toISOString()}>{i18n.value?.date(p.at, { hour: 'numeric', minute: '2-digit', day: 'numeric', month: 'short' })}</time>
          </li>
        ))}
      </ol>
    </section>
  );
}

function Previous({ c, onOpen }: { c: Conversation; onOpen: (id: string) => void }) {
  const [items, setItems] = useState<Conversation[] | null>(null);
  useEffect(() => {
    setItems(null);
    call(client.GET('/api/v1/conversations', { params: { query: { contact_id: c.contact_id, limit: 10 } } })).then(
      (page) => setItems(page.items.filter((x) => x.id !== c.id)),
      () => setItems([]),
    );
  }, [c.contact_id, c.id]);
  if (!items?.length) return null;
  return (
    <section class="card" aria-labelledby="prev-h">
      <h2 id="prev-h">{t('inbox.context.previous')}</h2>
      <ul class="previous">
        {items.map((x) => (
          <li key={x.id}>
            <a href={`/app/c/${x.id}`} onClick={(e) => { e.preventDefault(); onOpen(x.id); }}>
              {i18n.value?.date(x.created_at, { day: 'numeric', month: 'short', year: 'numeric' })}
            </a>
            <span class="chip">{t(`inbox.status.${x.status}`)}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
