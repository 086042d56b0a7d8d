// API tokens: for scripts and integrations. A new token's secret is shown once, right
// after it is made, with a copy button; the server keeps only its hash. A token may
// expire after a chosen time; the list shows when each was last used (recorded at most
// once a minute) and when it expires. Revoking one stops it at once.

import { useState } from 'preact/hooks';
import { type Schemas, call, client } from '../api';
import { t } from '../i18n';
import { me } from '../session';
import { LoadedTable, RowButton } from './table';
import { CodeBlock, CopyButton, Empty, Field, FormError, Header, Loading, OfflineBanner, When, useConfirm, useLoad, useSubmit } from './ui';

type Role = Schemas['Role'];

/** How long a new token lasts, in days; 0: until revoked. */
const LIFETIMES = [0, 7, 30, 90, 365] as const;
const DAY_MS = 24 * 60 * 60 * 1000;

export function Tokens() {
  const tokens = useLoad(() => call(client.GET('/api/v1/api-tokens')), []);
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('agent');
  const [days, setDays] = useState<number>(0);
  const [created, setCreated] = useState<Schemas['CreatedApiToken'] | null>(null);
  const revoke = useConfirm<Schemas['ApiToken']>({
    title: (tok) => t('admin.tokens.revokeWho', { name: tok.name }),
    text: t('admin.tokens.revokeText'),
    confirm: t('admin.tokens.revoke'),
    run: (tok) => call(client.DELETE('/api/v1/api-tokens/{id}', { params: { path: { id: tok.id } } })),
    done: tokens.reload,
  });
  const { busy, error, run, fieldError } = useSubmit();
  const roles: Role[] = me.value?.agent.role === 'owner' ? ['agent', 'admin', 'owner'] : ['agent', 'admin'];

  async function create(e: Event) {
    e.preventDefault();
    const expires_at = days ? Date.now() + days * DAY_MS : undefined;
    const made = await run(() => call(client.POST('/api/v1/api-tokens', { body: { name, role, ...(expires_at ? { expires_at } : {}) } })));
    if (made) {
      setCreated(made);
      setName('');
      tokens.reload();
    }
  }

  return (
    <section class="screen">
      <Header title={t('admin.tokens.title')} back="/app/settings" />
      <OfflineBanner />
      <p class="hint">{t('admin.tokens.hint')}</p>
      <form class="form inline-form" onSubmit={create} aria-label={t('admin.tokens.new')}>
        <Field label={t('admin.tokens.name')} error={fieldError('name')}>
          {(a) => <input {...a} value={name} required maxLength={100} onInput={(e) => setName(e.currentTarget.value)} />}
        </Field>
        <Field label={t('admin.tokens.role')} error={fieldError('role')}>
          {(a) => (
            <select {...a} value={role} onChange={(e) => setRole(e.currentTarget.value as Role)}>
              {roles.map((r) => (
                <option key={r} value={r}>
                  {t(`admin.roles.${r}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t('admin.tokens.expires')} error={fieldError('expires_at')}>
          {(a) => (
            <select {...a} value={String(days)} onChange={(e) => setDays(Number(e.currentTarget.value))}>
              {LIFETIMES.map((d) => (
                <option key={d} value={String(d)}>
                  {d ? t('admin.tokens.days', { count: d }) : t('admin.tokens.noExpiry')}
                </option>
              ))}
            </select>
          )}
        </Field>
        <button class="button primary" type="submit" disabled={busy}>
          {t('admin.tokens.create')}
        </button>
      </form>
      <FormError error={error} />
      {created && (
        <div class="once" role="region" aria-labelledby="once-title">
          <h3 id="once-title">{t('admin.tokens.onceTitle', { name: created.token.name })}</h3>
          <p>{t('admin.tokens.onceText')}</p>
          <CodeBlock code={created.secret} label={t('admin.tokens.secret')} />
          <div class="form-actions">
            <CopyButton text={created.secret} label={t('admin.tokens.copy')} />
            <button class="button" type="button" onClick={() => setCreated(null)}>
              {t('admin.tokens.done')}
            </button>
          </div>
        </div>
      )}
      <LoadedTable
        loaded={tokens.value}
        retry={tokens.reload}
        empty={<Empty title={t('admin.tokens.emptyTitle')} text={t('admin.tokens.emptyText')} />}
        caption={t('admin.tokens.title')}
        columns={[
          {
            head: t('admin.tokens.name'),
            plain: true,
            cell: (tok) => (
              <>
                <strong>{tok.name}</strong>
                <br />
                <code class="muted" dir="ltr">
                  {tok.prefix}…
                </code>
              </>
            ),
          },
          { head: t('admin.tokens.role'), cell: (tok) => t(`admin.roles.${tok.role}`) },
          { head: t('admin.tokens.lastUsed'), cell: (tok) => (tok.last_used_at ? <When at={tok.last_used_at} /> : t('admin.tokens.never')) },
          {
            head: t('admin.tokens.expires'),
            cell: (tok) =>
              tok.expires_at == null ? (
                t('admin.tokens.noExpiry')
              ) : tok.expires_at <= Date.now() ? (
                <span class="badge badge-off">{t('admin.tokens.expired')}</span>
              ) : (
                <When at={tok.expires_at} />
              ),
          },
        ]}
        actions={(tok) => <RowButton danger label={t('admin.tokens.revoke')} who={tok.name} onClick={() => revoke.ask(tok)} />}
      />
      {revoke.dialog}
    </section>
  );
}
