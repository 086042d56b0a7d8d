// The workspace: its name, the time zone reports and business hours use (any IANA zone
// the browser knows; the server checks it against its own IANA database), who sees which

// conversations (restricted inboxes), when an idle agent shows as away, how many chats
// an agent holds at once unless their own maximum says otherwise, and, for owners,
// whether every agent must sign in with two-factor sign-in.


import { useMemo, useState } from 'preact/hooks';
import { type Schemas, call, client } from '../api';
import { t } from '../i18n';
import { me } from '../session';
import { Field, Header, Loading, OfflineBanner, SaveBar, useLoad, useSubmit } from './ui';

export function Workspace() {
  const ws = useLoad(() => call(client.GET('/api/v1/workspace')), []);
  return (
    <section class="screen">
      <Header title={t('admin.workspace.title')} back="/app/settings" />
      <OfflineBanner />
      <Loading loaded={ws.value} retry={ws.reload}>
        {(w) => <WorkspaceForm workspace={w} onSaved={ws.set} />}
      </Loading>
    </section>
  );
}

/** The IANA zone names the browser knows, UTC among them (the business-hours editor uses them too). */
export function zones(): string[] {
  const known = (Intl as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
  return known.includes('UTC') ? known : ['UTC', ...known];
}

/** The auto-away choices, in minutes; `null` is never. */
const AWAY_AFTER: (number | null)[] = [5, 10, 15, 30, 60, 120, null];

function WorkspaceForm({ workspace, onSaved }: { workspace: Schemas['Workspace']; onSaved: (w: Schemas['Workspace']) => void }) {
  const [name, setName] = useState(workspace.name);
  const [zone, setZone] = useState(workspace.time_zone);
  const [require2fa, setRequire2fa] = useState(workspace.require_two_factor);
  const isOwner = me.value?.agent.role === 'owner';
  const [visibility, setVisibility] = useState<Schemas['InboxVisibility']>(workspace.inbox_visibility);
  const [awayAfter, setAwayAfter] = useState<number | null>(workspace.auto_away_minutes ?? null);
  const awayChoices = AWAY_AFTER.includes(awayAfter) ? AWAY_AFTER : [awayAfter, ...AWAY_AFTER];
  const [maxChats, setMaxChats] = useState(workspace.default_max_chats);
  const [saved, setSaved] = useState(false);
  const all = useMemo(zones, []);
  const { busy, error, run, fieldError } = useSubmit();
  async function save(e: Event) {
    e.preventDefault();
    setSaved(false);
    const body: Schemas['UpdateWorkspace'] = { name, time_zone: zone, inbox_visibility: visibility, auto_away_minutes: awayAfter, default_max_chats: maxChats, ...(isOwner ? { require_two_factor: require2fa } : {}) };
    const next = await run(() => call(client.PATCH('/api/v1/workspace', { body })));
    if (next) {
      onSaved(next);
      if (me.value) me.value = { ...me.value, workspace: next };
      setSaved(true);
    }
  }
  return (
    <form class="form narrow" onSubmit={save}>
      <Field label={t('admin.workspace.name')} error={fieldError('name')}>
        {(a) => <input {...a} value={name} required maxLength={100} onInput={(e) => (setSaved(false), setName(e.currentTarget.value))} />}
      </Field>
      <Field label={t('admin.workspace.timeZone')} hint={t('admin.workspace.timeZoneHint')} error={fieldError('time_zone')}>
        {(a) => (
          <select {...a} value={zone} dir="ltr" onChange={(e) => (setSaved(false), setZone(e.currentTarget.value))}>
            {!all.includes(zone) && <option value={zone}>{zone}</option>}
            {all.map((z) => (
              <option key={z} value={z}>
                {z}
              </option>
            ))}
          </select>
        )}
      </Field>
      {isOwner && (
        <label class="check">
          <input type="checkbox" checked={require2fa} onChange={(e) => (setSaved(false), setRequire2fa(e.currentTarget.checked))} />
          <span>
            {t('admin.workspace.requireTwoFactor')}
            <br />
            <span class="hint">{t('admin.workspace.requireTwoFactorHint')}</span>
          </span>
        </label>
      )}
      <Field label={t('admin.workspace.visibility')} hint={t('admin.workspace.visibilityHint')} error={fieldError('inbox_visibility')}>
        {(a) => (
          <select
            {...a}
            value={visibility}
            onChange={(e) => (setSaved(false), setVisibility(e.currentTarget.value as Schemas['InboxVisibility']))}
          >
            <option value="all">{t('admin.workspace.visibilityAll')}</option>
            <option value="teams">{t('admin.workspace.visibilityTeams')}</option>
          </select>
        )}
      </Field>
      <Field label={t('admin.workspace.autoAway')} hint={t('admin.workspace.autoAwayHint')} error={fieldError('auto_away_minutes')}>
        {(a) => (
          <select
            {...a}
            value={awayAfter === null ? 'never' : String(awayAfter)}
            onChange={(e) => {
              setSaved(false);
              const v = e.currentTarget.value;
              setAwayAfter(v === 'never' ? null : Number(v));
            }}
          >
            {awayChoices.map((m) => (
              <option key={m ?? 'never'} value={m === null ? 'never' : String(m)}>
                {m === null ? t('admin.workspace.autoAwayNever') : t('admin.workspace.autoAwayMinutes', { count: m })}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label={t('admin.workspace.maxChats')} hint={t('admin.workspace.maxChatsHint')} error={fieldError('default_max_chats')}>
        {(a) => (
          <input
            {...a}
            type="number"
            min={1}
            max={100}
            required
            value={maxChats}
            onInput={(e) => Number.isFinite(e.currentTarget.valueAsNumber) && (setSaved(false), setMaxChats(e.currentTarget.valueAsNumber))}
          />
        )}
      </Field>
      <SaveBar error={error} busy={busy} saved={saved} />
    </form>
  );
}
