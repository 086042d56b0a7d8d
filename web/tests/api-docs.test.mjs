// The API reference at /api/docs on a machine without internet: every request to another
// host is blocked, and the page still renders the server's own operations, under its CSP.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { serverAndBrowser, shots } from './harness.mjs';

const env = serverAndBrowser();

test('the API reference renders offline, from the binary alone', async () => {
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 900 } });
  const own = new URL(env.server.base).host;
  const elsewhere = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.host === own) return route.continue();
    elsewhere.push(url.href);
    return route.abort('internetdisconnected');
  });
  // Violations of the page's Content-Security-Policy, as the browser reports them.
  await context.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));

  const response = await page.goto(`${env.server.base}/api/docs`);
  assert.equal(response.status(), 200, 'the binary carries the reference (built by `npm run build`)');
  assert.match(response.headers()['content-security-policy'] ?? '', /script-src 'self'/);

  // The document's title, then an operation of the REST API, named by the summary taken
  // from its handler's doc comment, once its group is opened in the sidebar.
  await page.getByRole('heading', { name: 'Switchboard API' }).waitFor({ timeout: 20_000 });
  await page.getByText('conversations', { exact: true }).first().click();
  await page.getByText('Conversations, most recent activity first').first().waitFor();
  assert.equal(await page.getByText('Ask AI').count(), 0, 'no button sending the document to a hosted AI');
  await page.screenshot({ path: path.join(shots, 'api-docs.png') });

  assert.deepEqual(elsewhere, [], 'no request leaves the server');
  assert.deepEqual(await page.evaluate(() => window.__violations), [], 'nothing the CSP had to block');
  assert.deepEqual(errors, [], 'no script error');
  await context.close();
});
