// What the loader (`index.ts`, on every page) and the chat part of the widget (`chat.ts`,
// loaded on the first open) hand each other. They are two scripts built apart, so these
// names are the only contract between them: property names survive minification and cost
// the loader bytes, so the list stays short.

import type { ApiEvent, Invitation, ToFrame } from '../bridge';
import type { Words } from './words';

/** The site's settings, as `GET /api/v1/widget/{key}` gives them. */
export interface Site {
  tracking: 'on' | 'consent' | 'off';
  appearance: { color: string; position: 'start' | 'end'; greeting: string; team_name: string; locale: string; title_badge?: boolean };
  agents?: Face[];
  agents_online?: number;
}
/** A call of the page's `Switchboard(name, ...args)`. */
export type Command = [string, ...unknown[]];
export type Face = { name: string; avatar_url?: string | null };

/** What the loader keeps in the host page's localStorage (`sb:<public key>`). */
export interface Saved {
  /** The visitor token. */
  t?: string;
  /** The open conversation, so the next page load reconnects at once. */
  a?: string;
  /** Unread count, to draw the badge before the frame loads. */
  u?: number;
  /** The panel was open (restored across page loads). */
  o?: boolean;
  /** The stored token was refused and dropped: the chat says so when it opens. */
  x?: 1;
}

/** The loader's side, given to the chat part when it loads. */
export interface Loader {
  /** Our server's origin. */
  base: string;
  /** The site's public key. */
  key: string;
  /** The widget's element in the host page (its open shadow root holds the rest). */
  host: HTMLElement;
  /** Messages for the frame, in order; the chat part sends them once the frame is ready. */
  outbox: ToFrame[];
  read: () => Saved;
  write: (change: Partial<Saved>) => void;
  /** Redraws the launcher from the stored state. */
  draw: () => void;
  showTeaser: (text: string | null | undefined) => void;
  emit: (name: ApiEvent, data?: unknown) => void;
  setOpen: (open: boolean) => void;
  invited: (i: Invitation) => void;
  words: () => Words;
  /** The page's `identify` and `setAttributes` calls so far, for the chat part to run. */
  later: Command[];
  /** What the frame's `init` carries, as the page has set it so far. */
  state: () => { locale: string | null; open: boolean; consent: boolean | null; site: Site | null; told: string };
}

/** The chat part's side: one per chat frame. */
export interface Chat {
  /** Sends the outbox if the frame is ready. */
  flush: () => void;
  /** Shows or hides the panel as `state().open` says. */
  show: () => void;
  /** Runs `identify` or `setAttributes`; bad arguments throw a `TypeError`. */
  run: (name: string, args: unknown[]) => void;
  /** Puts the unread count `n` in the page's title, where the site allows it. */
  title: (n: number, fmt: Intl.NumberFormat) => void;
  /** Removes the frame (`shutdown`, a token dropped in another tab). */
  remove: () => void;
}
