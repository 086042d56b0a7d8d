// The chat part of the widget (`/assets/widget-chat-<hash>.js`): what only a page whose
// visitor opens the chat needs, so the loader every page downloads stays small. The loader
// inserts it on the first open (or at once when this browser already has a conversation)
// as a classic script of our origin, like `/widget.js` itself, and this script hands the
// loader its `chat` function through the `sb` property the loader put on the script
// element: no global of its own. It draws the panel (its styles, the phone's full-screen
// layout that follows the on-screen keyboard), creates the chat frame (`/widget/frame`,
// our origin) and speaks with it (`../bridge.ts`).

import type { Attributes, FromFrame, Identity, ToFrame, WidgetSite } from '../bridge';
import CSS from './chat.css?inline';
import type { Chat, Loader } from './shared';

const sheet = new CSSStyleSheet();
sheet.replaceSync(CSS);
/** What this page's title starts with: the unread count this widget put there. */
let titlePrefix = '';

function chat(l: Loader): Chat {
  const root = l.host.shadowRoot!;
  if (!root.adoptedStyleSheets.includes(sheet)) {
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
    root.querySelector('.launcher')!.insertAdjacentHTML('afterbegin', '<svg class="x" viewBox="0 0 24 24" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18"/></svg>');
    // iOS: the on-screen keyboard shrinks the visual viewport, not the layout one; the
    // full-screen panel follows the visual one so the composer stays above the keyboard.
    const vv = window.visualViewport;
    if (vv) {
      const follow = () => {
        l.host.style.setProperty('--sb-vvh', `${vv.height}px`);
        l.host.style.setProperty('--sb-vvt', `${vv.offsetTop}px`);
      };
      vv.addEventListener('resize', follow);
      vv.addEventListener('scroll', follow);
      follow();
    }
  }

  // The panel, before the bubble and the launcher.
  const panel = document.createElement('div');
  panel.className = 'panel';
  panel.hidden = true;
  root.querySelector('.wrap')!.prepend(panel);
  let ready = false;
  let identity: Identity | null = null;
  let attributes: Attributes | null = null;
  // What this tab's badge showed: another tab may store a count first.
  let shown = l.read().u ?? 0;
  let scrollLock: string | null = null;
  const frame = document.createElement('iframe');
  frame.title = l.words().title;
  frame.src = `${l.base}/widget/frame?site=${encodeURIComponent(l.key)}`;
  frame.setAttribute('allow', 'clipboard-write');
  panel.append(frame);
  const send = (message: ToFrame) => frame.contentWindow!.postMessage(message, l.base);
  const flush = () => {
    if (ready) for (const queued of l.outbox.splice(0)) send(queued);
  };

  const listen = (e: MessageEvent) => {
    if (e.source !== frame.contentWindow || e.origin !== l.base) return;
    const m = e.data as FromFrame;
    if (!m || m.sb !== 1) return;
    try {
      switch (m.t) {
        case 'ready': {
          ready = true;
          // The chat says it once.
          const expired = !!l.read().x;
          if (expired) l.write({ x: undefined });
          const { locale, open, consent, site, told } = l.state();
          const url = location.href;
          // The loader's copy of the site's settings (the whole answer, typed here by the
          // few fields the loader reads): the frame then does not fetch them again.
          send({ sb: 1, t: 'init', token: l.read().t ?? null, locale, pageLang: document.documentElement.lang || null, open, page: { url, title: document.title, referrer: document.referrer, again: told == url.slice(0, 2e3) }, identity, attributes, consent, expired, site: site as WidgetSite | null });
          flush();
          break;
        }
        case 'token':
          l.write({ t: m.token });
          break;
        case 'active':
          if (l.read().a !== m.conversation) l.write({ a: m.conversation });
          break;
        case 'unread': {
          const before = shown;
          shown = m.count;
          l.write({ u: m.count });
          l.draw();
          if (m.count > before && m.preview) l.showTeaser(m.preview);
          if (m.count === 0) root.querySelector<HTMLElement>('.teaser')!.hidden = true;
          if (m.count !== before) l.emit('unread', m.count);
          break;
        }
        case 'close':
          l.setOpen(false);
          break;
        case 'event':
          l.emit(m.name, m.data);
          break;
        case 'invitation':
          l.invited(m.invitation);
          break;
      }
    } catch (err) {
      console.error('Switchboard:', err);
    }
  };
  addEventListener('message', listen);

  const show = () => {
    const open = l.state().open;
    panel.hidden = !open;
    if (open) {
      // Phones: the panel covers the screen; the page behind must not scroll under it.
      if (matchMedia('(max-width: 479px)').matches) {
        scrollLock = document.documentElement.style.overflow;
        document.documentElement.style.overflow = 'hidden';
      }
      frame.focus();
    } else if (scrollLock !== null) {
      document.documentElement.style.overflow = scrollLock;
      scrollLock = null;
    }
  };
  // The unread count in the page's title, only where the site allows it.
  const title = (n: number, fmt?: Intl.NumberFormat) => {
    if (!l.state().site?.appearance.title_badge) return;
    const now = document.title;
    const plain = now.startsWith(titlePrefix) ? now.slice(titlePrefix.length) : now;
    titlePrefix = n > 0 ? `(${fmt!.format(n)}) ` : '';
    if (now !== titlePrefix + plain) document.title = titlePrefix + plain;
  };
  // The page's `identify` and `setAttributes`: the frame's `init` carries what came first.
  const run = (name: string, [arg]: unknown[], quiet = false) => {
    if (name === 'identify') {
      if (!arg || typeof arg !== 'object') throw new TypeError('identify({id, name, email, phone, hash})');
      identity = { ...(arg as Identity) };
      if (!quiet) post({ sb: 1, t: 'identify', identity });
    } else {
      if (!arg || typeof arg !== 'object') throw new TypeError('setAttributes({key: value})');
      attributes = { ...attributes, ...(arg as Attributes) };
      if (!quiet) post({ sb: 1, t: 'attributes', attributes: arg as Attributes });
    }
  };
  const post = (message: ToFrame) => {
    l.outbox.push(message);
    flush();
  };
  // What the page said before: `init` carries it.
  for (const [name, ...args] of l.later.splice(0)) {
    try {
      run(name, args, true);
    } catch (e) {
      console.error('Switchboard:', e instanceof Error ? e.message : e);
    }
  }
  show();
  return {
    flush,
    show,
    run,
    title,
    remove: () => {
      title(0);
      if (scrollLock !== null) document.documentElement.style.overflow = scrollLock;
      panel.remove();
      removeEventListener('message', listen);
    },
  };
}

try {
  (document.currentScript as (HTMLScriptElement & { sb?: (make: typeof chat) => void }) | null)?.sb?.(chat);
} catch (e) {
  console.error('Switchboard: the chat could not start', e);
}
