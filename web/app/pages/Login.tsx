// Sign in. The only screen without the shell; it returns the agent where they were going.
// With two-factor sign-in it is two steps: the password, then a code from the app (or a
// recovery code) with the challenge the password step answered.

import { useSignal } from '@preact/signals';
import { useLocation } from 'preact-iso';
import { useEffect } from 'preact/hooks';
import { ApiError } from '../api';
import { errorText, t } from '../i18n';
import { me, signIn, signInWithCode } from '../session';
import { online } from '../online';

/** Only paths inside the dashboard, so a crafted link cannot send the agent elsewhere. */
function nextPath(query: Record<string, string>): string {
  const next = query.next ?? '';
  return next.startsWith('/app') && !next.startsWith('/app/login') ? next : '/app';
}

export function Login() {
  const { query, route } = useLocation();
  const error = useSignal<string | null>(null);
  const busy = useSignal(false);
  const challenge = useSignal<string | null>(null);

  useEffect(() => {
    if (me.value) route(nextPath(query), true);
  }, [me.value]);

  async function submit(e: Event) {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    busy.value = true;
    error.value = null;
    try {
      if (challenge.value) await signInWithCode(challenge.value, String(form.get('code')));
      else challenge.value = (await signIn(String(form.get('email')), String(form.get('password'))))?.challenge ?? null;
    } catch (failure) {
      const code = failure instanceof ApiError ? failure.code : 'internal';
      // An expired challenge starts over from the password.
      if (code === 'token_expired' || code === 'invalid_token') challenge.value = null;
      error.value = errorText(code);
    } finally {
      busy.value = false;
    }
  }

  return (
    <main class="login">
      <form class="login-card" onSubmit={submit} aria-describedby={error.value ? 'login-error' : undefined}>
        <h1>{t('shell.login.title')}</h1>
        <p class="muted">{t('shell.login.subtitle')}</p>
        {!online.value && <p class="banner banner-warn" role="status">{t('shell.offline')}</p>}
        {challenge.value ? (
          <>
            <p>{t('shell.login.codeHint')}</p>
            <label>
              {t('shell.login.code')}
              <input key="code" name="code" autoComplete="one-time-code" inputMode="text" required dir="ltr" maxLength={64} autoFocus />
            </label>
          </>
        ) : (
          <>
            <label>
              {t('shell.login.email')}
              <input name="email" type="email" autoComplete="username" required dir="ltr" autoFocus />
            </label>
            <label>
              {t('shell.login.password')}
              <input name="password" type="password" autoComplete="current-password" required dir="ltr" />
            </label>
          </>
        )}
        {error.value && (
          <p id="login-error" class="form-error" role="alert">
            {error.value}
          </p>
        )}
        <button class="button primary" type="submit" disabled={busy.value}>
          {busy.value ? t('shell.login.signingIn') : challenge.value ? t('shell.login.verify') : t('shell.login.submit')}
        </button>
        {challenge.value && (
          <button class="button" type="button" onClick={() => ((challenge.value = null), (error.value = null))}>
            {t('shell.login.startOver')}
          </button>
        )}
      </form>
    </main>
  );
}
