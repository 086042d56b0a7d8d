// The live Visitors screen in a real browser (issue 15). Visitors are driven from Node
// over the real visitor socket, sending `page` frames as the widget's loader does: an
// agent watches a visitor browse three pages and leave, reads their history on the
// visitor's page, invites another visitor by hand and gets the conversation their answer
// starts. Also: the empty, error and offline states, 500 visitors with a bounded DOM,
// and Arabic right to left, dark, at phone width. Screenshots go to target/browser/.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { NO_LIMITS, eventually, serverAndBrowser, shots } from './harness.mjs';
import { addAgent, seriousViolations, signIn } from './helpers.mjs';
import { visitor } from './visitor.mjs';

// A visitor leaves as soon as their last socket closes (the grace period has Rust tests).
const env = serverAndBrowser({ ...NO_LIMITS, SWITCHBOARD__LIVE__LEAVE_GRACE_MS: '0' });
const SHOP = 'https://shop.example';

const rowOf = (page, contactId) => page.locator(`.vrow[data-contact="${contactId}"]`);
const arrive = async (url, title) => {
  const v = await visitor(env.server.base, env.server.site.public_key);
  v.page(url, title);
  return v;
};

test('nobody on the sites: the screen says so and links an admin to the site snippet', async () => {
  const who = await addAgent(env.server, 'Omar', { role: 'admin' });
  const page = await signIn(env, who, '/app/visitors');
  await page.getByText('Nobody on your sites right now').waitFor();
  const link = page.getByRole('link', { name: 'Get the snippet of Demo shop' });
  assert.equal(await link.getAttribute('href'), `/app/settings/sites/${env.server.site.id}`);
  // The screen is in the navigation, and the inbox's `g v` leads to it.
  const nav = page.getByRole('navigation').getByRole('link', { name: /Visitors/ });
  assert.equal(await nav.getAttribute('aria-current'), 'page');
  await page.screenshot({ path: path.join(shots, 'visitors-empty-en.png') });
  await page.goto(`${env.server.base}/app`);
  await page.locator('.inbox').waitFor();
  // The inbox binds its keys once it has rendered: press until the chord is heard.
  await eventually(async () => {
    await page.keyboard.press('g');
    await page.keyboard.press('v');
    return new URL(page.url()).pathname === '/app/visitors';
  }, 'g v to open the visitors screen');
  await page.getByText('Nobody on your sites right now').waitFor();
  await page.context().close();
});

test('from sign-in, on the inbox, the navigation counts who is on the sites, without reading the list', async () => {
  const who = await addAgent(env.server, 'Nour');
  const page = await signIn(env, who, '/app');
  const listReads = [];
  page.on('request', (r) => new URL(r.url()).pathname === '/api/v1/visitors/live' && listReads.push(r.url()));
  await page.locator('.inbox').waitFor();
  const count = page.locator('.rail-count');
  assert.equal(await count.count(), 0, 'nobody on the sites yet');

  const ana = await arrive(`${SHOP}/`, 'Home');
  await count.getByText('1', { exact: true }).waitFor();
  const ben = await arrive(`${SHOP}/sale`, 'Sale');
  await count.getByText('2', { exact: true }).waitFor();
  ana.close();
  await count.getByText('1', { exact: true }).waitFor();
  ben.close();
  await count.waitFor({ state: 'detached' });
  assert.deepEqual(listReads, [], 'the count comes from the socket, not the whole list');
  await page.context().close();
});

test('an agent watches a visitor browse three pages live, sees them leave, and reads their history', async () => {
  const who = await addAgent(env.server, 'Rana');
  const page = await signIn(env, who, '/app/visitors');
  await page.getByText('Nobody on your sites right now').waitFor();

  const maya = await arrive(`${SHOP}/`, 'Home');
  const row = rowOf(page, maya.contactId);
  await row.getByText('Home', { exact: true }).waitFor();
  assert.match(await row.innerText(), /New/);
  assert.match(await row.innerText(), /1 page\b/);
  // The nav counts who is on the sites.
  await page.locator('.rail-count').getByText('1', { exact: true }).waitFor();

  maya.page(`${SHOP}/pricing`, 'Pricing');
  await row.getByText('Pricing', { exact: true }).waitFor();
  await row.getByText('2 pages').waitFor();
  maya.page(`${SHOP}/checkout?plan=pro`, 'Checkout');
  await row.getByText('Checkout', { exact: true }).waitFor();
  await row.getByText('/checkout?plan=pro').waitFor();
  await row.getByText('3 pages').waitFor();
  // Time on the page ticks in the browser, from the timestamps alone.
  const before = await row.locator('.c-page .sub').last().innerText();
  await eventually(async () => (await row.locator('.c-page .sub').last().innerText()) !== before, 'the time on the page to tick', 5000);
  await page.screenshot({ path: path.join(shots, 'visitors-list-en.png') });
  assert.deepEqual(await seriousViolations(page), []);
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: path.join(shots, 'visitors-list-en-dark.png') });
  await page.emulateMedia({ colorScheme: 'light' });

  // Open the visitor: who, where now (live), the history of this visit.
  await row.getByRole('link', { name: 'Anonymous visitor' }).click();
  await page.waitForURL((url) => url.pathname === `/app/visitors/${maya.contactId}`);
  const now = page.locator('.now');
  await now.getByRole('link', { name: 'Checkout' }).waitFor();
  const history = page.locator('.history');
  await history.getByText('Visit 1').waitFor();
  const pages = await history.locator('.pages li').allInnerTexts();
  assert.equal(pages.length, 3);
  assert.match(pages[0], /Home/);
  assert.match(pages[2], /Checkout/);
  await page.screenshot({ path: path.join(shots, 'visitor-page-en.png'), fullPage: true });
  assert.deepEqual(await seriousViolations(page), []);

  // They leave: the page says so, and the list no longer shows them.
  maya.close();
  await now.getByText(/Not on a site now/).waitFor();
  await page.goBack();
  await page.getByText('Nobody on your sites right now').waitFor();
  assert.equal(await row.count(), 0);
  await page.context().close();
});

test('an agent invites a visitor from the list; the visitor answers and the agent gets the conversation', async () => {
  const rana = await addAgent(env.server, 'Noor');
  const page = await signIn(env, rana, '/app/visitors');
  const lou = await arrive(`${SHOP}/pricing`, 'Pricing');
  const row = rowOf(page, lou.contactId);
  await row.getByText('Not chatting').waitFor();

  await row.getByRole('button', { name: 'Invite to chat' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Message').fill('Hi! Any questions about our plans?');
  await page.screenshot({ path: path.join(shots, 'visitors-invite-en.png') });
  await dialog.getByRole('button', { name: 'Send the invitation' }).click();
  await row.getByText('Invited').waitFor();

  const { invitation } = await lou.waitFor((f) => f.type === 'invitation', 'the invitation');
  assert.equal(invitation.body, 'Hi! Any questions about our plans?');
  assert.equal(invitation.agent?.name, 'Noor');
  const client_id = randomUUID();
  lou.send({ type: 'send', client_id, invitation_id: invitation.id, body: 'Yes, which plan has SSO?' });
  const ack = await lou.waitFor((f) => f.type === 'ack' && f.client_id === client_id, 'the ack of the answer');

  // The row now says who the visitor is chatting with, and links the conversation.
  const chat = row.getByRole('link', { name: 'Chatting with Noor' });
  await chat.waitFor();
  assert.equal(await chat.getAttribute('href'), `/app/c/${ack.conversation_id}`);
  const conversation = await env.server.api('GET', `/api/v1/conversations/${ack.conversation_id}`);
  assert.equal(conversation.assignee_id, rana.id);

  await chat.click();
  await page.waitForURL((url) => url.pathname === `/app/c/${ack.conversation_id}`);
  await page.locator('.transcript').getByText('Yes, which plan has SSO?').waitFor();
  await page.locator('.transcript').getByText('Hi! Any questions about our plans?').waitFor();

  // The visitor's page lists the conversation too, and says who they are chatting with.
  await page.goto(`${env.server.base}/app/visitors/${lou.contactId}`);
  const listed = page.locator('.conversations a');
  await listed.first().waitFor();
  assert.equal(await listed.first().getAttribute('href'), `/app/c/${ack.conversation_id}`);
  await page.locator('.now').getByRole('link', { name: 'Chatting with Noor' }).waitFor();
  assert.equal(await page.locator('.now').getByRole('button', { name: 'Invite to chat' }).isDisabled(), true);
  lou.close();
  await page.context().close();
});

test('inviting a visitor who just left says so, and an empty message cannot be sent', async () => {
  const who = await addAgent(env.server, 'Sami');
  const page = await signIn(env, who, '/app/visitors');
  const ela = await arrive(`${SHOP}/`, 'Home');
  const row = rowOf(page, ela.contactId);
  await row.getByRole('button', { name: 'Invite to chat' }).click();
  const dialog = page.getByRole('dialog');
  const send = dialog.getByRole('button', { name: 'Send the invitation' });
  assert.equal(await send.isDisabled(), true, 'an empty message cannot be sent');
  await dialog.getByLabel('Message').fill('Can I help?');
  ela.close();
  await row.waitFor({ state: 'detached' });
  await send.click();
  await dialog.getByText('This visitor is no longer on the site.').waitFor();
  await page.context().close();
});

test('the list shows an error with a retry, and greys out with a banner when offline', async () => {
  const who = await addAgent(env.server, 'Tala');
  const page = await signIn(env, who, '/app');
  // Neither the REST read nor the socket answers: the error state, with a retry.
  await page.route('**/api/v1/visitors/live', (route) =>
    route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ code: 'unavailable', message: 'down' }) }),
  );
  await page.routeWebSocket('**/ws/agent', (ws) => ws.close());
  await page.goto(`${env.server.base}/app/visitors`);
  await page.getByText('The list of visitors could not be loaded.').waitFor();
  await page.screenshot({ path: path.join(shots, 'visitors-error-en.png') });
  const kai = await arrive(`${SHOP}/`, 'Home');
  await page.unroute('**/api/v1/visitors/live');
  await page.getByRole('button', { name: 'Try again' }).click();
  await rowOf(page, kai.contactId).getByText('Home').waitFor();

  // Offline: the last known list stays, greyed, under a banner.
  await page.context().setOffline(true);
  await page.getByText(/Connection lost: this is the last list we had/).waitFor();
  assert.match(await page.locator('.vtable').getAttribute('class'), /stale/);
  await rowOf(page, kai.contactId).getByText('Home').waitFor();
  await page.screenshot({ path: path.join(shots, 'visitors-offline-en.png') });
  await page.context().setOffline(false);
  kai.close();
  await page.context().close();
});

test('500 visitors: the DOM holds only the rows in view, and a change still shows at once', async () => {
  const who = await addAgent(env.server, 'Dana');
  const crowd = [];
  for (let batch = 0; batch < 10; batch++) {
    crowd.push(...(await Promise.all(Array.from({ length: 50 }, (_, i) => arrive(`${SHOP}/p/${batch * 50 + i}`, `Product ${batch * 50 + i}`)))));
  }
  const page = await signIn(env, who, '/app/visitors');
  try {
    await crowdChecks(page, crowd);
  } finally {
    for (const v of crowd) v.close();
  }
  await page.getByText('Nobody on your sites right now').waitFor({ timeout: 20_000 });
  await page.context().close();
});

async function crowdChecks(page, crowd) {
  await page.getByText('500 visitors on your sites now').waitFor({ timeout: 20_000 });
  const table = page.getByRole('table', { name: 'Visitors on your sites' });
  assert.equal(await table.getAttribute('aria-rowcount'), '501');
  const inDom = await page.locator('.vbody .vrow').count();
  assert.ok(inDom > 5 && inDom < 60, `${inDom} rows in the DOM for 500 visitors`);

  // Scrolling to the end renders the last rows, still a bounded number.
  await page.locator('.vscroll').evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
  await page.locator('.vrow[aria-rowindex="501"]').waitFor();
  assert.ok((await page.locator('.vbody .vrow').count()) < 60);

  // Sorted by last change, a visitor who moves comes to the top, updated in place.
  await page.getByLabel('Sort by').selectOption('changed');
  await page.locator('.vscroll').evaluate((el) => el.scrollTo({ top: 0 }));
  const mover = crowd[123];
  mover.page(`${SHOP}/cart`, 'Cart of the mover');
  const top = page.locator('.vrow[aria-rowindex="2"]');
  await top.getByText('Cart of the mover').waitFor({ timeout: 5000 });
  assert.equal(await top.getAttribute('data-contact'), mover.contactId);
  assert.equal(await page.locator(`.vrow[data-contact="${mover.contactId}"]`).count(), 1);

  // Text search narrows the list to one row.
  await page.getByPlaceholder('Search by name, e-mail or page').fill('Product 421');
  await eventually(async () => (await table.getAttribute('aria-rowcount')) === '2', 'the search to keep one row');
  await page.screenshot({ path: path.join(shots, 'visitors-500-en.png') });
  await page.getByPlaceholder('Search by name, e-mail or page').fill('');
}

test('the visitors screens read right to left in Arabic, dark and light, desktop and phone', async () => {
  const who = await addAgent(env.server, 'Layla', { locale: 'ar' });
  const v = await arrive(`${SHOP}/pricing?utm_source=news&utm_campaign=winter`, 'الأسعار');
  const page = await signIn(env, who, '/app/visitors', { colorScheme: 'dark' });
  await rowOf(page, v.contactId).getByText('الأسعار').waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.dir), 'rtl');
  await page.screenshot({ path: path.join(shots, 'visitors-list-ar-dark.png') });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.screenshot({ path: path.join(shots, 'visitors-list-ar-light.png') });
  await rowOf(page, v.contactId).getByRole('link', { name: 'زائر مجهول' }).click();
  await page.locator('.history .pages li').first().waitFor();
  await page.screenshot({ path: path.join(shots, 'visitor-page-ar-light.png'), fullPage: true });
  await page.context().close();

  const phone = await signIn(env, who, '/app/visitors', { viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
  const card = rowOf(phone, v.contactId);
  await card.getByText('الأسعار').waitFor();
  const box = await card.boundingBox();
  assert.ok(box && box.width <= 390, 'a card fits the phone');
  await phone.screenshot({ path: path.join(shots, 'visitors-cards-ar-phone-dark.png') });
  await phone.goto(`${env.server.base}/app/visitors/${v.contactId}`);
  await phone.locator('.history .pages li').first().waitFor();
  await phone.screenshot({ path: path.join(shots, 'visitor-page-ar-phone-dark.png'), fullPage: true });
  await phone.context().close();
  v.close();
});

test("a visitor's country shows as a flag and its name in the agent's language", async () => {
  // The server fills `country` from a GeoIP database (built elsewhere); until then the
  // test sets it on the socket's frames on their way to the page.
  const who = await addAgent(env.server, 'Deniz', { locale: 'tr' });
  const page = await signIn(env, who, '/app/visitors', {
    prepare: async (p) => {
      await p.routeWebSocket('**/ws/agent', (ws) => {
        const server = ws.connectToServer();
        ws.onMessage((m) => server.send(m));
        server.onMessage((m) => {
          const frame = JSON.parse(String(m));
          for (const v of frame.type === 'visitors' ? frame.visitors : frame.type === 'visitor' ? [frame.visitor] : []) v.country = 'DE';
          ws.send(JSON.stringify(frame));
        });
      });
      await p.route('**/api/v1/visitors/live', (route) => route.fulfill({ status: 503, body: '{}' }));
    },
  });
  const v = await arrive(`${SHOP}/`, 'Ana sayfa');
  const row = rowOf(page, v.contactId);
  await row.getByText('Almanya').waitFor();
  assert.match(await row.innerText(), /🇩🇪/);
  await page.screenshot({ path: path.join(shots, 'visitors-country-tr.png') });
  v.close();
  await page.context().close();
});

test("the browsing history pages back with the server's cursor, newest visit first", async () => {
  const who = await addAgent(env.server, 'Yara');
  const v = await arrive(`${SHOP}/shoes`, 'Shoes');
  const page = await signIn(env, who, '/app');
  // One real visit, then (the server splits visits after 30 idle minutes, too slow for
  // a test) the next page is an older visit the route answers for the cursor it handed out.
  const older = {
    id: randomUUID(), site_id: env.server.site.id, contact_id: v.contactId, number: 1, started_at: Date.UTC(2026, 10, 2, 9), last_seen_at: Date.UTC(2026, 10, 2, 9, 4),
    referrer: 'https://search.example/?q=boots', utm: { source: 'news', medium: null, campaign: 'autumn', term: null, content: null },
    device: { browser: null, os: null, device: null, language: null }, country: null,
    pages: [{ at: Date.UTC(2026, 10, 2, 9), url: `${SHOP}/boots`, title: 'Boots', referrer: null }],
  };
  const asked = [];
  await page.route('**/api/v1/contacts/*/visits*', async (route) => {
    const url = new URL(route.request().url());
    asked.push(url.searchParams.get('before'));
    if (url.searchParams.get('before') === 'older-cursor') return route.fulfill({ json: { visits: [older], next: null } });
    const real = await (await route.fetch()).json();
    return route.fulfill({ json: { ...real, next: 'older-cursor' } });
  });
  await page.goto(`${env.server.base}/app/visitors/${v.contactId}`);
  const visits = page.locator('.history .visit');
  await visits.first().getByText('Shoes', { exact: true }).waitFor();
  await page.getByRole('button', { name: 'Show older visits' }).click();
  await visits.nth(1).getByText('Boots', { exact: true }).waitFor();
  assert.deepEqual(asked, [null, 'older-cursor']);
  assert.match(await visits.nth(1).innerText(), /search\.example · news \/ autumn/);
  assert.equal(await page.getByRole('button', { name: 'Show older visits' }).count(), 0, 'no more pages');
  v.close();
  await page.context().close();
});
