// Starts the real `switchboard` binary on a random port with a fresh data directory,
// seeds a workspace through its CLI and REST API, and launches Debian's Chromium.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';

export const root = path.resolve(import.meta.dirname, '../..');
const bin = process.env.SWITCHBOARD_BIN ?? path.join(root, 'target/debug/switchboard');
export const shots = path.join(root, 'target/browser');
mkdirSync(shots, { recursive: true });

const OWNER = { email: 'boss@shop.example', password: 'a long enough password' };

/** A running server with an admin API token and one site. */
export async function startServer() {
  const data = mkdtempSync(path.join(tmpdir(), 'sb-browser-'));
  const env = { ...process.env, SWITCHBOARD__LOG__LEVEL: 'warn' };
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
  return { base, api, site, restart, stop: () => child.kill('SIGTERM') };
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
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
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
export function serverAndBrowser() {
  const env = { server: undefined, browser: undefined };
  before(async () => {
    env.server = await startServer();
    env.browser = await launchBrowser();
  });
  after(async () => {
    await env.browser?.close();
    env.server?.stop();
  });
  return env;
}
