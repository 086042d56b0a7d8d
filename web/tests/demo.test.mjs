// `switchboard demo` (what `cargo xtask demo` runs): the demo shop it serves on another
// port embeds the real widget, and the chat page it prints opens the same chat; the
// login it prints opens a living inbox (conversations in five languages, a second agent,
// canned responses), seeded once however often the demo runs.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { root, launchBrowser, widgetOn } from './harness.mjs';

const bin = process.env.SWITCHBOARD_BIN ?? path.join(root, 'target/debug/switchboard');
let child;
let browser;
after(async () => {
  await browser?.close();
  child?.kill('SIGTERM');
});

/** Runs `switchboard demo` on `data` until it listens; resolves with what it printed. */
async function demo(data) {
  child = spawn(bin, ['--data', data, '--listen', '127.0.0.1:0', 'demo'], {
    env: { ...process.env, SWITCHBOARD__LOG__LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const printed = {};
  await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = line.match(/^\s+(Demo shop|Chat page|Dashboard|Owner|Agent):\s+(\S+)(?:\s+password (\S+))?/);
      if (m) printed[m[1]] = m[3] ? { email: m[2], password: m[3] } : m[2];
      if (/^Switchboard is listening on /.test(line)) resolve();
    });
    child.on('exit', (code) => reject(new Error(`switchboard demo exited with ${code}`)));
  });
  return printed;
}

async function stop() {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Signs in over the API with a printed login; returns a GET helper. */
async function signIn(base, { email, password }) {
  const res = await fetch(`${base}/api/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  assert.equal(res.status, 200, `${email} signs in with the printed password`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  return async (p) => (await fetch(`${base}${p}`, { headers: { cookie } })).json();
}

test('the demo prints a shop on another origin that embeds the widget, and the chat page', async () => {
  const printed = await demo(mkdtempSync(path.join(tmpdir(), 'sb-demo-')));
  const shop = new URL(printed['Demo shop']);
  const chat = new URL(printed['Chat page']);
  assert.notEqual(shop.origin, chat.origin, 'the shop is another origin than the server');

  browser = await launchBrowser();
  const page = await browser.newPage();
  await page.goto(shop.href);
  const w = widgetOn(page);
  await w.launcher.click();
  await w.frame.getByRole('heading', { name: 'Leave us a message' }).waitFor();
  await page.goto(chat.href);
  await page.getByRole('heading', { name: 'Leave us a message' }).waitFor();
});

test('the printed login opens a living inbox in five languages, with a second agent and canned responses, seeded once', async () => {
  if (child && child.exitCode === null) await stop();
  const data = mkdtempSync(path.join(tmpdir(), 'sb-demo-'));
  const first = await demo(data);
  const base = new URL(first.Dashboard).origin;
  assert.equal(first.Dashboard, `${base}/app`);
  const names = ['Emily Carter', 'أحمد المصري', 'مریم احمدی', 'נועה כהן', 'Mehmet Yılmaz'];

  browser ??= await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(first.Dashboard);
  await page.locator('input[type=email]').fill(first.Owner.email);
  await page.locator('input[name=password]').fill(first.Owner.password);
  await page.locator('button[type=submit]').click();
  await page.getByRole('tab', { name: /^All/ }).click();
  // The open ones are in All; the resolved one under Resolved.
  for (const name of ['Emily Carter', 'مریم احمدی']) await page.locator('.conversations .row', { hasText: name }).waitFor();
  await page.getByRole('tab', { name: /^Resolved/ }).click();
  await page.locator('.conversations .row', { hasText: 'أحمد المصري' }).waitFor();
  await page.close();

  const asLeyla = await signIn(base, first.Agent);
  const seeded = async (get) => ({
    conversations: await ['open', 'pending', 'snoozed', 'resolved'].reduce(
      async (n, status) => (await n) + (await get(`/api/v1/conversations?status=${status}&limit=100`)).items.length, 0),
    agents: (await get('/api/v1/agents')).length,
    canned: (await get('/api/v1/canned-responses')).filter((c) => !c.owner_id).length,
  });
  const once = await seeded(asLeyla);
  assert.ok(once.conversations >= names.length && once.agents === 2 && once.canned >= 3, JSON.stringify(once));

  // A second run on the same data adds nothing, and prints fresh passwords that work.
  await stop();
  const second = await demo(data);
  const again = await seeded(await signIn(new URL(second.Dashboard).origin, second.Owner));
  assert.deepEqual(again, once);
});
