// Privacy screens in a real browser against the real server: an admin erases a visitor
// from the inbox's context panel (a danger confirmation that wants the name or the erase
// word), the transcript keeps the team's words and shows the tombstone, and the server
// has nothing of the person left; agents see no privacy actions; a site's retention with
// the server's preview of what the next run removes. Screenshots in both directions and
// both themes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { serverAndBrowser, shots } from './harness.mjs';
import { addAgent, signIn } from './helpers.mjs';
import { visitor } from './visitor.mjs';

const env = serverAndBrowser();

/** A visitor who gave their name and asked something; the team answered. */
async function aVisitor(name, question, answer) {
  const v = await visitor(env.server.base, env.server.site.public_key);
  v.profile({ name, email: `${name.split(' ')[0].toLowerCase()}@example.com` });
  const ack = await v.say(question);
  await env.server.api('POST', `/api/v1/conversations/${ack.conversation_id}/messages`, { body: answer });
  const conversation = await env.server.api('GET', `/api/v1/conversations/${ack.conversation_id}`);
  return { v, conversationId: ack.conversation_id, contactId: conversation.contact_id };
}

async function status(p) {
  const res = await fetch(`${env.server.base}${p}`, { headers: { authorization: `Bearer ${await adminToken()}` } });
  return res.status;
}

let token;
async function adminToken() {
  token ??= (await env.server.api('POST', '/api/v1/api-tokens', { name: 'privacy checks', role: 'admin' })).secret;
  return token;
}

for (const [name, options, locale] of [
  ['ltr-light-desktop', { colorScheme: 'light' }, 'en'],
  ['rtl-dark-desktop', { colorScheme: 'dark' }, 'ar'],
]) {
  test(`an admin erases a visitor from the context panel; the thread keeps a tombstone (${name})`, async () => {
    const person = locale === 'en' ? 'Zeynep Kaya' : 'ليلى حداد';
    const { conversationId, contactId } = await aVisitor(person, 'My passport number is ZX9988', 'Thanks, we received it');
    const admin = await addAgent(env.server, `Admin${locale}`, { role: 'admin', locale });
    const page = await signIn(env, admin, '/app', options);
    await page.goto(`${env.server.base}/app/c/${conversationId}`);
    await page.locator('.transcript .bubble .body', { hasText: 'ZX9988' }).waitFor();
    const card = page.locator('.context #privacy-h');
    await card.waitFor();

    await page.locator('#erase-contact').click();
    const dialog = page.locator('dialog.erase-dialog');
    await dialog.waitFor();
    const confirm = dialog.locator('button[type=submit]');
    assert.equal(await confirm.isDisabled(), true, 'nothing typed yet');
    await dialog.locator('#erase-confirm').fill('someone else');
    assert.equal(await confirm.isDisabled(), true, 'a wrong name does not confirm');
    await page.screenshot({ path: path.join(shots, `privacy-erase-dialog-${name}.png`) });
    assert.equal(await status(`/api/v1/contacts/${contactId}`), 200, 'nothing erased before the confirmation');
    await dialog.locator('#erase-confirm').fill(person);
    assert.equal(await confirm.isDisabled(), false, 'their name confirms');
    await confirm.click();
    await dialog.waitFor({ state: 'hidden' });

    // The tombstone arrives over the socket; the person's words leave the transcript.
    await page.locator('.transcript .system', { hasText: locale === 'en' ? "erased this visitor's data" : 'بيانات هذا الزائر' }).waitFor();
    await page.locator('.transcript .bubble .body', { hasText: 'ZX9988' }).waitFor({ state: 'detached' });
    await page.locator('.transcript .bubble .body', { hasText: 'we received it' }).waitFor();
    await page.locator('.context .erased-note').waitFor();
    assert.equal(await page.locator('#erase-contact').count(), 0, 'nothing left to erase');
    await page.screenshot({ path: path.join(shots, `privacy-erased-${name}.png`) });

    // The server has nothing of them.
    assert.equal(await status(`/api/v1/contacts/${contactId}`), 404);
    assert.equal(await status(`/api/v1/contacts/${contactId}/export`), 404);
    const found = await env.server.api('GET', '/api/v1/search?q=ZX9988');
    assert.deepEqual([found.hits.length, found.contacts.length], [0, 0]);
    // After a reload the thread still shows the tombstone and not their words.
    await page.reload();
    await page.locator('.transcript .bubble .body', { hasText: 'we received it' }).waitFor();
    assert.equal(await page.locator('.transcript .bubble .body', { hasText: 'ZX9988' }).count(), 0);
    await page.context().close();
  });
}

test('the erase word confirms too, and agents see no privacy actions', async () => {
  const { conversationId, contactId } = await aVisitor('Deniz Ak', 'Where is my parcel?', 'On its way');
  const plain = await addAgent(env.server, 'Plainagent');
  const page = await signIn(env, plain);
  await page.goto(`${env.server.base}/app/c/${conversationId}`);
  await page.locator('.context #contact-h').waitFor();
  assert.equal(await page.locator('#erase-contact').count(), 0, 'an agent cannot erase');
  assert.equal(await page.locator('#export-contact').count(), 0, 'nor export');
  await page.context().close();

  const admin = await addAgent(env.server, 'Secondadmin', { role: 'admin' });
  const adminPage = await signIn(env, admin);
  await adminPage.goto(`${env.server.base}/app/c/${conversationId}`);
  const download = adminPage.waitForEvent('download');
  await adminPage.locator('#export-contact').click();
  const file = await download;
  assert.equal(file.suggestedFilename(), `contact-${contactId}.json`);
  const exported = JSON.parse(await (await import('node:fs/promises')).readFile(await file.path(), 'utf8'));
  assert.equal(exported.contact.name, 'Deniz Ak');
  assert.equal(exported.conversations[0].conversation.id, conversationId);

  await adminPage.locator('#erase-contact').click();
  const dialog = adminPage.locator('dialog.erase-dialog');
  await dialog.locator('#erase-confirm').fill('erase');
  await dialog.locator('button[type=submit]').click();
  // The tombstone event can arrive before the erasure's answer: the dialog closes with the answer.
  await dialog.waitFor({ state: 'hidden' });
  await adminPage.locator('.context .erased-note').waitFor();
  assert.equal(await status(`/api/v1/contacts/${contactId}`), 404);
  await adminPage.close();
});

for (const [name, options, locale] of [
  ['ltr-light-desktop', { colorScheme: 'light' }, 'en'],
  ['rtl-dark-desktop', { colorScheme: 'dark' }, 'he'],
  ['rtl-light-phone', { colorScheme: 'light', viewport: { width: 390, height: 844 } }, 'fa'],
]) {
  test(`a site's retention shows what the next run removes and is saved (${name})`, async () => {
    const admin = await addAgent(env.server, `Retention${locale}`, { role: 'admin', locale });
    const page = await signIn(env, admin, '/app', options);
    await page.goto(`${env.server.base}/app/settings/sites/${env.server.site.id}`);
    const form = page.locator('.site-layout form');
    await form.waitFor();
    await page.locator('#retention-enable').check();
    const days = page.locator('#retention-days');
    await days.fill('30');
    // The server's preview for the value typed: nothing in this fresh site is a month old.
    await page.locator('.retention-preview').waitFor();
    await page.locator('.retention-preview p').first().waitFor();
    await days.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(shots, `privacy-retention-${name}.png`), fullPage: true });
    await form.locator('.form-actions button[type=submit]').click();
    await form.locator('.form-actions [role=status]', { hasText: /./ }).waitFor();
    const saved = await env.server.api('GET', `/api/v1/sites/${env.server.site.id}`);
    assert.equal(saved.retention_days, 30, 'the setting reached the server');
    await env.server.api('PATCH', `/api/v1/sites/${env.server.site.id}`, { retention_days: null });
    await page.context().close();
  });
}
