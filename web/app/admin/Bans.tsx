// Bans: who the workspace refuses to chat with — an address or range (IPv4 or IPv6, in
// CIDR form), a visitor, or an e-mail — with the reason, when it ends and who made it.
// Owners and admins add and lift them here; agents block a visitor from a conversation.
// A banned visitor is refused by the server before anything is stored.

import { useState } from 'preact/hooks';
import { type Schemas, call, client } from '../api';
import { t } from '../i18n';
import { LoadedTable, RowButton } from './table';
import { Empty, Field, FormDialog, Header, Loading, OfflineBanner, When, useConfirm, useLoad, useSubmit } from './ui';

type Ban = Schemas['Ban'];
type BanKind = Schemas['BanKind'];

const KINDS: BanKind[] = ['ip', 'contact', 'email'];
/** How long a new ban lasts, in hours; 0 is for good. */
const DURATIONS = [1, 24, 24 * 7, 24 * 30, 0] as const;

export function Bans() {
  const bans = useLoad(() => call(client.GET('/api/v1/bans')), []);
  const agents = useLoad(() => call(client.GET('/api/v1/agents')), []);
  const [adding, setAdding] = useState(false);
  const lift = useConfirm<Ban>({
    title: (b) => t('admin.bans.liftTitle', { value: b.value }),
    text: t('admin.bans.liftText'),
    confirm: t('admin.bans.lift'),
    run: (b) => call(client.DELETE('/api/v1/bans/{id}', { params: { path: { id: b.id } } })),
    done: bans.reload,
  });
  const author = (b: Ban) => {
    if (b.created_by.kind === 'integration') return t('admin.bans.byToken');
    if (b.created_by.kind !== 'agent') return t('admin.bans.bySystem');
    const list = agents.value.state === 'ready' ? agents.value.data : [];
    return list.find((a) => a.id === b.created_by.id)?.name ?? t('admin.bans.formerAgent');
  };
  return (
    <section class="screen">
      <Header title={t('admin.bans.title')} back="/app/settings">
        <button class="button primary" type="button" onClick={() => setAdding(true)}>
          {t('admin.bans.new')}
        </button>
      </Header>
      <OfflineBanner />
      <p class="hint">{t('admin.bans.hint')}</p>
      <LoadedTable
        loaded={bans.value}
        retry={bans.reload}
        empty={<Empty title={t('admin.bans.emptyTitle')} text={t('admin.bans.emptyText')} />}
        class="bans-table"
        caption={t('admin.bans.title')}
        rowClass={(b) => (b.active ? undefined : 'inactive')}
        columns={[
          { head: t('admin.bans.kind'), cell: (b) => t(`admin.bans.kinds.${b.kind}`) },
          {
            head: t('admin.bans.value'),
            cell: (b) => (
              <code dir="ltr" class="ban-value">
                {b.value}
              </code>
            ),
          },
          { head: t('admin.bans.reason'), dir: 'auto', cell: (b) => b.reason || <span class="muted">{t('admin.bans.noReason')}</span> },
          {
            head: t('admin.bans.expires'),
            cell: (b) => (!b.active ? t('admin.bans.expired') : b.expires_at ? <When at={b.expires_at} /> : t('admin.bans.never')),
          },
          {
            head: t('admin.bans.author'),
            cell: (b) => (
              <>
                {author(b)}
                <br />
                <span class="muted">
                  <When at={b.created_at} />
                </span>
              </>
            ),
          },
        ]}
        actions={(b) => <RowButton danger label={t('admin.bans.lift')} who={b.value} onClick={() => lift.ask(b)} />}
      />
      {adding && <BanForm onClose={() => setAdding(false)} onSaved={bans.reload} />}
      {lift.dialog}
    </section>
  );
}

function BanForm({ onClose, onSaved }: { onClose: () => void; onSaved: () => void }) {
  const [kind, setKind] = useState<BanKind>('ip');
  const [value, setValue] = useState('');
  const [reason, setReason] = useState('');
  const [hours, setHours] = useState<number>(24);
  const { busy, error, run, fieldError } = useSubmit();
  return (
    <FormDialog
      title={t('admin.bans.new')}
      submit={t('admin.bans.create')}
      busy={busy}
      error={error}
      onClose={onClose}
      onSubmit={async () => {
        const expires_at = hours ? Date.now() + hours * 3_600_000 : null;
        const saved = await run(() => call(client.POST('/api/v1/bans', { body: { kind, value, reason, expires_at } })));
        if (saved) onSaved();
        return !!saved;
      }}
    >
      <Field label={t('admin.bans.kind')} error={fieldError('kind')}>
        {(a) => (
          <select {...a} value={kind} onChange={(e) => setKind(e.currentTarget.value as BanKind)}>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {t(`admin.bans.kinds.${k}`)}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label={t('admin.bans.value')} hint={t(`admin.bans.valueHint.${kind}`)} error={fieldError('value')}>
        {(a) => <input {...a} value={value} dir="ltr" required maxLength={254} onInput={(e) => setValue(e.currentTarget.value)} />}
      </Field>
      <Field label={t('admin.bans.reason')} hint={t('admin.bans.reasonHint')} error={fieldError('reason')}>
        {(a) => <textarea {...a} rows={2} dir="auto" value={reason} maxLength={500} onInput={(e) => setReason(e.currentTarget.value)} />}
      </Field>
      <Field label={t('admin.bans.duration')} error={fieldError('expires_at')}>
        {(a) => (
          <select {...a} value={String(hours)} onChange={(e) => setHours(Number(e.currentTarget.value))}>
            {DURATIONS.map((h) => (
              <option key={h} value={String(h)}>
                {t(`admin.bans.durations.h${h}`)}
              </option>
            ))}
          </select>
        )}
      </Field>
    </FormDialog>
  );
}
