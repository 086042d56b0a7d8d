// Account security in a real browser: an agent turns on two-factor sign-in from the
// profile (the code computed here as an authenticator app would) and signs in again with
// a code; the owner reads the audit log, filters it and exports it as CSV. Screenshots in
// both directions, both themes, desktop and phone, of the profile and the audit screen.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import path from 'node:path';
import { serverAndBrowser, shots } from './harness.mjs';
import { PASSWORD, addAgent } from './helpers.mjs';

const env = serverAndBrowser();
const OWNER = 'boss@shop.example';

/** RFC 4648 base32, as authenticator apps read a secret. */
function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const out = [];
  let bits = 0;
  let value = 0;
  for (const c of text.replace(/=+$/, '')) {
    const i = alphabet.indexOf(c);
    if (i < 0) throw new Error(`not base32: ${c}`);
    value = ((value << 5) | i) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The six-digit TOTP code (RFC 6238: SHA-1, 30-second steps) of `secret` at `at`. */
function totp(secret, at) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30_000)));
  const mac = createHmac('sha1', base32(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

test('the code function matches RFC 6238', () => {
  const secret = base32Encode(Buffer.from('12345678901234567890'));
  assert.equal(totp(secret, 59_000), '287082');
  assert.equal(totp(secret, 1_111_111_109_000), '081804');
});

function base32Encode(bytes) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= 0xff;
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

async function newPage(options = {}) {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 860 }, ...options });
  return context.newPage();
}

/** Signs in with the password at `where`; the page is then on the code step or signed in. */
async function passwordStep(page, email, where) {
  await page.goto(`${env.server.base}${where}`);
  await page.locator('input[name=email]').fill(email);
  await page.locator('input[name=password]').fill(PASSWORD);
  await page.locator('button[type=submit]').click();
}

/** A call with the page's own session (its cookie and CSRF token). */
async function asPage(page, method, p, body) {
  return page.evaluate(
    async ({ method, p, body }) => {
      const me = await (await fetch('/api/v1/me')).json();
      const res = await fetch(p, {
        method,
        headers: { 'x-csrf-token': me.csrf_token, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
    },
    { method, p, body },
  );
}

test('an agent turns on two-factor sign-in from the profile and signs in with a code', async () => {
  await addAgent(env.server, 'Tess');
  const page = await newPage();
  await passwordStep(page, 'tess@shop.example', '/app/profile');
  await page.waitForURL((url) => url.pathname === '/app/profile');

  const section = page.getByRole('region', { name: 'Two-factor sign-in' }).or(page.locator('section[aria-labelledby=two-factor-title]'));
  await section.getByText('Off.').waitFor();
  await page.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
  await page.getByRole('img', { name: 'QR code to add this account to an authenticator app' }).waitFor();
  const secret = (await page.getByLabel('Secret', { exact: true }).innerText()).trim();
  assert.match(secret, /^[A-Z2-7]{32}$/);

  // A wrong code is refused with a sentence; the right one turns it on and shows the codes once.
  await page.getByLabel('Six-digit code').fill('000000');
  await page.getByRole('button', { name: 'Turn on' }).click();
  await page.getByRole('alert').filter({ hasText: 'That code is not right' }).waitFor();
  await page.getByLabel('Six-digit code').fill(totp(secret, Date.now()));
  await page.getByRole('button', { name: 'Turn on' }).click();
  const codes = (await page.getByLabel('Recovery codes', { exact: true }).innerText()).trim().split('\n');
  assert.equal(codes.length, 10);
  await section.getByText('On. 10 recovery codes left.').waitFor();
  await page.getByRole('region', { name: 'Where you are signed in' }).or(page.locator('section[aria-labelledby=sessions-title]')).getByText('This session').waitFor();
  await page.screenshot({ path: path.join(shots, 'accounts-enrolled-ltr-light-desktop.png'), fullPage: true });

  // Signing in again asks for a code after the password. The enrolment's code was used
  // (each works once), so the app's next one is given: the server accepts the step after
  // now. (Replays and wrong codes are the system tests' stories, on an injected clock.)
  const again = await newPage();
  await passwordStep(again, 'tess@shop.example', '/app/profile');
  await again.getByLabel('Code', { exact: true }).waitFor();
  await again.screenshot({ path: path.join(shots, 'accounts-login-code-ltr-light-desktop.png') });
  await again.getByLabel('Code', { exact: true }).fill('000000');
  await again.getByRole('button', { name: 'Verify' }).click();
  await again.getByRole('alert').filter({ hasText: 'That code is not right' }).waitFor();
  await again.getByLabel('Code', { exact: true }).fill(totp(secret, Date.now() + 30_000));
  await again.getByRole('button', { name: 'Verify' }).click();
  await again.waitForURL((url) => url.pathname === '/app/profile');
  await again.getByText('On. 10 recovery codes left.').waitFor();

  // The first tab sees two sessions now and signs the other one out.
  await page.reload();
  const sessions = page.locator('section[aria-labelledby=sessions-title]');
  await sessions.getByRole('button', { name: /^Sign out/ }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Sign out' }).click();
  await again.goto(`${env.server.base}/app/profile`);
  await again.waitForURL((url) => url.pathname === '/app/login');
  await again.context().close();
  await page.context().close();
});

const LOOKS = [
  ['ltr-light-desktop', { colorScheme: 'light' }, 'en'],
  ['ltr-dark-phone', { colorScheme: 'dark', viewport: { width: 390, height: 844 } }, 'en'],
  ['rtl-dark-desktop', { colorScheme: 'dark' }, 'he'],
  ['rtl-light-phone', { colorScheme: 'light', viewport: { width: 390, height: 844 } }, 'ar'],
];

test('the owner reads the audit log, filters it and exports it as CSV', async () => {
  const page = await newPage();
  await passwordStep(page, OWNER, '/app/settings/audit');
  await page.waitForURL((url) => url.pathname === '/app/settings/audit');
  const table = page.getByRole('table', { name: 'Audit log' });
  await table.getByRole('row').filter({ hasText: 'Added an agent' }).first().waitFor();
  await table.getByRole('row').filter({ hasText: 'Turned on two-factor sign-in' }).waitFor();

  await page.getByLabel('What').selectOption('two_factor_enabled');
  await page.waitForFunction(() => document.querySelectorAll('table tbody tr').length === 1);
  const row = await table.locator('tbody tr').innerText();
  assert.match(row, /Tess/);
  assert.match(row, /Turned on two-factor sign-in/);

  const href = await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href');
  assert.equal(href, '/api/v1/audit.csv?action=two_factor_enabled');
  const csv = await asPage(page, 'GET', href);
  assert.equal(csv.status, 200);
  assert.match(csv.type, /^text\/csv/);
  const lines = csv.text.trim().split('\r\n');
  assert.equal(lines[0], 'at,actor_kind,actor_id,action,target_kind,target_id,detail');
  assert.equal(lines.length, 2);
  assert.match(lines[1], /,agent,[0-9a-f-]{36},two_factor_enabled,agent,[0-9a-f-]{36},$/);

  // The owner signs Tess out of the browser she left signed in, from the agents screen.
  await page.goto(`${env.server.base}/app/settings/agents`);
  await page.getByRole('button', { name: 'Sessions Tess' }).click();
  const dialog = page.getByRole('dialog', { name: 'Where Tess is signed in' });
  await dialog.locator('tbody tr').first().waitFor();
  assert.equal(await dialog.locator('tbody tr').count(), 1);
  await page.screenshot({ path: path.join(shots, 'accounts-agent-sessions-ltr-light-desktop.png') });
  await dialog.getByRole('button', { name: /^Sign out/ }).click();
  await page.getByRole('dialog', { name: /^Sign out/ }).getByRole('button', { name: 'Sign out' }).click();
  await dialog.getByText('Not signed in anywhere').waitFor();
  await dialog.getByRole('button', { name: 'Close' }).click();
  await page.goto(`${env.server.base}/app/settings/audit`);
  await table.getByRole('row').filter({ hasText: 'Signed a session out' }).first().waitFor();

  // Admins do not see the section, and the server refuses them.
  await env.server.api('POST', '/api/v1/agents', { email: 'ada2@shop.example', name: 'Ada', role: 'admin', password: PASSWORD, locale: 'en' });
  const admin = await newPage();
  await passwordStep(admin, 'ada2@shop.example', '/app/settings');
  await admin.waitForURL((url) => url.pathname === '/app/settings');
  assert.equal(await admin.getByRole('link', { name: 'Audit log' }).count(), 0);
  assert.equal((await asPage(admin, 'GET', '/api/v1/audit')).status, 403);
  await admin.context().close();

  // Owners in each language and look, for the screenshots.
  for (const [name, options, locale] of LOOKS) {
    const email = `owner-${name}@shop.example`;
    const made = await asPage(page, 'POST', '/api/v1/agents', { email, name: `Owner ${locale}`, role: 'owner', password: PASSWORD, locale });
    assert.equal(made.status, 201, made.text);
    const look = await newPage(options);
    await passwordStep(look, email, '/app/settings/audit');
    await look.waitForURL((url) => url.pathname === '/app/settings/audit');
    await look.locator('table tbody tr').first().waitFor();
    assert.equal(await look.evaluate(() => document.documentElement.dir), locale === 'en' ? 'ltr' : 'rtl');
    await look.screenshot({ path: path.join(shots, `accounts-audit-${name}.png`), fullPage: true });
    await look.goto(`${env.server.base}/app/profile`);
    await look.locator('section[aria-labelledby=sessions-title] tbody tr').first().waitFor();
    await look.screenshot({ path: path.join(shots, `accounts-profile-${name}.png`), fullPage: true });
    await look.context().close();
  }
  await page.context().close();
});
