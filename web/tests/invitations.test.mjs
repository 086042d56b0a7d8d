// Inviting an agent in a real browser: an admin invites from the Agents screen, copies
// the link from the dialog (this server sends no mail, so the link is the way), and a
// new browser context opens it, chooses a password and lands in the inbox signed in;
// a revoked link shows the page that says it does not work. With mail configured (a real
// SMTP server, Debian's aiosmtpd), the list shows each mail sent, or failed with the
// server's answer. axe finds nothing serious
// on the invitation page; screenshots of the invite dialog, the pending list and the
// invitation page in both directions, both themes, desktop and phone.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eventually, serverAndBrowser, shots, startServer } from './harness.mjs';

const env = serverAndBrowser();
const PASSWORD = 'a long enough password';
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const PHONE = { width: 390, height: 844 };

async function newPage(options = {}) {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 860 }, ...options });
  return context.newPage();
}

/** A page signed in as `email` at `where`. */
async function signedIn(email, where, options = {}) {
  const page = await newPage(options);
  await page.goto(`${env.server.base}${where}`);
  await page.locator('input[name=email]').fill(email);
  await page.locator('input[name=password]').fill(PASSWORD);
  await page.locator('button[type=submit]').click();
  await page.waitForURL((url) => url.pathname === where);
  return page;
}

/** axe-core's serious and critical violations on the page, as readable lines. */
async function seriousViolations(page) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

test('an admin invites, copies the link, and the invitee sets a password and lands in the inbox', async () => {
  await env.server.api('POST', '/api/v1/agents', { email: 'ida@shop.example', name: 'Ida', role: 'admin', password: PASSWORD, locale: 'en' });
  await env.server.api('POST', '/api/v1/teams', { name: 'Support' });
  const admin = await signedIn('ida@shop.example', '/app/settings/agents');
  await admin.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: env.server.base });

  await admin.getByRole('button', { name: 'Invite by e-mail' }).click();
  const dialog = admin.getByRole('dialog', { name: 'Invite an agent' });
  await dialog.getByLabel('Email').fill('noor@shop.example');
  await dialog.getByLabel('Name (optional)').fill('Noor');
  await dialog.getByLabel('Support').check();
  await admin.screenshot({ path: path.join(shots, 'invite-dialog-ltr-light-desktop.png') });
  await dialog.getByRole('button', { name: 'Send invitation' }).click();

  const ready = admin.getByRole('dialog', { name: 'Invitation ready' });
  await ready.waitFor();
  const link = await ready.getByLabel('Invitation link').inputValue();
  assert.match(link, new RegExp(`^${env.server.base}/app/invite/[A-Za-z0-9_-]{43}$`));
  await ready.getByRole('button', { name: 'Copy link' }).click();
  await ready.getByRole('status').filter({ hasText: 'Copied.' }).waitFor();
  assert.equal(await admin.evaluate(() => navigator.clipboard.readText()), link);
  await ready.getByText('This server does not send e-mail').waitFor();
  await admin.screenshot({ path: path.join(shots, 'invite-link-ltr-light-desktop.png') });
  await ready.getByRole('button', { name: 'Done' }).click();

  const row = admin.getByRole('row').filter({ hasText: 'noor@shop.example' });
  await row.getByText('Link only').waitFor();
  await row.getByText('Ida').waitFor();
  await row.getByText('in 7 days').waitFor();
  await admin.screenshot({ path: path.join(shots, 'invite-pending-ltr-light-desktop.png'), fullPage: true });

  // The invitee, in a browser of their own.
  const invitee = await newPage();
  await invitee.goto(link);
  await invitee.getByRole('heading', { name: 'Join Shop' }).waitFor();
  await invitee.getByText('Ida invited you to join Shop on Switchboard as an agent.').waitFor();
  assert.equal(await invitee.getByLabel('Your name').inputValue(), 'Noor');
  assert.deepEqual(await seriousViolations(invitee), []);
  await invitee.getByLabel('Choose a password').fill('noor has a long password');
  await invitee.getByRole('button', { name: 'Join and sign in' }).click();
  await invitee.waitForURL((url) => url.pathname === '/app');
  const me = await invitee.evaluate(async () => (await fetch('/api/v1/me')).json());
  assert.equal(me.agent.email, 'noor@shop.example');
  assert.equal(me.agent.name, 'Noor');
  const team = (await env.server.api('GET', '/api/v1/teams')).find((t) => t.name === 'Support');
  assert.deepEqual(team.agent_ids, [me.agent.id], 'joined the team the admin chose');

  // Accepted: the admin's list forgets it; the link is spent.
  await admin.reload();
  await admin.getByText('No pending invitations.').waitFor();
  const again = await newPage();
  await again.goto(link);
  await again.getByRole('heading', { name: 'Invitation already accepted' }).waitFor();
});

test('a revoked link shows that it does not work, with the way to sign in', async () => {
  await env.server.api('POST', '/api/v1/agents', { email: 'rey@shop.example', name: 'Rey', role: 'admin', password: PASSWORD, locale: 'en' });
  const made = await env.server.api('POST', '/api/v1/agents/invitations', { email: 'gone@shop.example', role: 'agent' });
  const admin = await signedIn('rey@shop.example', '/app/settings/agents');
  const row = admin.getByRole('row').filter({ hasText: 'gone@shop.example' });
  await row.getByText('An integration').waitFor();
  await row.getByRole('button', { name: 'Revoke' }).click();
  await admin.getByRole('dialog', { name: 'Revoke the invitation for gone@shop.example?' }).getByRole('button', { name: 'Revoke' }).click();
  await row.waitFor({ state: 'detached' });

  const page = await newPage();
  await page.goto(made.link);
  await page.getByRole('heading', { name: 'Invitation link not valid' }).waitFor();
  await page.getByText('revoked or replaced by a newer one').waitFor();
  await page.getByRole('link', { name: 'Go to sign in' }).click();
  await page.waitForURL((url) => url.pathname === '/app/login');
  const broken = await newPage({ colorScheme: 'dark' });
  await broken.goto(made.link);
  await broken.getByRole('heading').waitFor();
  await broken.screenshot({ path: path.join(shots, 'invite-page-revoked-ltr-dark-desktop.png') });
});

for (const [name, options, locale, heading] of [
  ['ltr-light-desktop', { colorScheme: 'light' }, 'en', 'Join Shop'],
  ['ltr-dark-phone', { colorScheme: 'dark', viewport: PHONE }, 'tr', 'Shop ekibine katılın'],
  ['rtl-dark-desktop', { colorScheme: 'dark' }, 'fa', 'پیوستن به Shop'],
  ['rtl-light-phone', { colorScheme: 'light', viewport: PHONE }, 'ar', 'انضم إلى Shop'],
]) {
  test(`the invitation page in ${locale}, ${name}, speaks the invitee's language`, async () => {
    const made = await env.server.api('POST', '/api/v1/agents/invitations', {
      email: `${locale}-${name}@shop.example`, name: 'Dilan', role: 'admin', locale,
    });
    const page = await newPage(options);
    await page.goto(made.link);
    await page.getByRole('heading', { name: heading }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.dir), locale === 'fa' || locale === 'ar' ? 'rtl' : 'ltr');
    assert.deepEqual(await seriousViolations(page), []);
    await page.screenshot({ path: path.join(shots, `invite-page-${name}.png`), fullPage: true });
  });
}

for (const [name, options] of [
  ['rtl-dark-desktop', { colorScheme: 'dark' }],
  ['rtl-light-phone', { colorScheme: 'light', viewport: PHONE }],
  ['ltr-dark-phone', { colorScheme: 'dark', viewport: PHONE }],
]) {
  test(`the invite dialog and the pending list, ${name}`, async () => {
    const rtl = name.startsWith('rtl');
    const email = `admin-${name}@shop.example`;
    await env.server.api('POST', '/api/v1/agents', { email, name: 'Shirin', role: 'admin', password: PASSWORD, locale: rtl ? 'fa' : 'en' });
    await env.server.api('POST', '/api/v1/agents/invitations', { email: `pending-${name}@shop.example`, name: 'Kian', role: 'agent', locale: 'fa' });
    const page = await signedIn(email, '/app/settings/agents', options);
    await page.getByRole('row').filter({ hasText: `pending-${name}@shop.example` }).waitFor();
    await page.screenshot({ path: path.join(shots, `invite-pending-${name}.png`), fullPage: true });
    await page.getByRole('button', { name: rtl ? 'دعوت با ایمیل' : 'Invite by e-mail' }).click();
    await page.getByRole('dialog').waitFor();
    assert.deepEqual(await seriousViolations(page), []);
    await page.screenshot({ path: path.join(shots, `invite-dialog-${name}.png`) });
  });
}

/**
 * Debian's aiosmtpd with the handler the Rust tests use (switchboard-services'
 * `smtp_sink.py`): every message lands in `dir/new`; while `dir/refuse` exists, 451.
 */
async function smtpSink() {
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-smtp-'));
  const port = await new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
  const script = path.join(import.meta.dirname, '../../crates/switchboard-services/src/smtp_sink.py');
  const child = spawn('/usr/bin/python3', [script, String(port), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => String(chunk).includes('listening') && resolve());
    child.on('exit', (code) => reject(new Error(`the SMTP sink exited with ${code}`)));
  });
  return { port, dir, stop: () => child.kill('SIGTERM') };
}

/** Reloads the list and says whether `email`'s row shows `state` (the row is waited for). */
async function mailState(page, email, state) {
  await page.reload();
  const row = page.getByRole('row').filter({ hasText: email });
  await row.waitFor();
  return row.getByText(state).isVisible();
}

test('with mail configured, the pending list shows each mail sent or failed', async () => {
  const smtp = await smtpSink();
  let server;
  try {
    server = await startServer({
      SWITCHBOARD__MAIL__SMTP_HOST: '127.0.0.1',
      SWITCHBOARD__MAIL__SMTP_PORT: String(smtp.port),
      SWITCHBOARD__MAIL__TLS: 'none',
      SWITCHBOARD__MAIL__FROM: 'Shop Support <support@shop.example>',
    });
    await server.api('POST', '/api/v1/agents', { email: 'mia@shop.example', name: 'Mia', role: 'admin', password: PASSWORD, locale: 'en' });
    const context = await env.browser.newContext({ viewport: { width: 1280, height: 860 } });
    const admin = await context.newPage();
    await admin.goto(`${server.base}/app/settings/agents`);
    await admin.locator('input[name=email]').fill('mia@shop.example');
    await admin.locator('input[name=password]').fill(PASSWORD);
    await admin.locator('button[type=submit]').click();
    await admin.waitForURL((url) => url.pathname === '/app/settings/agents');

    await admin.getByRole('button', { name: 'Invite by e-mail' }).click();
    await admin.getByRole('dialog', { name: 'Invite an agent' }).getByLabel('Email').fill('sent@shop.example');
    await admin.getByRole('button', { name: 'Send invitation' }).click();
    const ready = admin.getByRole('dialog', { name: 'Invitation ready' });
    await ready.getByText('We are e-mailing the link to sent@shop.example').waitFor();
    const link = await ready.getByLabel('Invitation link').inputValue();
    await ready.getByRole('button', { name: 'Done' }).click();

    // The server's job worker sends it; the list says so once it went out.
    const inbox = path.join(smtp.dir, 'new');
    const mails = () => { try { return readdirSync(inbox); } catch { return []; } };
    await eventually(() => mails().length === 1, 'the invitation mail');
    assert.ok(readFileSync(path.join(inbox, mails()[0]), 'utf8').includes('To: sent@shop.example'));
    await eventually(() => mailState(admin, 'sent@shop.example', 'E-mail sent'), 'the list showing the mail sent');

    writeFileSync(path.join(smtp.dir, 'refuse'), '');
    await server.api('POST', '/api/v1/agents/invitations', { email: 'refused@shop.example', name: 'Rafi', role: 'agent' });
    await eventually(() => mailState(admin, 'refused@shop.example', 'E-mail failed'), 'the list showing the mail failed');
    const failed = admin.getByRole('row').filter({ hasText: 'refused@shop.example' }).getByText('E-mail failed');
    assert.match(await failed.getAttribute('title'), /451/, 'the server\'s answer is at hand');
    assert.equal(mails().length, 1, 'nothing was delivered while the server refused');
    await admin.screenshot({ path: path.join(shots, 'invite-pending-mail-ltr-light-desktop.png'), fullPage: true });
    assert.ok(link.startsWith(`${server.base}/app/invite/`));
  } finally {
    server?.stop();
    smtp.stop();
  }
});
