// How many visitors are on the workspace's sites now, for the count in the navigation.
// Kept apart from the visitors screen (a lazy chunk) so the shell can read it for free:
// from sign-in the agent socket follows only the number (`visitor_count`), not the list;
// the visitors screen, once open, keeps it current from its rows as well.

import { signal } from '@preact/signals';
import { connection, onFrame, send, startLive } from '../live/socket';

/** `null` until the socket has said how many there are. */
export const onSite = signal<number | null>(null);

let following = false;

/** Follows the count on the agent socket, once per page, whatever screen is open. */
export function followVisitorCount() {
  if (following) return;
  following = true;
  // A new socket follows nothing: ask once it is caught up, after every (re)connect.
  let asked = false;
  onFrame((frame) => {
    if (frame.type === 'welcome') asked = false;
    if (frame.type === 'caught_up' && !asked) asked = send({ type: 'visitor_count', watch: true });
    if (frame.type === 'visitor_count') onSite.value = frame.count;
  });
  startLive();
  if (connection.value === 'live') asked = send({ type: 'visitor_count', watch: true });
}
