// Inviting agents by e-mail: the invite dialog (e-mail, name, role, teams, language,
// chats at once), the link shown once right after inviting or resending (the server
// keeps only a fingerprint of it, so it cannot be shown again), and the pending
// invitations with who invited, when the link expires, whether the mail went out, and
// Resend / Revoke / Copy link. Only owners invite owners; the server enforces it too.

import { useState } from 'preact/hooks';
import { type Schemas, call, client } from '../api';
import { expiresIn, i18n, t } from '../i18n';
import { LOCALES } from '../../shared/i18n';
import { me } from '../session';
import { autonym } from './Sites';
import { LoadedTable, RowButton } from './table';
import { CopyButton, Field, FormDialog, FormError, Loading, useConfirm, useLoad, useSubmit } from './ui';

type Invitation = Schemas['AgentInvitation'];
type Created = Schemas['CreatedAgentInvitation'];
type Role = Schemas['Role'];

/** The invite dialog; `onInvited` gets the new invitation and its link. */
export function InviteDialog({ roles, onClose, onInvited }: { roles: Role[]; onClose: () => void; onInvited: (made: Created) => void }) {
  const teams = useLoad(() => call(client.GET('/api/v1/teams')), []);
  const [draft, setDraft] = useState<Schemas['InviteAgent']>({
    email: '',
    name: null,
    role: 'agent',
    team_ids: [],
    max_chats: null,
    locale: me.value?.agent.locale ?? 'en',
  });
  const { busy, error, run, fieldError } = useSubmit();
  const set = (patch: Partial<Schemas['InviteAgent']>) => setDraft({ ...draft, ...patch });
  const teamIds = draft.team_ids ?? [];
  return (
    <FormDialog
      title={t('admin.invites.title')}
      submit={t('admin.invites.send')}
      busy={busy}
      error={error}
      onClose={onClose}
      onSubmit={async () => {
        const made = await run(() => call(client.POST('/api/v1/agents/invitations', { body: { ...draft, name: draft.name?.trim() || null } })));
        if (made) onInvited(made);
        return !!made;
      }}
    >
      <p class="muted">{t('admin.invites.intro')}</p>
      <Field label={t('admin.agents.email')} error={fieldError('email')}>
        {(a) => <input {...a} type="email" dir="ltr" autoComplete="off" value={draft.email} required autoFocus onInput={(e) => set({ email: e.currentTarget.value })} />}
      </Field>
      <Field label={t('admin.invites.name')} hint={t('admin.invites.nameHint')} error={fieldError('name')}>
        {(a) => <input {...a} value={draft.name ?? ''} maxLength={100} onInput={(e) => set({ name: e.currentTarget.value })} />}
      </Field>
      <div class="grid-2">
        <Field label={t('admin.agents.role')} error={fieldError('role')}>
          {(a) => (
            <select {...a} value={draft.role} onChange={(e) => set({ role: e.currentTarget.value as Role })}>
              {roles.map((r) => (
                <option key={r} value={r}>
                  {t(`admin.roles.${r}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t('admin.invites.language')} hint={t('admin.invites.languageHint')} error={fieldError('locale')}>
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
      </div>
      <fieldset class="invite-teams" aria-invalid={fieldError('team_ids') ? 'true' : undefined}>
        <legend>{t('admin.invites.teams')}</legend>
        <Loading loaded={teams.value} retry={teams.reload} empty={<p class="muted">{t('admin.invites.noTeams')}</p>}>
          {(list) => (
            <div class="check-list">
              {list.map((team) => (
                <label class="check" key={team.id}>
                  <input
                    type="checkbox"
                    checked={teamIds.includes(team.id)}
                    onChange={(e) => set({ team_ids: e.currentTarget.checked ? [...teamIds, team.id] : teamIds.filter((id) => id !== team.id) })}
                  />
                  {team.name}
                </label>
              ))}
            </div>
          )}
        </Loading>
        {fieldError('team_ids') && <p class="field-error">{t('admin.fieldRefused')}</p>}
      </fieldset>
    </FormDialog>
  );
}

/** The link of a new or resent invitation, shown once, with what happens to its mail. */
export function LinkDialog({ made, onClose }: { made: Created; onClose: () => void }) {
  const mailed = made.invitation.mail !== 'not_sent';
  return (
    <dialog
      class="dialog"
      aria-labelledby="invite-link-title"
      ref={(el) => {
        if (el && !el.open) el.showModal();
      }}
      onClose={onClose}
    >
      <form method="dialog" class="form">
        <h2 id="invite-link-title">{t('admin.invites.readyTitle')}</h2>
        <p>{mailed ? t('admin.invites.mailed', { email: made.invitation.email }) : t('admin.invites.noMail')}</p>
        <div class="field">
          <label for="invite-link">{t('admin.invites.link')}</label>
          <input id="invite-link" class="invite-link" readOnly dir="ltr" value={made.link} onFocus={(e) => e.currentTarget.select()} />
        </div>
        <CopyButton text={made.link} label={t('admin.invites.copy')} />
        <p class="hint">{t('admin.invites.onlyOnce')}</p>
        <div class="dialog-actions">
          <button class="button primary" type="submit">
            {t('admin.invites.done')}
          </button>
        </div>
      </form>
    </dialog>
  );
}

function MailState({ invitation }: { invitation: Invitation }) {
  const label = t(`admin.invites.mail.${invitation.mail}`);
  const tone = invitation.mail === 'failed' ? 'badge-warn' : invitation.mail === 'sent' ? 'badge-ok' : '';
  const why = invitation.mail === 'failed' ? invitation.mail_error : null;
  return (
    <>
      <span class={`badge ${tone}`} title={why ?? undefined}>
        {label}
      </span>
      {/* The mail server's own answer (data, not our words), for whoever fixes the mail setup. */}
      {why && (
        <span class="mail-error" dir="ltr">
          {why}
        </span>
      )}
    </>
  );
}

/**
 * The pending invitations. `links` holds the links this page was shown (after inviting
 * or resending), the only ones it can copy; `onResent` shows a new one.
 */
export function PendingInvitations({
  reloadKey,
  links,
  onResent,
}: {
  reloadKey: number;
  links: Record<string, string>;
  onResent: (made: Created) => void;
}) {
  const pending = useLoad(() => call(client.GET('/api/v1/agents/invitations')), [reloadKey]);
  const revoke = useConfirm<Invitation>({
    title: (i) => t('admin.invites.revokeTitle', { email: i.email }),
    text: t('admin.invites.revokeText'),
    confirm: t('admin.invites.revoke'),
    run: (i) => call(client.DELETE('/api/v1/agents/invitations/{id}', { params: { path: { id: i.id } } })),
    done: pending.reload,
  });
  const resend = useSubmit();
  const self = me.value?.agent;
  const mayManage = (i: Invitation) => i.role !== 'owner' || self?.role === 'owner';
  const now = Date.now();
  return (
    <section class="group" aria-labelledby="pending-invites">
      <h3 id="pending-invites">{t('admin.invites.pending')}</h3>
      <FormError error={resend.error} />
      <LoadedTable
        loaded={pending.value}
        retry={pending.reload}
        empty={<p class="muted">{t('admin.invites.none')}</p>}
        class="invites"
        caption={t('admin.invites.pending')}
        columns={[
          {
            head: t('admin.invites.person'),
            plain: true,
            cell: (i) => (
              <>
                {i.name && (
                  <>
                    <strong>{i.name}</strong>
                    <br />
                  </>
                )}
                <span class={i.name ? 'muted' : ''} dir="ltr">
                  {i.email}
                </span>
              </>
            ),
          },
          { head: t('admin.agents.role'), cell: (i) => t(`admin.roles.${i.role}`) },
          { head: t('admin.invites.invitedBy'), cell: (i) => i.inviter_name ?? t('admin.invites.integration') },
          {
            head: t('admin.invites.expires'),
            cell: (i) => (
              <time dateTime={new Date(i.expires_at).toISOString()} title={i18n.value?.date(i.expires_at, { dateStyle: 'medium', timeStyle: 'short' })}>
                {i.expires_at <= now ? <span class="badge badge-off">{t('admin.invites.expired')}</span> : expiresIn(i.expires_at, i18n.value?.locale ?? 'en', now)}
              </time>
            ),
          },
          { head: t('admin.invites.mailColumn'), cell: (i) => <MailState invitation={i} /> },
        ]}
        actions={(i) => {
          const who = i.name ?? i.email;
          return (
            <>
              {links[i.id] && <CopyButton text={links[i.id]!} label={t('admin.invites.copy')} small />}
              {mayManage(i) && (
                <>
                  <RowButton
                    label={t('admin.invites.resend')}
                    who={who}
                    disabled={resend.busy}
                    onClick={() =>
                      void resend
                        .run(() => call(client.POST('/api/v1/agents/invitations/{id}/resend', { params: { path: { id: i.id } } })))
                        .then((made) => {
                          if (made) {
                            onResent(made);
                            pending.reload();
                          }
                        })
                    }
                  />
                  <RowButton danger label={t('admin.invites.revoke')} who={who} onClick={() => revoke.ask(i)} />
                </>
              )}
            </>
          );
        }}
      />
      <p class="hint">{t('admin.invites.linkHint')}</p>
      {revoke.dialog}
    </section>
  );
}
