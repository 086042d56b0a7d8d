// The messages the loader (on the business's page) and the chat frame (on our origin)
// exchange with `postMessage`. Both sides import these types; nothing here ships code.
//
// Rules (../../shared reference, frontend.md §1.2): the loader posts only to the frame's
// origin and accepts only messages from the frame's window and origin; the frame's first
// `ready` carries no secret (it goes to `*`), and the frame then accepts only messages
// from `window.parent`. The visitor token travels in these messages, never in a URL.

import type { components } from '../generated/api';

/** What the JavaScript API reports to `Switchboard('on', …)` listeners. */
export type ApiEvent = 'ready' | 'open' | 'close' | 'message' | 'unread' | 'conversation_started' | 'conversation_resolved';

/** The page the visitor is on, for the agent's context. */
export type PageView = {
  url: string;
  title: string | null;
  referrer: string | null;
  /** The loader's socket reported this same page view and the server read it: the frame's socket says it `again`. */
  again?: boolean;
};

export interface Identity {
  id?: string;
  name?: string;
  email?: string;
  phone?: string;
  hash?: string;
}

export type Attributes = Record<string, string | number | boolean | null>;

/** The site's settings for the widget (`GET /api/v1/widget/{key}`). */
export type WidgetSite = components['schemas']['WidgetSite'];

/** An agent's or a rule's invitation to chat (docs/protocol.md §27). */
export type Invitation = components['schemas']['Invitation'];

/** Loader → frame. */
export type ToFrame =
  | {
      sb: 1;
      t: 'init';
      token: string | null;
      /** The language the page asked for (`setLocale`, `data-locale`), else the page's `lang`. */
      locale: string | null;
      pageLang: string | null;
      open: boolean;
      page: PageView;
      identity: Identity | null;
      attributes: Attributes | null;
      /** The page's `Switchboard('consent', …)`, sent before the first page view. */
      consent: boolean | null;
      /** The launcher's socket found the stored token refused and started over: say so. */
      expired: boolean;
      /**
       * The site's settings as the loader read them (`GET /api/v1/widget/{key}`), so the
       * frame does not read them again; `null` while the loader has none. They may be
       * minutes old by the first open: the frame's socket `welcome` brings them current.
       */
      site: WidgetSite | null;
    }
  | { sb: 1; t: 'open'; open: boolean }
  | { sb: 1; t: 'identify'; identity: Identity }
  | { sb: 1; t: 'attributes'; attributes: Attributes }
  | { sb: 1; t: 'locale'; locale: string }
  | { sb: 1; t: 'page'; page: PageView }
  /** A frame for the server the loader had queued or the page asked for (track, consent, exit intent, invitation answers). */
  | { sb: 1; t: 'out'; frame: Record<string, unknown> }
  /** The visitor opened an invitation: show it in the panel; the first `send` answers it. */
  | { sb: 1; t: 'invite'; invitation: Invitation }
  /** Another tab of this browser started or changed the conversation: reconnect to follow it. */
  | { sb: 1; t: 'refresh'; token: string | null };

/** Frame → loader. */
export type FromFrame =
  | { sb: 1; t: 'ready' }
  | { sb: 1; t: 'token'; token: string }
  | { sb: 1; t: 'active'; conversation: string }
  | { sb: 1; t: 'unread'; count: number; preview: string | null }
  | { sb: 1; t: 'close' }
  | { sb: 1; t: 'event'; name: ApiEvent; data: unknown }
  /** The frame's socket received an invitation: the loader shows the bubble. */
  | { sb: 1; t: 'invitation'; invitation: Invitation };

/**
 * Dashboard → the widget's preview (`/widget/preview`, framed only by our own origin):
 * the site's settings as they are being edited, drawn by the real chat UI with no socket.
 */
export interface PreviewSettings {
  sb: 1;
  t: 'preview';
  site: components['schemas']['PublicSite'];
  agents: components['schemas']['PublicAgent'][];
  /** 0 shows what visitors see when nobody is online. */
  agentsOnline: number;
}
