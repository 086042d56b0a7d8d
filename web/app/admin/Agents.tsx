// Agents: who is on the team, inviting one by e-mail (`Invitations.tsx`: the dialog, the
// link shown once, the pending invitations) or adding one with a role and a first password, changing a
// role or the number of concurrent chats (their own maximum, or the workspace default),
// seeing how many chats each holds now, resetting a password, deactivating (their
// unresolved conversations go back to their team's queue, as system events) and
// reactivating; the sessions where an agent is signed in, any of which can be ended. The buttons follow the server's rules (only owners manage owners; nobody removes
// themselves) so nobody is offered what the server would refuse; the server enforces them.

import { useId, useState } from 'preact/hooks';
import { type Schemas, call, client } from '../api';
import { t } from '../i18n';
import { LOCALES } from '../../shared/i18n';
import { me } from '../session';
import { Avatar } from '../Shell';
import { InviteDialog, LinkDialog, PendingInvitations } from './Invitations';
import { AgentSessions } from './Security';
import { autonym } from './Sites';
import { LoadedTable, RowButton } from './table';
import { Empty, Field, FormDialog, FormError, Header, Loading, OfflineBanner, useConfirm, useLoad, useSubmit } from './ui';

type Agent = Schemas['Agent'];
type Role = Schemas['Role'];

export function Agents() {
  const agents = useLoad(() => call(client.GET('/api/v1/agents')), []);
  const [adding, setAdding] = useState(false);
  const [inviting, setInviting] = useState(false);
  // The links this page was shown, by invitation: only these can be copied again.
  const [links, setLinks] = useState<Record<string, string>>({});
  const [shown, setShown] = useState<Schemas['CreatedAgentInvitation'] | null>(null);
  const [invitesVersion, setInvitesVersion] = useState(0);
  const madeLink = (made: Schemas['CreatedAgentInvitation']) => {
    setLinks((known) => ({ ...known, [made.invitation.id]: made.link }));
    setShown(made);
    setInvitesVersion((v) => v + 1);
  };
  const [editing, setEditing] = useState<{ agent: Agent; what: 'edit' | 'password' | 'sessions' } | null>(null);
  const deactivate = useConfirm<Agent>({
    title: (a) => t('admin.agents.deactivateTitle', { name: a.name }),
    text: t('admin.agents.deactivateText'),
    confirm: t('admin.agents.deactivate'),
    run: (a) => call(client.PATCH('/api/v1/agents/{id}', { params: { path: { id: a.id } }, body: { active: false } })),
    done: agents.reload,
  });
  const reactivate = useSubmit();
  const self = me.value?.agent;
  const rolesICanGive: Role[] = self?.role === 'owner' ? ['agent', 'admin', 'owner'] : ['agent', 'admin'];
  const mayManage = (a: Agent) => a.id !== self?.id && (a.role !== 'owner' || self?.role === 'owner');

  return (
    <section class="screen">
      <Header title={t('admin.agents.title')} back="/app/settings">
        <button class="button" type="button" onClick={() => setAdding(true)}>
          {t('admin.agents.new')}
        </button>
        <button class="button primary" type="button" onClick={() => setInviting(true)}>
          {t('admin.invites.invite')}
        </button>
      </Header>
      <OfflineBanner />
      {adding && <NewAgent roles={rolesICanGive} onClose={() => setAdding(false)} onAdded={agents.reload} />}
      {inviting && <InviteDialog roles={rolesICanGive} onClose={() => setInviting(false)} onInvited={madeLink} />}
      {shown && <LinkDialog made={shown} onClose={() => setShown(null)} />}
      <FormError error={reactivate.error} />
      <LoadedTable
        loaded={agents.value}
        retry={agents.reload}
        empty={<Empty title={t('admin.agents.emptyTitle')} text={t('admin.agents.emptyText')} />}
        caption={t('admin.agents.title')}
        columns={[
          {
            head: t('admin.agents.name'),
            plain: true,
            cell: (a) => (
              <span class="person">
                <Avatar name={a.name} url={a.avatar_url ?? null} />
                <span>
                  <strong>{a.name}</strong>
                  {a.id === self?.id && <span class="badge">{t('admin.agents.you')}</span>}
                  {!a.active && <span class="badge badge-off">{t('admin.agents.inactive')}</span>}
                  <br />
                  <span class="muted" dir="ltr">
                    {a.email}
                  </span>
                </span>
              </span>
            ),
          },
          { head: t('admin.agents.role'), cell: (a) => t(`admin.roles.${a.role}`) },
          {
            head: t('admin.agents.maxChats'),
            cell: (a) => (
              <>
                <span class="load">{t('admin.agents.load', { open: a.open_chats, max: a.effective_max_chats })}</span>
                {a.max_chats == null && <span class="muted"> · {t('admin.agents.byDefault')}</span>}
              </>
            ),
          },
        ]}
        actions={(a) =>
          !mayManage(a) ? null : !a.active ? (
            <RowButton
              label={t('admin.agents.reactivate')}
              who={a.name}
              disabled={reactivate.busy}
              onClick={() =>
                void reactivate
                  .run(() => call(client.PATCH('/api/v1/agents/{id}', { params: { path: { id: a.id } }, body: { active: true } })))
                  .then((done) => done && agents.reload())
              }
            />
          ) : (
            <>
              <RowButton label={t('admin.edit')} who={a.name} onClick={() => setEditing({ agent: a, what: 'edit' })} />
              <RowButton label={t('admin.agents.reset')} who={a.name} onClick={() => setEditing({ agent: a, what: 'password' })} />
              <RowButton label={t('admin.security.sessionsButton')} who={a.name} onClick={() => setEditing({ agent: a, what: 'sessions' })} />
              <RowButton danger label={t('admin.agents.deactivate')} who={a.name} onClick={() => deactivate.ask(a)} />
            </>
          )
        }
      />
      <PendingInvitations reloadKey={invitesVersion} links={links} onResent={madeLink} />
      {editing?.what === 'edit' && <EditAgent agent={editing.agent} roles={rolesICanGive} onClose={() => setEditing(null)} onSaved={agents.reload} />}
      {editing?.what === 'password' && <ResetPassword agent={editing.agent} onClose={() => setEditing(null)} />}
      {editing?.what === 'sessions' && <AgentSessions agent={editing.agent} onClose={() => setEditing(null)} />}
      {deactivate.dialog}
    </section>
  );
}

/** An agent's maximum of concurrent chats: their own number, or the workspace's default. */
function MaxChats({ value, onChange, invalid, hint }: { value: number | null; onChange: (v: number | null) => void; invalid: boolean; hint?: string }) {
  const id = useId();
  const fallback = me.value?.workspace.default_max_chats ?? 5;
  return (
    <fieldset class="max-chats">
      <legend>{t('admin.agents.maxChats')}</legend>
      <label class="check">
        <input type="checkbox" checked={value == null} onChange={(e) => onChange(e.currentTarget.checked ? null : fallback)} />
        {t('admin.agents.useDefault', { n: fallback })}
      </label>
      {value != null && (
        <input
          type="number"
          aria-label={t('admin.agents.ownMax')}
          aria-describedby={hint ? `${id}-hint` : undefined}
          aria-invalid={invalid ? 'true' : undefined}
          min={1}
          max={100}
          required
          value={value}
          onInput={(e) => Number.isFinite(e.currentTarget.valueAsNumber) && onChange(e.currentTarget.valueAsNumber)}
        />
      )}
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {invalid && <p class="field-error">{t('admin.fieldRefused')}</p>}
    </fieldset>
  );
}

function RoleSelect({ roles, value, onChange, a }: { roles: Role[]; value: Role; onChange: (r: Role) => void; a: object }) {
  return (
    <select {...a} value={value} onChange={(e) => onChange(e.currentTarget.value as Role)}>
      {roles.map((r) => (
        <option key={r} value={r}>
          {t(`admin.roles.${r}`)}
        </option>
      ))}
    </select>
  );
}

function NewAgent({ roles, onClose, onAdded }: { roles: Role[]; onClose: () => void; onAdded: () => void }) {
  const [draft, setDraft] = useState<Schemas['CreateAgent']>({
    name: '',
    email: '',
    password: '',
    role: 'agent',
    max_chats: null,
    locale: me.value?.agent.locale ?? 'en',
  });
  const { busy, error, run, fieldError } = useSubmit();
  const set = (patch: Partial<Schemas['CreateAgent']>) => setDraft({ ...draft, ...patch });
  return (
    <FormDialog
      title={t('admin.agents.new')}
      submit={t('admin.agents.create')}
      busy={busy}
      error={error}
      onClose={onClose}
      onSubmit={async () => {
        const made = await run(() => call(client.POST('/api/v1/agents', { body: draft })));
        if (made) onAdded();
        return !!made;
      }}
    >
      <Field label={t('admin.agents.name')} error={fieldError('name')}>
        {(a) => <input {...a} value={draft.name} required maxLength={100} onInput={(e) => set({ name: e.currentTarget.value })} />}
      </Field>
      <Field label={t('admin.agents.email')} error={fieldError('email')}>
        {(a) => <input {...a} type="email" dir="ltr" value={draft.email} required onInput={(e) => set({ email: e.currentTarget.value })} />}
      </Field>
      <Field label={t('admin.agents.password')} hint={t('admin.agents.passwordHint')} error={fieldError('password')}>
        {(a) => <input {...a} type="password" dir="ltr" autoComplete="new-password" minLength={8} value={draft.password} required onInput={(e) => set({ password: e.currentTarget.value })} />}
      </Field>
      <div class="grid-2">
        <Field label={t('admin.agents.role')} error={fieldError('role')}>
          {(a) => <RoleSelect a={a} roles={roles} value={draft.role} onChange={(role) => set({ role })} />}
        </Field>
        <MaxChats value={draft.max_chats ?? null} onChange={(max_chats) => set({ max_chats })} invalid={!!fieldError('max_chats')} />
      </div>
      <Field label={t('admin.agents.locale')} error={fieldError('locale')}>
        {(a) => (
          <select {...a} value={draft.locale ?? 'en'} onChange={(e) => set({ locale: e.currentTarget.value })}>
            {LOCALES.map((l) => (
              <option key={l} value={l} lang={l}>
                {autonym(l)}
              </option>
            ))}
          </select>
        )}
      </Field>
    </FormDialog>
  );
}

function EditAgent({ agent, roles, onClose, onSaved }: { agent: Agent; roles: Role[]; onClose: () => void; onSaved: () => void }) {
  const [name, setName] = useState(agent.name);
  const [role, setRole] = useState<Role>(agent.role);
  const [maxChats, setMaxChats] = useState<number | null>(agent.max_chats ?? null);
  const { busy, error, run, fieldError } = useSubmit();
  return (
    <FormDialog
      title={t('admin.agents.editWho', { name: agent.name })}
      submit={t('admin.save')}
      busy={busy}
      error={error}
      onClose={onClose}
      onSubmit={async () => {
        const body: Schemas['UpdateAgent'] = { name, max_chats: maxChats, ...(role !== agent.role ? { role } : {}) };
        const saved = await run(() => call(client.PATCH('/api/v1/agents/{id}', { params: { path: { id: agent.id } }, body })));
        if (saved) onSaved();
        return !!saved;
      }}
    >
      <Field label={t('admin.agents.name')} error={fieldError('name')}>
        {(a) => <input {...a} value={name} required maxLength={100} onInput={(e) => setName(e.currentTarget.value)} />}
      </Field>
      <div class="grid-2">
        <Field label={t('admin.agents.role')} error={fieldError('role')}>
          {(a) => <RoleSelect a={a} roles={roles.includes(agent.role) ? roles : [agent.role, ...roles]} value={role} onChange={setRole} />}
        </Field>
        <MaxChats value={maxChats} onChange={setMaxChats} invalid={!!fieldError('max_chats')} hint={t('admin.agents.maxChatsHint')} />
      </div>
    </FormDialog>
  );
}

function ResetPassword({ agent, onClose }: { agent: Agent; onClose: () => void }) {
  const [password, setPassword] = useState('');
  const { busy, error, run, fieldError } = useSubmit();
  return (
    <FormDialog
      title={t('admin.agents.resetWho', { name: agent.name })}
      submit={t('admin.agents.reset')}
      busy={busy}
      error={error}
      onClose={onClose}
      onSubmit={async () =>
        !!(await run(async () => {
          await call(client.POST('/api/v1/agents/{id}/password', { params: { path: { id: agent.id } }, body: { new_password: password } }));
          return true;
        }))
      }
    >
      <p>{t('admin.agents.resetText')}</p>
      <Field label={t('admin.agents.newPassword')} hint={t('admin.agents.passwordHint')} error={fieldError('new_password')}>
        {(a) => <input {...a} type="password" dir="ltr" autoComplete="new-password" minLength={8} value={password} required onInput={(e) => setPassword(e.currentTarget.value)} />}
      </Field>
    </FormDialog>
  );
}
