// Starts the real `switchboard` binary on a random port with a fresh data directory,
// seeds a workspace through its CLI and REST API, and launches Debian's Chromium.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';

export const root = path.resolve(import.meta.dirname, '../..');
const bin = process.env.SWITCHBOARD_BIN ?? path.join(root, 'target/debug/switchboard');
export const shots = path.join(root, 'target/browser');
mkdirSync(shots, { recursive: true });

/** The workspace's owner, who creates it (the admin API token and `cookie` are theirs). */
export const OWNER = { email: 'boss@shop.example', password: 'a long enough password' };

/**
 * A running server with an admin API token and one site. `settings` are extra
 * `SWITCHBOARD__SECTION__KEY` environment variables (a story's own limits, say).
 */
export async function startServer(settings = {}) {
  const data = mkdtempSync(path.join(tmpdir(), 'sb-browser-'));
  // No presence grace period: a test that closes its agent's socket means "nobody is
  // online" at once (the grace period has its own Rust tests).
  const env = { ...process.env, SWITCHBOARD__LOG__LEVEL: 'warn', SWITCHBOARD__PRESENCE__GRACE_SECONDS: '0', ...settings };
  execFileSync(bin, ['--data', data, 'admin', 'create-workspace', '--name', 'Shop',
    '--owner-email', OWNER.email, '--password', OWNER.password], { env, stdio: 'ignore' });
  const serve = (listen) => {
    const proc = spawn(bin, ['--data', data, 'serve', '--listen', listen], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    const listening = new Promise((resolve, reject) => {
      const lines = createInterface({ input: proc.stdout });
      lines.on('line', (line) => {
        const m = line.match(/^Switchboard is listening on (http:\/\/\S+)$/);
        if (m) resolve(m[1]);
      });
      proc.on('exit', (code) => reject(new Error(`switchboard exited with ${code} before listening`)));
    });
    return { process: proc, listening };
  };
  let { process: child, listening } = serve('127.0.0.1:0');
  const base = await listening;

  const login = await fetch(`${base}/api/v1/sessions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(OWNER),
  });
  if (!login.ok) throw new Error(`login failed: ${login.status}`);
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const { csrf_token } = await login.json();
  const asOwner = (method, p, body) => call(base, method, p, body, { cookie, 'x-csrf-token': csrf_token });
  const token = (await asOwner('POST', '/api/v1/api-tokens', { name: 'browser tests', role: 'admin' })).secret;
  const api = (method, p, body) => call(base, method, p, body, { authorization: `Bearer ${token}` });
  const site = await api('POST', '/api/v1/sites', { name: 'Demo shop' });
  /** Stops the server gracefully and starts it again on the same address and data. */
  const restart = async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    ({ process: child, listening } = serve(new URL(base).host));
    await listening;
  };
  return { base, api, site, cookie, restart, stop: () => child.kill('SIGTERM') };
}

async function call(base, method, p, body, headers) {
  const res = await fetch(`${base}${p}`, {
    method, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p} answered ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

export function launchBrowser() {
  const { ignore, features } = partitionedStorage();
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    ignoreDefaultArgs: [ignore],
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', features],
  });
}

/**
 * Playwright launches Chromium with third-party storage partitioning turned off
 * (microsoft/playwright#32230), unlike the Chrome visitors use: a widget that relied on
 * its iframe's storage would pass here and lose visitors there. So the tests drop
 * Playwright's `--disable-features=…` switch and pass the same list without that feature.
 * The list is read from playwright-core itself, so an upgrade that changes it still works;
 * if the switch cannot be found the tests stop rather than run unpartitioned.
 */
function partitionedStorage() {
  const require = createRequire(import.meta.url);
  const lib = path.dirname(require.resolve('playwright-core/package.json'));
  const bundle = readFileSync(path.join(lib, 'lib/coreBundle.js'), 'utf8');
  const list = bundle.match(/disabledFeatures = \[([\s\S]*?)\]\.filter\(Boolean\)/);
  if (!list) throw new Error('cannot find the features playwright-core disables; storage partitioning would stay off');
  const names = [...list[1].replace(/\/\/.*$/gm, '').matchAll(/"([^"]+)"/g)].map((m) => m[1]);
  if (!names.includes('ThirdPartyStoragePartitioning')) throw new Error('playwright-core no longer disables storage partitioning: remove this workaround');
  return {
    ignore: `--disable-features=${names.join(',')}`,
    features: `--disable-features=${names.filter((n) => n !== 'ThirdPartyStoragePartitioning').join(',')}`,
  };
}

/** Polls `probe` until it returns something truthy; for state visible only over the API. */
export async function eventually(probe, what, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A server and a browser for the whole test file: started before its first test, stopped
 * after its last. Read `.server` and `.browser` inside the tests.
 */
/**
 * Server settings that turn every rate limit off, for tests that seed data or click far
 * faster than a person (each limit has its own tests, in Rust and widget-limits.test.mjs).
 */
export const NO_LIMITS = Object.fromEntries(
  ['new_sessions_per_ip', 'messages_per_visitor', 'messages_per_ip', 'messages_per_site', 'new_conversations_per_ip',
    'new_conversations_per_site', 'typing_per_visitor', 'page_views_per_visitor', 'track_per_visitor',
    'uploads_per_visitor', 'uploads_per_site', 'rest_per_token', 'rest_per_session', 'sign_in_per_account',
    'sign_in_lockout_per_account', 'sign_in_per_ip'].map((kind) => [`SWITCHBOARD__LIMITS__RATES__${kind.toUpperCase()}__BURST`, '0']),
);

export function serverAndBrowser(settings = {}) {
  const env = { server: undefined, browser: undefined };
  before(async () => {
    env.server = await startServer(settings);
    env.browser = await launchBrowser();
  });
  after(async () => {
    await env.browser?.close();
    env.server?.stop();
  });
  return env;
}

/**
 * A business's web server, on another site than Switchboard: `localhost` where the app
 * listens on `127.0.0.1`, so the widget's frame is cross-site (its storage partitioned).
 * `pages` maps a path to `{html, headers}`; every page is served with its headers.
 */
export async function hostSite(pages) {
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    const page = pages[new URL(req.url, 'http://x').pathname] ?? pages['/'];
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...(page.headers ?? {}) });
    res.end(page.html);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return { origin: `http://localhost:${port}`, close: () => server.close() };
}

/** A shop page embedding the widget with the snippet of docs/widget.md. */
export function shopPage(base, key, { lang = 'en', dir = 'ltr', head = '', body = '' } = {}) {
  return `<!doctype html><html lang="${lang}" dir="${dir}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Shop</title>${head}</head>
<body><main><h1>Shop</h1><p>Shoes, bags and more.</p>${body}</main>
<script src="${base}/widget.js" data-site="${key}" async></script></body></html>`;
}

/** The widget's parts on a page: the launcher (in the open shadow root) and the chat frame. */
export function widgetOn(page) {
  return {
    launcher: page.locator('switchboard-root .launcher'),
    badge: page.locator('switchboard-root .badge'),
    teaser: page.locator('switchboard-root .teaser'),
    panel: page.locator('switchboard-root .panel'),
    frame: page.frameLocator('switchboard-root iframe'),
  };
}

/** The owner's agent socket, so the team counts as online for visitors (see `visitor.mjs`). */
export { agentSocket as agentOnline } from './visitor.mjs';
