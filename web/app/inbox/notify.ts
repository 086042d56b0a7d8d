// Telling the agent something happened: a short sound (WebAudio, no file), desktop
// notifications (permission asked only from a button), and the unread count in the tab
// title. Alerts fire for new conversations and visitors' messages, only when the tab is
// hidden or that conversation is not the open one; one tab of the browser plays sounds.

import { effect, signal } from '@preact/signals';
import { t } from '../i18n';
import { onLiveEvent, openId, unreadCount } from './store';

const KEY = 'sb.inbox.alerts';
export const alerts = signal<{ sound: boolean; desktop: boolean }>(
  (() => {
    try {
      return { sound: true, desktop: false, ...(JSON.parse(localStorage.getItem(KEY) ?? '{}') as object) };
    } catch {
      return { sound: true, desktop: false };
    }
  })(),
);
export const permission = signal<NotificationPermission | 'unsupported'>('Notification' in globalThis ? Notification.permission : 'unsupported');

export function setAlerts(next: Partial<{ sound: boolean; desktop: boolean }>) {
  alerts.value = { ...alerts.value, ...next };
  localStorage.setItem(KEY, JSON.stringify(alerts.value));
}

/** Asks for desktop notifications; call only from a click. */
export async function enableDesktop() {
  if (!('Notification' in globalThis)) return;
  permission.value = await Notification.requestPermission();
  setAlerts({ desktop: permission.value === 'granted' });
}

let audio: AudioContext | null = null;
/** Browsers allow sound only after a gesture: the context is made (or resumed) on the first one. */
function unlock() {
  audio ??= new AudioContext();
  if (audio.state === 'suspended') void audio.resume();
}

function beep() {
  if (!audio || audio.state !== 'running') return;
  const at = audio.currentTime;
  const gain = audio.createGain();
  gain.gain.setValueAtTime(0.0001, at);
  gain.gain.exponentialRampToValueAtTime(0.15, at + 0.02);
  gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.35);
  gain.connect(audio.destination);
  for (const [freq, delay] of [[880, 0], [1320, 0.12]] as const) {
    const osc = audio.createOscillator();
    osc.frequency.value = freq;
    osc.connect(gain);
    osc.start(at + delay);
    osc.stop(at + delay + 0.25);
  }
}

/** Whether this tab plays the sounds: the one that holds the browser-wide lock. */
let soundTab = !('locks' in navigator);

export function startAlerts() {
  addEventListener('pointerdown', unlock, { once: false, passive: true });
  addEventListener('keydown', unlock, { passive: true });
  if ('locks' in navigator) {
    // The lock is held for the tab's life; when it closes, another tab takes over.
    void navigator.locks.request('switchboard-sound', () => {
      soundTab = true;
      return new Promise<void>(() => {});
    });
  }
  onLiveEvent((e) => {
    const fresh = e.kind === 'conversation_started' || (e.kind === 'message' && e.actor.kind === 'contact');
    if (!fresh) return;
    const looking = document.visibilityState === 'visible' && openId.value === e.conversation_id;
    if (looking) return;
    if (alerts.value.sound && soundTab) beep();
    if (alerts.value.desktop && permission.value === 'granted' && document.visibilityState === 'hidden') {
      const body = e.kind === 'message' ? e.message.body.slice(0, 140) : '';
      const n = new Notification(e.kind === 'conversation_started' ? t('inbox.notify.newConversation') : t('inbox.notify.newMessage'), {
        body,
        tag: e.conversation_id,
        icon: '/app/icon.svg',
      });
      n.onclick = () => {
        focus();
        history.pushState(null, '', `/app/c/${e.conversation_id}`);
        dispatchEvent(new PopStateEvent('popstate'));
        n.close();
      };
    }
  });
  effect(() => {
    const n = unreadCount.value;
    const base = t('inbox.title');
    document.title = n > 0 ? `(${n}) ${base} · Switchboard` : `${base} · Switchboard`;
  });
}

/** Installs the service worker that caches the shell (the app then opens offline). */
export function registerWorker() {
  if ('serviceWorker' in navigator && location.protocol !== 'file:') {
    // The server allows the scope /app for /app/sw.js (Service-Worker-Allowed); a refusal is
    // said on the console, since the app works without the worker, only not offline.
    void navigator.serviceWorker.register('/app/sw.js', { scope: '/app', type: 'module' }).catch((e: unknown) => console.warn('the service worker was not registered', e));
  }
}
