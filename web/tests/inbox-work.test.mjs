// An agent's day in the inbox beyond the first answer: triage by keyboard (priority,
// labels, snooze, resolve, reopen), each action a line in the transcript as the server
// records it; drafts kept per conversation and Shift+Enter; files pasted and dropped into
// the composer with previews and the server's refusals explained; the visitor's details
// edited from the context panel; the unread count in the tab title and a desktop
// notification while the tab is hidden.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { eventually, serverAndBrowser, shots, NO_LIMITS } from './harness.mjs';
import { addAgent, addSite, signIn, visitorSaying } from './helpers.mjs';
import { visitor } from './visitor.mjs';

const env = serverAndBrowser(NO_LIMITS);

const rows = (page) => page.locator('.conversations .row');
const system = (page, text) => page.locator('.transcript .system', { hasText: text });

/** Opens `name`'s conversation from the All view and returns its id. */
async function openRow(page, name) {
  await page.getByRole('tab', { name: /^All/ }).click();
  const row = rows(page).filter({ hasText: name });
  await row.waitFor();
  const href = await row.locator('a').getAttribute('href');
  await row.locator('a').click();
  await page.locator('.thread-head h2', { hasText: name }).waitFor();
  return href.split('/').pop();
}

test('an agent triages by keyboard: priority, a label, snooze, resolve and reopen, each a line in the transcript', async () => {
  const kai = await addAgent(env.server, 'Kai');
  const kim = await visitorSaying(env.server, 'Keyboard Kim', 'Which size fits a 27 cm foot?');
  const page = await signIn(env, kai);
  const id = await openRow(page, 'Keyboard Kim');
  const transcript = page.locator('.transcript');
  await transcript.focus();

  // P goes to the priority; typing its first letter picks it, as in any list box.
  await page.keyboard.press('p');
  await page.locator('#set-priority:focus').waitFor();
  await page.keyboard.press('h');
  await system(page, 'Kai set the priority to High').waitFor();

  // L goes to the labels.
  await transcript.focus();
  await page.keyboard.press('l');
  await page.locator('#add-label:focus').waitFor();
  await page.keyboard.type('sizes');
  await page.keyboard.press('Enter');
  await system(page, 'Kai set the labels: sizes').waitFor();

  // H opens the snooze choices with the first one focused: Enter picks it.
  await transcript.focus();
  await page.keyboard.press('h');
  const dialog = page.getByRole('dialog', { name: 'Snooze' });
  await dialog.waitFor();
  await dialog.getByRole('button').first().and(page.locator(':focus')).waitFor();
  await page.keyboard.press('Enter');
  await dialog.waitFor({ state: 'detached' });
  await system(page, 'Kai snoozed the conversation until').waitFor();

  // E resolves, and E again reopens.
  await transcript.focus();
  await page.keyboard.press('e');
  await system(page, 'Kai resolved the conversation').waitFor();
  await page.goto(`${env.server.base}/app/c/${id}`);
  await page.locator('.transcript').focus();
  await page.keyboard.press('e');
  await system(page, 'Kai reopened the conversation').waitFor();

  // What the transcript shows is what the server recorded.
  const c = await env.server.api('GET', `/api/v1/conversations/${id}`);
  assert.deepEqual([c.status, c.priority, c.labels], ['open', 'high', ['sizes']]);
  const history = await env.server.api('GET', `/api/v1/conversations/${id}/messages`);
  const kinds = history.items.map((e) => (e.kind === 'status_changed' ? `status:${e.status?.status ?? e.status}` : e.kind));
  for (const kind of ['priority_changed', 'labels_changed']) assert.ok(kinds.includes(kind), `${kind} in ${kinds}`);
  assert.equal(history.items.filter((e) => e.kind === 'status_changed').length, 3, 'snoozed, resolved, reopened');
  await page.screenshot({ path: path.join(shots, 'inbox-triage.png') });
  await page.context().close();
  kim.close?.();
});

test('drafts stay with their conversation, across a reload; the visitor sees the agent typing; Shift+Enter breaks the line and Enter sends', async () => {
  const dee = await addAgent(env.server, 'Dee');
  const dana = await visitorSaying(env.server, 'Draft Dana', 'Do you have this in blue?');
  const deniz = await visitorSaying(env.server, 'Draft Deniz', 'Can I change my address?');
  const page = await signIn(env, dee);
  const composer = page.locator('.composer textarea');

  const danaId = await openRow(page, 'Draft Dana');
  await composer.fill('Let me check the blue one in the');
  await openRow(page, 'Draft Deniz');
  assert.equal(await composer.inputValue(), '', 'another conversation, another (empty) draft');
  await composer.click();
  await page.keyboard.type('Yes, of course.');
  // The visitor sees the agent typing.
  await deniz.waitFor((f) => f.type === 'typing' && f.actor.kind === 'agent' && f.typing, 'the agent typing');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('Which address?');
  assert.equal(await composer.inputValue(), 'Yes, of course.\nWhich address?');
  await page.keyboard.press('Enter');
  const reply = await deniz.waitFor((f) => f.type === 'event' && f.event.kind === 'message' && f.event.actor.kind === 'agent', 'the reply');
  assert.equal(reply.event.message.body, 'Yes, of course.\nWhich address?');
  assert.equal(await composer.inputValue(), '', 'sent: the composer is empty again');

  await page.goto(`${env.server.base}/app/c/${danaId}`);
  await page.locator('.thread-head h2', { hasText: 'Draft Dana' }).waitFor();
  assert.equal(await composer.inputValue(), 'Let me check the blue one in the', 'the draft came back after a reload');
  await page.context().close();
  dana.close?.();
  deniz.close?.();
});

// A 1×1 PNG, so the server can measure it.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

test('files pasted and dropped into the composer show previews, a refused one says why, and the rest reach the visitor', async () => {
  const fay = await addAgent(env.server, 'Fay');
  const filo = await visitorSaying(env.server, 'File Filo', 'Here is the broken zip, what now?');
  const page = await signIn(env, fay);
  await openRow(page, 'File Filo');
  const composer = page.locator('.composer textarea');
  await composer.click();

  // Pasted: an image, with its preview.
  await page.evaluate((bytes) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(bytes)], 'label.png', { type: 'image/png' }));
    document.querySelector('.composer textarea').dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  }, [...PNG]);
  // Dropped: a text file the server takes and a program it refuses.
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['Return label for order 77\n'], 'steps.txt', { type: 'text/plain' }));
    dt.items.add(new File([new Uint8Array([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00, 0x04])], 'fix.exe', { type: 'application/octet-stream' }));
    document.querySelector('.composer').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  const files = page.getByRole('list', { name: 'Files to send' });
  await files.locator('li.done', { hasText: 'label.png' }).locator('img').waitFor();
  await files.locator('li.done', { hasText: 'steps.txt' }).waitFor();
  await files.locator('li.failed', { hasText: 'fix.exe' }).getByText('This type of file cannot be sent.').waitFor();
  await page.screenshot({ path: path.join(shots, 'inbox-composer-files.png') });
  await page.getByRole('button', { name: 'Remove fix.exe' }).click();

  await composer.fill('A new label and the steps');
  await composer.press('Enter');
  const reply = await filo.waitFor((f) => f.type === 'event' && f.event.kind === 'message' && f.event.actor.kind === 'agent', 'the reply');
  assert.deepEqual(reply.event.message.attachments.map((a) => a.filename).sort(), ['label.png', 'steps.txt']);
  await page.locator('.transcript .bubble.ours', { hasText: 'A new label and the steps' }).waitFor();
  await page.context().close();
  filo.close?.();
});

test('an agent corrects the visitor’s details in the context panel; a wrong e-mail is stopped or explained, and nothing is saved', async () => {
  const cem = await addAgent(env.server, 'Cem');
  const vic = await visitorSaying(env.server, 'vic', 'my name is Victoria Österberg actually');
  const page = await signIn(env, cem);
  const id = await openRow(page, 'vic');
  const card = page.locator('.context .card', { has: page.locator('#contact-h') });
  await card.getByRole('button', { name: 'Edit' }).click();
  await card.getByLabel('Name', { exact: true }).fill('Victoria Österberg');
  await card.getByLabel('Email', { exact: true }).fill('victoria@');
  await card.getByRole('button', { name: 'Save' }).click();
  // The browser's own check stops a malformed address before it is sent.
  assert.equal(await card.getByLabel('Email', { exact: true }).evaluate((i) => i.validity.valid), false);
  // One the browser lets through but the server refuses: the server's answer, in words.
  await card.getByLabel('Email', { exact: true }).fill('victoria@shop');
  await card.getByRole('button', { name: 'Save' }).click();
  const alert = card.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.textContent(), /\(email\)$/, 'the sentence names the field');
  assert.ok(!(await alert.textContent()).includes('validation_failed'), 'a sentence, not a code');
  const { contact_id } = await env.server.api('GET', `/api/v1/conversations/${id}`);
  assert.equal((await env.server.api('GET', `/api/v1/contacts/${contact_id}`)).name, 'vic', 'nothing saved');

  await card.getByLabel('Email', { exact: true }).fill('victoria@example.com');
  await card.getByLabel('Phone', { exact: true }).fill('+46 70 123 45 67');
  await card.getByRole('button', { name: 'Save' }).click();
  await page.locator('#contact-h', { hasText: 'Victoria Österberg' }).waitFor();
  await card.getByText('victoria@example.com').waitFor();
  const saved = await env.server.api('GET', `/api/v1/contacts/${contact_id}`);
  assert.deepEqual([saved.name, saved.email, saved.phone], ['Victoria Österberg', 'victoria@example.com', '+46 70 123 45 67']);
  await page.context().close();
  vic.close?.();
});

test('while the tab is hidden a visitor’s message counts in the title and raises a desktop notification', async () => {
  const nia = await addAgent(env.server, 'Nia');
  // The tab's visibility and the Notification API, as the page sees them.
  const init = () => {
    window.__hidden = false;
    window.__notes = [];
    Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => (window.__hidden ? 'hidden' : 'visible') });
    Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => window.__hidden });
    window.Notification = class {
      static permission = 'default';
      static requestPermission = async () => (window.Notification.permission = 'granted');
      constructor(title, options) { window.__notes.push({ title, tag: options?.tag }); }
      close() {}
    };
  };
  const page = await signIn(env, nia, '/app', { init });
  await page.getByRole('button', { name: 'Desktop alerts' }).click();
  await page.getByRole('tab', { name: /^Unassigned/ }).click();
  await page.waitForFunction(() => !document.title.startsWith('('));

  await page.evaluate(() => { window.__hidden = true; document.dispatchEvent(new Event('visibilitychange')); });
  const noor = await visitorSaying(env.server, 'Noor', 'Is anyone there?');
  await page.waitForFunction(() => document.title.startsWith('(1) '));
  const notes = await eventually(() => page.evaluate(() => window.__notes.length && window.__notes), 'a desktop notification');
  assert.equal(notes[0].tag, noor.conversationId, 'the notification names the conversation');
  assert.ok(notes.every((n) => !n.title.includes('Is anyone there?')), 'the title is the kind of news, the text is in the body');
  await page.context().close();
  noor.close?.();
});

test('views and filters narrow the list, and the counts follow the socket: Mine, a site, a team, a label, a status', async () => {
  const lia = await addAgent(env.server, 'Lia');
  const outlet = await addSite(env.server, 'Outlet');
  const team = await env.server.api('POST', '/api/v1/teams', { name: 'Returns desk', agent_ids: [lia.id] });
  const sami = await visitorSaying(env.server, 'Shop Sami', 'A question for the shop');
  const olu = await visitor(env.server.base, outlet.public_key);
  olu.profile({ name: 'Outlet Olu' });
  await olu.say('A question for the outlet');
  const [samiId, oluId] = [sami.conversationId, olu.conversationId];
  const page = await signIn(env, lia);
  await page.getByRole('tab', { name: /^All/ }).click();
  const only = async (...names) => {
    await eventually(async () => {
      const texts = await rows(page).allInnerTexts();
      return names.every((n) => texts.some((t) => t.includes(n))) && ['Shop Sami', 'Outlet Olu'].filter((n) => !names.includes(n)).every((n) => !texts.some((t) => t.includes(n)));
    }, `only ${names.join(' and ')} in the list`);
  };
  await only('Shop Sami', 'Outlet Olu');

  // By site.
  await page.getByLabel('Site').selectOption({ label: 'Outlet' });
  await only('Outlet Olu');
  await page.getByLabel('Site').selectOption({ label: 'All sites' });
  // By team: handing Olu to the team moves him in live.
  await page.getByLabel('Team').selectOption({ label: 'Returns desk' });
  await page.getByText('No conversation matches these filters.').waitFor();
  await env.server.api('PUT', `/api/v1/conversations/${oluId}/assignee`, { agent_id: null, team_id: team.id });
  await only('Outlet Olu');
  await page.getByLabel('Team').selectOption({ label: 'All teams' });
  // By label: a label set elsewhere shows up as a choice and filters.
  await env.server.api('PUT', `/api/v1/conversations/${samiId}/labels`, { labels: ['refund'] });
  await page.getByLabel('Label').locator('option', { hasText: 'refund' }).waitFor({ state: 'attached' });
  await page.getByLabel('Label').selectOption('refund');
  await only('Shop Sami');
  await page.getByLabel('Label').selectOption({ label: 'All labels' });

  // Mine: assigning Sami to Lia counts there at once.
  await page.getByRole('tab', { name: /^Mine\s*0$/ }).waitFor();
  await env.server.api('PUT', `/api/v1/conversations/${samiId}/assignee`, { agent_id: lia.id, team_id: null });
  await page.getByRole('tab', { name: /^Mine\s*1$/ }).click();
  await only('Shop Sami');
  // Status: resolving moves it from Open to Resolved, and both counts follow.
  const count = async (status) => Number((await page.getByRole('tab', { name: new RegExp(`^${status}`) }).innerText()).replace(/\D/g, ''));
  const [open, resolved] = [await count('Open'), await count('Resolved')];
  await env.server.api('PUT', `/api/v1/conversations/${samiId}/status`, { status: 'resolved' });
  await page.getByRole('tab', { name: new RegExp(`^Open\\s*${open - 1}$`) }).waitFor();
  await page.getByRole('tab', { name: new RegExp(`^Resolved\\s*${resolved + 1}$`) }).click();
  await only('Shop Sami');
  // Four filters side by side would cut their words: they wrap to whole lines instead.
  const clipped = await page.locator('.filters select').evaluateAll((selects) => {
    const ctx = document.createElement('canvas').getContext('2d');
    return selects.filter((s) => {
      ctx.font = getComputedStyle(s).font;
      return ctx.measureText(s.selectedOptions[0].text).width + 24 > s.clientWidth;
    }).map((s) => s.selectedOptions[0].text);
  });
  assert.deepEqual(clipped, [], 'every filter shows its whole choice');
  await page.screenshot({ path: path.join(shots, 'inbox-filters.png') });
  await page.context().close();
  sami.close?.();
  olu.close?.();
});
