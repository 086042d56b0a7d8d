// Sign in. The only screen without the shell; it returns the agent where they were going.

import { useSignal } from '@preact/signals';
import { useLocation } from 'preact-iso';
import { useEffect } from 'preact/hooks';
import { ApiError } from '../api';
import { errorText, t } from '../i18n';
import { me, signIn } from '../session';
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

  useEffect(() => {
    if (me.value) route(nextPath(query), true);
  }, [me.value]);

  async function submit(e: Event) {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    busy.value = true;
    error.value = null;
    try {
      await signIn(String(form.get('email')), String(form.get('password')));
    } catch (failure) {
      error.value = failure instanceof ApiError ? errorText(failure.code) : errorText('internal');
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
        <label>
          {t('shell.login.email')}
          <input name="email" type="email" autoComplete="username" required dir="ltr" autoFocus />
        </label>
        <label>
          {t('shell.login.password')}
          <input name="password" type="password" autoComplete="current-password" required dir="ltr" />
        </label>
        {error.value && (
          <p id="login-error" class="form-error" role="alert">
            {error.value}
          </p>
        )}
        <button class="button primary" type="submit" disabled={busy.value}>
          {busy.value ? t('shell.login.signingIn') : t('shell.login.submit')}
        </button>
      </form>
    </main>
  );
}
