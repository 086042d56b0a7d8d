// Proactive rules and lead scoring in a real browser: an admin creates a rule for the
// site in Settings → Proactive rules (conditions, a message with its preview, a cap) and a
// scoring rule in Settings → Lead scoring, and both are saved as written. Screenshots of
// the list, the editor and the scoring screen in English and Arabic (right to left),
// light and dark, desktop and phone width, go to target/browser/.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { serverAndBrowser, shots } from './harness.mjs';
import { addAgent, signIn } from './helpers.mjs';

const env = serverAndBrowser();

test('an admin creates a proactive rule and a scoring rule, and both are saved', async () => {
  const who = await addAgent(env.server, 'Rana', { role: 'admin', locale: 'en' });
  const page = await signIn(env, who, '/app/settings/rules');
  await page.getByText('No rules on this site').waitFor();
  await page.screenshot({ path: path.join(shots, 'rules-empty-en.png') });

  await page.getByRole('button', { name: 'New rule' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Name').fill('Help on pricing');
  // The first condition is "time on the page": 30 seconds. Add "page address contains /pricing".
  await dialog.getByLabel('Seconds').fill('30');
  await dialog.getByRole('button', { name: 'Add a condition' }).click();
  const conditions = dialog.getByLabel('Condition');
  await conditions.nth(1).selectOption('url');
  await dialog.getByLabel('Value').first().fill('/pricing');
  await dialog.locator('textarea[name=rule-message]').fill('Questions about our plans? We are here.');
  await dialog.locator('.invite-bubble').getByText('Questions about our plans?').waitFor();
  await dialog.getByLabel('How often').selectOption('every_days');
  await dialog.getByLabel('Days between firings').fill('7');
  await page.screenshot({ path: path.join(shots, 'rules-editor-en.png') });
  await dialog.getByRole('button', { name: 'Save rule' }).click();
  const card = page.locator('.rule').filter({ hasText: 'Help on pricing' });
  await card.waitFor();
  assert.match(await card.innerText(), /Fired[\s\S]*0[\s\S]*Converted/);

  const [rule] = await env.server.api('GET', `/api/v1/sites/${env.server.site.id}/triggers`);
  assert.equal(rule.name, 'Help on pricing');
  assert.deepEqual(rule.conditions, [
    { kind: 'time_on_page', seconds: 30 },
    { kind: 'url', match: 'contains', value: '/pricing' },
  ]);
  assert.deepEqual(rule.actions, [{ kind: 'message', body: 'Questions about our plans? We are here.', agent_id: null, typing_seconds: 2 }]);
  assert.equal(rule.frequency, 'every_days');
  assert.equal(rule.every_days, 7);
  await page.screenshot({ path: path.join(shots, 'rules-list-en.png') });

  // Turning it off is saved too.
  await card.getByRole('button', { name: 'Turn off' }).click();
  await card.getByText('Off', { exact: true }).waitFor();
  assert.equal((await env.server.api('GET', `/api/v1/triggers/${rule.id}`)).enabled, false);

  await page.goto(`${env.server.base}/app/settings/scoring`);
  await page.getByText('No scoring rules yet').waitFor();
  await page.getByRole('button', { name: 'Add a scoring rule' }).click();
  await page.locator('input[name=page-value]').fill('/pricing');
  await page.locator('input[name=points]').fill('15');
  await page.getByLabel('Half-life in days').fill('30');
  await page.getByLabel('High priority from this score').fill('40');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByText('Saved.').waitFor();
  const scoring = await env.server.api('GET', '/api/v1/scoring');
  assert.deepEqual(scoring, { rules: [{ kind: 'page', match: 'contains', value: '/pricing', points: 15 }], half_life_days: 30, priority_at: 40 });
  await page.screenshot({ path: path.join(shots, 'scoring-en.png') });
  await page.context().close();
});

test('the rule screens read right to left in Arabic, dark, and at phone width', async () => {
  const who = await addAgent(env.server, 'Layla', { role: 'admin', locale: 'ar' });
  const page = await signIn(env, who, '/app/settings/rules', { colorScheme: 'dark' });
  await page.locator('.rule').first().waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.dir), 'rtl');
  await page.screenshot({ path: path.join(shots, 'rules-list-ar-dark.png') });
  await page.locator('.rule').first().getByRole('button', { name: /تعديل/ }).click();
  await page.getByRole('dialog').locator('.invite-bubble').waitFor();
  await page.screenshot({ path: path.join(shots, 'rules-editor-ar-dark.png') });
  await page.context().close();

  const phone = await signIn(env, who, '/app/settings/scoring', { viewport: { width: 390, height: 844 } });
  await phone.locator('input[name=page-value]').waitFor();
  // At phone width a scoring rule wraps: its kind and what it matches each take a whole
  // line, rather than squeezing beside the points.
  const row = phone.locator('.rule-row').first();
  const width = (await row.boundingBox()).width;
  for (const part of [row.locator('> select'), row.locator('.rule-inputs')]) {
    const box = await part.boundingBox();
    assert.ok(box.width >= width * 0.95, `${box.width}px of a ${width}px row`);
  }
  await phone.screenshot({ path: path.join(shots, 'scoring-ar-phone.png'), fullPage: true });
  await phone.context().close();
});
