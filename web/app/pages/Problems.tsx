// The pages shown instead of a screen: not allowed (an agent on an admin URL), not found,
// and the server out of reach when the app opens.

import { t } from '../i18n';
import { restore } from '../session';

function Problem({ title, text }: { title: string; text: string }) {
  return (
    <section class="problem" aria-labelledby="problem-title">
      <h1 id="problem-title">{title}</h1>
      <p>{text}</p>
      <a class="button" href="/app">
        {t('shell.backToInbox')}
      </a>
    </section>
  );
}

export function NotAllowed() {
  return <Problem title={t('shell.notAllowed.title')} text={t('shell.notAllowed.text')} />;
}

export function NotFound() {
  return <Problem title={t('shell.notFound.title')} text={t('shell.notFound.text')} />;
}

/** The app opened without the server (offline, or the server down): it asks again when back. */
export function Unreachable() {
  return (
    <section class="problem" aria-labelledby="problem-title">
      <h1 id="problem-title">{t('shell.unreachable.title')}</h1>
      <p role="status">{t('shell.unreachable.text')}</p>
      <button class="button" type="button" onClick={() => void restore()}>
        {t('shell.unreachable.retry')}
      </button>
    </section>
  );
}
