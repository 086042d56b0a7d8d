// The workspace: its name, the time zone reports and business hours use (any IANA
// zone the browser knows; the server checks it against its own IANA database), and how
// many chats an agent holds at once unless their own maximum says otherwise.

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

function zones(): string[] {
  const known = (Intl as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
  return known.includes('UTC') ? known : ['UTC', ...known];
}

function WorkspaceForm({ workspace, onSaved }: { workspace: Schemas['Workspace']; onSaved: (w: Schemas['Workspace']) => void }) {
  const [name, setName] = useState(workspace.name);
  const [zone, setZone] = useState(workspace.time_zone);
  const [maxChats, setMaxChats] = useState(workspace.default_max_chats);
  const [saved, setSaved] = useState(false);
  const all = useMemo(zones, []);
  const { busy, error, run, fieldError } = useSubmit();
  async function save(e: Event) {
    e.preventDefault();
    setSaved(false);
    const next = await run(() => call(client.PATCH('/api/v1/workspace', { body: { name, time_zone: zone, default_max_chats: maxChats } })));
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
