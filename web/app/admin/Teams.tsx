// Teams and their members: conversations are routed to a team's queue, and an agent
// sees their teams' queues. A team's page edits its name and its members.

import { useLocation } from 'preact-iso';
import { useState } from 'preact/hooks';
import { type Schemas, call, client } from '../api';
import { t } from '../i18n';
import { Avatar } from '../Shell';
import type { SectionProps } from './Settings';
import { Confirm, Empty, Field, Header, Loading, OfflineBanner, SaveBar, useLoad, useSubmit } from './ui';

type Team = Schemas['Team'];
type Agent = Schemas['Agent'];

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
    const body = { name, agent_ids: [...members] };
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
