// The widget on a business's page of another site, as visitors meet it: the launcher,
// the pre-chat form, a conversation with an agent answering over the API, "seen", a
// reload, two tabs, going offline, the offline form; with storage partitioning on.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { serverAndBrowser, eventually, shots, hostSite, shopPage, widgetOn, agentOnline } from './harness.mjs';
import { messageBodies } from './helpers.mjs';

const env = serverAndBrowser();
let host;
after(() => host?.close());

async function shop(pages = {}) {
  host?.close();
  await prechat();
  const { base, site } = env.server;
  host = await hostSite({ '/': { html: shopPage(base, site.public_key) }, ...pages });
  return host;
}

async function onlyConversation() {
  return eventually(async () => {
    const page = await env.server.api('GET', '/api/v1/conversations');
    return page.items.length === 1 && page.items[0];
  }, 'one conversation in the inbox');
}

// The shop asks visitors for their name and e-mail before a chat.
async function prechat() {
  await env.server.api('PATCH', `/api/v1/sites/${env.server.site.id}`, {
    prechat_form: [
      { key: 'name', label: 'Your name', kind: 'text', required: true },
      { key: 'email', label: 'E-mail', kind: 'email', required: true },
      { key: 'order', label: 'Order number', kind: 'text', required: false },
    ],
  });
}

test('a visitor fills the pre-chat form, writes, and sees the agent reply; the agent sees "seen"; a reload keeps it', async () => {
  const { origin } = await shop();
  const agent = await agentOnline(env.server);
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(origin);
  const w = widgetOn(page);
  await w.launcher.waitFor();
  assert.equal(await page.locator('switchboard-root iframe').count(), 0, 'no chat frame before the first open');
  assert.ok(!requests.some((u) => u.includes('/ws/')), 'no socket before the first open');

  await w.launcher.click();
  const f = w.frame;
  await f.getByRole('button', { name: 'Start chat' }).click();
  await f.getByText('Please fill this in.').first().waitFor();
  await f.getByLabel('Your name').fill('Ana');
  await f.getByLabel('E-mail').fill('not-an-email');
  await f.getByRole('button', { name: 'Start chat' }).click();
  await f.getByText('Enter an e-mail address like name@example.com.').waitFor();
  await f.getByLabel('E-mail').fill('ana@example.com');
  await f.getByRole('button', { name: 'Start chat' }).click();

  const box = f.getByRole('textbox', { name: 'Message' });
  // The site's settings are read once: by the loader, which hands them to the chat frame.
  const settingsReads = () => requests.filter((u) => new URL(u).pathname === `/api/v1/widget/${env.server.site.public_key}`).length;
  assert.equal(settingsReads(), 1, 'one read of the site’s settings by the first open');
  await box.fill('Hello! Where is my order #42? سلام');
  await box.press('Enter');
  const conv = await onlyConversation();
  assert.deepEqual(await messageBodies(env.server, conv.id), ['Hello! Where is my order #42? سلام']);
  const contact = await env.server.api('GET', `/api/v1/contacts/${conv.contact_id}`);
  assert.equal(contact.name, 'Ana');
  assert.equal(contact.email, 'ana@example.com');

  await env.server.api('POST', `/api/v1/conversations/${conv.id}/messages`, { body: 'It left the warehouse today: https://track.example/42' });
  await f.locator('.line.team', { hasText: 'It left the warehouse today' }).waitFor();
  const link = f.locator('.line.team a', { hasText: 'https://track.example/42' });
  assert.equal(await link.getAttribute('rel'), 'noopener noreferrer nofollow ugc');
  // The visitor had the panel open: the server has their read mark.
  await eventually(async () => {
    const h = await env.server.api('GET', `/api/v1/conversations/${conv.id}/messages`);
    return h.items.some((e) => e.kind === 'receipt' && e.side === 'visitor' && e.receipt === 'read');
  }, 'the visitor’s read receipt');
  // The agent reads: the visitor's own message says "Seen".
  const last = await env.server.api('GET', `/api/v1/conversations/${conv.id}`);
  await env.server.api('POST', `/api/v1/conversations/${conv.id}/read`, { up_to_seq: last.last_seq });
  await f.locator('.line.mine .state.seen').waitFor();
  await page.screenshot({ path: path.join(shots, 'widget-ltr-desktop.png') });

  // The token lives in the shop's own storage, not the frame's.
  const saved = await page.evaluate((key) => JSON.parse(localStorage.getItem(`sb:${key}`)), env.server.site.public_key);
  assert.ok(saved.t, 'the visitor token is in the host page’s localStorage');

  requests.length = 0;
  await page.reload();
  await w.frame.locator('.line.team', { hasText: 'It left the warehouse today' }).waitFor();
  await w.frame.locator('.line.mine', { hasText: 'Where is my order' }).waitFor();
  // With a conversation the frame opens with the page: still one read of the settings.
  assert.equal(settingsReads(), 1, 'one read of the site’s settings on a page load with the chat');
  const again = w.frame.getByRole('textbox', { name: 'Message' });
  await again.fill('Thanks!');
  await again.press('Enter');
  await eventually(async () => (await messageBodies(env.server, conv.id)).includes('Thanks!'), 'the second message in the same conversation');
  assert.equal((await env.server.api('GET', '/api/v1/conversations')).items.length, 1, 'no second conversation after a reload');
  agent.close();
  await context.close();
});

test('two tabs show one conversation over one socket; the badge clears in both when one tab reads; closing the first tab loses nothing', async () => {
  const { origin } = await shop();
  const agent = await agentOnline(env.server);
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const [a, b] = [await context.newPage(), await context.newPage()];
  await a.goto(origin);
  await b.goto(origin);
  const [wa, wb] = [widgetOn(a), widgetOn(b)];
  // Only the tab in front renders (a hidden tab's frames wait for the next animation frame).
  await a.bringToFront();
  await wa.launcher.click();
  await wa.frame.getByLabel('Your name').fill('Tab Tester');
  await wa.frame.getByLabel('E-mail').fill('tabs@example.com');
  await wa.frame.getByRole('button', { name: 'Start chat' }).click();
  const box = wa.frame.getByRole('textbox', { name: 'Message' });
  await box.fill('Written in the first tab');
  await box.press('Enter');
  const conv = await eventually(async () => {
    const all = await env.server.api('GET', '/api/v1/conversations?status=open');
    for (const c of all.items) if ((await messageBodies(env.server, c.id)).includes('Written in the first tab')) return c;
    return null;
  }, 'the first tab’s conversation');
  // The second tab learns of the conversation from the shared storage and follows it.
  await eventually(async () => (await b.locator('switchboard-root iframe').count()) === 1, 'the second tab to load the chat');

  // The first tab is closed to the team's answer; the second never opened: both count it.
  await wa.launcher.click();
  await env.server.api('POST', `/api/v1/conversations/${conv.id}/messages`, { body: 'Seen in both tabs?' });
  await wa.badge.filter({ hasText: '1' }).waitFor();
  await wb.badge.filter({ hasText: '1' }).waitFor();
  await wb.teaser.filter({ hasText: 'Seen in both tabs?' }).waitFor();
  // The second tab opens and reads: the server's read mark clears the first tab's badge too.
  await b.bringToFront();
  await wb.launcher.click();
  await wb.frame.locator('.line.mine', { hasText: 'Written in the first tab' }).waitFor();
  await wb.frame.locator('.line.team', { hasText: 'Seen in both tabs?' }).waitFor();
  await wa.badge.waitFor({ state: 'hidden' });
  await wb.badge.waitFor({ state: 'hidden' });

  // One socket per browser: the two tabs share the first tab's socket.
  assert.equal(await visitorSockets(), 1, 'two tabs, one visitor socket');
  // The first tab goes: the second connects by itself, resumes, and misses nothing.
  await a.close();
  await env.server.api('POST', `/api/v1/conversations/${conv.id}/messages`, { body: 'Still there after the first tab closed?' });
  await wb.frame.locator('.line.team', { hasText: 'Still there after the first tab closed?' }).waitFor();
  await eventually(async () => (await visitorSockets()) === 1, 'the second tab’s own socket, the first one closed');
  const box2 = wb.frame.getByRole('textbox', { name: 'Message' });
  await box2.fill('Yes, from the second tab');
  await box2.press('Enter');
  await eventually(async () => (await messageBodies(env.server, conv.id)).filter((b) => b === 'Yes, from the second tab').length === 1, 'the second tab’s message stored once');
  agent.close();
  await context.close();
});

/** The server's count of open visitor sockets (`/metrics`). */
async function visitorSockets() {
  const text = await (await fetch(`${env.server.base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('switchboard_open_sockets{kind="visitor"}'));
  return Number(line?.split(' ').at(-1));
}

test('a message written offline waits, then arrives exactly once when the network is back', async () => {
  const { origin } = await shop();
  const agent = await agentOnline(env.server);
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(origin);
  const w = widgetOn(page);
  await w.launcher.click();
  await w.frame.getByLabel('Your name').fill('Offline Olga');
  await w.frame.getByLabel('E-mail').fill('olga@example.com');
  await w.frame.getByRole('button', { name: 'Start chat' }).click();
  const box = w.frame.getByRole('textbox', { name: 'Message' });
  await box.fill('First, while online');
  await box.press('Enter');
  await w.frame.locator('.line.mine .state.sent', { hasText: 'Sent' }).waitFor();

  await context.setOffline(true);
  await w.frame.getByText('You are offline. Your messages will be sent when you are back.').waitFor();
  await box.fill('Written on the train');
  await box.press('Enter');
  await box.fill('And a second one');
  await box.press('Enter');
  await w.frame.locator('.line.mine .meta', { hasText: 'Sending…' }).first().waitFor();
  await page.screenshot({ path: path.join(shots, 'widget-offline.png') });
  await context.setOffline(false);
  await w.frame.locator('.line.mine', { hasText: 'And a second one' }).locator('.state.sent').waitFor();
  const conv = await eventually(async () => {
    const all = await env.server.api('GET', '/api/v1/conversations?status=open');
    for (const c of all.items) if ((await messageBodies(env.server, c.id)).includes('First, while online')) return c;
    return null;
  }, 'Olga’s conversation');
  assert.deepEqual(await messageBodies(env.server, conv.id), ['First, while online', 'Written on the train', 'And a second one'], 'each once, in order');
  agent.close();
  await context.close();
});

test('a message typed while the chat cannot connect survives a reload and arrives exactly once', async () => {
  const { origin } = await shop();
  const agent = await agentOnline(env.server);
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
  // The visitor socket goes through this route: passed to the server, or refused.
  let refuse = false;
  let current = null;
  await context.routeWebSocket(/\/ws\/visitor/, (ws) => {
    if (refuse) return ws.close();
    current = ws;
    ws.connectToServer();
  });
  const page = await context.newPage();
  await page.goto(origin);
  const w = widgetOn(page);
  await w.launcher.click();
  await w.frame.getByLabel('Your name').fill('Tunnel Tarık');
  await w.frame.getByLabel('E-mail').fill('tarik@example.com');
  await w.frame.getByRole('button', { name: 'Start chat' }).click();
  const box = w.frame.getByRole('textbox', { name: 'Message' });
  await box.fill('Before the tunnel');
  await box.press('Enter');
  await w.frame.locator('.line.mine .state.sent', { hasText: 'Sent' }).waitFor();

  refuse = true;
  current.close();
  await box.fill('Typed in the tunnel');
  await box.press('Enter');
  await w.frame.locator('.line.mine', { hasText: 'Typed in the tunnel' }).locator('.meta', { hasText: 'Sending…' }).waitFor();

  // The page reloads before the socket came back: the message waits in the tab's storage.
  await page.reload();
  refuse = false;
  const conv = await eventually(async () => {
    const all = await env.server.api('GET', '/api/v1/conversations?status=open');
    for (const c of all.items) if ((await messageBodies(env.server, c.id)).includes('Typed in the tunnel')) return c;
    return null;
  }, 'the message typed before the reload');
  assert.deepEqual(await messageBodies(env.server, conv.id), ['Before the tunnel', 'Typed in the tunnel'], 'each once, in order');
  agent.close();
  await context.close();
});

test('with no one online, the offline form takes an e-mail and a message the team sees', async () => {
  const { origin } = await shop();
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(origin);
  const w = widgetOn(page);
  await w.launcher.click();
  await w.frame.getByRole('heading', { name: 'Leave us a message' }).waitFor();
  await w.frame.getByRole('button', { name: 'Send message' }).click();
  await w.frame.getByText('Please fill this in.').first().waitFor();
  await w.frame.getByLabel('Your e-mail').fill('later@example.com');
  await w.frame.getByLabel('Your message').fill('Do you ship to Izmir?');
  await w.frame.getByRole('button', { name: 'Send message' }).click();
  await w.frame.getByText('Thank you! We have your message and will answer by e-mail.').waitFor();
  const conv = await eventually(async () => {
    const all = await env.server.api('GET', '/api/v1/conversations?status=open');
    for (const c of all.items) if ((await messageBodies(env.server, c.id)).includes('Do you ship to Izmir?')) return c;
    return null;
  }, 'the offline message in the inbox');
  const contact = await env.server.api('GET', `/api/v1/contacts/${conv.contact_id}`);
  assert.equal(contact.email, 'later@example.com');
  await page.screenshot({ path: path.join(shots, 'widget-offline-form.png') });
  await context.close();
});

/** The ISO day of the week (Monday 1 … Sunday 7) `days` from today, in UTC. */
function isoDay(days) {
  return ((new Date().getUTCDay() + days + 6) % 7) + 1;
}

test('outside business hours the widget offers the offline form and says when the team is back', async () => {
  const { origin } = await shop();
  const agent = await agentOnline(env.server);
  const { site } = env.server;
  // Open only tomorrow (UTC), 09:00–10:00: closed now, even with an agent online.
  const hours = { time_zone: 'UTC', weekly: [{ day: isoDay(1), open: '09:00', close: '10:00' }], holidays: [] };
  await env.server.api('PATCH', `/api/v1/sites/${site.id}`, { business_hours: hours });
  const { appearance } = await env.server.api('GET', `/api/v1/sites/${site.id}`);
  try {
    for (const [name, options] of [
      ['ltr-light', { colorScheme: 'light', locale: 'en-GB' }],
      ['rtl-dark', { colorScheme: 'dark', locale: 'fa' }],
    ]) {
      // The widget speaks the site's language.
      const locale = options.locale === 'fa' ? 'fa' : appearance.locale;
      await env.server.api('PATCH', `/api/v1/sites/${site.id}`, { appearance: { ...appearance, locale } });
      const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
      const page = await context.newPage();
      await page.goto(origin);
      const w = widgetOn(page);
      await w.launcher.click();
      await w.frame.locator('form .back').waitFor();
      const back = await w.frame.locator('form .back').textContent();
      const tomorrow = new Intl.DateTimeFormat(options.locale === 'fa' ? 'fa-IR' : 'en-GB', { weekday: 'long', timeZone: 'UTC' })
        .format(new Date(Date.now() + 86_400_000));
      assert.ok(back.includes(tomorrow), `${name}: "${back}" names ${tomorrow}`);
      if (name === 'ltr-light') {
        await w.frame.getByRole('heading', { name: 'Leave us a message' }).waitFor();
        assert.match(back, /^We're back /);
        await w.frame.getByText('Closed now').waitFor();
      }
      await page.screenshot({ path: path.join(shots, `widget-closed-${name}.png`) });
      await context.close();
    }
  } finally {
    await env.server.api('PATCH', `/api/v1/sites/${site.id}`, { business_hours: null, appearance });
    agent.close();
  }
});

test('hostile CSS on the host page cannot break the widget, and the widget leaves the page as it was', async () => {
  const hostile = `<style>* { all: unset !important } div { display: none !important } html { direction: rtl; font-size: 60px !important }
    button { background: red !important; inline-size: 1px !important } iframe { display: none !important }</style>`;
  const { origin } = await shop({ '/hostile': { html: shopPage(env.server.base, env.server.site.public_key, { head: hostile }) } });
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // What the page looks like and which globals it has, before the widget loads.
  await page.goto(`${origin}/hostile`);
  await page.locator('switchboard-root').waitFor({ state: 'attached' });
  const launcher = widgetOn(page).launcher;
  const size = await launcher.evaluate((b) => [b.getBoundingClientRect().width, b.getBoundingClientRect().height, getComputedStyle(b).backgroundColor]);
  assert.deepEqual(size, [56, 56, 'rgb(31, 111, 235)'], 'the launcher keeps its size and colour');
  // `direction: rtl` on the page does not move an English widget's launcher: it sits at the end of its own direction.
  const box = await launcher.boundingBox();
  assert.ok(box.x > 1000, 'an English widget’s launcher sits at the right');
  await launcher.click();
  const frame = page.locator('switchboard-root iframe');
  const rect = await frame.boundingBox();
  assert.ok(rect.width >= 370 && rect.height >= 500, `the panel is full size (${rect.width}×${rect.height})`);
  await widgetOn(page).frame.getByRole('heading', { name: 'Leave us a message' }).waitFor();
  const h1 = await page.locator('h1').evaluate((h) => getComputedStyle(h).fontSize);
  assert.equal(h1, '60px', 'the page keeps its own (hostile) styles: the widget adds no global CSS');
  assert.deepEqual(errors, []);
  await page.screenshot({ path: path.join(shots, 'widget-hostile-css.png') });
  await context.close();
});

test('under a strict Content-Security-Policy the widget works and adds only the Switchboard global', async () => {
  const { base, site } = env.server;
  const csp = `default-src 'none'; script-src 'self' ${base}; frame-src ${base}; connect-src ${base} ${base.replace('http', 'ws')}; img-src ${base} https:; style-src 'self'`;
  const { origin } = await shop({ '/strict': { html: shopPage(base, site.public_key), headers: { 'content-security-policy': csp } } });
  const agent = await agentOnline(env.server);
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
    window.__globals = Object.keys(window);
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${origin}/strict`);
  const w = widgetOn(page);
  await w.launcher.click();
  await w.frame.getByLabel('Your name').fill('Strict Sam');
  await w.frame.getByLabel('E-mail').fill('sam@example.com');
  await w.frame.getByRole('button', { name: 'Start chat' }).click();
  const box = w.frame.getByRole('textbox', { name: 'Message' });
  await box.fill('Hello under a strict policy');
  await box.press('Enter');
  await w.frame.locator('.line.mine .state.sent').waitFor();
  const { violations, added } = await page.evaluate(() => ({
    violations: window.__violations,
    added: Object.keys(window).filter((k) => !window.__globals.includes(k) && !k.startsWith('__')),
  }));
  assert.deepEqual(violations, [], 'no CSP violation');
  assert.deepEqual(added, ['Switchboard'], 'one global: the API');
  assert.deepEqual(errors, []);
  agent.close();
  await context.close();
});

test('the JavaScript API: queued calls, open/close events, identify without a hash, hide and shutdown', async () => {
  const { base, site } = env.server;
  const snippet = `<script src="/api.js"></script>`;
  const api = `window.Switchboard = window.Switchboard || function () { (Switchboard.q = Switchboard.q || []).push(arguments); };
    window.seen = [];
    Switchboard('on', 'ready', () => seen.push('ready'));
    Switchboard('on', 'open', () => seen.push('open'));
    Switchboard('on', 'close', () => seen.push('close'));
    Switchboard('on', 'conversation_started', () => seen.push('conversation_started'));
    Switchboard('identify', { id: 'user-7', name: 'Identified Ida', email: 'ida@example.com' });
    Switchboard('no-such-command');`;
  const { origin } = await shop({
    '/api': { html: shopPage(base, site.public_key, { head: snippet }) },
    '/api.js': { html: api, headers: { 'content-type': 'text/javascript' } },
  });
  const agent = await agentOnline(env.server);
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${origin}/api`);
  await page.waitForFunction(() => window.seen.includes('ready'));
  await page.evaluate(() => Switchboard('open'));
  const w = widgetOn(page);
  // Identified visitors skip the pre-chat form.
  const box = w.frame.getByRole('textbox', { name: 'Message' });
  await box.fill('Hi, it is Ida');
  await box.press('Enter');
  await page.waitForFunction(() => window.seen.includes('conversation_started'));
  const conv = await eventually(async () => {
    const all = await env.server.api('GET', '/api/v1/conversations?status=open');
    for (const c of all.items) if ((await messageBodies(env.server, c.id)).includes('Hi, it is Ida')) return c;
    return null;
  }, 'Ida’s conversation');
  const contact = await env.server.api('GET', `/api/v1/contacts/${conv.contact_id}`);
  assert.equal(contact.name, 'Identified Ida');
  assert.equal(contact.email, 'ida@example.com');
  await page.evaluate(() => Switchboard('close'));
  await page.evaluate(() => Switchboard('hide'));
  await w.launcher.waitFor({ state: 'hidden' });
  await page.evaluate(() => Switchboard('show'));
  await w.launcher.waitFor();
  await page.evaluate(() => Switchboard('shutdown'));
  const saved = await page.evaluate((key) => localStorage.getItem(`sb:${key}`), site.public_key);
  assert.equal(saved, null, 'shutdown forgets the visitor');
  assert.deepEqual(await page.evaluate(() => window.seen), ['ready', 'open', 'conversation_started', 'close']);
  assert.deepEqual(errors, [], 'a bad command is reported on the console, never thrown into the page');
  agent.close();
  await context.close();
});

test('a site with allowed origins: the widget works on them, and shows nowhere else', async () => {
  const { base, site } = env.server;
  const { origin } = await shop();
  const other = await hostSite({ '/': { html: shopPage(base, site.public_key) } });
  await env.server.api('PATCH', `/api/v1/sites/${site.id}`, { allowed_origins: [origin] });
  const agent = await agentOnline(env.server);
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    const frameResponse = page.waitForResponse((r) => r.url().includes('/widget/frame'));
    await page.goto(origin);
    const w = widgetOn(page);
    await w.launcher.click();
    assert.match((await frameResponse).headers()['content-security-policy'], new RegExp(`frame-ancestors ${origin}$`));
    await w.frame.getByLabel('Your name').fill('Allowed Al');
    await w.frame.getByLabel('E-mail').fill('al@example.com');
    await w.frame.getByRole('button', { name: 'Start chat' }).click();
    const box = w.frame.getByRole('textbox', { name: 'Message' });
    await box.fill('From an allowed page');
    await box.press('Enter');
    await w.frame.locator('.line.mine .state.sent').waitFor();

    // Another origin (another port): the site refuses it, and the launcher never stays.
    const elsewhere = await context.newPage();
    const refused = elsewhere.waitForResponse((r) => r.url().includes('/api/v1/widget/'));
    await elsewhere.goto(other.origin.replace('localhost', '127.0.0.1'));
    assert.equal((await refused).status(), 403);
    await elsewhere.locator('switchboard-root').waitFor({ state: 'detached' });
  } finally {
    await env.server.api('PATCH', `/api/v1/sites/${site.id}`, { allowed_origins: [] });
    other.close();
    agent.close();
    await context.close();
  }
});

test('a resolved conversation: the visitor rates it, asks for the transcript, and can start again; the title counts unread', async () => {
  const { origin } = await shop();
  const look = (title_badge) => ({ appearance: { color: '#1f6feb', position: 'end', greeting: 'Hi! How can we help?', team_name: 'Support', locale: 'en', title_badge } });
  await env.server.api('PATCH', `/api/v1/sites/${env.server.site.id}`, look(true));
  const agent = await agentOnline(env.server);
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    await page.goto(origin);
    const w = widgetOn(page);
    await w.launcher.click();
    await w.frame.getByLabel('Your name').fill('Rating Rita');
    await w.frame.getByLabel('E-mail').fill('rita@example.com');
    await w.frame.getByRole('button', { name: 'Start chat' }).click();
    const box = w.frame.getByRole('textbox', { name: 'Message' });
    await box.fill('Can I return shoes?');
    await box.press('Enter');
    await w.frame.locator('.line.mine .state.sent').waitFor();
    const conv = await eventually(async () => {
      const all = await env.server.api('GET', '/api/v1/conversations?status=open');
      for (const c of all.items) if ((await messageBodies(env.server, c.id)).includes('Can I return shoes?')) return c;
      return null;
    }, 'Rita’s conversation');

    // Files: a type the server refuses is explained; a text file goes with the next message.
    const picker = w.frame.locator('input[type=file]');
    await picker.setInputFiles({ name: 'setup.exe', mimeType: 'application/octet-stream', buffer: Buffer.from([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04]) });
    await w.frame.getByText('This type of file cannot be sent.').waitFor();
    await w.frame.getByRole('button', { name: 'Remove setup.exe' }).click();
    await picker.setInputFiles({ name: 'sizes.txt', mimeType: 'text/plain', buffer: Buffer.from('EU 42, US 9\n') });
    await w.frame.getByRole('button', { name: 'Remove sizes.txt' }).waitFor();
    await box.fill('My sizes');
    await box.press('Enter');
    await w.frame.locator('.line.mine a.file', { hasText: 'sizes.txt' }).waitFor();

    // Closed panel: the team's answer counts in the launcher's badge and the page title.
    await w.launcher.click();
    await env.server.api('POST', `/api/v1/conversations/${conv.id}/messages`, { body: 'Yes, within 30 days.' });
    await w.badge.filter({ hasText: '1' }).waitFor();
    await page.waitForFunction(() => document.title === '(1) Shop');
    await w.launcher.click();
    await page.waitForFunction(() => document.title === 'Shop');

    await env.server.api('PUT', `/api/v1/conversations/${conv.id}/status`, { status: 'resolved' });
    await w.frame.getByText('This conversation is closed.').waitFor();
    await w.frame.getByRole('radio', { name: '4 stars' }).check({ force: true });
    await w.frame.getByLabel('Anything to add? (optional)').fill('Quick and kind');
    await w.frame.getByRole('button', { name: 'Send rating' }).click();
    await w.frame.getByText('Thank you for your rating.').waitFor();
    const rated = await env.server.api('GET', `/api/v1/conversations/${conv.id}`);
    assert.deepEqual([rated.rating?.score, rated.rating?.comment], [4, 'Quick and kind']);

    await w.frame.getByText('E-mail me this conversation').click();
    await w.frame.getByLabel('E-mail address').fill('rita@example.com');
    await w.frame.getByRole('button', { name: 'Send', exact: true }).click();
    await w.frame.getByText('We will e-mail the conversation to').waitFor();
    await page.screenshot({ path: path.join(shots, 'widget-resolved.png') });

    await w.frame.getByRole('button', { name: 'Start a new conversation' }).click();
    await box.fill('Another question');
    await box.press('Enter');
    await eventually(async () => {
      const all = await env.server.api('GET', '/api/v1/conversations?status=open');
      for (const c of all.items) if (c.id !== conv.id && (await messageBodies(env.server, c.id)).includes('Another question')) return c;
      return null;
    }, 'a new conversation');
  } finally {
    await env.server.api('PATCH', `/api/v1/sites/${env.server.site.id}`, look(false));
    agent.close();
    await context.close();
  }
});

test('a stored token the server no longer accepts: the visitor is told, and chats on as a new visitor', async () => {
  const { origin } = await shop();
  const agent = await agentOnline(env.server);
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    await page.goto(origin);
    await page.evaluate((key) => localStorage.setItem(`sb:${key}`, JSON.stringify({ t: 'v1.forged.token' })), env.server.site.public_key);
    await page.reload();
    const w = widgetOn(page);
    await w.launcher.click();
    await w.frame.getByText('Your chat session has expired. A new one will start.').waitFor();
    await w.frame.getByLabel('Your name').fill('Returning Rob');
    await w.frame.getByLabel('E-mail').fill('rob@example.com');
    await w.frame.getByRole('button', { name: 'Start chat' }).click();
    const box = w.frame.getByRole('textbox', { name: 'Message' });
    await box.fill('Hello again');
    await box.press('Enter');
    await w.frame.locator('.line.mine .state.sent').waitFor();
    const saved = await page.evaluate((key) => JSON.parse(localStorage.getItem(`sb:${key}`)).t, env.server.site.public_key);
    assert.notEqual(saved, 'v1.forged.token', 'a new token replaced the refused one');
  } finally {
    agent.close();
    await context.close();
  }
});
