// The widget counts what happened, once: one visitor is one contact even when they open
// the chat before the loader's socket was welcomed; a page load's view is recorded once
// even when its socket reconnects after the server took the visitor for gone; and a rule's
// invitation that arrives while the tab is in the background is shown (and opened, when
// the rule opens the widget) only when the visitor comes back to the tab. Every visitor
// socket goes through Playwright's WebSocket routing, so a story can hold a frame or cut
// the line as a network would.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { serverAndBrowser, eventually, hostSite, shopPage, widgetOn, NO_LIMITS } from './harness.mjs';
import { addSite } from './helpers.mjs';

// No leave grace period: a cut socket means the visitor is gone at once, as after a sleep
// longer than the grace period.
const env = serverAndBrowser({ ...NO_LIMITS, SWITCHBOARD__LIVE__LEAVE_GRACE_MS: '0' });
const hosts = [];
after(() => hosts.forEach((h) => h.close()));

const DESKTOP = { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 };

async function shop(site) {
  const { base } = env.server;
  const page = (title) => ({ html: shopPage(base, site.public_key).replace('<title>Shop</title>', `<title>${title}</title>`) });
  const host = await hostSite({ '/': page('Home'), '/a': page('Shoes'), '/b': page('Bags') });
  hosts.push(host);
  return host;
}

/**
 * Routes every visitor socket of `context` through the test: each is a link with the frames
 * the page sent and the server sent, in order. `hold(link, frame)` may keep a server frame
 * from the page (it returns true); `release(link)` delivers what was held.
 */
async function visitorLinks(context, hold = () => false) {
  const links = [];
  await context.routeWebSocket(/\/ws\/visitor/, (ws) => {
    const server = ws.connectToServer();
    const link = { ws, server, sent: [], received: [], held: [] };
    links.push(link);
    ws.onMessage((m) => {
      link.sent.push(JSON.parse(m));
      server.send(m);
    });
    server.onMessage((m) => {
      const frame = JSON.parse(m);
      link.received.push(frame);
      if (hold(link, frame)) link.held.push(m);
      else ws.send(m);
    });
  });
  return links;
}
const release = (link) => link.held.splice(0).forEach((m) => link.ws.send(m));
/** Cuts the line under a socket, both ways, as a dropped network does. */
const cut = async (link) => {
  await link.ws.close({ code: 4000, reason: 'network' });
  await link.server.close();
};

const live = async (site) => (await env.server.api('GET', `/api/v1/visitors/live?site_id=${site.id}`)).visitors;
const pagesOf = async (contactId) =>
  (await env.server.api('GET', `/api/v1/contacts/${contactId}/visits`)).visits.flatMap((v) => v.pages.map((p) => new URL(p.url).pathname));
const contactsOf = async (site) => (await env.server.api('GET', '/api/v1/contacts?limit=100')).filter((c) => c.site_id === site.id);

test('a visitor who opens the chat before the launcher’s socket was welcomed is one contact, not two', async () => {
  const site = await addSite(env.server, 'Quick click');
  const host = await shop(site);
  const context = await env.browser.newContext(DESKTOP);
  // The launcher's socket (the first) gets no welcome until the story says so.
  let holding = true;
  const links = await visitorLinks(context, (link, frame) => holding && link === links[0] && frame.type === 'welcome');
  const page = await context.newPage();
  await page.goto(`${host.origin}/a`);
  // The launcher said hello with no token: the server is making this visitor's contact.
  const launcher = await eventually(() => links[0]?.sent.find((f) => f.type === 'hello') && links[0], 'the launcher’s hello');
  assert.equal(launcher.sent[0].token, null, 'a new visitor');
  await eventually(() => launcher.received.some((f) => f.type === 'welcome'), 'the welcome the server sent (held)');

  // The visitor clicks before the welcome reached the page.
  const w = widgetOn(page);
  await w.launcher.click();
  // A chat that did not wait would connect now with no token; one that waits has no frame yet.
  await eventually(async () => links.length > 1 || (await page.locator('switchboard-root iframe').count()) === 0, 'the chat waiting, or its own socket');
  if (links.length > 1) await eventually(() => links[1].sent.some((f) => f.type === 'hello'), 'the frame’s hello');
  holding = false;
  release(launcher);

  await w.frame.locator('.app').waitFor();
  const chat = await eventually(() => links[1]?.sent.find((f) => f.type === 'hello'), 'the frame’s socket saying hello');
  const welcome = launcher.received.find((f) => f.type === 'welcome');
  assert.equal(chat.token, welcome.token, 'the frame speaks as the visitor the launcher’s hello made');
  await eventually(async () => (await live(site)).length === 1, 'the visitor on the live list');
  const contacts = await contactsOf(site);
  assert.equal(contacts.length, 1, `one contact for one visitor (${contacts.length})`);
  await context.close();
});

test('a socket cut after the visitor was taken for gone comes back without recording its page again; a new page load is recorded', async () => {
  const site = await addSite(env.server, 'Sleepy laptop');
  const host = await shop(site);
  const context = await env.browser.newContext(DESKTOP);
  const links = await visitorLinks(context);
  const page = await context.newPage();
  await page.goto(`${host.origin}/a`);
  const row = await eventually(async () => (await live(site))[0], 'the visitor on the live list');
  // The loader learns the server read its page (a pong after it), then the line drops.
  await eventually(() => links[0].received.some((f) => f.type === 'pong'), 'a pong after the page');
  await cut(links[0]);
  await eventually(async () => (await live(site)).length === 0, 'the visitor taken for gone');
  // The loader reconnects by itself and says the page again, as the same view.
  const back = await eventually(async () => (await live(site))[0], 'the visitor back on the live list', 15_000);
  assert.equal(back.pages_this_visit, 1, 'the same page view, not a second');
  assert.equal(links[1].sent.find((f) => f.type === 'page').again, true);
  assert.deepEqual(await pagesOf(row.contact_id), ['/a']);

  // The chat's own socket does the same.
  await widgetOn(page).launcher.click();
  await widgetOn(page).frame.locator('.app').waitFor();
  const frameLink = await eventually(() => links.find((l, i) => i > 1 && l.received.some((f) => f.type === 'pong')), 'the frame’s socket told its page was read');
  await cut(frameLink);
  await eventually(async () => (await live(site)).length === 0, 'the visitor taken for gone again');
  const again = await eventually(async () => (await live(site))[0], 'the chat’s socket back', 15_000);
  assert.equal(again.pages_this_visit, 1);

  // A new page load is a page view, even back at an address seen before.
  await page.goto(`${host.origin}/b`);
  await eventually(async () => (await live(site)).find((v) => v.url.endsWith('/b') && v.pages_this_visit === 2), 'the next page recorded');
  await page.goto(`${host.origin}/a`);
  await eventually(async () => (await pagesOf(row.contact_id)).length === 3, 'the return to /a recorded');
  assert.deepEqual(await pagesOf(row.contact_id), ['/a', '/b', '/a']);
  await context.close();
});

test('a rule’s invitation that arrives while the tab is hidden is shown and opened only when the visitor comes back', async () => {
  const site = await addSite(env.server, 'Background tab');
  await env.server.api('POST', `/api/v1/sites/${site.id}/triggers`, {
    name: 'Linger', enabled: true, frequency: 'once_per_visit', conditions: [{ kind: 'time_on_page', seconds: 1 }],
    actions: [{ kind: 'message', body: 'Need a hand with sizes?', agent_id: null, typing_seconds: 0 }, { kind: 'open_widget' }],
  });
  const host = await shop(site);
  const context = await env.browser.newContext(DESKTOP);
  const links = await visitorLinks(context);
  const page = await context.newPage();
  // The tab is in the background; `__show()` brings it to the front. The page also notes
  // when a socket's `invitation` was handled (a task after every listener ran).
  await page.addInitScript(() => {
    if (window !== window.top) return;
    let state = 'hidden';
    Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => state });
    Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => state === 'hidden' });
    window.__show = () => {
      state = 'visible';
      document.dispatchEvent(new Event('visibilitychange'));
    };
    const Native = window.WebSocket;
    window.WebSocket = class extends Native {
      constructor(...args) {
        super(...args);
        this.addEventListener('message', (e) => {
          if (String(e.data).includes('"type":"invitation"')) setTimeout(() => (window.__invited = (window.__invited ?? 0) + 1));
        });
      }
    };
  });
  await page.goto(`${host.origin}/a`);
  const counts = async () => (await env.server.api('GET', `/api/v1/sites/${site.id}/triggers`))[0].stats;
  await eventually(async () => (await counts()).fired === 1, 'the rule fired');
  await page.waitForFunction(() => window.__invited === 1);

  const w = widgetOn(page);
  assert.equal(await w.launcher.getAttribute('aria-expanded'), 'false', 'the widget stays closed while nobody can see it');
  assert.equal(await page.locator('switchboard-root iframe').count(), 0, 'the chat is not loaded for a hidden tab');
  assert.ok(!links.some((l) => l.sent.some((f) => f.type === 'invitation')), 'nothing reported while the tab is hidden');
  assert.equal((await counts()).opened, 0);

  // The visitor comes back to the tab: now they see it.
  await page.evaluate(() => window.__show());
  await w.frame.locator('.line.invitation', { hasText: 'Need a hand with sizes?' }).waitFor();
  await eventually(async () => (await counts()).opened === 1, 'the rule counted as opened once seen');
  const reported = links.flatMap((l) => l.sent.filter((f) => f.type === 'invitation').map((f) => f.action));
  assert.deepEqual([...new Set(reported)].sort(), ['opened', 'shown']);
  await context.close();
});
