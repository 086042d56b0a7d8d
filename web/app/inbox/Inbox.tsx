// The inbox: the conversation list, the open conversation and its context side by side
// (one at a time at phone width), the connection banner, shortcuts, the command palette,
// notifications and search. The URL names the open conversation (`/app/c/{id}`).

import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { Icon } from '../Shell';
import { online } from '../online';
import { t } from '../i18n';
import { me } from '../session';
import { assign, assignToMe, claim, say, setStatus, toast } from './actions';
import { Composer, focusComposer, mode } from './Composer';
import { ContextPanel, SnoozeMenu } from './Context';
import { type Command, bindKeys } from './keys';
import { Collision, ConversationList, STATUSES, VIEWS, contactLabel } from './List';
import { Palette, palette } from './Palette';
import { QueuePlace, QueueStrip } from './Queues';
import { SearchBox, SearchResults, focusSearch, results } from './Search';
import { Transcript } from './Thread';
import { TransferDialog } from './Transfer';
import { alerts, enableDesktop, permission, registerWorker, setAlerts, startAlerts } from './notify';
import { connection, conversation, filter, list, openConversation, setFilter, startInbox } from './store';
import './icons';
import './inbox.css';

let alertsStarted = false;

export function Inbox() {
  const { path, route } = useLocation();
  const match = /^\/app\/c\/([0-9a-f-]{36})/.exec(path);
  const id = match?.[1] ?? null;
  const [snoozeOpen, setSnoozeOpen] = useState(false);
  const [custom, setCustom] = useState('');
  const [contextOpen, setContextOpen] = useState(false);
  const [transferOpen, setTransferOpen] = useState(false);

  useEffect(() => {
    startInbox();
    if (!alertsStarted) {
      alertsStarted = true;
      startAlerts();
      registerWorker();
    }
  }, []);
  useEffect(() => {
    const seq = Number(new URLSearchParams(location.search).get('seq')) || null;
    void openConversation(id, seq);
  }, [id]);

  const open = (next: string, seq?: number) => route(`/app/c/${next}${seq ? `?seq=${seq}` : ''}`);
  const move = (by: number) => {
    const ids = list.value.ids;
    if (!ids.length) return;
    // The URL, not the last render, says what is open: keys can come faster than renders.
    const shown = /^\/app\/c\/([0-9a-f-]{36})/.exec(location.pathname)?.[1];
    const at = shown ? ids.indexOf(shown) : -1;
    const next = ids[Math.min(ids.length - 1, Math.max(0, at + by))];
    if (next) {
      open(next);
      document.querySelector(`.row[data-id="${next}"]`)?.scrollIntoView({ block: 'nearest' });
    }
  };
  const current = id ? conversation(id)?.value : undefined;
  /** Focuses the composer at once, so the keys typed right after `r` land in it. */
  const write = (kind: 'reply' | 'note') => {
    mode.value = kind;
    const area = document.querySelector<HTMLTextAreaElement>('.composer textarea');
    if (area) area.focus();
    else focusComposer.value++;
  };
  const onConversation = (run: (id: string) => void) => () => (id ? run(id) : say(t('inbox.palette.needConversation'), true));
  const focus = (selector: string) => onConversation(() => document.querySelector<HTMLElement>(selector)?.focus());
  const statusTab = (by: number) => {
    const at = STATUSES.indexOf(filter.value.status);
    setFilter({ status: STATUSES[(at + by + STATUSES.length) % STATUSES.length]! });
  };

  const commands: Command[] = [
    { id: 'palette', label: t('inbox.cmd.palette'), keys: ['Mod+KeyK'], run: () => (palette.value = palette.value === 'commands' ? 'closed' : 'commands') },
    { id: 'help', label: t('inbox.cmd.help'), keys: ['Shift+Slash'], run: () => (palette.value = 'shortcuts') },
    { id: 'next', label: t('inbox.cmd.next'), keys: ['KeyJ', 'ArrowDown'], run: () => move(1) },
    { id: 'prev', label: t('inbox.cmd.prev'), keys: ['KeyK', 'ArrowUp'], run: () => move(-1) },
    { id: 'open', label: t('inbox.cmd.open'), keys: ['Enter', 'KeyO'], run: () => (id ? write(mode.value) : move(0)) },
    { id: 'reply', label: t('inbox.cmd.reply'), keys: ['KeyR'], run: onConversation(() => write('reply')) },
    { id: 'note', label: t('inbox.cmd.note'), keys: ['KeyN'], run: onConversation(() => write('note')) },
    {
      id: 'resolve',
      label: current?.status === 'resolved' ? t('inbox.actions.reopen') : t('inbox.cmd.resolve'),
      keys: ['KeyE'],
      run: onConversation((cid) => {
        if (conversation(cid)?.value.status === 'resolved') return void setStatus(cid, 'open');
        const ids = list.value.ids;
        const next = ids[ids.indexOf(cid) + 1] ?? ids[ids.indexOf(cid) - 1];
        void setStatus(cid, 'resolved').then((done) => done && next && open(next));
      }),
    },
    { id: 'snooze', label: t('inbox.cmd.snooze'), keys: ['KeyH'], run: onConversation(() => setSnoozeOpen(true)) },
    { id: 'assign', label: t('inbox.cmd.assign'), keys: ['KeyA'], run: () => { setContextOpen(true); focus('#assign-agent')(); } },
    { id: 'claim', label: t('inbox.cmd.claim'), keys: ['KeyC'], run: onConversation((cid) => void claim(cid)) },
    { id: 'transfer', label: t('inbox.cmd.transfer'), keys: ['KeyT'], run: onConversation(() => setTransferOpen(true)) },
    { id: 'assignMe', label: t('inbox.actions.assignMe'), keys: ['KeyI'], run: onConversation((cid) => void assignToMe(cid)) },
    { id: 'unassign', label: t('inbox.cmd.unassign'), keys: [], run: onConversation((cid) => void assign(cid, null, current?.team_id ?? null)) },
    { id: 'labels', label: t('inbox.cmd.labels'), keys: ['KeyL'], run: () => { setContextOpen(true); focus('#add-label')(); } },
    { id: 'priority', label: t('inbox.cmd.priority'), keys: ['KeyP'], run: () => { setContextOpen(true); focus('#set-priority')(); } },
    { id: 'search', label: t('inbox.cmd.search'), keys: ['Slash'], run: () => focusSearch.value++ },
    { id: 'prevTab', label: t('inbox.cmd.prevTab'), keys: ['BracketLeft'], run: () => statusTab(-1) },
    { id: 'nextTab', label: t('inbox.cmd.nextTab'), keys: ['BracketRight'], run: () => statusTab(1) },
    ...VIEWS.map((v, i) => ({ id: `go-${v}`, label: t('inbox.cmd.go', { view: t(`inbox.view.${v}`) }), keys: [['KeyG KeyM', 'KeyG KeyU', 'KeyG KeyI'][i]!], run: () => setFilter({ view: v }) })),
    ...STATUSES.map((s) => ({ id: `status-${s}`, label: t('inbox.cmd.show', { status: t(`inbox.status.${s}`) }), keys: [], run: () => setFilter({ status: s }) })),
    { id: 'settings', label: t('inbox.cmd.settings'), keys: ['KeyG KeyS'], run: () => route('/app/settings') },
    { id: 'visitors', label: t('inbox.cmd.visitors'), keys: ['KeyG KeyV'], run: () => route('/app/visitors') },
    { id: 'sound', label: alerts.value.sound ? t('inbox.alerts.soundOff') : t('inbox.alerts.soundOn'), keys: [], run: () => setAlerts({ sound: !alerts.value.sound }) },
    { id: 'close', label: t('inbox.cmd.close'), keys: ['Escape'], run: () => { if (palette.value !== 'closed') palette.value = 'closed'; else if (transferOpen) setTransferOpen(false); else if (snoozeOpen) setSnoozeOpen(false); else if (results.value) results.value = null; else if (id) route('/app'); } },
  ];

  // Keys are read against the latest render, bound once. While a dialog is open it has the
  // keys: a shortcut pressed before its focus arrived only closes it (Esc) or toggles the
  // palette, and never acts on the conversation behind it.
  const keyed = useRef<() => Command[]>(() => []);
  keyed.current = () => {
    const dialog = palette.value !== 'closed' ? ['close', 'palette'] : transferOpen || snoozeOpen ? ['close'] : null;
    return dialog ? commands.filter((c) => dialog.includes(c.id)) : commands;
  };
  useEffect(() => bindKeys(() => keyed.current()), []);

  const conn = connection.value;
  return (
    <div class={`inbox ${id ? 'has-open' : ''} ${contextOpen ? 'context-open' : ''}`}>
      {(conn === 'reconnecting' || !online.value) && (
        <p class="conn-banner" role="status">
          <span class="spinner small" aria-hidden="true" />
          {online.value ? t('inbox.reconnecting') : t('shell.offline')}
        </p>
      )}
      <div class="list-column">
        <div class="list-tools">
          <SearchBox />
          <button type="button" class="icon-button" aria-label={t('inbox.cmd.palette')} title={`${t('inbox.cmd.palette')} (Ctrl K)`} onClick={() => (palette.value = 'commands')}><Icon name="command" /></button>
          <button type="button" class="icon-button" aria-pressed={alerts.value.sound} aria-label={t('inbox.alerts.sound')} title={t('inbox.alerts.sound')} onClick={() => setAlerts({ sound: !alerts.value.sound })}>
            <Icon name={alerts.value.sound ? 'bell' : 'bellOff'} />
          </button>
          {permission.value === 'default' && (
            <button type="button" class="button small" onClick={() => void enableDesktop()}>{t('inbox.alerts.enableDesktop')}</button>
          )}
        </div>
        {!results.value && <QueueStrip />}
        {results.value ? <SearchResults onOpen={open} /> : <ConversationList onOpen={open} />}
      </div>
      <section class="thread-pane" aria-label={t('inbox.thread.pane')}>
        {id && current ? (
          <>
            <header class="thread-head">
              <a class="icon-button back" href="/app" aria-label={t('inbox.back')} onClick={(e) => { e.preventDefault(); route('/app'); }}>
                <Icon name="back" class="mirror" />
              </a>
              <h2><bdi>{contactLabel(current)}</bdi></h2>
              <span class={`chip status-${current.status}`}>{t(`inbox.status.${current.status}`)}</span>
              <QueuePlace c={current} />
              <Collision id={current.id} wide />
              <span class="spacer" />
              {current.assignee_id == null && current.status !== 'resolved' ? (
                <button type="button" class="button accent" onClick={() => void claim(current.id)} title={`${t('inbox.cmd.claim')} (C)`}>{t('inbox.actions.claim')}</button>
              ) : current.assignee_id !== me.value?.agent.id && (
                <button type="button" class="button" onClick={() => void assignToMe(current.id)}>{t('inbox.actions.assignMe')}</button>
              )}
              {current.status !== 'resolved' && (
                <button type="button" class="button head-transfer" onClick={() => setTransferOpen(true)} title={`${t('inbox.cmd.transfer')} (T)`}>{t('inbox.actions.transfer')}</button>
              )}
              {current.status === 'resolved' ? (
                <button type="button" class="button" onClick={() => void setStatus(current.id, 'open')}>{t('inbox.actions.reopen')}</button>
              ) : (
                <button type="button" class="button primary" onClick={() => void setStatus(current.id, 'resolved')}>{t('inbox.actions.resolve')}</button>
              )}
              <button type="button" class="button context-toggle" aria-expanded={contextOpen} onClick={() => setContextOpen(!contextOpen)}>{t('inbox.context.toggle')}</button>
            </header>
            {snoozeOpen && <SnoozeDialog id={current.id} custom={custom} setCustom={setCustom} done={() => setSnoozeOpen(false)} />}
            {transferOpen && <TransferDialog c={current} onClose={() => setTransferOpen(false)} onDone={(text) => { setTransferOpen(false); say(text); }} />}
            <Transcript id={current.id} />
            <Composer id={current.id} />
          </>
        ) : id ? (
          <div class="thread-loading"><span class="spinner" role="status" aria-label={t('shell.loading')} /></div>
        ) : (
          <div class="no-open">
            <p class="empty-title">{t('inbox.pick.title')}</p>
            <p class="muted">{t('inbox.pick.text')}</p>
          </div>
        )}
      </section>
      {id && current && <ContextPanel id={current.id} onOpen={open} onTransfer={() => setTransferOpen(true)} />}
      <Palette commands={commands} />
      <Toast />
    </div>
  );
}

/**
 * The snooze choices `H` opens: focus moves to the first choice, so Enter or the arrows
 * and Tab pick one without the mouse, and goes back where it was when the dialog closes.
 */
function SnoozeDialog({ id, custom, setCustom, done }: { id: string; custom: string; setCustom: (v: string) => void; done: () => void }) {
  const box = useRef<HTMLDivElement>(null);
  // Before paint, so a key pressed right after `H` lands in the dialog.
  useLayoutEffect(() => {
    const opened = document.activeElement as HTMLElement | null;
    box.current?.querySelector<HTMLElement>('button')?.focus();
    return () => opened?.focus?.();
  }, []);
  return (
    <div class="overlay" onMouseDown={(e) => e.target === e.currentTarget && done()}>
      <div class="palette" role="dialog" aria-modal="true" aria-label={t('inbox.actions.snooze')} ref={box}>
        <h2>{t('inbox.actions.snooze')}</h2>
        <SnoozeMenu id={id} custom={custom} setCustom={setCustom} done={done} />
      </div>
    </div>
  );
}

function Toast() {
  const now = toast.value;
  useEffect(() => {
    if (!now) return;
    const hide = setTimeout(() => toast.value === now && (toast.value = null), 5000);
    return () => clearTimeout(hide);
  }, [now]);
  if (!now) return null;
  return <div class={`toast ${now.error ? 'error' : ''}`} role={now.error ? 'alert' : 'status'}>{now.text}</div>;
}
