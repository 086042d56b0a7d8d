// The dashboard's front door: signing in and out, where each role may go, and the
// agent's own language mirroring the whole interface; installed and opened offline.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { serverAndBrowser, shots } from './harness.mjs';
import { PASSWORD, addAgent } from './helpers.mjs';

const env = serverAndBrowser();

/** Fills the login form the page shows (in whichever language) and submits it. */
async function submitLogin(page, email, password = PASSWORD) {
  await page.getByLabel(/email|ایمیل|البريد|אימייל|E-posta/i).fill(email);
  await page.locator('input[name=password]').fill(password);
  await page.locator('button[type=submit]').click();
}

test('a signed-out visitor of /app is sent to the login page, and back after signing in', async () => {
  const { email } = await addAgent(env.server, 'sara');
  const page = await env.browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${env.server.base}/app/profile`);
  await page.waitForURL(/\/app\/login\?next=%2Fapp%2Fprofile$/);
  await page.screenshot({ path: path.join(shots, 'app-login-ltr-desktop.png') });

  await submitLogin(page, email, 'not the password');
  await page.getByRole('alert').filter({ hasText: /e-?mail or password/i }).waitFor();
  assert.match(page.url(), /\/app\/login/, 'a wrong password stays on the login page');

  await submitLogin(page, email);
  await page.waitForURL(/\/app\/profile$/);
  await page.getByRole('heading', { name: 'Your profile' }).waitFor();

  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.waitForURL(/\/app\/login/);
  await page.goto(`${env.server.base}/app`);
  await page.waitForURL(/\/app\/login/);
  await page.close();
});

test('an agent who opens the admin console gets a clear "not allowed" page; an admin gets the console', async () => {
  const { email } = await addAgent(env.server, 'omar');
  const page = await env.browser.newPage();
  await page.goto(`${env.server.base}/app/settings`);
  await submitLogin(page, email);
  await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
  assert.equal(await page.getByRole('link', { name: 'Settings' }).count(), 0, 'agents have no settings link');
  await page.close();

  const { email: admin } = await addAgent(env.server, 'lea', { role: 'admin' });
  const adminPage = await env.browser.newPage();
  await adminPage.goto(`${env.server.base}/app/settings`);
  await submitLogin(adminPage, admin);
  await adminPage.getByRole('heading', { name: 'Settings' }).waitFor();
  await adminPage.close();
});

test('an agent whose language is Persian gets the dashboard right to left, at phone width too', async () => {
  const { email } = await addAgent(env.server, 'dariush', { locale: 'fa' });
  const page = await env.browser.newPage({ viewport: { width: 390, height: 844 }, locale: 'fa-IR' });
  await page.goto(`${env.server.base}/app`);
  await page.getByRole('heading', { name: 'ورود به Switchboard' }).waitFor();
  assert.equal(await page.locator('html').getAttribute('dir'), 'rtl', 'the login page follows the browser language');
  await page.screenshot({ path: path.join(shots, 'app-login-rtl-phone.png') });
  await submitLogin(page, email);
  await page.getByRole('heading', { name: 'صندوق گفتگوها' }).waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'fa');
  assert.equal(await page.locator('html').getAttribute('dir'), 'rtl');
  await page.close();
});

test('installed and opened offline: the service worker serves the shell (never data), and a signed-in agent is told, not signed out', async () => {
  const { email } = await addAgent(env.server, 'idris');
  const context = await env.browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await page.goto(`${env.server.base}/app`);
  await submitLogin(page, email);
  await page.locator('.list-pane').waitFor();
  // The worker takes the page over; one more load goes through it and fills its cache.
  await page.evaluate(() => navigator.serviceWorker.ready);
  await page.reload();
  await page.locator('.list-pane').waitFor();
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  const cached = await page.evaluate(async () => {
    const urls = [];
    for (const name of await caches.keys()) for (const r of await (await caches.open(name)).keys()) urls.push(new URL(r.url).pathname);
    return urls;
  });
  assert.ok(cached.includes('/app'), `the page is cached: ${cached}`);
  assert.ok(cached.some((u) => u.startsWith('/assets/') && u.endsWith('.js')), `its scripts are cached: ${cached}`);
  assert.deepEqual(cached.filter((u) => u.startsWith('/api') || u.startsWith('/ws')), [], 'no data is cached');

  // Offline, the app still opens: it says the server is out of reach, and stays signed in.
  await context.setOffline(true);
  await page.reload();
  await page.getByRole('heading', { name: 'Cannot reach Switchboard' }).waitFor();
  assert.doesNotMatch(page.url(), /\/app\/login/, 'not sent to the login page');
  await page.screenshot({ path: path.join(shots, 'app-offline-phone.png') });
  // Back online, the inbox opens by itself.
  await context.setOffline(false);
  await page.locator('.list-pane').waitFor();
  await context.close();
});
