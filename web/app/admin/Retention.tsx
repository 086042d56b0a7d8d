// A site's data retention: keep everything, or delete what is older than N days, with
// what the next run would remove for the value being typed (the server's preview, so
// the screen never guesses what the job does).

import { useEffect, useState } from 'preact/hooks';
import { type Schemas, call, client } from '../api';
import { errorText, i18n, t } from '../i18n';
import { asApiError, Field, When } from './ui';

type Preview = Schemas['RetentionPreview'];

/** `days` is the field's text ('' when retention is off). */
export function RetentionFields({
  siteId,
  days,
  onChange,
  error,
}: {
  siteId: string;
  days: string | null;
  onChange: (days: string | null) => void;
  error?: { message: string } | null;
}) {
  const on = days !== null;
  return (
    <fieldset class="group">
      <legend>{t('admin.retention.title')}</legend>
      <p class="hint">{t('admin.retention.hint')}</p>
      <label class="check">
        <input id="retention-enable" type="checkbox" checked={on} onChange={(e) => onChange(e.currentTarget.checked ? '365' : null)} />
        {t('admin.retention.enable')}
      </label>
      {on && (
        <Field label={t('admin.retention.days')} hint={t('admin.retention.daysHint')} error={error}>
          {(a) => (
            <input {...a} id="retention-days" type="number" inputMode="numeric" min={1} max={3650} required value={days} onInput={(e) => onChange(e.currentTarget.value)} />
          )}
        </Field>
      )}
      {on && <RetentionPreview siteId={siteId} days={days} />}
    </fieldset>
  );
}

function RetentionPreview({ siteId, days }: { siteId: string; days: string }) {
  const [preview, setPreview] = useState<Preview | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  const n = Number(days);
  const valid = Number.isInteger(n) && n >= 1 && n <= 3650;
  useEffect(() => {
    if (!valid) return;
    let current = true;
    // Waits for typing to pause before asking.
    const timer = setTimeout(() => {
      call(client.GET('/api/v1/sites/{id}/retention/preview', { params: { path: { id: siteId }, query: { retention_days: n } } }))
        .then((p) => current && (setPreview(p), setFailed(null)))
        .catch((e: unknown) => current && setFailed(errorText(asApiError(e).code)));
    }, 300);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [siteId, n, valid]);
  if (!valid) return null;
  if (failed) return <p class="field-error" role="status">{failed}</p>;
  if (!preview) return <p class="hint" role="status">{t('admin.retention.counting')}</p>;
  const num = (x: number) => i18n.value?.number(x) ?? String(x);
  const rows: Array<[string, number]> = [
    ['conversations', preview.conversations],
    ['messages', preview.messages],
    ['attachments', preview.attachments],
    ['pageViews', preview.page_views],
    ['events', preview.contact_events],
    ['contacts', preview.contacts],
  ];
  const nothing = rows.every(([, x]) => x === 0);
  return (
    <div class="retention-preview" role="status" aria-live="polite">
      <p>{nothing ? t('admin.retention.nothing') : t('admin.retention.previewTitle')}</p>
      {!nothing && (
        <dl class="retention-counts">
          {rows.map(([key, x]) => (
            <div key={key}>
              <dt>{t(`admin.retention.${key}`)}</dt>
              <dd>{num(x)}</dd>
            </div>
          ))}
        </dl>
      )}
      {preview.oldest_kept_at != null && (
        <p class="hint">
          {t('admin.retention.oldestKept')} <When at={preview.oldest_kept_at} />
        </p>
      )}
    </div>
  );
}
