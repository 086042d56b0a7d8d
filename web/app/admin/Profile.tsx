// The agent's own profile: name and avatar, the dashboard's language (applied at once,
// direction included), and signing out. Every role may change their own profile; the
// server refuses a change of one's own role.

import { useState } from 'preact/hooks';
import { type Schemas, call, client } from '../api';
import { t, useLanguage } from '../i18n';
import { LOCALES } from '../../shared/i18n';
import { me, signOut } from '../session';
import { Avatar } from '../Shell';
import { autonym } from './Sites';
import { Field, FormError, Header, OfflineBanner, useSubmit } from './ui';
import './admin.css';

/** Saves a change to the signed-in agent and keeps `me` in step with the answer. */
async function updateMe(body: Schemas['UpdateAgent']): Promise<Schemas['Agent']> {
  const who = me.value;
  if (!who) throw new Error('not signed in');
  const agent = await call(client.PATCH('/api/v1/agents/{id}', { params: { path: { id: who.agent.id } }, body }));
  if (me.value) me.value = { ...me.value, agent };
  return agent;
}

export function Profile() {
  const agent = me.value?.agent;
  if (!agent) return null;
  return (
    <div class="profile">
      <Header title={t('admin.profile.title')} level={1} />
      <OfflineBanner />
      <Details agent={agent} />
      <Language agent={agent} />
      <Account />
    </div>
  );
}

function Details({ agent }: { agent: Schemas['Agent'] }) {
  const [name, setName] = useState(agent.name);
  const [avatar, setAvatar] = useState(agent.avatar_url ?? '');
  const [saved, setSaved] = useState(false);
  const { busy, error, run, fieldError } = useSubmit();
  async function save(e: Event) {
    e.preventDefault();
    setSaved(false);
    const done = await run(() => updateMe({ name, avatar_url: avatar.trim() || null }));
    if (done) setSaved(true);
  }
  return (
    <form class="form group" onSubmit={save} aria-labelledby="details-title">
      <h2 id="details-title">{t('admin.profile.details')}</h2>
      <div class="person">
        <Avatar name={name} url={avatar.trim() || null} size={56} />
        <span>
          <span class="muted" dir="ltr">
            {agent.email}
          </span>
          <br />
          <span class="muted">{t('admin.profile.roleIn', { role: t(`admin.roles.${agent.role}`), workspace: me.value?.workspace.name ?? '' })}</span>
        </span>
      </div>
      <Field label={t('admin.profile.name')} hint={t('admin.profile.nameHint')} error={fieldError('name')}>
        {(a) => <input {...a} value={name} required maxLength={100} autoComplete="name" onInput={(e) => (setSaved(false), setName(e.currentTarget.value))} />}
      </Field>
      <Field label={t('admin.profile.avatar')} hint={t('admin.profile.avatarHint')} error={fieldError('avatar_url')}>
        {(a) => <input {...a} type="url" dir="ltr" value={avatar} placeholder="https://" onInput={(e) => (setSaved(false), setAvatar(e.currentTarget.value))} />}
      </Field>
      <FormError error={error} />
      <div class="form-actions">
        <button class="button primary" type="submit" disabled={busy}>
          {t('admin.save')}
        </button>
        <span role="status" class="muted">
          {saved ? t('admin.saved') : ''}
        </span>
      </div>
    </form>
  );
}

function Language({ agent }: { agent: Schemas['Agent'] }) {
  const { error, run } = useSubmit();
  async function choose(locale: string) {
    const done = await run(() => updateMe({ locale }));
    // The session's subscriber in main.tsx switches the language when `me` changes;
    // switching here too makes it immediate even if the locale was already the agent's.
    if (done) await useLanguage(locale);
  }
  return (
    <section class="group" aria-labelledby="language-title">
      <h2 id="language-title">{t('admin.profile.language')}</h2>
      <Field label={t('admin.profile.languageLabel')} hint={t('admin.profile.languageHint')}>
        {(a) => (
          <select {...a} value={agent.locale.slice(0, 2)} onChange={(e) => void choose(e.currentTarget.value)}>
            {LOCALES.map((l) => (
              <option key={l} value={l} lang={l}>
                {autonym(l)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <FormError error={error} />
    </section>
  );
}

function Account() {
  const [busy, setBusy] = useState(false);
  return (
    <section class="group" aria-labelledby="account-title">
      <h2 id="account-title">{t('admin.profile.account')}</h2>
      <div class="form-actions">
        <button
          class="button"
          type="button"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            await signOut()
              .catch(() => undefined)
              .finally(() => setBusy(false));
          }}
        >
          {t('admin.profile.signOut')}
        </button>
      </div>
    </section>
  );
}
