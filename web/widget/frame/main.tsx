// The chat's entry point, one document for two places:
// - inside the widget's iframe (`/widget/frame?site=KEY`), where the loader on the
//   business's page owns the visitor token and the panel, and talks to us by postMessage;
// - as the chat page (`/chat/KEY`), a full page for businesses without a website, which
//   keeps the token in its own (first-party) storage and reads `?name=&email=&message=`.
// - as the dashboard's live preview of a site's settings (`/widget/preview`), which draws
//   what the dashboard posts and talks to no server.
// It picks the language (the page's request, then the site's setting, then the host
// page's `lang`, then the browser), loads only that catalog, and starts the chat.

import { render } from 'preact';
import type { VisitorIn } from '../../generated/api';
import type { PreviewSettings, ToFrame } from '../bridge';
import * as chat from './chat';
import { App, prefill } from './ui';
import { embedded, setHostOrigin, toHost } from './host';
import { setLanguage } from './i18n';
import './style.css';

const params = new URLSearchParams(location.search);
const siteKey = embedded ? params.get('site') : decodeURIComponent(location.pathname.split('/')[2] ?? '');
const base = location.origin;

async function fetchSite(): Promise<chat.WidgetSite | chat.ErrorCode> {
  try {
    const r = await fetch(`/api/v1/widget/${encodeURIComponent(siteKey ?? '')}`);
    if (r.ok) return (await r.json()) as chat.WidgetSite;
    const body = (await r.json().catch(() => ({}))) as { code?: chat.ErrorCode };
    return body.code ?? 'unavailable';
  } catch {
    return 'unavailable';
  }
}

async function boot(init: Extract<ToFrame, { t: 'init' }> | null) {
  const mount = document.getElementById('chat')!;
  document.documentElement.classList.toggle('page', !embedded);
  // Embedded, the loader has read the settings already and passes them on; the chat page reads them.
  let site = init?.site ?? (await fetchSite());
  // The server is down: say so in the visitor's language and keep trying.
  for (let wait = 1000; site === 'unavailable'; wait = Math.min(wait * 2, 15_000)) {
    await setLanguage([init?.locale, init?.pageLang, ...navigator.languages]);
    chat.notice.value = 'unavailable';
    render(<App embedded={embedded} />, mount);
    await new Promise((r) => setTimeout(r, wait));
    site = await fetchSite();
  }
  if (typeof site === 'string') {
    await setLanguage([init?.locale, init?.pageLang, ...navigator.languages]);
    chat.notice.value = site;
    chat.link.value = 'offline';
    render(<App embedded={embedded} fatal />, mount);
    return;
  }
  chat.notice.value = null;
  chat.site.value = site;
  chat.agents.value = site.agents;
  chat.agentsOnline.value = site.agents_online;
  await setLanguage([init?.locale, site.appearance.locale, init?.pageLang, ...navigator.languages]);
  document.documentElement.style.setProperty('--accent', site.appearance.color);
  document.title = site.appearance.team_name;

  const storeKey = `sb:${siteKey}`;
  let token = init?.token ?? null;
  if (!embedded) {
    try {
      token = (JSON.parse(localStorage.getItem(storeKey) ?? '{}') as { t?: string }).t ?? null;
    } catch {
      token = null;
    }
    prefill.value = { name: params.get('name') ?? '', email: params.get('email') ?? '', message: params.get('message') ?? '' };
  }
  chat.visible.value = embedded ? (init?.open ?? false) : true;
  chat.start({
    base,
    siteKey: siteKey!,
    token,
    saveToken(t) {
      if (embedded) toHost({ sb: 1, t: 'token', token: t });
      else
        try {
          localStorage.setItem(storeKey, JSON.stringify({ t }));
        } catch {
          // The chat page works for this visit without storage.
        }
    },
    onConversation(id) {
      toHost({ sb: 1, t: 'active', conversation: id });
    },
    onEvent(name, data) {
      toHost({ sb: 1, t: 'event', name, data });
    },
    onInvitation(invitation) {
      toHost({ sb: 1, t: 'invitation', invitation });
    },
  });
  if (init?.identity) chat.identify(init.identity);
  if (init?.attributes) chat.profile({ attributes: init.attributes });
  if (init?.expired) chat.notice.value = 'token_expired';
  if (init?.consent) chat.out({ type: 'consent', granted: true });
  if (init?.page) chat.page(init.page);
  render(<App embedded={embedded} />, mount);
}

/** The dashboard's preview: the settings it posts, drawn as visitors will see them. */
function preview() {
  const mount = document.getElementById('chat')!;
  // Nothing in a preview may reach the server or be typed into: it is a picture that moves.
  mount.inert = true;
  window.addEventListener('message', (e: MessageEvent) => {
    if (e.source !== window.parent || e.origin !== location.origin) return;
    const m = e.data as PreviewSettings;
    if (!m || m.sb !== 1 || m.t !== 'preview') return;
    chat.site.value = m.site;
    chat.agents.value = m.agents;
    chat.agentsOnline.value = m.agentsOnline;
    chat.link.value = 'online';
    chat.visible.value = true;
    document.documentElement.style.setProperty('--accent', m.site.appearance.color);
    void setLanguage([m.site.appearance.locale, ...navigator.languages]).then(() => render(<App embedded={embedded} />, mount));
  });
  window.parent.postMessage({ sb: 1, t: 'ready' }, location.origin);
}

if (location.pathname === '/widget/preview') {
  preview();
} else if (!siteKey) {
  boot(null);
} else if (embedded) {
  // The loader answers `ready` with `init`; until then we know neither the token nor
  // the page. Only our parent window is listened to.
  window.addEventListener('message', (e: MessageEvent) => {
    if (e.source !== window.parent) return;
    const m = e.data as ToFrame;
    if (!m || m.sb !== 1) return;
    switch (m.t) {
      case 'init':
        if (setHostOrigin(e.origin)) void boot(m);
        break;
      case 'open':
        chat.visible.value = m.open;
        if (m.open) {
          chat.markRead();
          document.querySelector<HTMLElement>('[data-autofocus]')?.focus();
        }
        break;
      case 'identify':
        chat.identify(m.identity);
        break;
      case 'attributes':
        chat.profile({ attributes: m.attributes });
        break;
      case 'page':
        chat.page(m.page);
        break;
      case 'locale':
        void setLanguage([m.locale]);
        break;
      case 'refresh':
        chat.reconnect(m.token);
        break;
      case 'out':
        chat.out(m.frame as VisitorIn);
        break;
      case 'invite':
        chat.invitation.value = m.invitation;
        break;
    }
  });
  toHost({ sb: 1, t: 'ready' });
} else {
  void boot(null);
}

// The badge and the preview beside the launcher, in every tab: from the server's marks.
chat.unread.subscribe((list) => {
  const newest = list.at(-1);
  toHost({ sb: 1, t: 'unread', count: list.length, preview: newest ? newest.body || (newest.attachments[0]?.filename ?? '') : null });
});
