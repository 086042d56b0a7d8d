// "Block visitor": any agent bans the open conversation's visitor — their contact and,
// if asked, the address they last came from — with a reason and how long for. The
// server refuses them from then on and closes their chat; owners and admins see and
// lift the ban in Settings → Bans.

import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, call, client } from '../api';
import { errorText, t } from '../i18n';
import { say } from './actions';

/** How long the block lasts, in hours; 0 is until an admin lifts it. */
const DURATIONS = [1, 24, 24 * 7, 24 * 30, 0] as const;

export function BlockDialog({ id, onClose }: { id: string; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const [hours, setHours] = useState<number>(24);
  const [ip, setIp] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    ref.current?.showModal();
  }, []);

  async function block(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const expires_at = hours ? Date.now() + hours * 3_600_000 : null;
      await call(client.POST('/api/v1/conversations/{id}/block', { params: { path: { id } }, body: { reason, expires_at, ip } }));
      say(t('inbox.block.done'));
      ref.current?.close();
    } catch (failure) {
      setError(errorText(failure instanceof ApiError ? failure.code : 'internal'));
    } finally {
      setBusy(false);
    }
  }

  return (
    <dialog ref={ref} class="block-dialog" aria-labelledby="block-title" aria-describedby="block-text" onClose={onClose}>
      <form method="dialog" onSubmit={block}>
        <h2 id="block-title">{t('inbox.block.title')}</h2>
        <p id="block-text">{t('inbox.block.text')}</p>
        <label>
          {t('inbox.block.reason')}
          <textarea id="block-reason" rows={2} dir="auto" maxLength={500} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
        </label>
        <label>
          {t('inbox.block.duration')}
          <select id="block-duration" value={String(hours)} onChange={(e) => setHours(Number(e.currentTarget.value))}>
            {DURATIONS.map((h) => (
              <option key={h} value={String(h)}>
                {t(`inbox.block.durations.h${h}`)}
              </option>
            ))}
          </select>
        </label>
        <label class="check-row">
          <input id="block-ip" type="checkbox" checked={ip} onChange={(e) => setIp(e.currentTarget.checked)} />
          {t('inbox.block.ip')}
        </label>
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <div class="dialog-actions">
          <button class="button" type="button" onClick={() => ref.current?.close()}>
            {t('inbox.block.cancel')}
          </button>
          <button class="button danger-solid" type="submit" disabled={busy}>
            {t('inbox.block.confirm')}
          </button>
        </div>
      </form>
    </dialog>
  );
}
