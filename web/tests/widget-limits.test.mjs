// The widget against a server whose message limit is tight: a visitor who writes faster
// than the limit sees their messages wait as "Sending…" (never "failed"), and every one
// arrives once, in order, as soon as the server allows it.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { serverAndBrowser, eventually, shots, hostSite, shopPage, widgetOn, agentOnline } from './harness.mjs';
import { messageBodies } from './helpers.mjs';

// Two messages in a row, then one every 1.5 s.
const env = serverAndBrowser({
  SWITCHBOARD__LIMITS__RATES__MESSAGES_PER_VISITOR__BURST: '2',
  SWITCHBOARD__LIMITS__RATES__MESSAGES_PER_VISITOR__EVERY_MS: '1500',
});
let host;
after(() => host?.close());

test('messages over the limit wait in the outbox and are sent, in order, when the server allows', async () => {
  const { base, site } = env.server;
  host = await hostSite({ '/': { html: shopPage(base, site.public_key) } });
  const agent = await agentOnline(env.server);
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const refused = [];
  page.on('websocket', (ws) => ws.on('framereceived', (f) => {
    if (typeof f.payload === 'string' && f.payload.includes('"rate_limited"')) refused.push(JSON.parse(f.payload));
  }));
  await page.goto(host.origin);
  const w = widgetOn(page);
  await w.launcher.click();
  const box = w.frame.getByRole('textbox', { name: 'Message' });
  const said = ['one', 'two', 'three', 'four'];
  await box.fill(said[0]);
  await box.press('Enter');
  await w.frame.locator('.line.mine', { hasText: 'one' }).locator('.state.sent').waitFor();
  for (const text of said.slice(1)) {
    await box.fill(text);
    await box.press('Enter');
  }
  await eventually(async () => refused.length > 0, 'the server refused one as rate_limited');
  assert.ok(refused.every((f) => f.retry_after_ms > 0 && f.ref), JSON.stringify(refused));
  await w.frame.locator('.line.mine', { hasText: 'four' }).locator('.meta', { hasText: 'Sending…' }).waitFor();
  await page.screenshot({ path: path.join(shots, 'widget-rate-limited.png') });
  assert.equal(await w.frame.locator('.line.mine.failed').count(), 0, 'nothing is shown as failed');

  await w.frame.locator('.line.mine', { hasText: 'four' }).locator('.state.sent').waitFor({ timeout: 15_000 });
  const conv = await eventually(async () => {
    const all = await env.server.api('GET', '/api/v1/conversations');
    return all.items[0] ?? null;
  }, 'the conversation');
  assert.deepEqual(await messageBodies(env.server, conv.id), said, 'each once, in order');
  agent.close();
  await context.close();
});

test('on a site asking for a proof of work, the widget solves the challenge without freezing and the chat starts', async () => {
  const { base, site, api } = env.server;
  const current = await api('GET', `/api/v1/sites/${site.id}`);
  await api('PATCH', `/api/v1/sites/${site.id}`, { appearance: { ...current.appearance, proof_of_work: true } });
  host?.close();
  host = await hostSite({ '/': { html: shopPage(base, site.public_key) } });
  const agent = await agentOnline(env.server);
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const seen = { required: 0, proved: 0 };
  page.on('websocket', (ws) => {
    ws.on('framereceived', (f) => { if (typeof f.payload === 'string' && f.payload.includes('"pow_required"')) seen.required += 1; });
    ws.on('framesent', (f) => { if (typeof f.payload === 'string' && f.payload.includes('"nonce"')) seen.proved += 1; });
  });
  await page.goto(host.origin);
  const w = widgetOn(page);
  await w.launcher.click();
  const box = w.frame.getByRole('textbox', { name: 'Message' });
  await box.fill('Hello from a guarded site');
  await box.press('Enter');
  // The page still answers while the browser works (often well under a second): typing goes on.
  await box.fill('still typing');
  assert.equal(await box.inputValue(), 'still typing');
  await w.frame.locator('.line.mine', { hasText: 'Hello from a guarded site' }).locator('.state.sent').waitFor({ timeout: 20_000 });
  await page.screenshot({ path: path.join(shots, 'widget-proof-of-work.png') });
  assert.deepEqual(seen, { required: 1, proved: 1 }, 'asked once, proved once');
  const all = await api('GET', '/api/v1/conversations');
  const bodiesOfAll = await Promise.all(all.items.map((c) => messageBodies(env.server, c.id)));
  assert.ok(bodiesOfAll.some((b) => b.includes('Hello from a guarded site')), JSON.stringify(bodiesOfAll));
  agent.close();
  await context.close();
});
