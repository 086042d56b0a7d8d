// Teams and their members: conversations are routed to a team's queue, and an agent
// sees their teams' queues. A team's page edits its name, its members and how its
// conversations are routed: the strategy, stickiness, re-routing (no first reply in
// time, or the agent going offline) and how long a visitor may wait in its queue.

import { useLocation } from 'preact-iso';
import { useId, useState } from 'preact/hooks';
import { type Schemas, call, client } from '../api';
import { t } from '../i18n';
import { Avatar } from '../Shell';
import type { SectionProps } from './Settings';
import { HoursEditor, hoursForSave } from './Hours';
import { Confirm, Empty, Field, Header, Loading, OfflineBanner, SaveBar, useLoad, useSubmit } from './ui';

type Team = Schemas['Team'];
type Agent = Schemas['Agent'];
type Strategy = Team['strategy'];
const STRATEGIES: Strategy[] = ['balanced', 'round_robin', 'manual'];

export function Teams({ id }: SectionProps) {
  const data = useLoad(async () => {
    const [teams, agents] = await Promise.all([call(client.GET('/api/v1/teams')), call(client.GET('/api/v1/agents'))]);
    return { teams, agents };
  }, []);
  return (
    <Loading loaded={data.value} retry={data.reload}>
      {({ teams, agents }) => {
        if (id === 'new') return <TeamForm agents={agents} onSaved={data.reload} />;
        const team = id && teams.find((x) => x.id === id);
        if (id && !team) return <Empty title={t('shell.notFound.title')} text={t('shell.notFound.text')} />;
        if (team) return <TeamForm key={team.id} team={team} agents={agents} onSaved={data.reload} />;
        return <TeamList teams={teams} agents={agents} />;
      }}
    </Loading>
  );
}

function TeamList({ teams, agents }: { teams: Team[]; agents: Agent[] }) {
  const byId = new Map(agents.map((a) => [a.id, a]));
  return (
    <section class="screen">
      <Header title={t('admin.teams.title')} back="/app/settings">
        <a class="button primary" href="/app/settings/teams/new">
          {t('admin.teams.new')}
        </a>
      </Header>
      <OfflineBanner />
      {teams.length === 0 ? (
        <Empty title={t('admin.teams.emptyTitle')} text={t('admin.teams.emptyText')}>
          <a class="button primary" href="/app/settings/teams/new">
            {t('admin.teams.new')}
          </a>
        </Empty>
      ) : (
        <ul class="cards">
          {teams.map((team) => (
            <li key={team.id} class="card">
              <a class="card-link" href={`/app/settings/teams/${team.id}`}>
                <strong>{team.name}</strong>
              </a>
              <span class="muted">{t('admin.teams.members', { count: team.agent_ids.length })}</span>
              <span class="muted">{t(`admin.teams.strategy.${team.strategy}.name`)}</span>
              <span class="faces" aria-hidden="true">
                {team.agent_ids.slice(0, 6).map((id) => {
                  const a = byId.get(id);
                  return a ? <Avatar key={id} name={a.name} url={a.avatar_url ?? null} size={24} /> : null;
                })}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function TeamForm({ team, agents, onSaved }: { team?: Team; agents: Agent[]; onSaved: () => void }) {
  const { route } = useLocation();
  const [name, setName] = useState(team?.name ?? '');
  const [members, setMembers] = useState(new Set(team?.agent_ids ?? []));
  const [routing, setRouting] = useState({
    strategy: team?.strategy ?? ('balanced' as Strategy),
    sticky: team?.sticky ?? true,
    reroute_after_seconds: team?.reroute_after_seconds ?? null,
    reroute_when_offline: team?.reroute_when_offline ?? true,
    max_wait_seconds: team?.max_wait_seconds ?? null,
  });
  const tune = (patch: Partial<typeof routing>) => {
    setSaved(false);
    setRouting({ ...routing, ...patch });
  };
  const [hours, setHours] = useState(team?.business_hours ?? null);
  const [saved, setSaved] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const { busy, error, run, fieldError } = useSubmit();
  const toggle = (id: string, on: boolean) => {
    const next = new Set(members);
    if (on) next.add(id);
    else next.delete(id);
    setSaved(false);
    setMembers(next);
  };
  async function save(e: Event) {
    e.preventDefault();
    const body: Schemas['TeamRequest'] = { name, agent_ids: [...members], ...routing, business_hours: hoursForSave(hours) };
    const result = await run(() =>
      team
        ? call(client.PATCH('/api/v1/teams/{id}', { params: { path: { id: team.id } }, body }))
        : call(client.POST('/api/v1/teams', { body })),
    );
    if (!result) return;
    onSaved();
    if (team) setSaved(true);
    else route(`/app/settings/teams/${result.id}`);
  }
  return (
    <section class="screen">
      <Header title={team ? team.name : t('admin.teams.new')} back="/app/settings/teams" />
      <OfflineBanner />
      <form class="form narrow" onSubmit={save}>
        <Field label={t('admin.teams.name')} error={fieldError('name')}>
          {(a) => <input {...a} value={name} required maxLength={100} onInput={(e) => (setSaved(false), setName(e.currentTarget.value))} />}
        </Field>
        <fieldset class="group">
          <legend>{t('admin.teams.membersTitle')}</legend>
          {agents.length === 0 ? (
            <p class="muted">{t('admin.agents.emptyText')}</p>
          ) : (
            <ul class="checklist">
              {agents.map((a) => (
                <li key={a.id}>
                  <label class="check">
                    <input type="checkbox" checked={members.has(a.id)} onChange={(e) => toggle(a.id, e.currentTarget.checked)} />
                    <Avatar name={a.name} url={a.avatar_url ?? null} size={24} />
                    {a.name}
                  </label>
                </li>
              ))}
            </ul>
          )}
        </fieldset>
        <fieldset class="group">
          <legend>{t('admin.teams.routing')}</legend>
          <fieldset class="choices">
            <legend>{t('admin.teams.strategyLabel')}</legend>
            {STRATEGIES.map((k) => (
              <label key={k} class="choice">
                <input type="radio" name="strategy" value={k} checked={routing.strategy === k} onChange={() => tune({ strategy: k })} />
                <span>
                  <strong>{t(`admin.teams.strategy.${k}.name`)}</strong>
                  <span class="hint">{t(`admin.teams.strategy.${k}.text`)}</span>
                </span>
              </label>
            ))}
            {fieldError('strategy') && <p class="field-error">{t('admin.fieldRefused')}</p>}
          </fieldset>
          <label class="check">
            <input type="checkbox" checked={routing.sticky} onChange={(e) => tune({ sticky: e.currentTarget.checked })} />
            {t('admin.teams.sticky')}
          </label>
          <p class="hint">{t('admin.teams.stickyHint')}</p>
          <Duration
            label={t('admin.teams.rerouteAfter')}
            hint={t('admin.teams.rerouteAfterHint')}
            off={t('admin.teams.keep')}
            value={routing.reroute_after_seconds}
            fallback={300}
            invalid={!!fieldError('reroute_after_seconds')}
            onChange={(v) => tune({ reroute_after_seconds: v })}
          />
          <label class="check">
            <input type="checkbox" checked={routing.reroute_when_offline} onChange={(e) => tune({ reroute_when_offline: e.currentTarget.checked })} />
            {t('admin.teams.rerouteOffline')}
          </label>
          <p class="hint">{t('admin.teams.rerouteOfflineHint')}</p>
          <Duration
            label={t('admin.teams.maxWait')}
            hint={t('admin.teams.maxWaitHint')}
            off={t('admin.teams.noMaxWait')}
            value={routing.max_wait_seconds}
            fallback={600}
            invalid={!!fieldError('max_wait_seconds')}
            onChange={(v) => tune({ max_wait_seconds: v })}
          />
        </fieldset>
        <HoursEditor
          value={hours}
          onChange={(h) => (setSaved(false), setHours(h))}
          saveError={error}
          noneLabel={t('admin.hours.followSite')}
          hint={t('admin.hours.teamHint')}
        />
        <SaveBar error={error} busy={busy} saved={saved} label={team ? t('admin.save') : t('admin.teams.create')}>
          {team && (
            <button class="button danger" type="button" onClick={() => setDeleting(true)}>
              {t('admin.teams.delete')}
            </button>
          )}
        </SaveBar>
      </form>
      {deleting && team && (
        <Confirm
          title={t('admin.teams.deleteTitle', { name: team.name })}
          text={t('admin.teams.deleteText')}
          confirm={t('admin.teams.delete')}
          onClose={() => setDeleting(false)}
          onConfirm={async () => {
            await call(client.DELETE('/api/v1/teams/{id}', { params: { path: { id: team.id } } }));
            onSaved();
            route('/app/settings/teams');
          }}
        />
      )}
    </section>
  );
}

const UNITS = [
  { key: 'seconds', size: 1 },
  { key: 'minutes', size: 60 },
  { key: 'hours', size: 3600 },
] as const;
/** The server's bounds for both durations: 30 seconds to a day. */
const MIN_SECONDS = 30;
const MAX_SECONDS = 86_400;

/**
 * An optional duration in seconds: a checkbox turns it on (with `fallback`) or off
 * (`null`, said by `off`), and an amount with a unit sets it. The unit shown is the
 * largest that divides the stored value, so a value set through the API reads back as it is.
 */
function Duration(props: { label: string; hint: string; off: string; value: number | null; fallback: number; invalid: boolean; onChange: (v: number | null) => void }) {
  const { value } = props;
  const id = useId();
  const fitting = value == null ? UNITS[1] : [...UNITS].reverse().find((u) => value % u.size === 0) ?? UNITS[0];
  const [unit, setUnit] = useState<(typeof UNITS)[number]>(fitting);
  const amount = value == null ? '' : value / unit.size;
  return (
    <div class="duration">
      <label class="check">
        <input type="checkbox" checked={value != null} onChange={(e) => props.onChange(e.currentTarget.checked ? props.fallback : null)} aria-describedby={`${id}-hint`} />
        {props.label}
      </label>
      {value != null ? (
        <div class="duration-value">
          <input
            type="number"
            id={`${id}-amount`}
            aria-label={props.label}
            aria-invalid={props.invalid ? 'true' : undefined}
            min={Math.ceil(MIN_SECONDS / unit.size)}
            max={Math.floor(MAX_SECONDS / unit.size)}
            step={1}
            required
            value={amount}
            onInput={(e) => {
              const n = e.currentTarget.valueAsNumber;
              if (Number.isFinite(n)) props.onChange(Math.round(n * unit.size));
            }}
          />
          <select
            aria-label={t('admin.duration.unit')}
            value={unit.key}
            onChange={(e) => {
              const next = UNITS.find((u) => u.key === e.currentTarget.value) ?? UNITS[1];
              setUnit(next);
              // Keep the amount typed, in the new unit, within the server's bounds.
              props.onChange(Math.min(MAX_SECONDS, Math.max(MIN_SECONDS, Math.round((value / unit.size) * next.size))));
            }}
          >
            {UNITS.map((u) => (
              <option key={u.key} value={u.key}>
                {t(`admin.duration.${u.key}`)}
              </option>
            ))}
          </select>
        </div>
      ) : (
        <p class="muted duration-off">{props.off}</p>
      )}
      <p class="hint" id={`${id}-hint`}>
        {props.hint}
      </p>
      {props.invalid && <p class="field-error">{t('admin.fieldRefused')}</p>}
    </div>
  );
}
