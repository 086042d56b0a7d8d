// The admin console and the agent's profile in a real browser: an admin sets up a site
// (snippet, pre-chat form, identity secret), adds an agent and a team, creates and
// revokes an API token; an agent is kept out of the console by the page and by the
// server; the profile's language switch mirrors the dashboard; axe finds nothing serious;
// screenshots in both directions, both themes, desktop and phone.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { eventually, serverAndBrowser, shots } from './harness.mjs';
import { PASSWORD, addAgent, seriousViolations, signIn } from './helpers.mjs';

const env = serverAndBrowser();

/** What signing in with these credentials answers (the HTTP status). */
async function signInStatus(email, password) {
  const res = await fetch(`${env.server.base}/api/v1/sessions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }),
  });
  return res.status;
}

test('an admin creates a site, copies its snippet, builds a pre-chat form and rotates the identity secret', async () => {
  await addAgent(env.server, 'ada', { role: 'admin' });
  const page = await signIn(env, 'ada@shop.example', '/app/settings/sites');
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.server.base });

  await page.getByRole('link', { name: 'New site' }).first().click();
  await page.getByLabel('Name').fill('Tea house');
  await page.getByRole('button', { name: 'Create site' }).click();
  await page.getByRole('heading', { name: 'Tea house' }).waitFor();
  const siteId = page.url().split('/').pop();
  const created = await env.server.api('GET', `/api/v1/sites/${siteId}`);

  // The snippet names this server and the site's public key; the copy button copies it.
  await page.getByRole('button', { name: 'Copy snippet' }).click();
  await page.getByRole('status').filter({ hasText: 'Copied.' }).waitFor();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(copied, `<script src="${env.server.base}/widget.js" data-site="${created.public_key}" async></script>`);

  // Appearance changes show in the preview — the widget's own chat UI — before saving.
  const preview = page.frameLocator('iframe.preview-frame');
  await page.getByLabel('Greeting').fill('Merhaba! How can we help?');
  await preview.locator('.greeting', { hasText: 'Merhaba! How can we help?' }).waitFor();
  await page.getByLabel('Reply time').selectOption('minutes');
  // What visitors see when nobody is online: the offline form and the reply time.
  await page.getByRole('radio', { name: 'Nobody online' }).check();
  await preview.locator('.head', { hasText: 'We usually answer within minutes.' }).waitFor();
  await preview.getByRole('heading', { name: 'Leave us a message' }).waitFor();
  await page.getByRole('radio', { name: 'Team online' }).check();
  await preview.locator('.greeting').waitFor();
  // The preview is a picture: nothing in it can be typed into or sent.
  assert.equal(await preview.locator('#chat').evaluate((el) => el.inert), true);
  await page.getByRole('checkbox', { name: 'Show unread replies in the page title' }).check();
  await page.getByRole('checkbox', { name: 'Require identity verification' }).check();

  // The chat link's QR code is the server's SVG, drawn for this page's origin.
  const qr = page.getByRole('img', { name: 'QR code of the chat link' });
  await qr.waitFor();
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await qr.elementHandle());

  // A pre-chat form: name (required) and a list of choices, then reordered.
  await page.getByRole('button', { name: 'Add a question' }).click();
  await page.getByRole('checkbox', { name: 'Required' }).check();
  await page.getByRole('button', { name: 'Add a question' }).click();
  const second = page.getByRole('group', { name: 'Question 2' });
  await second.getByLabel('Question', { exact: true }).fill('Topic');
  await second.getByLabel('Key').fill('topic');
  await second.getByLabel('Answer type').selectOption('select');
  await second.getByLabel('Choices', { exact: true }).fill('Orders\nReturns');
  await page.getByRole('button', { name: 'Move question 2 up' }).click();
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  const saved = await env.server.api('GET', `/api/v1/sites/${siteId}`);
  assert.deepEqual(
    saved.prechat_form.map((f) => [f.key, f.kind, f.required ?? false, f.options ?? []]),
    [['topic', 'select', false, ['Orders', 'Returns']], ['name', 'text', true, []]],
  );
  assert.equal(saved.appearance.greeting, 'Merhaba! How can we help?');
  assert.deepEqual(
    [saved.appearance.reply_time, saved.appearance.title_badge, saved.appearance.require_identity],
    ['minutes', true, true],
  );
  await page.screenshot({ path: path.join(shots, 'admin-site-ltr-light-desktop.png'), fullPage: true });

  // Rotating asks first, then shows the new secret.
  await page.getByRole('button', { name: 'Rotate secret' }).click();
  const dialog = page.getByRole('dialog', { name: 'Rotate the identity secret?' });
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  assert.equal((await env.server.api('GET', `/api/v1/sites/${siteId}`)).identity_secret, created.identity_secret, 'cancel changes nothing');
  await page.getByRole('button', { name: 'Rotate secret' }).click();
  await dialog.getByRole('button', { name: 'Rotate secret' }).click();
  await dialog.waitFor({ state: 'detached' });
  const rotated = (await env.server.api('GET', `/api/v1/sites/${siteId}`)).identity_secret;
  assert.notEqual(rotated, created.identity_secret);
  await page.getByLabel('Identity secret').filter({ hasText: rotated }).waitFor();
  assert.deepEqual(await seriousViolations(page), []);
  await page.context().close();
});

test('an admin adds an agent and a team, and deactivating asks first and says what happens to their chats', async () => {
  await addAgent(env.server, 'grace', { role: 'admin' });
  const page = await signIn(env, 'grace@shop.example', '/app/settings/agents');
  await page.getByRole('button', { name: 'Add agent' }).click();
  const form = page.getByRole('dialog', { name: 'Add agent' });
  await form.getByLabel('Name').fill('Yusuf');
  await form.getByLabel('Email').fill('yusuf@shop.example');
  await form.getByLabel('First password').fill('short');
  await form.getByLabel('Role').selectOption('agent');
  await form.getByRole('checkbox', { name: 'Use the workspace default (5)' }).uncheck();
  await form.getByRole('spinbutton', { name: 'Own maximum' }).fill('3');
  // The browser checks the length first; the server's answer would say the same.
  await form.getByRole('button', { name: 'Add agent' }).click();
  assert.equal(await form.getByLabel('First password').evaluate((el) => el.validity.valid), false);
  await form.getByLabel('First password').fill(PASSWORD);
  await form.getByRole('button', { name: 'Add agent' }).click();
  await form.waitFor({ state: 'detached' });
  const row = page.getByRole('row').filter({ hasText: 'yusuf@shop.example' });
  await row.waitFor();
  const yusuf = (await env.server.api('GET', '/api/v1/agents')).find((a) => a.email === 'yusuf@shop.example');
  assert.equal(yusuf.max_chats, 3);

  // A taken e-mail is refused with the server's sentence.
  await page.getByRole('button', { name: 'Add agent' }).click();
  await form.getByLabel('Name').fill('Yusuf again');
  await form.getByLabel('Email').fill('yusuf@shop.example');
  await form.getByLabel('First password').fill(PASSWORD);
  await form.getByRole('button', { name: 'Add agent' }).click();
  await form.getByRole('alert').waitFor();
  await form.getByRole('button', { name: 'Cancel' }).click();

  await page.getByRole('link', { name: 'Teams' }).click();
  await page.getByRole('link', { name: 'New team' }).first().click();
  await page.getByLabel('Team name').fill('Turkish desk');
  await page.getByRole('checkbox', { name: 'Yusuf' }).check();
  await page.getByRole('button', { name: 'Create team' }).click();
  await page.getByRole('heading', { name: 'Turkish desk' }).waitFor();
  const team = (await env.server.api('GET', '/api/v1/teams')).find((t) => t.name === 'Turkish desk');
  assert.deepEqual(team.agent_ids, [yusuf.id]);

  // Resetting a password: Yusuf signs in with the new one.
  await page.getByRole('link', { name: 'Agents' }).click();
  await page.getByRole('button', { name: 'Reset password Yusuf' }).click();
  const reset = page.getByRole('dialog', { name: 'Reset the password of Yusuf' });
  await reset.getByLabel('New password').fill('a brand new password');
  await reset.getByRole('button', { name: 'Reset password' }).click();
  await reset.waitFor({ state: 'detached' });
  assert.equal((await signInStatus('yusuf@shop.example', 'a brand new password')), 200);
  assert.equal((await signInStatus('yusuf@shop.example', PASSWORD)), 401);

  // Deactivating: asked first, said what happens to the chats, and the agent stays listed.
  await page.getByRole('button', { name: 'Deactivate Yusuf' }).click();
  const confirm = page.getByRole('dialog', { name: 'Deactivate Yusuf?' });
  await confirm.getByText(/unresolved conversations go back to their team's queue/).waitFor();
  await confirm.getByRole('button', { name: 'Deactivate' }).click();
  await row.getByText('deactivated').waitFor();
  assert.equal((await env.server.api('GET', `/api/v1/agents/${yusuf.id}`)).active, false);
  assert.equal((await signInStatus('yusuf@shop.example', 'a brand new password')), 401, 'a deactivated agent cannot sign in');
  await row.getByRole('button', { name: 'Reactivate Yusuf' }).click();
  await row.getByText('deactivated').waitFor({ state: 'detached' });
  await page.context().close();
});

test('an admin creates an API token whose secret is shown once, and revokes it', async () => {
  await addAgent(env.server, 'linus', { role: 'admin' });
  const page = await signIn(env, 'linus@shop.example', '/app/settings/tokens');
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.server.base });
  await page.getByLabel('Token name').fill('CRM sync');
  await page.getByLabel('Role', { exact: true }).selectOption('agent');
  await page.getByRole('button', { name: 'Create token' }).click();
  const once = page.getByRole('region', { name: 'The secret of CRM sync' });
  await once.waitFor();
  await once.getByRole('button', { name: 'Copy secret' }).click();
  const secret = await page.evaluate(() => navigator.clipboard.readText());
  const works = await fetch(`${env.server.base}/api/v1/conversations`, { headers: { authorization: `Bearer ${secret}` } });
  assert.equal(works.status, 200, 'the copied secret is the token');

  await once.getByRole('button', { name: 'I have copied it' }).click();
  await page.reload();
  await page.getByRole('row').filter({ hasText: 'CRM sync' }).waitFor();
  assert.equal(await page.getByText(secret).count(), 0, 'the secret is never shown again');

  await page.getByRole('button', { name: 'Revoke CRM sync' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
  await page.getByRole('row').filter({ hasText: 'CRM sync' }).waitFor({ state: 'detached' });
  const refused = await fetch(`${env.server.base}/api/v1/conversations`, { headers: { authorization: `Bearer ${secret}` } });
  assert.equal(refused.status, 401, 'a revoked token is refused');
  await page.context().close();
});

test('an agent cannot reach the console, and the server refuses its calls', async () => {
  await addAgent(env.server, 'mo', { role: 'agent' });
  const page = await signIn(env, 'mo@shop.example', '/app/settings/sites');
  await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
  const statuses = await page.evaluate(async () => {
    const me = await (await fetch('/api/v1/me')).json();
    const post = (url, body) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrf_token }, body: JSON.stringify(body) });
    return [
      (await post('/api/v1/sites', { name: 'Mine now' })).status,
      (await post('/api/v1/api-tokens', { name: 'mine', role: 'agent' })).status,
      (await fetch('/api/v1/api-tokens')).status,
    ];
  });
  assert.deepEqual(statuses, [403, 403, 403]);
  await page.context().close();
});

test('switching the profile to Arabic mirrors the dashboard at once, and the choice is saved', async () => {
  await addAgent(env.server, 'nour', { role: 'agent' });
  const page = await signIn(env, 'nour@shop.example', '/app/profile');
  await page.getByRole('heading', { name: 'Your profile' }).waitFor();
  assert.deepEqual(await seriousViolations(page), []);
  await page.getByLabel('Dashboard language').selectOption('ar');
  await page.getByRole('heading', { name: 'ملفك الشخصي' }).waitFor();
  assert.equal(await page.locator('html').getAttribute('dir'), 'rtl');
  assert.equal(await page.locator('html').getAttribute('lang'), 'ar');
  // The rail sits at the inline start: on the right in Arabic.
  const rail = await page.locator('nav.rail').boundingBox();
  assert.ok(rail.x > 1000, `the rail is on the right (x = ${rail.x})`);
  const stored = (await env.server.api('GET', '/api/v1/agents')).find((a) => a.email === 'nour@shop.example');
  assert.equal(stored.locale, 'ar');
  await page.screenshot({ path: path.join(shots, 'admin-profile-rtl-light-desktop.png'), fullPage: true });
  await page.context().close();
});

for (const [name, options] of [
  ['ltr-dark-desktop', { colorScheme: 'dark' }],
  ['rtl-dark-phone', { colorScheme: 'dark', viewport: { width: 390, height: 844 }, locale: 'he' }],
  ['rtl-light-phone', { colorScheme: 'light', viewport: { width: 390, height: 844 }, locale: 'fa' }],
]) {
  test(`the console reads well and passes axe: ${name}`, async () => {
    const admin = await addAgent(env.server, `look-${name}`, { role: 'admin', locale: options.locale ?? 'en' });
    const page = await signIn(env, admin, '/app/settings', options);
    await page.locator('.settings-nav').waitFor();
    if (options.viewport) {
      // Phone: the list of sections first, then a section with a way back.
      assert.equal(await page.locator('.settings-body').isVisible(), false, 'phones show the list of sections first');
      await page.screenshot({ path: path.join(shots, `admin-index-${name}.png`) });
      await page.locator('.settings-nav a').first().click();
      await page.locator('.settings-body .screen').waitFor();
      assert.equal(await page.locator('.settings-nav').isVisible(), false, 'a section fills the phone');
    }
    const site = (await env.server.api('GET', '/api/v1/sites'))[0];
    await page.goto(`${env.server.base}/app/settings/sites/${site.id}`);
    await page.locator('.preview').waitFor();
    assert.deepEqual(await seriousViolations(page), []);
    await page.screenshot({ path: path.join(shots, `admin-site-${name}.png`), fullPage: true });
    for (const section of ['agents', 'teams', 'canned', 'tokens']) {
      await page.goto(`${env.server.base}/app/settings/${section}`);
      await page.locator('.settings-body .screen :is(table, .cards, .state-empty)').first().waitFor();
      assert.deepEqual(await seriousViolations(page), [], section);
      await page.screenshot({ path: path.join(shots, `admin-${section}-${name}.png`), fullPage: true });
    }
    await page.goto(`${env.server.base}/app/profile`);
    await page.locator('.profile').waitFor();
    await page.screenshot({ path: path.join(shots, `admin-profile-${name}.png`), fullPage: true });
    await page.context().close();
  });
}

test('an admin sets the workspace time zone from the IANA list', async () => {
  await addAgent(env.server, 'tz', { role: 'admin' });
  const page = await signIn(env, 'tz@shop.example', '/app/settings/workspace');
  await page.getByLabel('Time zone').selectOption('Asia/Tehran');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  assert.equal((await env.server.api('GET', '/api/v1/workspace')).time_zone, 'Asia/Tehran');
  await page.context().close();
});

test('an admin restricts inboxes to teams and sets when idle agents show as away', async () => {
  await addAgent(env.server, 'rules', { role: 'admin' });
  const page = await signIn(env, 'rules@shop.example', '/app/settings/workspace');
  await page.getByLabel('Who sees which conversations').selectOption('teams');
  await page.getByLabel('Show an idle agent as away after').selectOption({ label: '30 minutes' });
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  let ws = await env.server.api('GET', '/api/v1/workspace');
  assert.deepEqual([ws.inbox_visibility, ws.auto_away_minutes], ['teams', 30]);
  await page.screenshot({ path: path.join(shots, 'admin-workspace-ltr-light-desktop.png'), fullPage: true });

  await page.getByLabel('Show an idle agent as away after').selectOption({ label: 'Never' });
  await page.getByLabel('Who sees which conversations').selectOption('all');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  ws = await env.server.api('GET', '/api/v1/workspace');
  assert.deepEqual([ws.inbox_visibility, ws.auto_away_minutes], ['all', null]);
  await page.context().close();

  for (const [name, options] of [
    ['rtl-dark-desktop', { colorScheme: 'dark', locale: 'ar' }],
    ['rtl-light-phone', { colorScheme: 'light', viewport: { width: 390, height: 844 }, locale: 'he' }],
  ]) {
    const admin = await addAgent(env.server, `rules-${name}`, { role: 'admin', locale: options.locale });
    const shown = await signIn(env, admin, '/app/settings/workspace', options);
    await shown.locator('.settings-body form').waitFor();
    assert.deepEqual(await seriousViolations(shown), [], name);
    await shown.screenshot({ path: path.join(shots, `admin-workspace-${name}.png`), fullPage: true });
    await shown.context().close();
  }
});

test('an agent changes their password: the old one no longer signs in, and a wrong current one is refused', async () => {
  await addAgent(env.server, 'zeynep', { role: 'agent', locale: 'en' });
  const page = await signIn(env, 'zeynep@shop.example', '/app/profile');
  const form = page.getByRole('form', { name: 'Password' });
  await form.getByLabel('Current password').fill('not my password');
  await form.getByLabel('New password').fill('correct horse battery');
  await form.getByRole('button', { name: 'Change password' }).click();
  await form.getByRole('alert').waitFor();
  assert.equal(await signInStatus('zeynep@shop.example', PASSWORD), 200, 'nothing changed');

  await form.getByLabel('Current password').fill(PASSWORD);
  await form.getByRole('button', { name: 'Change password' }).click();
  await form.getByRole('status').filter({ hasText: 'Password changed.' }).waitFor();
  assert.equal(await signInStatus('zeynep@shop.example', PASSWORD), 401, 'the old password fails');
  assert.equal(await signInStatus('zeynep@shop.example', 'correct horse battery'), 200);
  await page.context().close();
});

test('an agent sets away, keeps personal canned responses, and signs out everywhere', async () => {
  const who = await addAgent(env.server, 'kenji', { role: 'agent', locale: 'en' });
  const page = await signIn(env, 'kenji@shop.example', '/app/profile');
  await page.getByRole('radio', { name: 'Away' }).check();
  await eventually(async () => (await env.server.api('GET', `/api/v1/agents/${who.id}`)).status === 'away', 'the away status saved');

  await page.getByRole('checkbox', { name: 'Play a sound' }).uncheck();
  const prefs = await eventually(async () => {
    const { notifications } = await env.server.api('GET', `/api/v1/agents/${who.id}`);
    return notifications.sound === false && notifications;
  }, 'the sound preference saved');
  assert.equal(prefs.new_conversation, true, 'the other preferences are kept');

  await page.getByRole('button', { name: 'New response' }).click();
  const form = page.getByRole('dialog', { name: 'New response' });
  await form.getByLabel('Shortcut').fill('thanks');
  await form.getByLabel('Text').fill('Thank you, {{contact.name}}!');
  await form.getByRole('button', { name: 'Save changes' }).click();
  await page.getByRole('button', { name: 'Edit /thanks' }).waitFor();
  const mine = await page.evaluate(async () => (await fetch('/api/v1/canned-responses')).json());
  assert.deepEqual(mine.map((c) => [c.shortcut, c.scope, c.owner_id]), [['thanks', 'personal', who.id]]);
  const workspace = await env.server.api('GET', '/api/v1/canned-responses');
  assert.equal(workspace.filter((c) => c.shortcut === 'thanks').length, 0, 'nobody else sees it');

  // A second device, then "sign out everywhere" from the first ends both.
  const other = await signIn(env, 'kenji@shop.example', '/app/profile');
  await page.getByRole('button', { name: 'Sign out everywhere' }).click();
  await page.getByRole('dialog', { name: 'Sign out everywhere?' }).getByRole('button', { name: 'Sign out everywhere' }).click();
  await page.waitForURL(/\/app\/login/);
  const status = await other.evaluate(async () => (await fetch('/api/v1/me')).status);
  assert.equal(status, 401, 'the other device was signed out too');
  await page.context().close();
  await other.context().close();
});

test('an admin manages labels', async () => {
  await addAgent(env.server, 'lab', { role: 'admin' });
  const page = await signIn(env, 'lab@shop.example', '/app/settings/labels');
  await page.getByRole('button', { name: 'New label' }).first().click();
  const form = page.getByRole('dialog', { name: 'New label' });
  await form.getByLabel('Name', { exact: true }).fill('refund');
  await form.getByLabel('Colour', { exact: true }).fill('#d73a4a');
  await form.getByLabel('Description').fill('The customer wants their money back');
  await form.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('.label-chip', { hasText: 'refund' }).waitFor();
  const [label] = await env.server.api('GET', '/api/v1/labels');
  assert.deepEqual([label.name, label.color, label.description], ['refund', '#d73a4a', 'The customer wants their money back']);
  await page.getByRole('button', { name: 'Delete refund' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
  await page.locator('.label-chip', { hasText: 'refund' }).waitFor({ state: 'detached' });
  assert.deepEqual(await env.server.api('GET', '/api/v1/labels'), []);
  await page.context().close();
});

test('an admin limits a site to its own websites: a line that is not an origin is marked, and nothing is saved until it is fixed', async () => {
  await addAgent(env.server, 'oya', { role: 'admin' });
  const site = await env.server.api('POST', '/api/v1/sites', { name: 'Origins shop' });
  const page = await signIn(env, 'oya@shop.example', `/app/settings/sites/${site.id}`);
  const origins = page.getByLabel('Websites that may show the widget');
  await origins.fill('https://tea.example\nnot an origin');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.locator('textarea[aria-invalid="true"]').waitFor();
  assert.equal(await origins.getAttribute('aria-invalid'), 'true', 'the origins field is the one marked');
  assert.deepEqual((await env.server.api('GET', `/api/v1/sites/${site.id}`)).allowed_origins, [], 'nothing saved');
  await origins.fill('https://tea.example\nhttps://www.tea.example');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByText('Saved.').waitFor();
  assert.equal(await origins.getAttribute('aria-invalid'), null);
  assert.deepEqual((await env.server.api('GET', `/api/v1/sites/${site.id}`)).allowed_origins, ['https://tea.example', 'https://www.tea.example']);
  await page.context().close();
});
