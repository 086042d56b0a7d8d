// Routing as people meet it, in a real browser against the real server: two agents race
// to claim a waiting chat and the loser is told kindly who won; a transfer with a note
// reaches both agents' threads (and never the visitor); a visitor in the widget sees
// their place in line fall as agents take chats; an admin sets a team's strategy and an
// agent's capacity. Screenshots in both directions, both themes, desktop and phone, and
// axe on the transfer dialog and the team settings.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { eventually, hostSite, serverAndBrowser, shopPage, shots, widgetOn, NO_LIMITS } from './harness.mjs';
import { addAgent, asAgent, seriousViolations, signIn } from './helpers.mjs';
import { visitor } from './visitor.mjs';

const env = serverAndBrowser(NO_LIMITS);
let host;
after(() => host?.close());

/** A team of `members` that routes by `strategy`, where the demo site's chats go. */
async function team(name, members, strategy) {
  const made = await env.server.api('POST', '/api/v1/teams', { name, agent_ids: members.map((m) => m.id), strategy });
  await env.server.api('PATCH', `/api/v1/sites/${env.server.site.id}`, { default_team_id: made.id });
  return made;
}

const thread = (page) => page.locator('.transcript');
const row = (page, text) => page.locator('.conversations .row', { hasText: text });

test('two agents claim the same waiting chat at once: one wins, the other is told kindly who took it', async () => {
  const leyla = await addAgent(env.server, 'Leyla');
  const omar = await addAgent(env.server, 'Omar');
  const sales = await team('Sales', [leyla, omar], 'manual');
  const [lp, op] = await Promise.all([signIn(env, leyla), signIn(env, omar)]);
  for (const page of [lp, op]) await page.getByRole('tab', { name: /^Unassigned/ }).click();

  const maya = await visitor(env.server.base, env.server.site.public_key);
  maya.profile({ name: 'Maya Cohen' });
  await maya.say('Is the blue kettle in stock?');
  await maya.waitFor((f) => f.type === 'queue' && f.position === 1, 'first in line');

  // A manual team: the chat waits. Both see the queue and its place in line, live.
  for (const page of [lp, op]) {
    await page.locator('.queues').getByRole('button', { name: /^Sales: 1 visitor waiting/ }).waitFor();
    await row(page, 'Maya Cohen').getByText('No. 1 in line').waitFor();
    await row(page, 'Maya Cohen').locator('a').click();
    await page.locator('.thread-head').getByRole('button', { name: 'Claim' }).waitFor();
    await thread(page).getByText('Waiting in the Sales queue').waitFor();
    await thread(page).click();
  }
  await lp.screenshot({ path: path.join(shots, 'routing-queue-ltr-light-desktop.png') });

  // Both press C (claim) at the same moment; the server lets exactly one win.
  await Promise.all([lp.keyboard.press('c'), op.keyboard.press('c')]);
  const id = maya.conversationId;
  const won = await eventually(async () => (await env.server.api('GET', `/api/v1/conversations/${id}`)).assignee_id, 'an assignee');
  assert.ok([leyla.id, omar.id].includes(won));
  const [winner, loserPage] = won === leyla.id ? [leyla, op] : [omar, lp];
  await loserPage.getByRole('status').filter({ hasText: `${winner.name} took this one a moment ago.` }).waitFor();
  for (const page of [lp, op]) {
    await thread(page).getByText(`${winner.name} claimed the conversation`).waitFor();
    await thread(page).getByText(/Left the Sales queue after/).waitFor();
    await page.locator('.queues').getByRole('button', { name: 'Sales: nobody waiting' }).waitFor();
  }
  // The loser's click changed nothing: one claim, one assignment event.
  const history = await env.server.api('GET', `/api/v1/conversations/${id}/messages`);
  assert.equal(history.items.filter((e) => e.kind === 'assigned').length, 1);
  await env.server.api('PATCH', `/api/v1/teams/${sales.id}`, { agent_ids: [] });
  await Promise.all([lp.context().close(), op.context().close()]);
  maya.close();
});

test('a transfer with a note appears in both agents\' threads, and the visitor never sees the note', async () => {
  const derya = await addAgent(env.server, 'Derya');
  const can = await addAgent(env.server, 'Can');
  await team('Support', [derya, can], 'manual');
  const [dp, cp] = await Promise.all([signIn(env, derya), signIn(env, can)]);

  const ela = await visitor(env.server.base, env.server.site.public_key);
  ela.profile({ name: 'Ela Demir' });
  await ela.say('My parcel arrived damaged');
  const asDerya = (await asAgent(env.server, derya)).request;
  assert.equal((await asDerya('POST', `/api/v1/conversations/${ela.conversationId}/claim`)).status, 200);

  await dp.goto(`${env.server.base}/app/c/${ela.conversationId}`);
  await cp.goto(`${env.server.base}/app/c/${ela.conversationId}`);
  await thread(dp).getByText('Derya claimed the conversation').waitFor();

  // Derya transfers it to Can with a note; Can is shown online with his load.
  await dp.keyboard.press('t');
  const dialog = dp.getByRole('dialog', { name: 'Transfer the conversation' });
  const canChoice = dialog.locator('label.pick', { has: dp.locator('.pick-name', { hasText: /^Can$/ }) });
  await canChoice.getByText('online').waitFor();
  await canChoice.getByText('0 of 5 chats').waitFor();
  await dialog.screenshot({ path: path.join(shots, 'routing-transfer-dialog-ltr-light.png') });
  await canChoice.getByRole('radio').check();
  await dialog.getByLabel('Note for the team (optional)').fill('Photos are in the thread; a refund is approved.');
  await dialog.getByRole('button', { name: 'Transfer' }).click();
  await dialog.waitFor({ state: 'detached' });
  await dp.getByRole('status').filter({ hasText: 'Transferred to Can.' }).waitFor();

  for (const page of [dp, cp]) {
    const line = page.locator('.transcript .system', { hasText: 'Derya transferred the conversation to Can' });
    await line.waitFor();
    await line.locator('blockquote', { hasText: 'Transfer note' }).getByText('a refund is approved', { exact: false }).waitFor();
  }
  const assigned = await ela.waitFor((f) => f.type === 'event' && f.event.kind === 'assigned' && f.event.reason === 'transferred', 'the transfer');
  assert.ok(!assigned.event.note, 'the visitor gets no note');
  assert.ok(!JSON.stringify(ela.frames).includes('refund is approved'), 'the note never reaches the visitor');
  assert.equal((await env.server.api('GET', `/api/v1/conversations/${ela.conversationId}`)).assignee_id, can.id);

  await cp.screenshot({ path: path.join(shots, 'routing-transfer-ltr-light-desktop.png') });
  await cp.emulateMedia({ colorScheme: 'dark' });
  await cp.screenshot({ path: path.join(shots, 'routing-transfer-ltr-dark-desktop.png') });
  await Promise.all([dp.context().close(), cp.context().close()]);
  ela.close();
});

test('a visitor in the widget sees their place in line fall as agents take chats, and it goes when an agent joins', async () => {
  const selin = await addAgent(env.server, 'Selin');
  await team('Shop desk', [selin], 'manual');
  const asSelin = (await asAgent(env.server, selin)).request;
  // Selin's dashboard is open, so the team is online for visitors, and nobody is assigned.
  const dashboard = await signIn(env, selin);

  const first = await visitor(env.server.base, env.server.site.public_key);
  await first.say('First!');
  const second = await visitor(env.server.base, env.server.site.public_key);
  await second.say('Second!');
  await second.waitFor((f) => f.type === 'queue' && f.position === 2, 'second in line');

  host?.close();
  host = await hostSite({ '/': { html: shopPage(env.server.base, env.server.site.public_key) } });
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(host.origin);
  const w = widgetOn(page);
  await w.launcher.click();
  await w.frame.getByLabel('Message').fill('Third, I guess?');
  await w.frame.getByLabel('Message').press('Enter');
  await w.frame.getByText('You are number 3 in line').waitFor();
  await page.screenshot({ path: path.join(shots, 'routing-widget-queue-ltr-light.png') });

  assert.equal((await asSelin('POST', `/api/v1/conversations/${first.conversationId}/claim`)).status, 200);
  await w.frame.getByText('You are number 2 in line').waitFor();
  assert.equal((await asSelin('POST', `/api/v1/conversations/${second.conversationId}/claim`)).status, 200);
  await w.frame.getByText('You are number 1 in line').waitFor();

  const mine = await eventually(async () => {
    const all = await env.server.api('GET', '/api/v1/conversations?status=open&assignee=none');
    return all.items.find((c) => c.queue_position === 1)?.id;
  }, 'the widget visitor\'s conversation in the queue');
  assert.equal((await asSelin('POST', `/api/v1/conversations/${mine}/claim`)).status, 200);
  await w.frame.getByText(/You are number \d in line/).waitFor({ state: 'detached' });
  await context.close();
  await dashboard.context().close();
  first.close();
  second.close();
});

test('an admin sets a team\'s strategy and re-routing, an agent\'s capacity and the workspace default', async () => {
  const admin = await addAgent(env.server, 'Aylin', { role: 'admin' });
  const kerem = await addAgent(env.server, 'Kerem');
  const made = await env.server.api('POST', '/api/v1/teams', { name: 'Returns', agent_ids: [kerem.id] });
  assert.equal(made.strategy, 'balanced');

  const page = await signIn(env, admin, `/app/settings/teams/${made.id}`);
  await page.getByText('Nobody is assigned automatically').waitFor();
  await page.getByRole('radio', { name: /^Round robin/ }).check();
  await page.getByRole('checkbox', { name: 'Send a returning visitor to the agent who helped them last' }).uncheck();
  await page.getByRole('checkbox', { name: 'Re-route when the agent has not replied within' }).check();
  await page.getByRole('spinbutton', { name: 'Re-route when the agent has not replied within' }).fill('2');
  await page.getByRole('checkbox', { name: 'Offer the offline form after waiting' }).check();
  await page.getByRole('spinbutton', { name: 'Offer the offline form after waiting' }).fill('15');
  await page.screenshot({ path: path.join(shots, 'routing-admin-team-ltr-light-desktop.png'), fullPage: true });
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Saved.').waitFor();
  const saved = await env.server.api('GET', `/api/v1/teams/${made.id}`);
  assert.equal(saved.strategy, 'round_robin');
  assert.equal(saved.sticky, false);
  assert.equal(saved.reroute_after_seconds, 120);
  assert.equal(saved.reroute_when_offline, true);
  assert.equal(saved.max_wait_seconds, 900);

  // Kerem's own maximum of 3, then back to the workspace default, which becomes 7.
  await page.goto(`${env.server.base}/app/settings/agents`);
  const keremRow = page.getByRole('row').filter({ hasText: 'kerem@shop.example' });
  await keremRow.getByText('0 of 5').waitFor();
  await keremRow.getByText('workspace default').waitFor();
  await page.getByRole('button', { name: 'Edit Kerem' }).click();
  const edit = page.getByRole('dialog', { name: /Kerem/ });
  await edit.getByRole('checkbox', { name: 'Use the workspace default (5)' }).uncheck();
  await edit.getByRole('spinbutton', { name: 'Own maximum' }).fill('3');
  await edit.getByRole('button', { name: 'Save' }).click();
  await edit.waitFor({ state: 'detached' });
  await keremRow.getByText('0 of 3').waitFor();
  let k = await env.server.api('GET', `/api/v1/agents/${kerem.id}`);
  assert.equal(k.max_chats, 3);
  assert.equal(k.effective_max_chats, 3);

  await page.getByRole('button', { name: 'Edit Kerem' }).click();
  await edit.getByRole('checkbox', { name: 'Use the workspace default (5)' }).check();
  await edit.getByRole('button', { name: 'Save' }).click();
  await edit.waitFor({ state: 'detached' });
  k = await env.server.api('GET', `/api/v1/agents/${kerem.id}`);
  assert.equal(k.max_chats, null);

  await page.goto(`${env.server.base}/app/settings/workspace`);
  await page.getByLabel('Default max. chats at once').fill('7');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Saved.').waitFor();
  assert.equal((await env.server.api('GET', '/api/v1/workspace')).default_max_chats, 7);
  assert.equal((await env.server.api('GET', `/api/v1/agents/${kerem.id}`)).effective_max_chats, 7);
  await page.context().close();
});

test('right to left, dark and phone width: the queues, the transfer dialog and the team settings in Persian and Arabic', async () => {
  const nima = await addAgent(env.server, 'Nima', { locale: 'fa' });
  const rana = await addAgent(env.server, 'Rana', { locale: 'ar', role: 'admin' });
  const desk = await team('میز فارسی', [nima, rana], 'manual');
  const v = await visitor(env.server.base, env.server.site.public_key);
  v.profile({ name: 'سارا' });
  await v.say('سلام، سفارشم کجاست؟');
  await v.waitFor((f) => f.type === 'queue', 'in line');

  for (const [name, options] of [['desktop', {}], ['phone', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }]]) {
    const page = await signIn(env, nima, '/app', options);
    await page.locator('html[dir=rtl]').waitFor({ state: 'attached' });
    // The team's busy queue (earlier stories leave others waiting) opens its unassigned
    // conversations, longest waiting first.
    const queue = page.locator('.queues .queue.busy', { hasText: 'میز فارسی' });
    await queue.waitFor();
    await queue.locator('button').first().click();
    await row(page, 'سارا').waitFor();
    await page.screenshot({ path: path.join(shots, `routing-queue-rtl-light-${name}.png`) });
    await row(page, 'سارا').locator('a').click();
    await page.locator('.thread-head').waitFor();
    await page.keyboard.press('t');
    await page.getByRole('dialog').waitFor();
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: path.join(shots, `routing-transfer-rtl-dark-${name}.png`) });
    assert.deepEqual(await seriousViolations(page), [], 'no serious or critical axe violations in the transfer dialog');
    await page.context().close();
  }
  const admin = await signIn(env, rana, `/app/settings/teams/${desk.id}`);
  await admin.getByRole('radio').first().waitFor();
  assert.deepEqual(await seriousViolations(admin), [], 'no serious or critical axe violations in the team settings');
  await admin.screenshot({ path: path.join(shots, 'routing-admin-team-rtl-light-desktop.png'), fullPage: true });
  await admin.emulateMedia({ colorScheme: 'dark' });
  await admin.setViewportSize({ width: 390, height: 844 });
  await admin.screenshot({ path: path.join(shots, 'routing-admin-team-rtl-dark-phone.png'), fullPage: true });
  await admin.context().close();
  v.close();
});
