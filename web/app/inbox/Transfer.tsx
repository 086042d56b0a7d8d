// The transfer dialog: hand a conversation to an agent (each shown with their presence
// and how many chats they hold of their maximum) or to a team, with a note only the team
// reads. Agents the server would refuse (offline, or at capacity) are shown but cannot
// be picked, with the reason beside them; the server still decides (`agent_unavailable`).

import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { Avatar } from '../Shell';
import { errorText, i18n, t } from '../i18n';
import { me } from '../session';
import { transfer } from './actions';
import { type Conversation, agents, presence, queues, reloadAgents, teams } from './store';

export function TransferDialog({ c, onClose, onDone }: { c: Conversation; onClose: () => void; onDone: (text: string) => void }) {
  const [to, setTo] = useState<'agent' | 'team'>('agent');
  const [agentId, setAgentId] = useState<string | null>(null);
  const [teamId, setTeamId] = useState<string | null>(null);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const dialog = useRef<HTMLFormElement>(null);

  useEffect(() => void reloadAgents(), []);
  // Before paint, so a name typed right after `T` lands in the dialog.
  useLayoutEffect(() => {
    const opened = document.activeElement as HTMLElement | null;
    dialog.current?.querySelector<HTMLElement>('input:not([disabled])')?.focus();
    return () => opened?.focus?.();
  }, []);

  const myId = me.value?.agent.id;
  const people = agents.value.filter((a) => a.active && a.id !== c.assignee_id);
  const target = to === 'agent' ? (agentId ? { agent_id: agentId } : null) : teamId ? { team_id: teamId } : null;

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!target || busy) return;
    setBusy(true);
    setError(null);
    const failed = await transfer(c.id, target, note);
    setBusy(false);
    if (failed) {
      setError(errorText(failed.code));
      // Someone's load or presence changed meanwhile: show them as they are now.
      void reloadAgents();
      return;
    }
    const name = 'agent_id' in target ? (agents.value.find((a) => a.id === target.agent_id)?.name ?? '') : (teams.value.find((x) => x.id === target.team_id)?.name ?? '');
    onDone(t('inbox.transfer.done', { name }));
  };

  return (
    <div class="overlay" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        class="palette transfer"
        role="dialog"
        aria-modal="true"
        aria-labelledby="transfer-h"
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.preventDefault();
            e.stopPropagation();
            onClose();
          }
        }}
      >
      <form ref={dialog} class="transfer-form" onSubmit={submit}>
        <h2 id="transfer-h">{t('inbox.transfer.title')}</h2>
        <div class="segmented two" role="radiogroup" aria-label={t('inbox.transfer.to')}>
          {(['agent', 'team'] as const).map((k) => (
            <button key={k} type="button" role="radio" aria-checked={to === k} onClick={() => setTo(k)}>
              {t(`inbox.transfer.${k}`)}
            </button>
          ))}
        </div>
        {to === 'agent' ? (
          <fieldset class="pick-list">
            <legend class="visually-hidden">{t('inbox.transfer.agent')}</legend>
            {people.length === 0 && <p class="muted">{t('inbox.transfer.nobody')}</p>}
            {people.map((a) => {
              const state = presence.value[a.id] ?? 'offline';
              const full = a.open_chats >= a.effective_max_chats;
              // Offline shows in the presence beside the name; at capacity gets a chip of its own.
              const unavailable = state === 'offline' || full;
              return (
                <label key={a.id} class={`pick ${unavailable ? 'unavailable' : ''}`}>
                  <input type="radio" name="transfer-agent" value={a.id} checked={agentId === a.id} disabled={unavailable} onChange={() => setAgentId(a.id)} />
                  <Avatar name={a.name} url={a.avatar_url ?? null} size={28} />
                  <span class="pick-main">
                    <bdi class="pick-name">{a.id === myId ? t('inbox.actions.me', { name: a.name }) : a.name}</bdi>
                    <span class="pick-meta">
                      <span class={`presence-dot ${state}`} aria-hidden="true" />
                      {t(`inbox.presence.${state}`)}
                      {' · '}
                      {t('inbox.transfer.load', { open: a.open_chats, max: a.effective_max_chats })}
                    </span>
                  </span>
                  {full && <span class="chip">{t('inbox.transfer.full')}</span>}
                </label>
              );
            })}
          </fieldset>
        ) : (
          <fieldset class="pick-list">
            <legend class="visually-hidden">{t('inbox.transfer.team')}</legend>
            {teams.value.length === 0 && <p class="muted">{t('inbox.transfer.noTeams')}</p>}
            {teams.value.map((x) => {
              const waiting = queues.value.find((q) => q.team_id === x.id)?.length ?? 0;
              return (
                <label key={x.id} class="pick">
                  <input type="radio" name="transfer-team" value={x.id} checked={teamId === x.id} onChange={() => setTeamId(x.id)} />
                  <span class="pick-main">
                    <bdi class="pick-name">{x.name}</bdi>
                    <span class="pick-meta">
                      {t('inbox.transfer.members', { count: x.agent_ids.length })}
                      {' · '}
                      {t('inbox.queues.waiting', { count: waiting })}
                    </span>
                  </span>
                </label>
              );
            })}
          </fieldset>
        )}
        <label class="transfer-note">
          {t('inbox.transfer.note')}
          <textarea rows={3} maxLength={1000} dir="auto" value={note} aria-describedby="transfer-note-hint" onInput={(e) => setNote(e.currentTarget.value)} />
          <span class="hint muted" id="transfer-note-hint">
            {t('inbox.transfer.noteHint')} {i18n.value?.number(note.length)}/{i18n.value?.number(1000)}
          </span>
        </label>
        {error && (
          <p class="form-error" role="alert">
            {error}
          </p>
        )}
        <div class="dialog-actions">
          <button type="button" class="button" onClick={onClose}>
            {t('inbox.transfer.cancel')}
          </button>
          <button type="submit" class="button primary" disabled={!target || busy}>
            {t('inbox.transfer.submit')}
          </button>
        </div>
      </form>
      </div>
    </div>
  );
}
