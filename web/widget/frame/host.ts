// The frame's line to the loader on the business's page. The first message (`ready`)
// carries no secret and goes to any origin; once the loader's `init` arrived from our
// parent window, everything goes to that origin only.

import type { FromFrame } from '../bridge';

/** In the widget's iframe (rather than the full chat page). */
export const embedded = window.parent !== window;
let hostOrigin: string | null = null;

/** Remembers the host page's origin from its first `init`; false if one came already. */
export function setHostOrigin(origin: string): boolean {
  if (hostOrigin) return false;
  hostOrigin = origin;
  return true;
}

export function toHost(message: FromFrame) {
  if (embedded) window.parent.postMessage(message, message.t === 'ready' ? '*' : (hostOrigin ?? '*'));
}
