// The inbox: conversation lists, the open conversation and its context.

import { t } from '../i18n';

export function Inbox() {
  return (
    <section class="problem">
      <h1>{t('inbox.title')}</h1>
    </section>
  );
}
