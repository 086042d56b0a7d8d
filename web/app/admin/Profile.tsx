// The agent's own profile: name, avatar, language, notifications, password, sessions.

import { t } from '../i18n';
import { signOut } from '../session';

export function Profile() {
  return (
    <section class="problem">
      <h1>{t('admin.profile.title')}</h1>
      <button class="button" type="button" onClick={() => void signOut()}>
        {t('admin.profile.signOut')}
      </button>
    </section>
  );
}
