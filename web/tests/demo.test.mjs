// The demo page in a real browser: a visitor writes, the team answers over the API,
// the answer appears; right-to-left sites mirror the page and the chat box.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { serverAndBrowser, eventually, shots } from './harness.mjs';

const env = serverAndBrowser();

test('a visitor writes from the demo page and sees the agent reply', async () => {
  const page = await env.browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${env.server.base}/demo?site=${env.server.site.public_key}`);
  await page.locator('#title', { hasText: 'Support' }).waitFor();

  await page.fill('#text', 'سلام! Where is my order #42?');
  await page.press('#text', 'Enter');

  const list = await eventually(async () => {
    const page = await env.server.api('GET', '/api/v1/conversations');
    return page.items.length === 1 && page.items[0];
  }, 'the conversation to reach the inbox');
  const history = await env.server.api('GET', `/api/v1/conversations/${list.id}/messages`);
  const bodies = history.items.filter((e) => e.kind === 'message').map((e) => e.message.body);
  assert.deepEqual(bodies, ['سلام! Where is my order #42?']);

  await env.server.api('POST', `/api/v1/conversations/${list.id}/messages`, { body: 'It left the warehouse today.' });
  await page.locator('.m:not(.me)', { hasText: 'It left the warehouse today.' }).waitFor();
  // The visitor's own bubble stops looking pending once the server acknowledged it.
  await page.locator('.m.me:not(.pending)', { hasText: 'Where is my order' }).waitFor();
  await page.screenshot({ path: path.join(shots, 'demo-ltr-desktop.png') });

  // A reload resumes the same conversation from the stored token and cursor.
  await page.reload();
  await page.locator('#title', { hasText: 'Support' }).waitFor();
  await page.fill('#text', 'Thanks!');
  await page.press('#text', 'Enter');
  await eventually(async () => {
    const h = await env.server.api('GET', `/api/v1/conversations/${list.id}/messages`);
    return h.items.some((e) => e.kind === 'message' && e.message.body === 'Thanks!');
  }, 'the second message to join the same conversation');
  const all = await env.server.api('GET', '/api/v1/conversations');
  assert.equal(all.items.length, 1, 'no second conversation after a reload');
  await page.close();
});

test('an Arabic site turns the page and the chat box right to left on a phone', async () => {
  await env.server.api('PATCH', `/api/v1/sites/${env.server.site.id}`, {
    appearance: { color: '#0b7a53', position: 'end', greeting: 'مرحبا! كيف يمكننا المساعدة؟', team_name: 'الدعم', locale: 'ar' },
  });
  const page = await env.browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
  await page.goto(`${env.server.base}/demo?site=${env.server.site.public_key}`);
  await page.locator('#title', { hasText: 'الدعم' }).waitFor();
  assert.equal(await page.getAttribute('#chat', 'dir'), 'rtl');
  assert.equal(await page.getAttribute('#chat', 'lang'), 'ar');
  assert.notEqual(await page.getAttribute('html', 'dir'), 'rtl', 'the host page keeps its own direction');
  const accent = await page.locator('header').evaluate((h) => getComputedStyle(h).backgroundColor);
  assert.equal(accent, 'rgb(11, 122, 83)', 'the site colour');

  await page.fill('#text', 'أين طلبي؟');
  await page.press('#text', 'Enter');
  await page.locator('.m.me:not(.pending)', { hasText: 'أين طلبي؟' }).waitFor();

  // Logical CSS: in RTL the "end" corner and the visitor's own bubbles are on the left.
  const box = await page.locator('#chat').boundingBox();
  const mine = await page.locator('.m.me').last().boundingBox();
  const log = await page.locator('#log').boundingBox();
  assert.ok(box.x < 390 - (box.x + box.width) + 1, 'the chat box hugs the left edge');
  assert.ok(mine.x - log.x < 40, 'the visitor’s bubble starts at the left of the log');
  await page.screenshot({ path: path.join(shots, 'demo-rtl-phone.png') });
  await page.close();
});
