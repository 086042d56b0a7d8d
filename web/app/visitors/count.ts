// How many visitors are on the workspace's sites now, for the count in the navigation.
// Kept apart from the visitors screen (a lazy chunk) so the shell can read it for free;
// `null` until the screen has followed the live list once.

import { signal } from '@preact/signals';

export const onSite = signal<number | null>(null);
