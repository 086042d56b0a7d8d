// The agent's own sign-in security, in the profile: two-factor sign-in (enrol with the
// server's QR code or the secret as text, confirm with a first code, keep the recovery
// codes shown once; turn it off with a code) and the sessions where they are signed in
// (device, address, when; end any but this one), which admins also see and end for
// another agent (`AgentSessions`). `EnrolFirst` is the whole dashboard for a session the
// workspace asks to enrol before anything else.

import { useState } from 'preact/hooks';
import { type Schemas, call, client } from '../api';
import { i18n, t } from '../i18n';
import { enrolled, me, signOut } from '../session';
import { LoadedTable, RowButton } from './table';
import { CodeBlock, CopyButton, Empty, FormError, Loading, When, useConfirm, useLoad, useSubmit } from './ui';
import './admin.css';

/** The two-factor part of the profile; `onEnabled` runs once it is on. */
export function TwoFactor({ onEnabled }: { onEnabled?: () => void }) {
  const status = useLoad(() => call(client.GET('/api/v1/me/two-factor')), []);
  const [setup, setSetup] = useState<Schemas['TwoFactorSetup'] | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [code, setCode] = useState('');
  const [disabling, setDisabling] = useState(false);
  const { busy, error, run } = useSubmit();

  async function begin() {
    const made = await run(() => call(client.POST('/api/v1/me/two-factor/setup')));
    if (made) setSetup(made);
  }
  async function enable(e: Event) {
    e.preventDefault();
    const done = await run(() => call(client.POST('/api/v1/me/two-factor/enable', { body: { code } })));
    if (done) {
      setCodes(done.recovery_codes);
      setSetup(null);
      setCode('');
      status.reload();
      onEnabled?.();
    }
  }
  async function disable(e: Event) {
    e.preventDefault();
    const done = await run(() => call(client.POST('/api/v1/me/two-factor/disable', { body: { code } })).then(() => true));
    if (done) {
      setDisabling(false);
      setCode('');
      status.reload();
    }
  }

  return (
    <section class="group" aria-labelledby="two-factor-title">
      <h2 id="two-factor-title">{t('admin.security.twoFactor')}</h2>
      <p class="hint">{t('admin.security.twoFactorHint')}</p>
      <Loading loaded={status.value} retry={status.reload}>
        {(s) => (
          <>
            <p role="status" class={s.enabled ? 'state-on' : 'muted'}>
              {s.enabled
                ? t('admin.security.on', { left: i18n.value?.number(s.recovery_codes_left) ?? String(s.recovery_codes_left) })
                : s.required
                  ? t('admin.security.requiredOff')
                  : t('admin.security.off')}
            </p>
            {codes && (
              <div class="once" role="region" aria-labelledby="codes-title">
                <h3 id="codes-title">{t('admin.security.codesTitle')}</h3>
                <p>{t('admin.security.codesText')}</p>
                <CodeBlock code={codes.join('\n')} label={t('admin.security.codesLabel')} />
                <div class="form-actions">
                  <CopyButton text={codes.join('\n')} label={t('admin.security.copyCodes')} />
                  <button class="button" type="button" onClick={() => setCodes(null)}>
                    {t('admin.security.codesDone')}
                  </button>
                </div>
              </div>
            )}
            {!s.enabled && !setup && (
              <div class="form-actions">
                <button class="button primary" type="button" disabled={busy} onClick={begin}>
                  {t('admin.security.setUp')}
                </button>
              </div>
            )}
            {setup && (
              <form class="form enrol" onSubmit={enable} aria-label={t('admin.security.setUp')}>
                <ol class="steps">
                  <li>{t('admin.security.scan')}</li>
                  <li>{t('admin.security.typeCode')}</li>
                </ol>
                {/* The server's own SVG of the otpauth link, drawn as an image (never as markup). */}
                <img class="enrol-qr" alt={t('admin.security.qrAlt')} src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(setup.qr_svg)}`} width={192} height={192} />
                <CodeBlock code={setup.secret} label={t('admin.security.secret')} />
                <label class="field">
                  <span>{t('admin.security.code')}</span>
                  <input
                    name="code"
                    value={code}
                    required
                    dir="ltr"
                    inputMode="numeric"
                    autoComplete="one-time-code"
                    maxLength={6}
                    pattern="[0-9]{6}"
                    onInput={(e) => setCode(e.currentTarget.value)}
                  />
                </label>
                <FormError error={error} />
                <div class="form-actions">
                  <button class="button primary" type="submit" disabled={busy}>
                    {t('admin.security.enable')}
                  </button>
                  <button class="button" type="button" onClick={() => setSetup(null)}>
                    {t('admin.cancel')}
                  </button>
                </div>
              </form>
            )}
            {s.enabled && !s.required && !disabling && (
              <div class="form-actions">
                <button class="button danger" type="button" onClick={() => setDisabling(true)}>
                  {t('admin.security.turnOff')}
                </button>
              </div>
            )}
            {disabling && (
              <form class="form" onSubmit={disable} aria-label={t('admin.security.turnOff')}>
                <label class="field">
                  <span>{t('admin.security.codeOrRecovery')}</span>
                  <input name="code" value={code} required dir="ltr" autoComplete="one-time-code" maxLength={64} onInput={(e) => setCode(e.currentTarget.value)} />
                </label>
                <FormError error={error} />
                <div class="form-actions">
                  <button class="button danger" type="submit" disabled={busy}>
                    {t('admin.security.turnOff')}
                  </button>
                  <button class="button" type="button" onClick={() => setDisabling(false)}>
                    {t('admin.cancel')}
                  </button>
                </div>
              </form>
            )}
            {!setup && !disabling && <FormError error={error} />}
          </>
        )}
      </Loading>
    </section>
  );
}

/** Where the agent (or, for admins, `agentId`) is signed in; any session but this one can be ended. */
export function Sessions({ agentId }: { agentId?: string } = {}) {
  const sessions = useLoad(
    () => call(agentId ? client.GET('/api/v1/agents/{id}/sessions', { params: { path: { id: agentId } } }) : client.GET('/api/v1/me/sessions')),
    [agentId],
  );
  const device = (s: Schemas['SessionInfo']) =>
    [s.browser, s.os].filter(Boolean).join(' · ') || t('admin.security.unknownDevice');
  const end = useConfirm<Schemas['SessionInfo']>({
    title: (s) => t('admin.security.endTitle', { device: device(s) }),
    text: t('admin.security.endText'),
    confirm: t('admin.security.end'),
    run: (s) =>
      call(
        agentId
          ? client.DELETE('/api/v1/agents/{id}/sessions/{session_id}', { params: { path: { id: agentId, session_id: s.id } } })
          : client.DELETE('/api/v1/me/sessions/{id}', { params: { path: { id: s.id } } }),
      ),
    done: sessions.reload,
  });
  return (
    <section class="group" aria-labelledby="sessions-title">
      {!agentId && <h2 id="sessions-title">{t('admin.security.sessions')}</h2>}
      <p class="hint">{t('admin.security.sessionsHint')}</p>
      <LoadedTable
        loaded={sessions.value}
        retry={sessions.reload}
        empty={<Empty title={t('admin.security.noSessionsTitle')} text={t('admin.security.noSessionsText')} />}
        caption={t('admin.security.sessions')}
        columns={[
          {
            head: t('admin.security.device'),
            plain: true,
            cell: (s) => (
              <>
                <strong>{device(s)}</strong>
                {s.device && <span class="muted"> ({t(`admin.security.devices.${s.device}`)})</span>}
              </>
            ),
          },
          { head: t('admin.security.address'), cell: (s) => <span dir="ltr">{s.ip ?? '—'}</span> },
          { head: t('admin.security.signedIn'), cell: (s) => <When at={s.created_at} /> },
          { head: t('admin.security.lastUsed'), cell: (s) => <When at={s.last_used_at} /> },
        ]}
        actions={(s) =>
          s.current ? (
            <span class="badge">{t('admin.security.thisSession')}</span>
          ) : (
            <RowButton danger label={t('admin.security.end')} who={device(s)} onClick={() => end.ask(s)} />
          )
        }
      />
      {end.dialog}
    </section>
  );
}

/** An admin's view of another agent's sessions, in a dialog. */
export function AgentSessions({ agent, onClose }: { agent: Schemas['Agent']; onClose: () => void }) {
  return (
    <dialog
      class="dialog sessions-dialog"
      aria-labelledby="sessions-title"
      ref={(el) => {
        if (el && !el.open) el.showModal();
      }}
      onClose={onClose}
    >
      <h2 id="sessions-title">{t('admin.security.agentSessions', { name: agent.name })}</h2>
      <Sessions agentId={agent.id} />
      <div class="form-actions">
        <button class="button" type="button" onClick={onClose}>
          {t('admin.security.close')}
        </button>
      </div>
    </dialog>
  );
}

/** The dashboard of a session that must set up two-factor sign-in first. */
export function EnrolFirst() {
  const [done, setDone] = useState(false);
  return (
    <div class="profile enrol-first">
      <h1>{t('admin.security.requiredTitle')}</h1>
      <p>{t('admin.security.requiredText', { workspace: me.value?.workspace.name ?? '' })}</p>
      <TwoFactor onEnabled={() => setDone(true)} />
      <div class="form-actions">
        {done && (
          <button class="button primary" type="button" onClick={enrolled}>
            {t('admin.security.continue')}
          </button>
        )}
        <button class="button" type="button" onClick={() => void signOut().catch(() => undefined)}>
          {t('admin.profile.signOut')}
        </button>
      </div>
    </div>
  );
}
