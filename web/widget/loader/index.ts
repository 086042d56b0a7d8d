// The widget loader (`/widget.js`): what every page view of a business's site downloads.
//
// It draws the launcher in an open shadow root, keeps the visitor's token in the host
// page's own localStorage (a third-party frame's storage is partitioned or blocked), and
// loads the chat part (`chat.ts`: the panel, its styles and the chat frame, `/widget/frame`)
// only when it is needed: on the first open, or at once when this browser already has a
// conversation, so agent replies and the unread badge arrive without a click. Until then it holds the visitor socket
// itself, for what a page without a chat sends: page views (when the site tracks), `track`
// events, consent, exit intent, and the invitations agents and rules send back, shown in
// the bubble beside the launcher. The frame's socket replaces it when the frame loads. It
// defines one global, `Switchboard`, and never throws into the host page: every entry
// point is guarded.

import type { ApiEvent, Invitation, PageView, ToFrame } from '../bridge';
import type { Chat, Command, Face, Loader, Saved, Site } from './shared';
import CSS from './style.css?inline';
import { EN, URLS, type Words } from './words';

/** Where the chat part is (`/assets/widget-chat-<hash>.js`), set by `vite.widget.config.ts`. */
declare const __SB_CHAT__: string;

type Listener = (data: unknown) => void;

const w = window as unknown as { Switchboard?: ((...args: unknown[]) => unknown) & { q?: Command[] }; SwitchboardSettings?: Record<string, string> };

function start() {
  const script = document.currentScript as HTMLScriptElement | null;
  const settings = w.SwitchboardSettings ?? {};
  const key = script?.dataset.site ?? settings.site;
  const src = script?.src ?? settings.src;
  if (!key || !src) {
    console.warn('Switchboard: add data-site="<public key>" to the widget script tag');
    return;
  }
  const base = new URL(src, location.href).origin;
  const storeKey = `sb:${key}`;
  /** The copy in memory, for when storage is refused. */
  let memory: Saved = {};
  const read = (): Saved => {
    try {
      return JSON.parse(localStorage.getItem(storeKey) ?? '{}') as Saved;
    } catch {
      return memory;
    }
  };
  const write = (change: Partial<Saved>) => {
    const next = { ...read(), ...change };
    memory = next;
    try {
      localStorage.setItem(storeKey, JSON.stringify(next));
    } catch {
      // Storage refused (private mode, quota): the memory copy lasts for this page.
    }
  };

  const listeners = new Map<string, Set<Listener>>();
  const emit = (name: ApiEvent, data?: unknown) => {
    for (const fn of listeners.get(name) ?? []) {
      try {
        fn(data);
      } catch (e) {
        console.error('Switchboard: an event listener threw', e);
      }
    }
  };

  let locale: string | null = script?.dataset.locale ?? settings.locale ?? null;
  let site: Site | null = null;
  let open = false;
  let hidden = false;
  /** The chat was asked for (its part may still be loading); what the page sends goes to it. */
  let frame = false;
  let chat: Chat | undefined;
  let make: ((l: Loader) => Chat) | undefined;
  let part: HTMLScriptElement | undefined;
  const outbox: ToFrame[] = [];
  /** `identify` and `setAttributes` calls, until the chat part runs them. */
  const later: Command[] = [];
  /** The page's answer to `Switchboard('consent', …)`; `null`: not asked yet. */
  let consent: boolean | null = null;
  /** The invitation in the bubble, until it is opened (then the frame holds it) or dismissed. */
  let invite: Invitation | null = null;
  let typingTimer: ReturnType<typeof setTimeout> | undefined;

  // --- the element and its shadow root -------------------------------------------------
  const host = document.createElement('switchboard-root');
  const root = host.attachShadow({ mode: 'open' });
  // A constructed sheet: no <style> element, so the host page's CSP needs nothing for it
  // (Chrome 73, Firefox 101, Safari 16.4).
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(CSS);
  root.adoptedStyleSheets = [sheet];
  host.style.setProperty('--sb-z', script?.dataset.zIndex ?? settings.zIndex ?? '2147483000');

  const wrap = el('div', 'wrap');
  const teaser = el('div', 'teaser');
  teaser.setAttribute('role', 'status');
  const button = el('button', 'launcher') as HTMLButtonElement;
  button.type = 'button';
  // The × that closes the open panel comes with the chat part.
  button.innerHTML =
    '<svg class="chat" viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>';
  const badge = el('span', 'badge');
  badge.setAttribute('aria-hidden', 'true');
  button.append(badge);
  // The chat part puts the panel before them.
  wrap.append(teaser, button);
  root.append(wrap);

  function el(tag: string, cls: string): HTMLElement {
    const e = document.createElement(tag);
    e.className = cls;
    return e;
  }
  // The page's request, then the site's setting, then the page's `lang`, then the browser.
  const lang = () => pick([locale, site?.appearance.locale, document.documentElement.lang, ...navigator.languages]);
  const loaded: Record<string, Words> = { en: EN };
  /** The language's words once its file arrived (English until then); asked for once. */
  const words = (): Words => {
    const tag = lang();
    if (!(tag in loaded)) {
      loaded[tag] = EN;
      fetch(base + URLS[tag])
        .then((r) => r.json())
        .then((w: Words) => {
          loaded[tag] = w;
          draw();
        })
        .catch(() => {});
    }
    return loaded[tag]!;
  };

  function draw() {
    const saved = read();
    const n = saved.u ?? 0;
    const tag = lang();
    const fmt = new Intl.NumberFormat(tag);
    // The launcher follows the widget's language: mirrored for ar, fa and he, whatever the page does.
    wrap.dir = /^(ar|fa|he)/.test(tag) ? 'rtl' : 'ltr';
    wrap.lang = tag;
    wrap.classList.toggle('start', site?.appearance.position == 'start');
    wrap.classList.toggle('open', open);
    // Nothing is drawn until the site answered: a refused origin or an unknown key draws nothing.
    wrap.hidden = hidden || !known;
    if (site) wrap.style.setProperty('--sb-accent', site.appearance.color);
    badge.textContent = n > 0 ? fmt.format(Math.min(n, 99)) : '';
    badge.hidden = n < 1 || open;
    const w = words();
    button.setAttribute('aria-label', open ? w.close : n > 0 ? `${w.open} (${w.unread.replace('{n}', fmt.format(n))})` : w.open);
    button.setAttribute('aria-expanded', `${open}`);
    wrap.classList.toggle('offline', site?.agents_online == 0);
    // Unread replies mean a conversation, so the chat part is here or on its way: it puts
    // the count in the page's title. No chat yet: one asked for before the site answered
    // starts now (draw runs once the answer, or its failure, is in).
    if (chat) chat.title(n, fmt);
    else startChat();
  }
  let known = false;

  /** The bubble beside the launcher: the greeting, an unread reply, or an invitation. */
  function showTeaser(text: string | null | undefined, faces?: Face[], name = '', status = false) {
    clearTimeout(typingTimer);
    teaser.replaceChildren();
    if (!text || open) {
      teaser.hidden = true;
      return;
    }
    if (faces) {
      const head = el('div', 'who');
      for (const agent of faces.slice(0, 3)) {
        const face = el('span', 'face');
        if (agent.avatar_url) {
          const img = document.createElement('img');
          img.src = agent.avatar_url;
          img.alt = '';
          face.append(img);
        } else face.textContent = [...agent.name][0] ?? '';
        head.append(face);
      }
      const team = el('strong', '');
      team.textContent = name;
      head.append(team);
      if (status && site?.agents_online !== undefined) {
        const state = el('span', site.agents_online > 0 ? 'dot on' : 'dot');
        state.textContent = site.agents_online > 0 ? words().online : words().away;
        head.append(state);
      }
      teaser.append(head);
    }
    // A button, so the keyboard opens the chat from the bubble too.
    const body = el('button', 'msg') as HTMLButtonElement;
    body.type = 'button';
    body.dir = 'auto';
    body.textContent = text.length > 140 ? `${text.slice(0, 140)}…` : text;
    const dismiss = el('button', 'dismiss') as HTMLButtonElement;
    dismiss.type = 'button';
    dismiss.setAttribute('aria-label', words().dismiss);
    dismiss.textContent = '×';
    dismiss.onclick = () => {
      teaser.hidden = true;
      clearTimeout(typingTimer);
      if (invite) {
        act(invite, 'dismissed');
        invite = null;
        return;
      }
      try {
        sessionStorage.setItem(`${storeKey}:greeted`, '1');
      } catch {
        // Without session storage the greeting shows again on the next page.
      }
    };
    body.onclick = () => setOpen(true);
    teaser.append(body, dismiss);
    teaser.hidden = false;
  }

  // --- invitations (§27): "typing…", then the message, as the agent or the team ------------
  // One that arrives while the page is hidden waits until the visitor can see it (the
  // latest only): only then is it `shown` (or opened, when its rule says so). A visitor
  // who leaves first was never shown it.
  let held: Invitation | null = null;
  document.addEventListener('visibilitychange', () => held && invited(held));
  function invited(i: Invitation) {
    if ((held = document.hidden ? i : null)) return;
    invite = i;
    act(i, 'shown');
    if (open || i.open) {
      if (open) give();
      else setOpen(true);
      return;
    }
    const a = i.agent;
    const bubble = (text?: string | null) => showTeaser(text, a ? [a] : [], a?.name ?? site?.appearance.team_name);
    bubble(words().typing);
    typingTimer = setTimeout(() => bubble(i.body), i.typing_ms);
  }
  /** The panel opened on an invitation: the frame shows it and answers it with the first `send`. */
  function give() {
    if (!invite) return;
    post({ sb: 1, t: 'invite', invitation: invite });
    act(invite, 'opened');
    invite = null;
  }
  const act = (i: Invitation, action: 'shown' | 'opened' | 'dismissed') => out({ type: 'invitation', invitation_id: i.id, action });

  // --- the chat part ----------------------------------------------------------------------
  function post(message: ToFrame) {
    outbox.push(message);
    chat?.flush();
  }

  function ensureFrame() {
    if (frame) return;
    // The frame's socket takes over once the chat part is here (`startChat`): what this one
    // had not yet seen read goes to the frame.
    frame = true;
    for (const f of q.splice(0)) post({ sb: 1, t: 'out', frame: f });
    if (!part) {
      // A classic script of our origin, as this one: the host page's policy allows it already.
      part = document.createElement('script');
      part.src = base + __SB_CHAT__;
      (part as { sb?: unknown }).sb = (m: typeof make) => {
        make = m;
        startChat();
      };
      // Out of reach (the server is down, the network gone): say so; the next click tries
      // again, and what the frame was to send goes back to this loader's queue.
      part.onerror = () => {
        part!.remove();
        part = undefined;
        setOpen(false);
        frame = false;
        for (const m of outbox.splice(0)) if (m.t == 'out') q.push(m.frame);
        showTeaser(words().down);
        connect();
      };
      document.head.append(part);
    }
    startChat();
  }
  // A `hello` sent and not yet welcomed may be making this visitor's contact: the chat waits
  // for its token (the `welcome`, or the socket's end) rather than make a second contact;
  // and for the site's settings, which the frame's `init` carries (never a second read).
  const startChat = () => {
    if (frame && make && known && !chat && (welcomed || ws?.readyState != 1)) {
      if (ws) {
        ws.onclose = null;
        ws.close();
        ws = null;
      }
      chat = make(loader);
      draw();
    }
  };

  // --- the visitor socket, while there is no frame ------------------------------------------
  // Opened when the site tracks this visitor or the page tracked an event; an idle one
  // sends nothing (the server's pings keep it alive). Each `track`, exit intent and
  // invitation answer stays in `q` until a `pong` after it proves the server read it, so
  // a cut socket loses none: the next one sends them again.
  let ws: WebSocket | null = null;
  let welcomed = false;
  let wait = 1e3;
  type Out = Record<string, unknown>;
  const q: Out[] = [];
  /** How many of `q` each `ping` on the wire confirms, or the page it proves was read. */
  let pings: (number | string)[] = [];
  /**
   * The page of this page load a `pong` proved the server read: a new socket (a reconnect,
   * the chat's frame) says it `again`, so the server does not record the view twice.
   */
  let told = '';
  let sent = 0;
  /** Nothing at all before consent on a `consent` site. */
  const may = () => !!site && (site.tracking != 'consent' || consent);
  const tracks = () => may() && site!.tracking != 'off';
  const say = (f: Out) => ws!.send(JSON.stringify(f));
  /** The page as the server's `page` frame has it (the frame takes the same fields). */
  const pageFrame = (): PageView & { type: 'page' } => ({ type: 'page', url: location.href.slice(0, 2e3), title: document.title.slice(0, 500) || null, referrer: document.referrer.slice(0, 2e3) || null });
  /** The page, then a `ping`: its `pong` says the server read the page (`told`). */
  function sayPage() {
    const f = pageFrame();
    say({ ...f, again: told == f.url });
    say({ type: 'ping' });
    pings.push(f.url);
  }
  function flush() {
    if (!welcomed || sent == q.length) return;
    for (const f of q.slice(sent)) say(f);
    say({ type: 'ping' });
    pings.push(q.length - sent);
    sent = q.length;
  }
  function out(f: Out) {
    if (frame) return post({ sb: 1, t: 'out', frame: f });
    q.push(f);
    connect();
    flush();
  }
  function connect() {
    if (ws || frame || !may() || !(tracks() || q.length)) return;
    const s = (ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws/visitor?site=${encodeURIComponent(key!)}`));
    s.onopen = () => say({ type: 'hello', token: read().t ?? null, resume: [] });
    s.onmessage = (e: MessageEvent) => {
      try {
        const f = JSON.parse(e.data as string) as { type: string; token: string; code: string; invitation: Invitation };
        if (f.type == 'welcome') {
          welcomed = true;
          wait = 1e3;
          if (f.token != read().t) write({ t: f.token });
          // The chat was asked for meanwhile: it starts with this token.
          if (frame) return startChat();
          // The server holds consent per socket, and counts a tab from its first page.
          if (consent) say({ type: 'consent', granted: true });
          if (tracks()) sayPage();
          flush();
        } else if (f.type == 'pong') {
          const n = pings.shift() ?? 0;
          if (typeof n == 'string') told = n;
          else {
            sent -= n;
            q.splice(0, n);
          }
        } else if (f.type == 'invitation') invited(f.invitation);
        else if (f.type == 'error' && !welcomed) {
          // Banned: no point in knocking again on this page.
          if (f.code == 'banned') s.onclose = null;
          // A stored token the server refuses: start over as a new visitor.
          else if (/token/.test(f.code)) write({ t: undefined, x: 1 });
        }
      } catch (err) {
        console.error('Switchboard:', err);
      }
    };
    s.onclose = () => {
      ws = null;
      welcomed = false;
      sent = 0;
      pings = [];
      // The chat was asked for: it starts without this socket.
      if (frame) return startChat();
      // Backoff with jitter, up to 30 s.
      setTimeout(connect, wait * (0.5 + Math.random()));
      wait = Math.min(wait * 2, 3e4);
    };
  }

  // Other tabs: the same visitor, so the same badge, and a conversation one tab starts is
  // followed by the others (their sockets reconnect to pick it up).
  window.addEventListener('storage', (e) => {
    if (e.key != storeKey) return;
    try {
      const before = JSON.parse(e.oldValue ?? '{}') as Saved;
      const now = read();
      if (now.a && now.a != before.a) {
        if (frame) post({ sb: 1, t: 'refresh', token: now.t ?? null });
        else ensureFrame();
      }
      if (!now.t && before.t) reset();
      draw();
    } catch (err) {
      console.error('Switchboard:', err);
    }
  });

  // --- opening and closing --------------------------------------------------------------
  function setOpen(next: boolean) {
    if (next == open || hidden) return;
    open = next;
    write({ o: open });
    if (open) {
      ensureFrame();
      give();
      teaser.hidden = true;
    } else button.focus();
    // The panel, once the chat part is here (it shows itself as `open` says when it arrives).
    chat?.show();
    post({ sb: 1, t: 'open', open });
    draw();
    emit(open ? 'open' : 'close');
  }
  button.onclick = () => setOpen(!open);
  root.addEventListener('keydown', (e) => {
    if ((e as KeyboardEvent).key != 'Escape') return;
    if (open) setOpen(false);
    else teaser.querySelector<HTMLElement>('.dismiss')?.click();
  });

  // --- page views: nothing of the page is wrapped ----------------------------------------
  // `popstate` (back and forward), and the Navigation API's `currententrychange` for
  // `pushState`/`replaceState` where the browser has it (Chromium); elsewhere `location`
  // is compared once a second.
  let lastUrl = location.href;
  const navigated = () => {
    if (location.href == lastUrl) return;
    lastUrl = location.href;
    // The title usually changes just after the URL: report once the page settled.
    setTimeout(() => (frame ? post({ sb: 1, t: 'page', page: pageFrame() }) : welcomed && tracks() && sayPage()));
  };
  addEventListener('popstate', navigated);
  const nav = (window as { navigation?: EventTarget }).navigation;
  if (nav) nav.addEventListener('currententrychange', navigated);
  else setInterval(navigated, 1e3);
  // Exit intent (desktop): the pointer leaves the page through its top edge, once a page.
  let exited = false;
  document.addEventListener('mouseout', (e) => {
    if (exited || e.relatedTarget || e.clientY > 0 || !tracks() || !matchMedia('(hover:hover)').matches) return;
    exited = true;
    out({ type: 'exit_intent' });
  });
  // Frameworks that swap <body> (Turbo, Astro view transitions) take the element with it.
  const reattach = () => queueMicrotask(() => host.isConnected || document.body.append(host));
  document.addEventListener('turbo:load', reattach);
  document.addEventListener('astro:after-swap', reattach);

  // --- the API ----------------------------------------------------------------------------
  function reset() {
    chat?.remove();
    chat = undefined;
    frame = false;
    outbox.length = 0;
    later.length = 0;
    if (open) setOpen(false);
    ws?.close();
    connect();
  }

  const loader: Loader = {
    base,
    key,
    host,
    outbox,
    read,
    write,
    draw,
    showTeaser,
    emit,
    setOpen,
    invited,
    words,
    later,
    state: () => ({ locale, open, consent, site, told }),
  };

  const commands: Record<string, (...args: unknown[]) => unknown> = {
    open: () => setOpen(true),
    close: () => setOpen(false),
    toggle: () => setOpen(!open),
    hide: () => {
      setOpen(false);
      hidden = true;
      draw();
    },
    show: () => {
      hidden = false;
      draw();
    },
    track: (name, data) => {
      if (typeof name != 'string' || !name) throw new TypeError('track(name, {key: value})');
      out({ type: 'track', name: name.slice(0, 100), data: data ?? {} });
    },
    consent: (yes) => {
      if (typeof yes != 'boolean') throw new TypeError('consent(true | false)');
      consent = yes;
      if (frame) return post({ sb: 1, t: 'out', frame: { type: 'consent', granted: yes } });
      if (!welcomed) return connect();
      say({ type: 'consent', granted: yes });
      if (tracks()) sayPage();
    },
    setLocale: (code) => {
      if (typeof code != 'string') throw new TypeError('setLocale("fa")');
      locale = code;
      if (frame) post({ sb: 1, t: 'locale', locale: code });
      draw();
    },
    on: (name, fn) => {
      if (typeof fn != 'function') throw new TypeError('on(event, function)');
      const set = listeners.get(name as string) ?? new Set<Listener>();
      set.add(fn as Listener);
      listeners.set(name as string, set);
      if (name == 'ready' && site) (fn as Listener)(undefined);
    },
    shutdown: () => {
      try {
        localStorage.removeItem(storeKey);
      } catch {
        // Nothing stored.
      }
      memory = {};
      reset();
      draw();
    },
  };
  const api = (name: unknown, ...args: unknown[]) => {
    try {
      // Commands only the chat needs wait for its part (checked there too).
      if (name === 'identify' || name === 'setAttributes') return chat ? chat.run(name, args) : void later.push([name, ...args]);
      const command = typeof name == 'string' ? commands[name] : undefined;
      if (!command) throw new TypeError(`unknown command ${String(name)}`);
      return command(...args);
    } catch (e) {
      console.error('Switchboard:', (e as Error | undefined)?.message ?? e);
      return undefined;
    }
  };
  const queued = w.Switchboard?.q ?? [];
  (api as { loaded?: boolean }).loaded = true;
  w.Switchboard = api;

  // --- start -------------------------------------------------------------------------------
  (document.body ?? document.documentElement).append(host);
  const saved = read();
  draw();
  fetch(`${base}/api/v1/widget/${encodeURIComponent(key)}`)
    .then(async (r) => {
      // An unknown key, or this page's origin is not among the site's allowed origins: no
      // widget here, and one warning saying why.
      if (r.status == 403 || r.status == 404) {
        host.remove();
        const e = (await r.json().catch(() => ({}))) as { code?: string };
        return console.warn(`Switchboard: no widget on this page (${e.code ?? r.status})`);
      }
      if (!r.ok) throw new Error(`the site answered ${r.status}`);
      const s = (site = (await r.json()) as Site);
      known = true;
      draw();
      let greeted = false;
      try {
        greeted = sessionStorage.getItem(`${storeKey}:greeted`) == '1';
      } catch {
        // Greet again.
      }
      if (!saved.a && !greeted) showTeaser(s.appearance.greeting, s.agents ?? [], s.appearance.team_name, true);
      connect();
      emit('ready');
    })
    .catch((e: Error) => {
      // The launcher stays: opening it shows the visitor why chat is unavailable, in
      // their language (the frame reads the same endpoint and shows the error's sentence).
      known = true;
      draw();
      console.warn(`Switchboard: ${e.message}`);
    });
  for (const [name, ...args] of queued) api(name, ...args);
  if (saved.o) setOpen(true);
  else if (saved.a) {
    // A conversation is going on: load the chat quietly so replies reach the badge.
    const idle = (window as { requestIdleCallback?: (fn: () => void) => void }).requestIdleCallback ?? ((fn: () => void) => setTimeout(fn, 1));
    idle(() => ensureFrame());
  }
}

/** The first supported language among `tags`; English otherwise. */
function pick(tags: ReadonlyArray<string | null | undefined>): string {
  for (const tag of tags) {
    const base = tag?.slice(0, 2).toLowerCase();
    if (base && (base in URLS || base == 'en')) return base;
  }
  return 'en';
}

try {
  // A page that includes the script twice gets one widget.
  if (!(w.Switchboard as { loaded?: boolean } | undefined)?.loaded) start();
} catch (e) {
  console.error('Switchboard: the widget could not start', e);
}
