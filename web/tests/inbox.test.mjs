// The agent inbox in a real browser against the real server: a visitor (through the
// visitor socket protocol) starts a chat, it appears live, the agent takes it and
// answers with a canned reply; the inbox survives a cut socket and a server restart with
// nothing missing or doubled; keyboard, right-to-left, phone width and accessibility.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { eventually, serverAndBrowser, shots, NO_LIMITS } from './harness.mjs';
import { addAgent, seriousViolations, signIn, visitorSaying } from './helpers.mjs';
import { visitor } from './visitor.mjs';

const env = serverAndBrowser(NO_LIMITS);

const rows = (page) => page.locator('.conversations .row');
const bubbles = (page, text) => page.locator('.transcript .bubble .body', { hasText: text });

test('a chat appears live in Unassigned; the agent takes it and answers with a filled canned reply the visitor receives', async () => {
  const ana = await addAgent(env.server, 'Ana');
  await env.server.api('POST', '/api/v1/canned-responses', {
    shortcut: 'hello',
    body: 'Hi {{contact.name}}, this is {{agent.name}} from {{site.name}}. How can I help?',
  });
  const page = await signIn(env, ana);
  await page.getByRole('tab', { name: 'Unassigned' }).click();
  await page.getByText('Inbox zero').waitFor();

  const maya = await visitor(env.server.base, env.server.site.public_key);
  maya.profile({ name: 'Maya Cohen', email: 'maya@example.com' });
  maya.page('https://shop.example/orders/1042', 'Order 1042');
  await maya.say('Hello, where is my order #1042?');

  // Live: no reload, the row arrives by the socket.
  const row = rows(page).filter({ hasText: 'Maya Cohen' });
  await row.waitFor();
  // Live counts and unread: the view's count and the row's badge follow the socket.
  await page.getByRole('tab', { name: /Unassigned\s*1$/ }).waitFor();
  await row.getByRole('img', { name: '1 unread message' }).waitFor();
  await row.locator('a').click();
  await bubbles(page, 'where is my order').waitFor();
  await page.locator('.context').getByText('Order 1042').waitFor();

  // The visitor types: the agent sees it.
  maya.typing(true);
  await page.getByText('The visitor is typing…').first().waitFor();
  maya.typing(false);

  // Nobody has it yet: the agent claims it.
  await page.locator('.thread-head').getByRole('button', { name: 'Claim' }).click();
  await page.locator('.system', { hasText: 'Ana claimed the conversation' }).waitFor();

  const composer = page.locator('.composer textarea');
  await composer.fill('/hel');
  await page.getByRole('listbox', { name: 'Saved replies' }).getByRole('option').first().waitFor();
  await composer.press('Enter');
  assert.equal(await composer.inputValue(), 'Hi Maya Cohen, this is Ana from Demo shop. How can I help?');
  await composer.press('Enter');

  const reply = await maya.waitFor((f) => f.type === 'event' && f.event.kind === 'message' && f.event.actor.kind === 'agent', 'the reply');
  assert.equal(reply.event.message.body, 'Hi Maya Cohen, this is Ana from Demo shop. How can I help?');
  await bubbles(page, 'How can I help?').waitFor();
  assert.equal(await bubbles(page, 'How can I help?').count(), 1, 'the reply shows once (pending and confirmed are one bubble)');

  // The visitor reads it: the agent sees "Seen" under their message.
  maya.read(reply.event.seq);
  await page.locator('.bubble.ours .delivery.read').waitFor();

  // A private note looks different and never reaches the visitor.
  await page.keyboard.press('Escape');
  await page.locator('.transcript').click();
  await page.keyboard.press('n');
  await composer.fill('Customer is a VIP, ship express');
  await composer.press('Enter');
  await page.locator('.bubble.note .body', { hasText: 'ship express' }).waitFor();
  assert.ok(!maya.replies().some((b) => b.includes('ship express')), 'notes stay with the team');

  await page.screenshot({ path: path.join(shots, 'inbox-ltr-light-desktop.png') });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: path.join(shots, 'inbox-ltr-dark-desktop.png') });
  await page.context().close();
  maya.close();
});

test('sorted by waiting, the longest-waiting visitor comes first, and an answered one moves down live', async () => {
  const selin = await addAgent(env.server, 'Selin');
  const page = await signIn(env, selin);
  await page.getByRole('tab', { name: /^All/ }).click();
  const ela = await visitorSaying(env.server, 'Early Ela', 'I have been waiting a while');
  const lou = await visitorSaying(env.server, 'Late Lou', 'Just arrived');
  await rows(page).filter({ hasText: 'Late Lou' }).waitFor();
  await rows(page).filter({ hasText: 'Early Ela' }).waitFor();
  const order = async () => {
    const texts = await rows(page).allInnerTexts();
    return { ela: texts.findIndex((x) => x.includes('Early Ela')), lou: texts.findIndex((x) => x.includes('Late Lou')) };
  };
  const o = await order();
  assert.ok(o.lou < o.ela, `latest activity first: ${JSON.stringify(o)}`);

  await page.getByLabel('Sort').selectOption('waiting');
  await eventually(async () => { const n = await order(); return n.ela >= 0 && n.ela < n.lou; }, 'Ela, who waits longest, first');

  // Answering Ela ends her wait: she moves after every waiting conversation, live.
  const href = await rows(page).filter({ hasText: 'Early Ela' }).locator('a').getAttribute('href');
  await env.server.api('POST', `/api/v1/conversations/${href.split('/').pop()}/messages`, { body: 'Sorry for the wait!' });
  await eventually(async () => { const n = await order(); return n.ela > n.lou; }, 'answered Ela after waiting Lou');
  ela.close?.();
  lou.close?.();
  await page.context().close();
});

test('after its socket is cut and after a server restart the inbox catches up by itself, nothing missing or doubled', async () => {
  const bo = await addAgent(env.server, 'Bo');
  // Every agent socket passes through the test, which can cut it like a network would.
  const sockets = [];
  const page = await signIn(env, bo, '/app', {
    viewport: { width: 1280, height: 800 },
    prepare: (p) => p.routeWebSocket(/\/ws\/agent/, (ws) => {
      ws.connectToServer();
      sockets.push(ws);
    }),
  });
  await page.getByRole('tab', { name: 'Unassigned' }).click();

  const lev = await visitorSaying(env.server, 'Lev Katz', 'first message');
  await rows(page).filter({ hasText: 'Lev Katz' }).locator('a').click();
  await bubbles(page, 'first message').waitFor();
  await page.evaluate(() => (window.__loaded = true));

  // The network drops: the banner says so; what the visitor writes meanwhile arrives after.
  await sockets.at(-1).close();
  await page.getByText(/Reconnecting/).waitFor();
  await lev.say('written while the agent was cut off');
  await lev.say('and a second one');
  await bubbles(page, 'and a second one').waitFor({ timeout: 15_000 });
  await page.getByText(/Reconnecting/).waitFor({ state: 'detached' });

  // The server restarts: the visitor comes back with its token and writes again.
  lev.close();
  await env.server.restart();
  const again = await visitor(env.server.base, env.server.site.public_key, lev.token);
  await again.say('after the restart');
  await bubbles(page, 'after the restart').waitFor({ timeout: 20_000 });

  for (const text of ['first message', 'written while the agent was cut off', 'and a second one', 'after the restart']) {
    assert.equal(await bubbles(page, text).count(), 1, `"${text}" shows exactly once`);
  }
  assert.equal(await page.evaluate(() => window.__loaded), true, 'the page was never reloaded');
  await page.context().close();
  again.close();
});

test('shortcuts follow the physical key: j on an Arabic layout moves, typing j in the composer does not; ? and Ctrl+K open the palette', async () => {
  const cem = await addAgent(env.server, 'Cem');
  for (const name of ['Nadia', 'Omid']) {
    const v = await visitor(env.server.base, env.server.site.public_key);
    v.profile({ name });
    await v.say(`hi from ${name}`);
    v.close();
  }
  const page = await signIn(env, cem);
  await page.getByRole('tab', { name: 'Unassigned' }).click();
  await rows(page).nth(1).waitFor();
  await page.locator('body').click();

  // An Arabic keyboard: the key labelled J sends "ت", code KeyJ.
  await page.evaluate(() => document.dispatchEvent(new KeyboardEvent('keydown', { key: 'ت', code: 'KeyJ', bubbles: true })));
  await page.waitForURL(/\/app\/c\//);
  const first = page.url();
  await page.evaluate(() => document.dispatchEvent(new KeyboardEvent('keydown', { key: 'ت', code: 'KeyJ', bubbles: true })));
  await page.waitForURL((u) => u.href !== first);
  const second = page.url();

  await page.keyboard.press('r');
  await page.keyboard.type('jjj');
  assert.equal(page.url(), second, 'typing in the composer is typing');
  assert.equal(await page.locator('.composer textarea').inputValue(), 'jjj');
  await page.keyboard.press('Escape');

  // Keys faster than a frame: `?` then Esc closes the sheet, not the conversation behind it.
  await page.evaluate(() => {
    for (const [key, code, shiftKey] of [['?', 'Slash', true], ['Escape', 'Escape', false]]) {
      document.body.dispatchEvent(new KeyboardEvent('keydown', { key, code, shiftKey, bubbles: true }));
    }
  });
  await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor({ state: 'detached' });
  assert.equal(page.url(), second, 'Esc closed the sheet only');

  await page.keyboard.press('Shift+Slash');
  await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+k');
  const palette = page.getByRole('dialog', { name: 'Commands' });
  await palette.waitFor();
  await page.keyboard.type('resolve');
  await palette.getByRole('option', { name: /Resolve and open the next/ }).waitFor();
  await page.keyboard.press('Enter');
  // `e` resolves and moves on: the next conversation opens, the resolved one leaves Open.
  await page.waitForURL((u) => u.href !== second && u.pathname.startsWith('/app/c/'));
  const resolved = second.split('/').pop();
  await rows(page).locator(`[href$="${resolved}"]`).waitFor({ state: 'detached' });
  assert.equal((await env.server.api('GET', `/api/v1/conversations/${resolved}`)).status, 'resolved');
  await page.context().close();
});

test('what changes while the list is loading wins over the page: a chat resolved meanwhile stays out, one started meanwhile comes in', async () => {
  const ida = await addAgent(env.server, 'Ida');
  const rosa = await visitorSaying(env.server, 'Resolved Rosa', 'Thanks, all sorted');
  // What the agent's socket hears, to know when each change has reached the page.
  const heard = [];
  const page = await signIn(env, ida, '/app', {
    prepare: (p) => p.on('websocket', (ws) => ws.on('framereceived', ({ payload }) => heard.push(JSON.parse(String(payload))))),
  });
  const heardEvent = (kind, conversationId) =>
    eventually(() => heard.some((f) => f.type === 'event' && f.event.kind === kind && f.event.conversation_id === conversationId), `the ${kind} event`);
  await page.getByRole('tab', { name: 'Unassigned' }).click();
  await rows(page).filter({ hasText: 'Resolved Rosa' }).waitFor();

  // The agent switches to All; the server reads that page at once, but it reaches the
  // browser only after two things happened that the page cannot know about.
  let release;
  const held = new Promise((resolve) => (release = resolve));
  let read;
  const pageRead = new Promise((resolve) => (read = resolve));
  await page.route(/\/api\/v1\/conversations\?/, async (route) => {
    const response = await route.fetch();
    read();
    await held;
    await route.fulfill({ response });
  });
  await page.getByRole('tab', { name: /^All/ }).click();
  await pageRead;
  await env.server.api('PUT', `/api/v1/conversations/${rosa.conversationId}/status`, { status: 'resolved' });
  await heardEvent('status_changed', rosa.conversationId);
  const nina = await visitor(env.server.base, env.server.site.public_key);
  nina.profile({ name: 'New Nina' });
  const ninaRead = page.waitForResponse((r) => /\/api\/v1\/conversations\/[0-9a-f-]{36}$/.test(new URL(r.url()).pathname));
  await nina.say('Hello, anyone there?');
  await (await ninaRead).finished();
  release();

  await rows(page).filter({ hasText: 'New Nina' }).waitFor();
  assert.equal(await rows(page).filter({ hasText: 'Resolved Rosa' }).count(), 0, 'the resolved chat is not in Open');
  await page.unrouteAll({ behavior: 'ignoreErrors' });
  await page.context().close();
  rosa.close();
  nina.close();
});

test('search finds a message, highlights the words and opens the conversation at the hit', async () => {
  const dana = await addAgent(env.server, 'Dana');
  const v = await visitor(env.server.base, env.server.site.public_key);
  await v.say('My parcel arrived damaged and the box was wet');
  v.close();
  const page = await signIn(env, dana);
  await page.locator('#inbox-search').fill('damaged');
  await page.locator('#inbox-search').press('Enter');
  const hit = page.locator('.hits mark', { hasText: 'damaged' }).first();
  await hit.waitFor();
  await hit.click();
  await page.locator('.bubble.hit .body', { hasText: 'arrived damaged' }).waitFor();
  await page.context().close();
});

test('a Persian agent gets the inbox right to left, at phone width, light and dark; axe finds nothing serious', async () => {
  const dariush = await addAgent(env.server, 'Dariush', { locale: 'fa' });
  const v = await visitorSaying(env.server, 'سارا', 'سلام، سفارشم کی می‌رسد؟');
  for (const [name, viewport, scheme] of [
    ['rtl-light-phone', { width: 390, height: 844 }, 'light'],
    ['rtl-dark-desktop', { width: 1366, height: 860 }, 'dark'],
  ]) {
    const page = await signIn(env, dariush, '/app', { viewport, locale: 'fa-IR', colorScheme: scheme });
    assert.equal(await page.locator('html').getAttribute('dir'), 'rtl');
    await page.getByRole('tab', { name: 'بدون مسئول' }).click();
    await rows(page).filter({ hasText: 'سارا' }).waitFor();
    if (viewport.width < 500) {
      const list = await page.locator('.list-column').boundingBox();
      assert.ok(list && list.width >= viewport.width - 1, `at phone width the list takes the whole width (${list?.width})`);
    }
    await page.screenshot({ path: path.join(shots, `inbox-list-${name}.png`) });
    await rows(page).filter({ hasText: 'سارا' }).locator('a').click();
    await bubbles(page, 'سفارشم').waitFor();
    if (viewport.width < 500) {
      assert.equal(await page.locator('.list-column').isVisible(), false, 'at phone width the conversation takes the screen');
      const box = await page.locator('.composer').boundingBox();
      assert.ok(box && box.width <= viewport.width, 'the composer fits the phone');
    }
    await page.screenshot({ path: path.join(shots, `inbox-thread-${name}.png`) });
    assert.deepEqual(await seriousViolations(page), [], 'no serious or critical axe violations');
    await page.context().close();
  }
  v.close();
});

test('a second agent in the same conversation shows as viewing, then as typing, to the first', async () => {
  const eli = await addAgent(env.server, 'Eli');
  const fay = await addAgent(env.server, 'Fay');
  const v = await visitorSaying(env.server, 'Kerem Yilmaz', 'Merhaba, faturamı göremiyorum');
  const url = `${env.server.base}/app/c/${v.conversationId}`;
  const first = await signIn(env, eli);
  await first.goto(url);
  await bubbles(first, 'faturamı').waitFor();
  const second = await signIn(env, fay);
  await second.goto(url);
  await bubbles(second, 'faturamı').waitFor();

  await first.locator('.thread-head .collision', { hasText: 'Fay also has it open' }).waitFor();
  await second.locator('.composer textarea').fill('Merhaba Kerem');
  await first.locator('.thread-head .collision', { hasText: 'Fay is typing a reply' }).waitFor();
  await first.screenshot({ path: path.join(shots, 'inbox-collision-ltr-light-desktop.png') });

  // Fay leaves: the marker goes.
  await second.close();
  await first.locator('.thread-head .collision').waitFor({ state: 'detached' });
  await first.close();
  v.close();
});
