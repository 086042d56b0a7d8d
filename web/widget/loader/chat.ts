// The chat part of the widget (`/assets/widget-chat-<hash>.js`): what only a page whose
// visitor opens the chat needs, so the loader every page downloads stays small. The loader
// inserts it on the first open (or at once when this browser already has a conversation)
// as a classic script of our origin, like `/widget.js` itself, and this script hands the
// loader its `chat` function through the `sb` property the loader put on the script
// element: no global of its own. It draws the panel (its styles, the phone's full-screen
// layout that follows the on-screen keyboard), creates the chat frame (`/widget/frame`,
// our origin) and speaks with it (`../bridge.ts`).

import type { FromFrame, ToFrame } from '../bridge';
import CSS from './chat.css?inline';
import type { Chat, Loader } from './shared';

const sheet = new CSSStyleSheet();
sheet.replaceSync(CSS);

function chat(l: Loader): Chat {
  const root = l.host.shadowRoot!;
  if (!root.adoptedStyleSheets.includes(sheet)) {
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
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

  let ready = false;
  // What this tab's badge showed: another tab may store a count first.
  let shown = l.read().u ?? 0;
  let scrollLock: string | null = null;
  const frame = document.createElement('iframe');
  frame.title = l.words().title;
  frame.src = `${l.base}/widget/frame?site=${encodeURIComponent(l.key)}`;
  frame.setAttribute('allow', 'clipboard-write');
  l.panel.append(frame);
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
          send({ sb: 1, t: 'init', token: l.read().t ?? null, ...l.state(), pageLang: document.documentElement.lang || null, page: l.page(), expired });
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
          if (m.count === 0) l.teaser.hidden = true;
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
    l.panel.hidden = !open;
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
  show();
  return {
    flush,
    show,
    remove: () => {
      l.panel.hidden = true;
      if (scrollLock !== null) document.documentElement.style.overflow = scrollLock;
      frame.remove();
      removeEventListener('message', listen);
    },
  };
}

try {
  (document.currentScript as (HTMLScriptElement & { sb?: (make: typeof chat) => void }) | null)?.sb?.(chat);
} catch (e) {
  console.error('Switchboard: the chat could not start', e);
}
