// Bans in a real browser: an admin adds a ban in Settings → Bans, sees it listed with
// its kind, value, reason, end and author, and lifts it; an agent blocks a visitor from
// the inbox with the confirmation (reason, duration, also the address) and the visitor's
// socket is refused at once. Screenshots in both directions, both themes, desktop and
// phone; axe finds nothing serious.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { eventually, serverAndBrowser, shots } from './harness.mjs';
import { addAgent, addSite, seriousViolations, signIn } from './helpers.mjs';
import { visitor } from './visitor.mjs';

const env = serverAndBrowser();

test('an admin bans a range from Settings, sees who and why, and lifts it', async () => {
  const who = await addAgent(env.server, 'Ada', { role: 'admin' });
  const page = await signIn(env, who, '/app/settings/bans');
  await page.getByText('Nobody is banned').waitFor();
  await page.getByRole('button', { name: 'Add a ban' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Kind').selectOption('ip');
  await dialog.getByLabel('Banned').fill('203.0.113.77/24');
  await dialog.getByLabel('Reason').fill('Spam wave from a hosting range');
  await dialog.getByLabel('For').selectOption('168');
  await dialog.getByRole('button', { name: 'Ban', exact: true }).click();
  const row = page.locator('.bans-table tbody tr').filter({ hasText: '203.0.113.0/24' });
  await row.waitFor();
  assert.match(await row.innerText(), /Address or range[\s\S]*Spam wave from a hosting range[\s\S]*Ada/);
  const [ban] = await env.server.api('GET', '/api/v1/bans');
  assert.equal(ban.value, '203.0.113.0/24', 'stored as the range, host bits cleared');
  assert.ok(ban.expires_at > Date.now() + 6 * 24 * 3_600_000, 'for a week');

  // A mistake is explained by the server, beside the field.
  await page.getByRole('button', { name: 'Add a ban' }).click();
  await dialog.getByLabel('Banned').fill('10.0.0.0/33');
  await dialog.getByRole('button', { name: 'Ban', exact: true }).click();
  await dialog.locator('.field-error').waitFor();
  await dialog.getByRole('button', { name: 'Cancel' }).click();

  await row.getByRole('button', { name: /Lift/ }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Lift' }).click();
  await page.getByText('Nobody is banned').waitFor();
  assert.deepEqual(await env.server.api('GET', '/api/v1/bans'), []);
  await page.context().close();
});

test('an agent blocks a visitor from the conversation; the visitor is cut off and refused', async () => {
  const who = await addAgent(env.server, 'Bora', { role: 'agent' });
  const page = await signIn(env, who, '/app', { viewport: { width: 1440, height: 900 } });
  const troll = await visitor(env.server.base, env.server.site.public_key);
  troll.profile({ name: 'Troll' });
  await troll.say('you are all useless');
  await page.goto(`${env.server.base}/app/c/${troll.conversationId}`);
  await page.locator('.context').getByRole('button', { name: 'Block visitor' }).click();
  const dialog = page.getByRole('dialog', { name: 'Block this visitor?' });
  await dialog.getByLabel(/Reason/).fill('Insults');
  await dialog.getByLabel('For').selectOption('24');
  await dialog.getByLabel('Also block the address they connect from').check();
  assert.deepEqual(await seriousViolations(page), []);
  await page.screenshot({ path: path.join(shots, 'bans-block-ltr-light-desktop.png') });
  await dialog.getByRole('button', { name: 'Block', exact: true }).click();
  await page.getByText('The visitor is blocked.').waitFor();
  await troll.waitFor((f) => f.type === 'error' && f.code === 'banned', 'the banned error');

  const bans = await env.server.api('GET', '/api/v1/bans');
  assert.deepEqual(bans.map((b) => b.kind).sort(), ['contact', 'ip']);
  assert.ok(bans.every((b) => b.reason === 'Insults' && b.created_by.kind === 'agent'));
  await assert.rejects(visitor(env.server.base, env.server.site.public_key, troll.token), /timed out waiting for welcome/);
  // Lifted again, so the other stories' visitors (from this same address) are served.
  for (const b of bans) await env.server.api('DELETE', `/api/v1/bans/${b.id}`);
  await eventually(async () => (await env.server.api('GET', '/api/v1/bans')).length === 0, 'the bans lifted');
  await page.context().close();
});

for (const [name, options] of [
  ['ltr-dark-desktop', { colorScheme: 'dark' }],
  ['rtl-light-desktop', { colorScheme: 'light', locale: 'ar' }],
  ['rtl-dark-phone', { colorScheme: 'dark', viewport: { width: 390, height: 844 }, locale: 'he' }],
  ['ltr-light-phone', { colorScheme: 'light', viewport: { width: 390, height: 844 }, locale: 'tr' }],
]) {
  test(`the bans screen and the block dialog read well and pass axe: ${name}`, async () => {
    const locale = options.locale ?? 'en';
    const who = await addAgent(env.server, `look${name.replaceAll('-', '')}`, { role: 'admin', locale: locale });
    const made = await env.server.api('POST', '/api/v1/bans', { kind: 'email', value: `spam-${name}@example.com`, reason: 'Phishing links', expires_at: null });
    const page = await signIn(env, who, '/app/settings/bans', options);
    await page.locator('.bans-table').waitFor();
    assert.deepEqual(await seriousViolations(page), []);
    await page.screenshot({ path: path.join(shots, `bans-list-${name}.png`), fullPage: true });
    await page.locator('.screen-head .button.primary').click();
    await page.locator('dialog[open]').waitFor();
    await page.screenshot({ path: path.join(shots, `bans-add-${name}.png`) });
    await env.server.api('DELETE', `/api/v1/bans/${made.id}`);

    if (!options.viewport) {
      const v = await visitor(env.server.base, env.server.site.public_key);
      v.profile({ name: `Visitor ${name}` });
      await v.say('hello');
      await page.goto(`${env.server.base}/app/c/${v.conversationId}`);
      await page.locator('.context .block-button').click();
      await page.locator('dialog.block-dialog[open]').waitFor();
      assert.deepEqual(await seriousViolations(page), []);
      await page.screenshot({ path: path.join(shots, `bans-block-${name}.png`) });
      v.close();
    }
    await page.context().close();
  });
}

test('on a site that says so, a banned visitor opening the chat page reads a polite sentence in the chat\'s language', async () => {
  const site = await addSite(env.server, 'Polite shop', { banned_behaviour: 'message' });
  const ban = await env.server.api('POST', '/api/v1/bans', { kind: 'ip', value: '127.0.0.1', reason: 'test', expires_at: null });
  try {
    for (const [locale, sentence] of [['en', 'This chat is not available to you.'], ['fa', 'این گفتگو برای شما در دسترس نیست.']]) {
      // The chat speaks the site's language first, as it does for everything else.
      await env.server.api('PATCH', `/api/v1/sites/${site.id}`, { appearance: { ...site.appearance, locale } });
      const context = await env.browser.newContext({ locale, viewport: { width: 390, height: 700 } });
      const page = await context.newPage();
      await page.goto(`${env.server.base}/chat/${site.public_key}`);
      await page.getByRole('alert').filter({ hasText: sentence }).waitFor();
      assert.equal(await page.locator('textarea').count(), 0, 'nothing to type into');
      await page.screenshot({ path: path.join(shots, `bans-chat-page-${locale}.png`) });
      await context.close();
    }
    // On a site that hides the chat, the launcher's site info is refused (the loader removes itself).
    const hidden = await fetch(`${env.server.base}/api/v1/widget/${env.server.site.public_key}`);
    assert.equal(hidden.status, 403);
    assert.equal((await hidden.json()).code, 'banned');
  } finally {
    await env.server.api('DELETE', `/api/v1/bans/${ban.id}`);
  }
});
