// The person's data, for owners and admins: download everything held about them (the
// server's export, as a JSON file) or erase them on their request, after a confirmation
// that asks to type their name or the erase word, since it cannot be undone.

import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, call, client } from '../api';
import { errorText, t } from '../i18n';
import { isAdmin } from '../session';
import { say } from './actions';
import { contacts, markErased } from './store';

export function PrivacyCard({ contactId }: { contactId: string }) {
  const contact = contacts.value[contactId];
  const [erasing, setErasing] = useState(false);
  const [exporting, setExporting] = useState(false);
  if (!isAdmin.value || !contact) return null;

  const download = async () => {
    setExporting(true);
    try {
      const data = await call(client.GET('/api/v1/contacts/{id}/export', { params: { path: { id: contactId } } }));
      const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `contact-${contactId}.json`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      say(t('inbox.privacy.exported'));
    } catch (e) {
      say(errorText(e instanceof ApiError ? e.code : 'internal'), true);
    } finally {
      setExporting(false);
    }
  };

  return (
    <section class="card" aria-labelledby="privacy-h">
      <h2 id="privacy-h">{t('inbox.privacy.title')}</h2>
      <div class="action-row">
        <button class="button" type="button" id="export-contact" disabled={exporting} onClick={() => void download()}>
          {t('inbox.privacy.export')}
        </button>
        <button class="button danger" type="button" id="erase-contact" onClick={() => setErasing(true)}>
          {t('inbox.privacy.erase')}
        </button>
      </div>
      {erasing && <EraseDialog contactId={contactId} name={contact.name ?? null} onClose={() => setErasing(false)} />}
    </section>
  );
}

function EraseDialog({ contactId, name, onClose }: { contactId: string; name: string | null; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => ref.current?.showModal(), []);
  const word = t('inbox.privacy.eraseWord');
  const entered = typed.trim();
  const matches = entered.toLocaleUpperCase() === word.toLocaleUpperCase() || (!!name && entered === name.trim());
  const erase = async (e: Event) => {
    e.preventDefault();
    if (!matches) return;
    setBusy(true);
    try {
      await call(client.POST('/api/v1/contacts/{id}/erase', { params: { path: { id: contactId } } }));
      markErased(contactId);
      say(t('inbox.privacy.done'));
      ref.current?.close();
    } catch (err) {
      setError(errorText(err instanceof ApiError ? err.code : 'internal'));
    } finally {
      setBusy(false);
    }
  };
  const shown = name || t('inbox.context.anonymous');
  return (
    <dialog ref={ref} class="dialog erase-dialog" aria-labelledby="erase-title" aria-describedby="erase-text" onClose={onClose}>
      <form method="dialog" onSubmit={erase}>
        <h2 id="erase-title">{t('inbox.privacy.eraseTitle', { name: shown })}</h2>
        <p id="erase-text">{t('inbox.privacy.eraseText')}</p>
        <label>
          {name ? t('inbox.privacy.typeNameOrWord', { word, name }) : t('inbox.privacy.typeWord', { word })}
          <input id="erase-confirm" dir="auto" autoComplete="off" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} />
        </label>
        {error && <p class="failed-text" role="alert">{error}</p>}
        <div class="dialog-actions">
          <button class="button" type="button" onClick={() => ref.current?.close()}>{t('inbox.privacy.cancel')}</button>
          <button class="button danger-solid" type="submit" disabled={!matches || busy}>{t('inbox.privacy.confirm')}</button>
        </div>
      </form>
    </dialog>
  );
}
