// The inbox's budgets, measured in the browser and printed: the first load of /app
// (script and style, gzip), opening a conversation of 5,000 messages (the DOM stays
// bounded; older pages load on scroll), and 10,000 open conversations paged by cursor.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { root, serverAndBrowser, NO_LIMITS } from './harness.mjs';
import { addAgent, signIn } from './helpers.mjs';
import { visitor } from './visitor.mjs';

const env = serverAndBrowser(NO_LIMITS);
const KB = 1024;

test('budget: the first load of /app is at most 150 KB gzip of script and style', async () => {
  const gil = await addAgent(env.server, 'Gil');
  const page = await signIn(env, gil);
  // A fresh tab (empty cache, the session cookie kept) opens the inbox.
  const fresh = await page.context().newPage();
  const downloaded = [];
  fresh.on('requestfinished', async (request) => {
    const type = request.resourceType();
    if (type !== 'script' && type !== 'stylesheet') return;
    const response = await request.response();
    downloaded.push({ url: new URL(request.url()).pathname, encoding: response?.headers()['content-encoding'] ?? 'identity' });
  });
  await fresh.goto(`${env.server.base}/app`);
  await fresh.locator('.list-pane').waitFor();
  await fresh.waitForLoadState('networkidle');
  // The browser took brotli; the budget is in gzip, whose size is the `.gz` the server holds.
  const gzip = downloaded.reduce((sum, d) => sum + statSync(path.join(root, 'web/dist', `${d.url}.gz`)).size, 0);
  const brotli = downloaded.reduce((sum, d) => sum + statSync(path.join(root, 'web/dist', `${d.url}.br`)).size, 0);
  const encodings = [...new Set(downloaded.map((d) => d.encoding))].join(', ');
  console.log(`budget /app first load: ${downloaded.length} files, ${(gzip / KB).toFixed(1)} KB gzip, ${(brotli / KB).toFixed(1)} KB brotli (downloaded as ${encodings}); budget 150 KB gzip`);
  assert.ok(downloaded.some((d) => d.url.includes('Inbox')), 'the inbox chunk was part of the load');
  assert.ok(gzip <= 150 * KB, `first load is ${(gzip / KB).toFixed(1)} KB gzip`);
  await page.context().close();
});

test('budget: a conversation of 5,000 messages opens fast with a bounded DOM and pages back on scroll', async () => {
  const v = await visitor(env.server.base, env.server.site.public_key);
  await v.say('message 1');
  const id = v.conversationId;
  v.close();
  // 4,999 more, as agent replies over REST, a few at a time.
  let next = 2;
  const worker = async () => {
    while (next <= 5000) {
      const n = next++;
      await env.server.api('POST', `/api/v1/conversations/${id}/messages`, { body: `message ${n}` });
    }
  };
  await Promise.all(Array.from({ length: 12 }, worker));

  const hana = await addAgent(env.server, 'Hana');
  const page = await signIn(env, hana);
  const started = Date.now();
  await page.goto(`${env.server.base}/app/c/${id}`);
  await page.locator('.bubble .body', { hasText: /^message 5000$/ }).waitFor();
  const opened = Date.now() - started;
  const shown = await page.locator('.transcript .bubble').count();
  const nodes = await page.evaluate(() => document.querySelectorAll('*').length);
  // Scrolling to the top brings the previous page and keeps the reader's place.
  const oldest = await page.locator('.transcript .bubble .body').first().textContent();
  await page.locator('.transcript').evaluate((el) => (el.scrollTop = 0));
  await page.locator('.transcript .bubble').nth(shown).waitFor();
  const after = await page.locator('.transcript .bubble').count();
  const stillVisible = await page.locator('.transcript .bubble .body', { hasText: new RegExp(`^${oldest}$`) }).evaluate((el) => {
    const box = el.getBoundingClientRect();
    const view = el.closest('.transcript').getBoundingClientRect();
    return box.bottom > view.top && box.top < view.bottom;
  });
  console.log(`budget 5,000 messages: opened in ${opened} ms showing ${shown} messages (${nodes} DOM elements); one scroll up loaded ${after - shown} more`);
  assert.ok(shown <= 100, `only the latest pages are rendered, at most two of fifty (${shown})`);
  assert.ok(nodes < 1500, `the DOM stays bounded (${nodes} elements)`);
  assert.ok(after > shown && after <= shown + 100, `older pages arrive on scroll, at most two of fifty at a time (${after - shown})`);
  assert.ok(stillVisible, 'the message the reader was looking at stays in view');
  assert.ok(opened < 5000, `opened in ${opened} ms`);
  await page.context().close();
});

test('budget: 10,000 open conversations page through the list by cursor', async () => {
  // Fifty visitors start two hundred each, side by side (a send without
  // conversation_id starts a new conversation; one socket handles its sends in turn).
  const TOTAL = 10_000;
  const VISITORS = 50;
  const seeding = Date.now();
  let acked = 0;
  await Promise.all(
    Array.from({ length: VISITORS }, async (_, n) => {
      const v = await visitor(env.server.base, env.server.site.public_key);
      for (let i = 0; i < TOTAL / VISITORS; i++) {
        await v.start(`bulk-${n}-${i}`, `hello ${i}`);
        acked++;
      }
      v.close();
    }),
  );
  console.log(`seeded ${acked} conversations in ${Date.now() - seeding} ms`);
  assert.equal(acked, TOTAL);

  // The cursor API reaches every one, each once.
  const seen = new Set();
  let cursor = null;
  let pages = 0;
  do {
    const page = await env.server.api('GET', `/api/v1/conversations?status=open&limit=200${cursor ? `&cursor=${cursor}` : ''}`);
    for (const c of page.items) seen.add(c.id);
    cursor = page.next_cursor;
    pages++;
  } while (cursor);
  assert.ok(seen.size >= TOTAL, `the cursor reached ${seen.size} conversations`);

  const ida = await addAgent(env.server, 'Ida');
  const page = await signIn(env, ida);
  // The rows' contacts (names) are read a page at a time, never one request per row.
  const contactReads = { one: 0, batch: 0 };
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (/^\/api\/v1\/contacts\/[^/]+$/.test(url.pathname)) contactReads.one++;
    if (url.pathname === '/api/v1/contacts' && url.searchParams.has('ids')) contactReads.batch++;
  });
  await page.getByRole('tab', { name: 'All' }).click();
  const rows = page.locator('.conversations .row');
  await rows.nth(49).waitFor();
  const times = [];
  for (let n = 1; n <= 10; n++) {
    const before = Date.now();
    await page.locator('.conversations').evaluate((el) => (el.scrollTop = el.scrollHeight));
    await rows.nth(50 * (n + 1) - 1).waitFor();
    times.push(Date.now() - before);
  }
  const count = await rows.count();
  times.sort((a, b) => a - b);
  console.log(`budget 10,000 conversations: the API paged through ${seen.size} in ${pages} pages; the list scrolled to ${count} rows, page p50 ${times[5]} ms, max ${times.at(-1)} ms`);
  assert.equal(count, 550, 'eleven pages of fifty, each once');
  assert.equal(contactReads.one, 0, 'no contact read one row at a time');
  assert.ok(contactReads.batch >= 1 && contactReads.batch <= 11, `contacts read a page at a time (${contactReads.batch} requests for 11 pages)`);
  assert.ok(times.at(-1) < 3000, 'each page arrives within 3 s');
  await page.context().close();
});
