// The pages shown instead of a screen: not allowed (an agent on an admin URL) and not found.

import { t } from '../i18n';

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
