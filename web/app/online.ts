// Whether the browser believes it is online; screens show an offline state from it.

import { signal } from '@preact/signals';

export const online = signal(navigator.onLine);
addEventListener('online', () => (online.value = true));
addEventListener('offline', () => (online.value = false));
