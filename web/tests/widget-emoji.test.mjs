// The widget's emoji picker (issue 12): a visitor opens it from the composer with the
// keyboard, moves with the arrow keys (mirrored right to left), picks one, and it lands
// where the caret was; sent, the agent's socket receives it. The picker's code and emoji
// load only when it first opens. Screenshots in English (light) and Persian (dark, phone).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { hostSite, serverAndBrowser, shopPage, shots, widgetOn } from './harness.mjs';
import { agentSocket } from './visitor.mjs';

const env = serverAndBrowser();
let host;
after(() => host?.close());

async function openChat(options, lang = 'en', dir = 'ltr') {
  host?.close();
  const appearance = lang === 'fa'
    ? { greeting: 'سلام! چطور می‌توانیم کمک کنیم؟', team_name: 'پشتیبانی', locale: 'fa' }
    : { greeting: 'Hi! How can we help?', team_name: 'Support', locale: 'en' };
  await env.server.api('PATCH', `/api/v1/sites/${env.server.site.id}`, { prechat_form: [], appearance: { color: '#1f6feb', position: 'end', ...appearance } });
  host = await hostSite({ '/': { html: shopPage(env.server.base, env.server.site.public_key, { lang, dir }) } });
  const context = await env.browser.newContext(options);
  const page = await context.newPage();
  const pickerRequests = [];
  page.on('request', (r) => /\/assets\/emoji-panel/.test(new URL(r.url()).pathname) && pickerRequests.push(r.url()));
  await page.goto(host.origin);
  const w = widgetOn(page);
  await w.launcher.click();
  return { context, page, frame: w.frame, pickerRequests };
}

test('a visitor picks an emoji with the keyboard, it lands at the caret, and the agent receives it', async () => {
  const agent = await agentSocket(env.server);
  const { context, page, frame, pickerRequests } = await openChat({ viewport: { width: 1280, height: 800 }, locale: 'en-GB' });
  const box = frame.getByRole('textbox', { name: 'Message' });
  await box.fill('Thanks  a lot');
  assert.equal(pickerRequests.length, 0, 'the picker is not loaded before it opens');
  // The caret between the two spaces.
  await box.evaluate((el) => el.setSelectionRange(7, 7));
  const toggle = frame.getByRole('button', { name: 'Add an emoji' });
  await toggle.focus();
  await page.keyboard.press('Enter');
  const panel = frame.getByRole('dialog', { name: 'Emoji' });
  await panel.waitFor();
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  assert.ok(pickerRequests.length > 0, 'the picker loads when it first opens');
  assert.equal(await panel.getByRole('group').count(), 4, 'four labelled groups');
  await panel.getByRole('group', { name: 'Gestures' }).waitFor();
  // Focus starts on the first emoji; two steps right, then one row down.
  assert.equal(await frame.locator('.emoji-panel button:focus').textContent(), '😀');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowDown');
  const chosen = await frame.locator('.emoji-panel button:focus').textContent();
  assert.equal(chosen, '😋');
  await page.screenshot({ path: path.join(shots, 'widget-emoji-ltr-light.png') });
  await page.keyboard.press('Enter');
  await panel.waitFor({ state: 'detached' });
  assert.equal(await box.inputValue(), 'Thanks 😋 a lot', 'at the caret');
  // The caret stays after the emoji: typing goes on from there.
  await box.press('!');
  assert.equal(await box.inputValue(), 'Thanks 😋! a lot');

  // Escape closes without picking and gives the focus back to the button.
  await toggle.click();
  await panel.waitFor();
  await page.keyboard.press('Escape');
  await panel.waitFor({ state: 'detached' });
  assert.equal(await frame.locator('.emoji-toggle:focus').count(), 1);

  await box.press('Enter');
  await agent.waitFor((f) => f.type === 'event' && f.event.kind === 'message' && f.event.message.body === 'Thanks 😋! a lot', 'the message with its emoji');
  agent.close();
  await context.close();
});

test('in Persian the picker reads right to left, dark, at phone width, and the arrows follow the text', async () => {
  const agent = await agentSocket(env.server);
  const { context, page, frame } = await openChat(
    { viewport: { width: 390, height: 844 }, locale: 'fa-IR', colorScheme: 'dark', isMobile: true, hasTouch: true },
    'fa',
    'rtl',
  );
  const box = frame.getByRole('textbox', { name: 'پیام' });
  await box.waitFor();
  await frame.getByRole('button', { name: 'افزودن ایموجی' }).click();
  const panel = frame.getByRole('dialog', { name: 'ایموجی‌ها' });
  await panel.getByRole('group', { name: 'شکلک‌ها' }).waitFor();
  assert.equal(await panel.evaluate((el) => getComputedStyle(el).direction), 'rtl');
  // The first emoji sits at the inline start: the right edge in Persian.
  const first = await frame.locator('.emoji-grid button').first().boundingBox();
  const second = await frame.locator('.emoji-grid button').nth(1).boundingBox();
  assert.ok(first.x > second.x, 'the grid runs right to left');
  // ArrowLeft moves forward in right-to-left text.
  await page.keyboard.press('ArrowLeft');
  assert.equal(await frame.locator('.emoji-panel button:focus').textContent(), '😃');
  await page.screenshot({ path: path.join(shots, 'widget-emoji-rtl-dark-phone.png') });
  await page.keyboard.press('Enter');
  assert.equal(await box.inputValue(), '😃');
  agent.close();
  await context.close();
});
