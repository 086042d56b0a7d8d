// The agent's own profile: name and avatar, status (online or away, which the team
// sees), the dashboard's language (applied at once, direction included), notification
// preferences, their personal canned responses, their password, and signing out here
// or everywhere; two-factor sign-in and the sessions where they are signed in
// (`Security.tsx`). Everything goes through `/api/v1/me`, which only ever changes the caller.

import { useState } from 'preact/hooks';
import { type Schemas, call, client } from '../api';
import { t, useLanguage } from '../i18n';
import { LOCALES } from '../../shared/i18n';
import { me, signOut } from '../session';
import { Avatar } from '../Shell';
import { CannedList } from './Canned';
import { Sessions, TwoFactor } from './Security';
import { autonym } from './Sites';
import { Confirm, Field, FormError, Header, OfflineBanner, SaveBar, useSubmit } from './ui';
import './admin.css';

type Agent = Schemas['Agent'];

/** Saves a change to the signed-in agent and keeps `me` in step with the answer. */
async function updateMe(body: Schemas['UpdateMe']): Promise<Agent> {
  const agent = await call(client.PATCH('/api/v1/me', { body }));
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
      <Status agent={agent} />
      <Language agent={agent} />
      <Notifications agent={agent} />
      <section class="group" aria-labelledby="personal-canned-title">
        <CannedList scope="personal" />
      </section>
      <Password />
      <TwoFactor />
      <Sessions />
      <Account />
    </div>
  );
}

function Details({ agent }: { agent: Agent }) {
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
      <SaveBar error={error} busy={busy} saved={saved} />
    </form>
  );
}

/** Online or away: shown at once, saved at once (put back if refused); the team sees it live. */
function Status({ agent }: { agent: Agent }) {
  const { error, run } = useSubmit();
  const [shown, setShown] = useState(agent.status);
  async function choose(s: Schemas['AgentStatus']) {
    setShown(s);
    if (!(await run(() => updateMe({ status: s })))) setShown(agent.status);
  }
  const options: Schemas['AgentStatus'][] = ['online', 'away'];
  return (
    <section class="group" aria-labelledby="status-title">
      <h2 id="status-title">{t('admin.profile.status')}</h2>
      <p class="hint" id="status-hint">
        {t('admin.profile.statusHint')}
      </p>
      <div class="segmented" role="radiogroup" aria-labelledby="status-title" aria-describedby="status-hint">
        {options.map((s) => (
          <label key={s} class="check">
            <input
              type="radio"
              name="status"
              value={s}
              checked={shown === s}
              onChange={() => void choose(s)}
            />
            <span class={`dot dot-${s}`} aria-hidden="true" />
            {t(`admin.profile.statuses.${s}`)}
          </label>
        ))}
      </div>
      <FormError error={error} />
    </section>
  );
}

function Language({ agent }: { agent: Agent }) {
  const { error, run } = useSubmit();
  async function choose(locale: Schemas['UiLocale']) {
    const done = await run(() => updateMe({ locale }));
    // main.tsx follows `me`; switching here as well makes it immediate in every case.
    if (done) await useLanguage(locale);
  }
  return (
    <section class="group" aria-labelledby="language-title">
      <h2 id="language-title">{t('admin.profile.language')}</h2>
      <Field label={t('admin.profile.languageLabel')} hint={t('admin.profile.languageHint')}>
        {(a) => (
          <select {...a} value={agent.locale.slice(0, 2)} onChange={(e) => void choose(e.currentTarget.value as Schemas['UiLocale'])}>
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

/**
 * What to be told about and how; each box is saved at once. Browser notifications
 * need the browser's permission, asked for when the agent turns them on (a click, as
 * browsers require), and explained when it is refused.
 */
function Notifications({ agent }: { agent: Agent }) {
  const { error, run } = useSubmit();
  const [permission, setPermission] = useState(typeof Notification === 'undefined' ? 'unsupported' : Notification.permission);
  // Shown at once, saved at once, put back if the server refuses.
  const [prefs, setPrefs] = useState(agent.notifications);
  async function toggle(key: keyof Schemas['NotificationPrefs'], on: boolean) {
    const before = prefs;
    const next = { ...prefs, [key]: on };
    setPrefs(next);
    if (key === 'desktop' && on && typeof Notification !== 'undefined' && Notification.permission === 'default') {
      setPermission(await Notification.requestPermission());
    }
    if (!(await run(() => updateMe({ notifications: next })))) setPrefs(before);
  }
  const keys: (keyof Schemas['NotificationPrefs'])[] = ['new_conversation', 'new_message', 'sound', 'desktop'];
  return (
    <section class="group" aria-labelledby="notifications-title">
      <h2 id="notifications-title">{t('admin.profile.notifications')}</h2>
      <ul class="checklist single" aria-labelledby="notifications-title">
        {keys.map((k) => (
          <li key={k}>
            <label class="check">
              <input type="checkbox" checked={prefs[k]} onChange={(e) => void toggle(k, e.currentTarget.checked)} />
              {t(`admin.profile.notify.${k}`)}
            </label>
          </li>
        ))}
      </ul>
      {prefs.desktop && permission === 'denied' && (
        <p class="banner banner-warn" role="status">
          {t('admin.profile.notifyDenied')}
        </p>
      )}
      {prefs.desktop && permission === 'unsupported' && <p class="hint">{t('admin.profile.notifyUnsupported')}</p>}
      <FormError error={error} />
    </section>
  );
}

function Password() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [done, setDone] = useState(false);
  const { busy, error, run, fieldError } = useSubmit();
  async function change(e: Event) {
    e.preventDefault();
    setDone(false);
    const ok = await run(async () => {
      await call(client.POST('/api/v1/me/password', { body: { current_password: current, new_password: next } }));
      return true;
    });
    if (ok) {
      setCurrent('');
      setNext('');
      setDone(true);
    }
  }
  return (
    <form class="form group" onSubmit={change} aria-labelledby="password-title">
      <h2 id="password-title">{t('admin.profile.password')}</h2>
      <Field label={t('admin.profile.currentPassword')} error={fieldError('current_password')}>
        {(a) => <input {...a} type="password" dir="ltr" autoComplete="current-password" value={current} required onInput={(e) => setCurrent(e.currentTarget.value)} />}
      </Field>
      <Field label={t('admin.profile.newPassword')} hint={t('admin.profile.newPasswordHint')} error={fieldError('new_password')}>
        {(a) => <input {...a} type="password" dir="ltr" autoComplete="new-password" minLength={8} value={next} required onInput={(e) => setNext(e.currentTarget.value)} />}
      </Field>
      <FormError error={error} />
      <div class="form-actions">
        <button class="button primary" type="submit" disabled={busy}>
          {t('admin.profile.changePassword')}
        </button>
        <span role="status" class="muted">
          {done ? t('admin.profile.passwordChanged') : ''}
        </span>
      </div>
    </form>
  );
}

function Account() {
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
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
        <button class="button danger" type="button" onClick={() => setConfirming(true)}>
          {t('admin.profile.signOutEverywhere')}
        </button>
      </div>
      {confirming && (
        <Confirm
          title={t('admin.profile.everywhereTitle')}
          text={t('admin.profile.everywhereText')}
          confirm={t('admin.profile.signOutEverywhere')}
          onClose={() => setConfirming(false)}
          onConfirm={async () => {
            await call(client.POST('/api/v1/me/sessions/revoke'));
            // This session ended too: forget it here (the server already refuses it).
            await signOut().catch(() => undefined);
          }}
        />
      )}
    </section>
  );
}
