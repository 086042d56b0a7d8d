// Live visitors from the widget's side (issue 15, and issue 12's lost `track` events): a
// page with the widget but no chat reports its pages on the loader's own socket, keeps
// quiet before consent or when tracking is off, shows agents' and rules' invitations in
// the bubble beside the launcher (screenshots in target/browser/), and a site that refuses
// the page's origin draws nothing and throws nothing into the page.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { OWNER, serverAndBrowser, eventually, shots, hostSite, shopPage, widgetOn, NO_LIMITS } from './harness.mjs';
import { addSite, asAgent } from './helpers.mjs';

const env = serverAndBrowser(NO_LIMITS);
const hosts = [];
after(() => hosts.forEach((h) => h.close()));

const DESKTOP = { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 };
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 };
/** The tag manager's snippet: commands queue until the loader runs them. */
const QUEUE = `<script>window.Switchboard = window.Switchboard || function () { (Switchboard.q = Switchboard.q || []).push(arguments); };</script>`;

/** The shop's pages, each embedding the widget of `site`; `/b` navigates in place (pushState). */
async function shop(site, { head = '', lang = 'en', dir = 'ltr' } = {}) {
  const { base } = env.server;
  const spa = `<button id="spa" onclick="history.pushState({}, '', '/b/sizes'); document.title = 'Sizes'">Sizes</button>`;
  const page = (title, body = '') => ({ html: shopPage(base, site.public_key, { head, lang, dir, body }).replace('<title>Shop</title>', `<title>${title}</title>`) });
  const host = await hostSite({ '/': page('Home'), '/a': page('Shoes'), '/b': page('Bags', spa) });
  hosts.push(host);
  return host;
}

const live = async (site) => (await env.server.api('GET', `/api/v1/visitors/live?site_id=${site.id}`)).visitors;
const listedAt = (site, url) => eventually(async () => (await live(site)).find((v) => v.url === url), `the live list showing ${url}`);
/** Resolves once the loader has its site's settings (and so has opened its socket, if any). */
const ready = (page) => page.evaluate(() => new Promise((resolve) => window.Switchboard('on', 'ready', resolve)));

test('a visitor browses three pages without opening the chat, and the team sees each one; a track() before the socket arrives', async () => {
  const site = await addSite(env.server, 'Live shop');
  const host = await shop(site, { head: `${QUEUE}<script>Switchboard('track', 'purchase', { value: 49.9 })</script>` });
  const context = await env.browser.newContext(DESKTOP);
  const page = await context.newPage();
  // Each socket of the tab (the launcher's, then the frame's), with the pages it sent.
  const sockets = [];
  page.on('websocket', (ws) => {
    const socket = { ws, pages: 0 };
    ws.on('framesent', (f) => {
      if (typeof f.payload === 'string' && f.payload.includes('"type":"page"')) socket.pages += 1;
    });
    sockets.push(socket);
  });
  await page.goto(`${host.origin}/a`);
  const first = await listedAt(site, `${host.origin}/a`);
  assert.equal(first.title, 'Shoes');
  await page.goto(`${host.origin}/b`);
  await listedAt(site, `${host.origin}/b`);
  await page.locator('#spa').click();
  const spa = await listedAt(site, `${host.origin}/b/sizes`);
  assert.equal(spa.title, 'Sizes', 'the title the page set right after pushState');
  assert.ok(spa.pages_this_visit >= 3, `three pages this visit (${spa.pages_this_visit})`);
  assert.equal(await page.locator('switchboard-root iframe').count(), 0, 'the chat never loaded');

  // Opening the chat hands the tab to the frame's socket: the launcher's closes, so the
  // team still sees one tab. The frame's socket reports the page it took over, which the
  // server counts as the same view (the tab, not a fourth page).
  const launcher = sockets.at(-1);
  assert.ok(launcher && !launcher.ws.isClosed(), 'the launcher holds a socket before the chat opens');
  await widgetOn(page).launcher.click();
  await widgetOn(page).frame.locator('.app').waitFor();
  await eventually(async () => {
    const frame = sockets.at(-1);
    return frame !== launcher && frame.pages > 0 && launcher.ws.isClosed() ? frame : null;
  }, 'the frame’s socket reporting the page');
  const handed = await eventually(async () => {
    const row = (await live(site)).find((v) => v.contact_id === spa.contact_id);
    return row && row.tabs === 1 ? row : null;
  }, 'one tab after the handover');
  assert.equal(handed.url, `${host.origin}/b/sizes`);
  assert.equal(handed.pages_this_visit, spa.pages_this_visit, 'the page taken over is not counted again');

  const events = await eventually(async () => {
    const got = await env.server.api('GET', `/api/v1/contacts/${spa.contact_id}/events`);
    return got.items.filter((e) => e.name === 'purchase').length ? got.items : null;
  }, 'the purchase on the contact');
  assert.equal(events.filter((e) => e.name === 'purchase').length, 2, 'one purchase per page load that tracked it, none lost');
  assert.equal(events[0].data.value, 49.9);
  await context.close();
});

test('a track() made while the server restarts arrives once the loader has reconnected', async () => {
  const site = await addSite(env.server, 'Restarts');
  const host = await shop(site);
  const context = await env.browser.newContext(DESKTOP);
  const page = await context.newPage();
  await page.goto(`${host.origin}/a`);
  const row = await listedAt(site, `${host.origin}/a`);
  // Sent while the server stops: on a socket about to close, or queued for the next one.
  const restarted = env.server.restart();
  await page.evaluate(() => window.Switchboard('track', 'added_to_cart', { sku: 'SHOE-42' }));
  await restarted;
  const events = await eventually(async () => {
    const got = await env.server.api('GET', `/api/v1/contacts/${row.contact_id}/events`);
    return got.items.some((e) => e.name === 'added_to_cart') ? got.items : null;
  }, 'the event tracked during the restart', 40_000);
  assert.equal(events.find((e) => e.name === 'added_to_cart').data.sku, 'SHOE-42');
  await listedAt(site, `${host.origin}/a`);
  await context.close();
});

test('tracking off sends nothing; a consent site waits for Switchboard("consent", true), and withdrawing leaves the list', async () => {
  const off = await addSite(env.server, 'No tracking', { tracking: 'off' });
  const hostOff = await shop(off);
  const context = await env.browser.newContext(DESKTOP);
  const page = await context.newPage();
  const sockets = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  await page.goto(`${hostOff.origin}/a`);
  await ready(page);
  await page.evaluate(() => new Promise((r) => setTimeout(r, 0)));
  assert.deepEqual(sockets, [], 'no socket on a site that does not track');
  assert.deepEqual(await live(off), []);

  const ask = await addSite(env.server, 'Asks first', { tracking: 'consent' });
  const hostAsk = await shop(ask);
  await page.goto(`${hostAsk.origin}/a`);
  await ready(page);
  assert.deepEqual(sockets, [], 'nothing before consent');
  assert.deepEqual(await live(ask), []);
  await page.evaluate(() => window.Switchboard('consent', true));
  const row = await listedAt(ask, `${hostAsk.origin}/a`);
  assert.equal(row.tabs, 1);
  await page.evaluate(() => window.Switchboard('consent', false));
  await eventually(async () => (await live(ask)).length === 0, 'the visitor leaving the list on withdrawal');
  await context.close();
});

test('an agent invites a visitor: the bubble types, then shows the message with the agent’s name; the reply is the agent’s conversation', async () => {
  const site = await addSite(env.server, 'Invites');
  const host = await shop(site);
  const owner = await asAgent(env.server, OWNER.email, OWNER.password);
  const me = await owner.call('GET', '/api/v1/me');
  for (const scheme of ['light', 'dark']) {
    const context = await env.browser.newContext({ ...DESKTOP, colorScheme: scheme });
    const page = await context.newPage();
    await page.goto(`${host.origin}/a?${scheme}`);
    const row = await listedAt(site, `${host.origin}/a?${scheme}`);
    const w = widgetOn(page);
    await owner.call('POST', `/api/v1/contacts/${row.contact_id}/invite`, { body: `Can I help you pick a size? (${scheme})` });
    await w.teaser.filter({ hasText: `Can I help you pick a size? (${scheme})` }).waitFor();
    assert.match(await w.teaser.textContent(), new RegExp(me.agent.name));
    await page.screenshot({ path: path.join(shots, `widget-invitation-ltr-${scheme}.png`) });
    if (scheme === 'dark') {
      // Escape dismisses the bubble.
      await page.locator('switchboard-root .teaser .msg').focus();
      await page.keyboard.press('Escape');
      await w.teaser.waitFor({ state: 'hidden' });
      await context.close();
      continue;
    }
    await page.locator('switchboard-root .teaser .msg').click();
    await w.frame.locator('.line.invitation', { hasText: 'Can I help you pick a size?' }).waitFor();
    await page.screenshot({ path: path.join(shots, 'widget-invitation-opened.png') });
    const box = w.frame.getByRole('textbox', { name: 'Message' });
    await box.fill('Yes, 42 please');
    await box.press('Enter');
    await w.frame.locator('.line.mine .state.sent').waitFor();
    const conv = await eventually(async () => {
      const all = await env.server.api('GET', '/api/v1/conversations?status=open');
      return all.items.find((c) => c.contact_id === row.contact_id);
    }, 'the conversation the reply started');
    await eventually(async () => {
      const c = await env.server.api('GET', `/api/v1/conversations/${conv.id}`);
      return c.assignee_id === me.agent.id;
    }, 'the inviting agent assigned');
    const history = await env.server.api('GET', `/api/v1/conversations/${conv.id}/messages`);
    const bodies = history.items.filter((e) => e.kind === 'message').map((e) => e.message.body);
    assert.deepEqual(bodies, ['Can I help you pick a size? (light)', 'Yes, 42 please']);
    await context.close();
  }
});

test('in Arabic the invitation bubble is right to left and in Arabic, at desktop width (light) and phone width (dark)', async () => {
  const site = await addSite(env.server, 'عربي');
  await env.server.api('PATCH', `/api/v1/sites/${site.id}`, { appearance: { ...site.appearance, locale: 'ar', team_name: 'فريق الدعم' } });
  const host = await shop(site, { lang: 'ar', dir: 'rtl' });
  const owner = await asAgent(env.server, OWNER.email, OWNER.password);
  const me = await owner.call('GET', '/api/v1/me');
  for (const [name, device, scheme] of [['desktop', DESKTOP, 'light'], ['phone', PHONE, 'dark']]) {
    const context = await env.browser.newContext({ ...device, locale: 'ar-EG', colorScheme: scheme });
    const page = await context.newPage();
    // A page of its own each time: the last visitor stays listed for the leave grace period.
    await page.goto(`${host.origin}/a?${name}`);
    const row = await listedAt(site, `${host.origin}/a?${name}`);
    await owner.call('POST', `/api/v1/contacts/${row.contact_id}/invite`, { body: 'هل تحتاج مساعدة في اختيار المقاس؟' });
    const w = widgetOn(page);
    await w.teaser.filter({ hasText: 'هل تحتاج مساعدة' }).waitFor();
    assert.equal(await page.locator('switchboard-root .wrap').getAttribute('dir'), 'rtl');
    assert.equal(await page.locator('switchboard-root .dismiss').getAttribute('aria-label'), 'إخفاء');
    const bubble = await w.teaser.boundingBox();
    assert.ok(bubble.x < device.viewport.width / 2, 'beside the launcher, in the left corner');
    await page.screenshot({ path: path.join(shots, `widget-invitation-rtl-${name}-${scheme}.png`) });
    await context.close();
  }
});

test('rules: "1 s on the page" opens the widget with its message; exit intent shows another rule’s message', async () => {
  const site = await addSite(env.server, 'Rules');
  const rule = (name, conditions, actions) =>
    env.server.api('POST', `/api/v1/sites/${site.id}/triggers`, { name, enabled: true, frequency: 'once_per_visit', conditions, actions });
  await rule('Linger', [{ kind: 'time_on_page', seconds: 1 }, { kind: 'url', match: 'contains', value: '/a' }],
    [{ kind: 'message', body: 'Questions about shoes?', agent_id: null, typing_seconds: 0 }, { kind: 'open_widget' }]);
  await rule('Leaving', [{ kind: 'exit_intent' }], [{ kind: 'message', body: 'Before you go: 10% off today', agent_id: null, typing_seconds: 0 }]);
  const host = await shop(site);
  const context = await env.browser.newContext(DESKTOP);
  const page = await context.newPage();
  await page.goto(`${host.origin}/a`);
  const w = widgetOn(page);
  await w.panel.waitFor({ state: 'visible' });
  await w.frame.locator('.line.invitation', { hasText: 'Questions about shoes?' }).waitFor();
  await page.keyboard.press('Escape');

  await page.goto(`${host.origin}/b`);
  await listedAt(site, `${host.origin}/b`);
  // The pointer leaves through the top edge of the page.
  await page.evaluate(() => document.dispatchEvent(new MouseEvent('mouseout', { clientX: 300, clientY: -2, bubbles: true, relatedTarget: null })));
  await w.teaser.filter({ hasText: 'Before you go: 10% off today' }).waitFor();
  // A rule's invitation counts as fired once the widget says it was shown (a frame of its own).
  const stats = (r) => `${r.stats.fired} fired, ${r.stats.opened} opened`;
  await eventually(async () => {
    const now = await env.server.api('GET', `/api/v1/sites/${site.id}/triggers`);
    return now.map(stats).join('; ') === '1 fired, 1 opened; 1 fired, 0 opened';
  }, 'both rules fired once, and the opened one counted as opened');
  await context.close();
});

test('a page whose origin the site refuses, or with an unknown key, draws nothing, warns once and throws nothing', async () => {
  const site = await addSite(env.server, 'Elsewhere only', { allowed_origins: ['https://shop.example'] });
  const host = await shop(site);
  const unknown = await hostSite({ '/': { html: shopPage(env.server.base, 'pk_doesNotExist0000') } });
  hosts.push(unknown);
  const context = await env.browser.newContext(DESKTOP);
  for (const url of [`${host.origin}/a`, unknown.origin]) {
    const page = await context.newPage();
    const warnings = [];
    const errors = [];
    page.on('console', (m) => m.type() === 'warning' && m.text().startsWith('Switchboard') && warnings.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await eventually(() => warnings.length > 0, 'the warning');
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /origin_not_allowed|site_not_found/);
    assert.equal(await page.locator('switchboard-root').count(), 0, 'no launcher');
    assert.deepEqual(errors, []);
  }
  await context.close();
});

test('the chat out of reach on the first open: the bubble says so in the visitor’s language, a track() waits, and the next click opens the chat', async () => {
  const site = await addSite(env.server, 'Out of reach');
  await env.server.api('PATCH', `/api/v1/sites/${site.id}`, { appearance: { ...site.appearance, locale: 'tr' } });
  const host = await shop(site, { lang: 'tr' });
  const context = await env.browser.newContext({ ...DESKTOP, locale: 'tr-TR' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  // The chat part cannot be downloaded (the server went down after the page loaded).
  let reachable = false;
  await page.route('**/assets/widget-chat-*', (route) => (reachable ? route.continue() : route.abort('internetdisconnected')));
  await page.goto(`${host.origin}/a`);
  await ready(page);
  const row = await listedAt(site, `${host.origin}/a`);
  const w = widgetOn(page);
  await w.launcher.click();
  await w.teaser.filter({ hasText: 'Şu anda bağlanılamıyor' }).waitFor();
  assert.equal(await w.launcher.getAttribute('aria-expanded'), 'false', 'the panel did not stay open on nothing');
  await page.evaluate(() => window.Switchboard('track', 'viewed_offer', { id: 7 }));
  await eventually(async () => {
    const got = await env.server.api('GET', `/api/v1/contacts/${row.contact_id}/events`);
    return got.items.some((e) => e.name === 'viewed_offer') || null;
  }, 'the event tracked after the failed open');
  await page.screenshot({ path: path.join(shots, 'widget-chat-unreachable-tr.png') });

  reachable = true;
  await w.launcher.click();
  await w.frame.locator('.app').waitFor();
  assert.deepEqual(errors, [], 'nothing thrown into the page');
  await context.close();
});
