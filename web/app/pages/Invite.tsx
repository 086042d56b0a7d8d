// The page an invitation's link opens (`/app/invite/{token}`), without the shell and
// without a session: who invited whom to which workspace, as what; then a name, a
// password (the rules of a password change) and a language, and the new agent lands in
// the inbox signed in (or in the two-factor setup the workspace requires). A link that
// no longer works says why (expired, already used, revoked) with the way to sign in.

import { useSignal } from '@preact/signals';
import { useLocation } from 'preact-iso';
import { useEffect } from 'preact/hooks';
import { ApiError, type Schemas, call, client } from '../api';
import { errorText, expiresIn, i18n, t, useLanguage } from '../i18n';
import { LOCALES } from '../../shared/i18n';
import { online } from '../online';
import { acceptInvitation, me } from '../session';

type Preview = Schemas['InvitationPreview'];

const REFUSED_TITLES: Record<string, string> = {
  invitation_used: 'shell.invite.usedTitle',
  invitation_expired: 'shell.invite.expiredTitle',
  invitation_invalid: 'shell.invite.invalidTitle',
};


/** Each language named in itself. */
function autonym(locale: string): string {
  return new Intl.DisplayNames([locale], { type: 'language' }).of(locale) ?? locale;
}

export function Invite({ token }: { token: string }) {
  const { route } = useLocation();
  const preview = useSignal<Preview | null>(null);
  const refused = useSignal<string | null>(null);
  const error = useSignal<ApiError | null>(null);
  const busy = useSignal(false);
  const locale = useSignal<string>(i18n.value?.locale ?? 'en');

  useEffect(() => {
    call(client.GET('/api/v1/invitations/{token}', { params: { path: { token } } })).then(
      (found) => {
        preview.value = found;
        // The page speaks the language the admin chose for the invitee, unless someone
        // is signed in here already (their own language stays).
        if (!me.value && found.locale !== i18n.value?.locale) {
          locale.value = found.locale;
          void useLanguage(found.locale);
        }
      },
      (failure) => (refused.value = failure instanceof ApiError ? failure.code : 'internal'),
    );
  }, [token]);

  async function submit(e: Event) {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    busy.value = true;
    error.value = null;
    try {
      await acceptInvitation(token, { name: String(form.get('name')), password: String(form.get('password')), locale: locale.value });
      route('/app', true);
    } catch (failure) {
      const e = failure instanceof ApiError ? failure : new ApiError(0, 'internal', String(failure));
      // A link that stopped working meanwhile shows its page; anything else stays on the form.
      if (['invitation_invalid', 'invitation_expired', 'invitation_used'].includes(e.code)) refused.value = e.code;
      else error.value = e;
    } finally {
      busy.value = false;
    }
  }

  if (refused.value) {
    return (
      <main class="login">
        <div class="login-card invite-card" role="alert" aria-labelledby="invite-refused">
          <h1 id="invite-refused">{t(REFUSED_TITLES[refused.value] ?? 'shell.invite.invalidTitle')}</h1>
          <p>{errorText(refused.value)}</p>
          <a class="button primary" href="/app/login">
            {t('shell.invite.toSignIn')}
          </a>
        </div>
      </main>
    );
  }
  const found = preview.value;
  if (!found) {
    return (
      <main class="login">
        <div class="login-card" role="status" aria-live="polite">
          <span class="spinner" aria-hidden="true" />
          <span>{t('shell.invite.loading')}</span>
        </div>
      </main>
    );
  }
  const fieldWrong = (field: string) => error.value?.fields.some((f) => f.field === field);
  return (
    <main class="login">
      <form class="login-card invite-card" onSubmit={submit} aria-labelledby="invite-title" aria-describedby={error.value ? 'invite-error' : undefined}>
        <h1 id="invite-title">{t('shell.invite.title', { workspace: found.workspace_name })}</h1>
        <p>
          {found.inviter_name
            ? t('shell.invite.byWhom', { inviter: found.inviter_name, workspace: found.workspace_name, role: t(`shell.invite.roles.${found.role}`) })
            : t('shell.invite.byTeam', { workspace: found.workspace_name, role: t(`shell.invite.roles.${found.role}`) })}
        </p>
        {!online.value && <p class="banner banner-warn" role="status">{t('shell.offline')}</p>}
        <label>
          {t('shell.login.email')}
          <input value={found.email} readOnly dir="ltr" autoComplete="username" aria-describedby="invite-email-hint" />
        </label>
        <p class="muted small" id="invite-email-hint">
          {t('shell.invite.emailHint')}
        </p>
        <label>
          {t('shell.invite.name')}
          <input name="name" required maxLength={100} autoComplete="name" defaultValue={found.name ?? ''} autoFocus aria-invalid={fieldWrong('name') ? 'true' : undefined} />
        </label>
        <label>
          {t('shell.invite.password')}
          <input
            name="password"
            type="password"
            required
            minLength={8}
            maxLength={256}
            dir="ltr"
            autoComplete="new-password"
            aria-describedby="invite-password-hint"
            aria-invalid={fieldWrong('password') ? 'true' : undefined}
          />
        </label>
        <p class="muted small" id="invite-password-hint">
          {t('shell.invite.passwordHint')}
        </p>
        <label>
          {t('shell.invite.language')}
          <select
            value={locale.value}
            onChange={(e) => {
              locale.value = e.currentTarget.value;
              void useLanguage(locale.value);
            }}
          >
            {LOCALES.map((l) => (
              <option key={l} value={l} lang={l}>
                {autonym(l)}
              </option>
            ))}
          </select>
        </label>
        {found.two_factor_required && <p class="banner banner-info">{t('shell.invite.twoFactor')}</p>}
        {error.value && (
          <p id="invite-error" class="form-error" role="alert">
            {errorText(error.value.code)}
          </p>
        )}
        <button class="button primary" type="submit" disabled={busy.value}>
          {busy.value ? t('shell.invite.joining') : t('shell.invite.join')}
        </button>
        <p class="muted small">
          {t('shell.invite.expires', { when: expiresIn(found.expires_at, i18n.value?.locale ?? 'en') })}
        </p>
      </form>
    </main>
  );
}
