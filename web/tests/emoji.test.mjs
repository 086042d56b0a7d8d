// The composer's emoji picker: an agent whose dashboard is in Turkish finds ❤️ by typing
// "kalp" (its CLDR name in Turkish) and by the English "heart", picks with Enter, the
// emoji lands where the caret was, and the next opening shows it first among the recent.
// The picker's data is not part of the dashboard's first load.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { serverAndBrowser, shots } from './harness.mjs';
import { addAgent, signIn, visitorSaying } from './helpers.mjs';

const env = serverAndBrowser();

test('an agent finds emoji by name in their language and in English, and they land at the caret', async () => {
  const deniz = await addAgent(env.server, 'Deniz', { locale: 'tr' });
  const maya = await visitorSaying(env.server, 'Maya Cohen', 'Merhaba!');

  const emojiRequests = [];
  const page = await signIn(env, deniz, '/app', {
    prepare: (p) => p.on('request', (r) => {
      if (/\/assets\/(emoji|names)/.test(new URL(r.url()).pathname)) emojiRequests.push(r.url());
    }),
  });
  await page.getByRole('tab', { name: /^Atanmamış/ }).click();
  await page.locator('.conversations .row', { hasText: 'Maya Cohen' }).locator('a').click();
  assert.deepEqual(emojiRequests, [], 'the emoji data is not loaded before the picker opens');

  const composer = page.locator('.composer textarea');
  await composer.fill('Teşekkürler  iyi günler');
  // The caret between the two spaces.
  await composer.evaluate((el) => el.setSelectionRange(12, 12));
  await page.getByRole('button', { name: 'İfadeler', exact: true }).click();
  const picker = page.getByRole('dialog', { name: 'İfadeler' });
  await picker.getByRole('tab', { name: 'Son kullanılanlar' }).waitFor();
  await picker.getByRole('searchbox', { name: 'Emoji ara' }).fill('kalp');
  await picker.getByRole('button', { name: 'kırmızı kalp' }).waitFor();
  await page.screenshot({ path: path.join(shots, 'emoji-picker-tr.png') });

  await picker.getByRole('searchbox').fill('red heart');
  const first = picker.locator('.emoji-grid button').first();
  assert.equal(await first.textContent(), '❤️', 'the English name finds it too, first');
  await picker.getByRole('searchbox').press('Enter');
  await picker.waitFor({ state: 'detached' });
  assert.equal(await composer.inputValue(), 'Teşekkürler ❤️ iyi günler');
  assert.ok(emojiRequests.some((u) => u.includes('names.tr')), 'the Turkish names were loaded when the picker opened');

  // A search with no match says so; Escape closes and gives the composer back its focus.
  await page.getByRole('button', { name: 'İfadeler', exact: true }).click();
  assert.equal(await picker.locator('.emoji-grid button').first().textContent(), '❤️', 'the picked emoji is first among the recent');
  await picker.getByRole('tab', { name: 'Bayraklar' }).click();
  assert.ok((await picker.locator('.emoji-grid button').count()) > 200, 'the flags group lists every flag');
  await picker.getByRole('searchbox').fill('qqqzzz');
  await picker.getByText('“qqqzzz” için emoji yok').waitFor();
  await page.keyboard.press('Escape');
  await picker.waitFor({ state: 'detached' });
  assert.equal(await composer.evaluate((el) => el === document.activeElement), true);
  await page.context().close();
  maya.close();
});
