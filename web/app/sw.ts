// The dashboard's service worker: it caches the shell (the page at /app and the hashed
// scripts, styles and icons it loads) so the installed app opens without a network.
// It never caches data: /api and /ws go straight to the network, untouched.

interface ExtendableEventLike extends Event {
  waitUntil(work: Promise<unknown>): void;
}
interface FetchEventLike extends ExtendableEventLike {
  request: Request;
  respondWith(answer: Promise<Response>): void;
}
interface WorkerScope {
  addEventListener(type: 'install' | 'activate', listener: (e: ExtendableEventLike) => void): void;
  addEventListener(type: 'fetch', listener: (e: FetchEventLike) => void): void;
  skipWaiting(): Promise<void>;
  clients: { claim(): Promise<void> };
  location: Location;
}

const worker = self as unknown as WorkerScope;
const CACHE = 'switchboard-shell-v1';
const SHELL = '/app';

worker.addEventListener('install', (e) => {
  e.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.add(SHELL))
      .then(() => worker.skipWaiting()),
  );
});

worker.addEventListener('activate', (e) => {
  e.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
      .then(() => worker.clients.claim()),
  );
});

/** Whether a request is part of the shell (never an API call, a socket or a download). */
function isShell(url: URL): boolean {
  if (url.origin !== worker.location.origin) return false;
  return url.pathname.startsWith('/assets/') || url.pathname === '/app' || url.pathname.startsWith('/app/');
}

/**
 * Keeps a copy of a good answer. The copy is taken now, before the page reads the body:
 * a clone taken later (after `caches.open`) finds the body used, and nothing is stored.
 */
function remember(key: Request | string, answer: Response) {
  if (!answer.ok) return;
  const copy = answer.clone();
  void caches.open(CACHE).then((cache) => cache.put(key, copy));
}

worker.addEventListener('fetch', (e) => {
  const request = e.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || !isShell(url)) return;
  if (request.mode === 'navigate') {
    // Every /app URL is the same page: the network first (fresh deploys), the cache offline.
    e.respondWith(
      fetch(request)
        .then((answer) => {
          remember(SHELL, answer);
          return answer;
        })
        .catch(() => caches.match(SHELL).then((hit) => hit ?? Response.error())),
    );
    return;
  }
  // Hashed files never change under their name, so the cache answers first.
  e.respondWith(
    caches.match(request).then(
      (hit) =>
        hit ??
        fetch(request).then((answer) => {
          remember(request, answer);
          return answer;
        }),
    ),
  );
});
