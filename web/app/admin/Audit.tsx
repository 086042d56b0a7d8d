// The audit log, for owners: who did what in the workspace's settings and who read
// which conversation or contact, newest first, filtered by person, action and dates,
// paged by the server's cursor, and exported as CSV with the same filters.

import { useMemo, useState } from 'preact/hooks';
import { type Schemas, call, client } from '../api';
import { i18n, t } from '../i18n';
import { DataTable } from './table';
import { Empty, Field, FormError, Header, Loading, OfflineBanner, useLoad, useSubmit } from './ui';

type Action = Schemas['AuditAction'];
type Entry = Schemas['AuditEntry'];

/** Every action the server records, in the order the filter lists them. */
const ACTIONS: Action[] = [
  'agent_invited',
  'agent_changed',
  'agent_role_changed',
  'agent_deactivated',
  'agent_reactivated',
  'agent_deleted',
  'password_reset',
  'team_created',
  'team_changed',
  'team_deleted',
  'site_created',
  'site_changed',
  'site_deleted',
  'workspace_changed',
  'token_created',
  'token_revoked',
  'ban_created',
  'ban_removed',
  'two_factor_enabled',
  'two_factor_disabled',
  'two_factor_required',
  'two_factor_not_required',
  'session_revoked',
  'conversation_read',
  'contact_read',
];

interface Filters {
  actor: string; // '' (anyone), 'system', or an agent id
  action: Action | '';
  from: string; // yyyy-mm-dd, the agent's own calendar day
  to: string;
}

/** The query both the list and the CSV take. Dates are whole days in the browser's zone. */
function query(f: Filters) {
  const day = (d: string, next: boolean) => {
    const at = new Date(`${d}T00:00:00`);
    if (next) at.setDate(at.getDate() + 1);
    return at.getTime();
  };
  return {
    ...(f.actor === 'system' ? { actor_kind: 'system' as const } : f.actor ? { actor_kind: 'agent' as const, actor_id: f.actor } : {}),
    ...(f.action ? { action: f.action } : {}),
    ...(f.from ? { from: day(f.from, false) } : {}),
    ...(f.to ? { to: day(f.to, true) } : {}),
  };
}

export function Audit() {
  const agents = useLoad(() => call(client.GET('/api/v1/agents')), []);
  const [filters, setFilters] = useState<Filters>({ actor: '', action: '', from: '', to: '' });
  const [entries, setEntries] = useState<Entry[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const first = useLoad(async () => {
    const page = await call(client.GET('/api/v1/audit', { params: { query: { ...query(filters), limit: 50 } } }));
    setEntries(page.entries);
    setNext(page.next_cursor ?? null);
    return page;
  }, [filters]);
  const { busy, error, run } = useSubmit();
  const names = useMemo(() => new Map((agents.value.state === 'ready' ? agents.value.data : []).map((a) => [a.id, a.name])), [agents.value]);
  const csv = useMemo(() => {
    const params = new URLSearchParams(Object.entries(query(filters)).map(([k, v]) => [k, String(v)]));
    return `/api/v1/audit.csv${params.size ? `?${params}` : ''}`;
  }, [filters]);

  async function more() {
    if (!next) return;
    const page = await run(() => call(client.GET('/api/v1/audit', { params: { query: { ...query(filters), limit: 50, before: next } } })));
    if (page) {
      setEntries((shown) => [...shown, ...page.entries]);
      setNext(page.next_cursor ?? null);
    }
  }

  const who = (e: Entry) =>
    e.actor.kind === 'system'
      ? t('admin.audit.system')
      : e.actor.kind === 'integration'
        ? t('admin.audit.token')
        : (names.get(e.actor.id ?? '') ?? t('admin.audit.formerAgent'));
  const about = (e: Entry) => {
    if (!e.target_kind) return '';
    const name = e.target_kind === 'agent' && e.target_id ? names.get(e.target_id) : undefined;
    return name ? `${t(`admin.audit.targets.${e.target_kind}`)}: ${name}` : t(`admin.audit.targets.${e.target_kind}`);
  };
  const set = (change: Partial<Filters>) => setFilters((f) => ({ ...f, ...change }));

  return (
    <section class="screen">
      <Header title={t('admin.audit.title')} back="/app/settings">
        <a class="button" href={csv} download="audit.csv">
          {t('admin.audit.export')}
        </a>
      </Header>
      <OfflineBanner />
      <p class="hint">{t('admin.audit.hint')}</p>
      <form class="audit-filters" role="search" aria-label={t('admin.audit.filters')} onSubmit={(e) => e.preventDefault()}>
        <Field label={t('admin.audit.who')}>
          {(a) => (
            <select {...a} value={filters.actor} onChange={(e) => set({ actor: e.currentTarget.value })}>
              <option value="">{t('admin.audit.anyone')}</option>
              {(agents.value.state === 'ready' ? agents.value.data : []).map((ag) => (
                <option key={ag.id} value={ag.id}>
                  {ag.name}
                </option>
              ))}
              <option value="system">{t('admin.audit.system')}</option>
            </select>
          )}
        </Field>
        <Field label={t('admin.audit.what')}>
          {(a) => (
            <select {...a} value={filters.action} onChange={(e) => set({ action: e.currentTarget.value as Action | '' })}>
              <option value="">{t('admin.audit.anything')}</option>
              {ACTIONS.map((action) => (
                <option key={action} value={action}>
                  {t(`admin.audit.actions.${action}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t('admin.audit.from')}>
          {(a) => <input {...a} type="date" value={filters.from} onChange={(e) => set({ from: e.currentTarget.value })} />}
        </Field>
        <Field label={t('admin.audit.to')}>
          {(a) => <input {...a} type="date" value={filters.to} onChange={(e) => set({ to: e.currentTarget.value })} />}
        </Field>
      </form>
      <Loading loaded={first.value} retry={first.reload}>
        {() =>
          entries.length === 0 ? (
            <Empty title={t('admin.audit.emptyTitle')} text={t('admin.audit.emptyText')} />
          ) : (
            <>
              <DataTable
                caption={t('admin.audit.title')}
                rows={entries}
                columns={[
                  {
                    head: t('admin.audit.when'),
                    plain: true,
                    cell: (e) => <time dateTime={new Date(e.at).toISOString()}>{i18n.value?.date(e.at, { dateStyle: 'medium', timeStyle: 'short' })}</time>,
                  },
                  { head: t('admin.audit.who'), cell: who },
                  {
                    head: t('admin.audit.what'),
                    cell: (e) => (
                      <>
                        {t(`admin.audit.actions.${e.action}`)}
                        {e.action === 'agent_role_changed' && e.detail && <span class="muted"> ({t(`admin.roles.${e.detail}`)})</span>}
                      </>
                    ),
                  },
                  { head: t('admin.audit.about'), cell: about },
                ]}
              />
              <FormError error={error} />
              {next && (
                <button class="button audit-more" type="button" disabled={busy} onClick={more}>
                  {t('admin.audit.more')}
                </button>
              )}
            </>
          )
        }
      </Loading>
    </section>
  );
}
