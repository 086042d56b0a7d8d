// How the widget and the chat page look and weigh: Persian and Arabic right to left at
// phone width, English at desktop width (screenshots in target/browser/ to look at), the
// chat page with pre-filled fields, the size budgets measured on what the browser
// downloads, and axe-core on the launcher, the chat frame and the chat page.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { serverAndBrowser, eventually, shots, hostSite, shopPage, widgetOn, agentOnline } from './harness.mjs';
import { messageBodies, seriousViolations } from './helpers.mjs';

const env = serverAndBrowser();
let host;
after(() => host?.close());

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 };
const DESKTOP = { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 };

async function appearance(changes) {
  await env.server.api('PATCH', `/api/v1/sites/${env.server.site.id}`, { appearance: changes });
}

test('Persian at phone width: the widget mirrors, fills the screen, and writes Persian digits', async () => {
  await appearance({ color: '#0b7a53', position: 'end', greeting: 'سلام! چطور می‌توانیم کمک کنیم؟', team_name: 'پشتیبانی', locale: 'fa' });
  const { base, site } = env.server;
  host?.close();
  host = await hostSite({ '/': { html: shopPage(base, site.public_key, { lang: 'fa', dir: 'rtl' }) } });
  const agent = await agentOnline(env.server);
  const context = await env.browser.newContext({ ...PHONE, locale: 'fa-IR', reducedMotion: 'reduce' });
  const page = await context.newPage();
  await page.goto(host.origin);
  const w = widgetOn(page);
  const launcher = await w.launcher.boundingBox();
  assert.ok(launcher.x < 390 / 2, 'in right to left, "end" is the left corner');
  await page.screenshot({ path: path.join(shots, 'widget-rtl-phone-closed.png') });
  await w.launcher.click();
  await w.frame.getByRole('textbox', { name: 'پیام' }).waitFor();
  const frame = page.frames().find((f) => f.url().includes('/widget/frame'));
  assert.equal(await frame.evaluate(() => document.documentElement.dir), 'rtl');
  assert.equal(await frame.evaluate(() => document.documentElement.lang.slice(0, 2)), 'fa');
  const panel = await page.locator('switchboard-root iframe').boundingBox();
  assert.deepEqual([panel.x, panel.width, panel.height], [0, 390, 844], 'the panel covers the phone’s screen');
  const fontSize = await w.frame.getByRole('textbox', { name: 'پیام' }).evaluate((t) => getComputedStyle(t).fontSize);
  assert.equal(fontSize, '16px', 'no zoom on focus on iOS');

  const box = w.frame.getByRole('textbox', { name: 'پیام' });
  await box.fill('سفارش من کجاست؟ order #1042');
  await box.press('Enter');
  await w.frame.locator('.line.mine .state.sent').waitFor();
  const conv = await eventually(async () => {
    const all = await env.server.api('GET', '/api/v1/conversations?status=open');
    for (const c of all.items) if ((await messageBodies(env.server, c.id)).includes('سفارش من کجاست؟ order #1042')) return c;
    return null;
  }, 'the Persian conversation');
  await env.server.api('POST', `/api/v1/conversations/${conv.id}/messages`, { body: 'Your parcel ships today — بسته شما امروز ارسال می‌شود' });
  await w.frame.locator('.line.team', { hasText: 'Your parcel' }).waitFor();
  // Bubbles: the visitor's own on the left (the end in RTL), the team's on the right.
  const mine = await w.frame.locator('.line.mine .bubble').last().boundingBox();
  const theirs = await w.frame.locator('.line.team .bubble').last().boundingBox();
  assert.ok(mine.x + mine.width <= theirs.x + theirs.width, 'the visitor’s bubble sits to the left of the team’s');
  assert.equal(await w.frame.locator('.line.team .bubble').last().getAttribute('dir'), 'auto');
  const stamp = await w.frame.locator('.line.team time').last().textContent();
  assert.match(stamp, /[۰-۹]/, `Persian digits in the time (${stamp})`);
  const send = await w.frame.locator('.send svg').evaluate((s) => getComputedStyle(s).transform);
  assert.notEqual(send, 'none', 'the send arrow points left');
  await page.screenshot({ path: path.join(shots, 'widget-rtl-phone.png') });
  agent.close();
  await context.close();
});

test('the chat page in Arabic at phone width, with the name, e-mail and first message from the link', async () => {
  await appearance({ color: '#8250df', position: 'end', greeting: 'مرحبا! كيف يمكننا المساعدة؟', team_name: 'الدعم', locale: 'ar-EG' });
  await env.server.api('PATCH', `/api/v1/sites/${env.server.site.id}`, {
    prechat_form: [
      { key: 'name', label: 'الاسم', kind: 'text', required: true },
      { key: 'email', label: 'البريد الإلكتروني', kind: 'email', required: true },
    ],
  });
  const agent = await agentOnline(env.server);
  const context = await env.browser.newContext({ ...PHONE, locale: 'ar-EG' });
  const page = await context.newPage();
  const { base, site } = env.server;
  const response = await page.goto(`${base}/chat/${site.public_key}?name=${encodeURIComponent('ليلى')}&email=laila%40example.com&message=${encodeURIComponent('أين طلبي؟')}`);
  assert.match(response.headers()['content-security-policy'], /frame-ancestors 'none'/);
  await page.getByLabel('الاسم').waitFor();
  assert.equal(await page.getByLabel('الاسم').inputValue(), 'ليلى');
  assert.equal(await page.getByLabel('البريد الإلكتروني').inputValue(), 'laila@example.com');
  assert.equal(await page.evaluate(() => document.documentElement.dir), 'rtl');
  // On a phone the page is the chat, edge to edge: no column borders.
  const edges = await page.locator('.app').evaluate((el) => [getComputedStyle(el).borderInlineStartWidth, getComputedStyle(el).borderInlineEndWidth]);
  assert.deepEqual(edges, ['0px', '0px'], 'no side borders at phone width');
  await page.screenshot({ path: path.join(shots, 'chat-page-rtl-phone-prechat.png') });
  await page.getByRole('button', { name: 'ابدأ المحادثة' }).click();
  const box = page.getByRole('textbox', { name: 'الرسالة' });
  assert.equal(await box.inputValue(), 'أين طلبي؟', 'the first message is pre-filled');
  await box.press('Enter');
  await page.locator('.line.mine .state.sent').waitFor();
  const stamp = await page.locator('.line.mine time').last().textContent();
  assert.match(stamp, /[٠-٩]/, `Egyptian Arabic writes Arabic-Indic digits (${stamp})`);
  const conv = await eventually(async () => {
    const all = await env.server.api('GET', '/api/v1/conversations?status=open');
    for (const c of all.items) if ((await messageBodies(env.server, c.id)).includes('أين طلبي؟')) return c;
    return null;
  }, 'the chat page’s conversation');
  const contact = await env.server.api('GET', `/api/v1/contacts/${conv.contact_id}`);
  assert.equal(contact.name, 'ليلى');
  await page.screenshot({ path: path.join(shots, 'chat-page-rtl-phone.png') });
  assert.deepEqual(await seriousViolations(page), [], 'axe on the chat page');
  agent.close();
  await context.close();
});

test('size budgets: the loader (every script and file of words a page downloads before the chat opens) at most 5 KB, and everything by the first open at most 40 KB (gzip -9)', async () => {
  await appearance({ color: '#1f6feb', position: 'end', greeting: 'Hi! How can we help?', team_name: 'Support', locale: 'en' });
  const { base, site } = env.server;
  host?.close();
  host = await hostSite({ '/': { html: shopPage(base, site.public_key) } });
  const context = await env.browser.newContext(DESKTOP);
  const page = await context.newPage();
  const downloads = [];
  page.on('response', async (r) => {
    if (!r.url().startsWith(base) || r.request().resourceType() === 'websocket') return;
    try {
      downloads.push({ url: r.url().slice(base.length), gz: gzipSync(await r.body(), { level: 9 }).length });
    } catch {
      // A response without a body (a redirect).
    }
  });
  await page.goto(host.origin);
  await widgetOn(page).launcher.waitFor();
  await eventually(async () => downloads.some((d) => d.url.startsWith('/api/v1/widget/')), 'the site’s appearance');
  // The site's settings are data, not the loader: printed, not budgeted.
  const settings = (d) => d.url.startsWith('/api/v1/widget/');
  const before = downloads.slice();
  const loader = before.filter((d) => !settings(d)).reduce((n, d) => n + d.gz, 0);
  const data = before.filter(settings).reduce((n, d) => n + d.gz, 0);
  await widgetOn(page).launcher.click();
  await widgetOn(page).frame.locator('.app').waitFor();
  await page.waitForLoadState('networkidle');
  const all = downloads.reduce((n, d) => n + d.gz, 0);
  const kb = (n) => (n / 1024).toFixed(2);
  console.log(`# widget budgets (gzip -9): loader ${kb(loader)} KB of 5; the site's settings ${kb(data)} KB; before the first open ${kb(loader + data)} KB; by the first open ${kb(all)} KB of 40`);
  for (const d of downloads) console.log(`#   ${d.url}  ${(d.gz / 1024).toFixed(2)} KB`);
  // A page where nobody opens the chat pays for the loader (with tracking, issue 15) and the
  // site's settings; the chat part and the frame come with the first open.
  assert.ok(before.some((d) => d.url === '/widget.js'), 'the loader was measured');
  assert.ok(loader <= 5 * 1024, `the loader ${loader} B`);
  assert.ok(!before.some((d) => d.url.includes('widget-chat')), 'no chat part before the first open');
  assert.ok(all <= 40 * 1024, `first open ${all} B`);
  assert.ok(!downloads.slice(0, 2).some((d) => d.url.startsWith('/widget/frame')), 'no frame before the first open');

  assert.deepEqual(await seriousViolations(page), [], 'axe on the host page with the launcher');
  const frame = page.frames().find((f) => f.url().includes('/widget/frame'));
  assert.deepEqual(await seriousViolations(frame), [], 'axe in the chat frame');
  await page.screenshot({ path: path.join(shots, 'widget-ltr-desktop-offline-form.png') });
  await context.close();
});

test('keyboard: the launcher opens with Enter, focus moves into the panel, Escape closes and returns to the launcher', async () => {
  const { base, site } = env.server;
  host?.close();
  host = await hostSite({ '/': { html: shopPage(base, site.public_key) } });
  const agent = await agentOnline(env.server);
  const context = await env.browser.newContext(DESKTOP);
  const page = await context.newPage();
  await page.goto(host.origin);
  const w = widgetOn(page);
  await w.launcher.focus();
  await page.keyboard.press('Enter');
  await w.frame.getByLabel('الاسم').or(w.frame.getByRole('textbox', { name: 'Message' })).first().waitFor();
  await eventually(() => page.evaluate(() => document.activeElement?.tagName === 'SWITCHBOARD-ROOT'), 'focus inside the widget');
  await page.keyboard.press('Escape');
  await w.panel.waitFor({ state: 'hidden' });
  assert.equal(await page.evaluate(() => document.activeElement?.shadowRoot?.activeElement?.className), 'launcher');
  agent.close();
  await context.close();
});

test('Hebrew at desktop width and English at phone width: the launcher side, the panel size', async () => {
  const { base, site } = env.server;
  const agent = await agentOnline(env.server);
  for (const [name, locale, options] of [['he-desktop', 'he', DESKTOP], ['en-phone', 'en', PHONE]]) {
    await appearance({ color: '#cf222e', position: 'end', greeting: locale === 'he' ? 'שלום! איך נוכל לעזור?' : 'Hi! How can we help?', team_name: locale === 'he' ? 'תמיכה' : 'Support', locale });
    host?.close();
    host = await hostSite({ '/': { html: shopPage(base, site.public_key, { lang: locale, dir: locale === 'he' ? 'rtl' : 'ltr' }) } });
    const context = await env.browser.newContext({ ...options, reducedMotion: 'reduce' });
    const page = await context.newPage();
    await page.goto(host.origin);
    const w = widgetOn(page);
    const launcher = await w.launcher.boundingBox();
    const width = options.viewport.width;
    if (locale === 'he') assert.ok(launcher.x < width / 2, 'Hebrew: the launcher at the left');
    else assert.ok(launcher.x > width / 2, 'English: the launcher at the right');
    await page.screenshot({ path: path.join(shots, `widget-${name}-closed.png`) });
    await w.launcher.click();
    await w.frame.locator('.app').waitFor();
    const panel = await page.locator('switchboard-root iframe').boundingBox();
    if (locale === 'en') assert.deepEqual([panel.x, panel.width, panel.height], [0, 390, 844], 'full screen on a phone');
    else assert.ok(panel.x < width / 2 && panel.width === 380, 'a panel at the left on a desktop');
    await page.screenshot({ path: path.join(shots, `widget-${name}.png`) });
    await context.close();
  }
  agent.close();
});
