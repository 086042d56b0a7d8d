// The admin console (owners and admins): sites, agents, teams, labels, canned responses, tokens.

import { t } from '../i18n';

export function Settings() {
  return (
    <section class="problem">
      <h1>{t('admin.title')}</h1>
    </section>
  );
}
