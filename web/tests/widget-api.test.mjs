// The widget's conversation seen from both ends and from the host page's code: typing
// both ways, the JavaScript API's events (message, unread, conversation_resolved),
// setAttributes and setLocale; a refused message retried or deleted by hand; files pasted and dropped into the chat, with a file over
// the server's limit explained in the visitor's language; the chat page of a key that
// does not exist. This server takes uploads of at most 2 KiB.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { serverAndBrowser, eventually, shots, hostSite, shopPage, widgetOn, NO_LIMITS } from './harness.mjs';
import { conversationSaying } from './helpers.mjs';
import { agentSocket } from './visitor.mjs';

const env = serverAndBrowser({ ...NO_LIMITS, SWITCHBOARD__LIMITS__MAX_UPLOAD_BYTES: '2048' });
let host;
after(() => host?.close());

test('typing shows both ways, and the page hears message, unread and conversation_resolved; setAttributes and setLocale reach the chat', async () => {
  const { base, site } = env.server;
  const api = `window.Switchboard = window.Switchboard || function () { (Switchboard.q = Switchboard.q || []).push(arguments); };
    window.heard = [];
    for (const name of ['message', 'unread', 'conversation_resolved']) Switchboard('on', name, (data) => heard.push([name, data]));
    Switchboard('setAttributes', { plan: 'gold' });`;
  host?.close();
  host = await hostSite({
    '/': { html: shopPage(base, site.public_key, { head: '<script src="/api.js"></script>' }) },
    '/api.js': { html: api, headers: { 'content-type': 'text/javascript' } },
  });
  const agent = await agentSocket(env.server);
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(host.origin);
    const w = widgetOn(page);
    await w.launcher.click();
    const box = w.frame.getByRole('textbox', { name: 'Message' });
    await box.fill('Is the green jacket waterproof?');
    await box.press('Enter');
    const { conversation: conv } = await conversationSaying(env.server, 'Is the green jacket waterproof?');

    // The visitor types: the agent hears it.
    await box.pressSequentially('And does it', { delay: 20 });
    await agent.waitFor((f) => f.type === 'typing' && f.conversation_id === conv.id && f.actor.kind === 'contact' && f.typing, 'the visitor typing');
    // The agent types: the visitor sees it, and it goes when the agent stops.
    agent.send({ type: 'typing', conversation_id: conv.id, typing: true });
    await w.frame.locator('.typing').waitFor();
    agent.send({ type: 'typing', conversation_id: conv.id, typing: false });
    await w.frame.locator('.typing').waitFor({ state: 'detached' });

    // setAttributes, called before the loader arrived, reached the visitor's contact.
    await eventually(async () => (await env.server.api('GET', `/api/v1/contacts/${conv.contact_id}`)).attributes.plan === 'gold', 'the plan attribute');

    // A reply while the panel is open: `message`. Closed: `unread` counts it.
    await env.server.api('POST', `/api/v1/conversations/${conv.id}/messages`, { body: 'Yes, fully.' });
    await page.waitForFunction(() => window.heard.some(([n]) => n === 'message'));
    await page.evaluate(() => Switchboard('close'));
    await env.server.api('POST', `/api/v1/conversations/${conv.id}/messages`, { body: 'Anything else?' });
    await page.waitForFunction(() => window.heard.some(([n, d]) => n === 'unread' && d === 1));
    assert.equal(await page.title(), 'Shop', 'the page title is left alone: this site did not allow the count there');
    await env.server.api('PUT', `/api/v1/conversations/${conv.id}/status`, { status: 'resolved' });
    await page.waitForFunction(() => window.heard.some(([n]) => n === 'conversation_resolved'));

    // setLocale switches the open chat's language.
    await page.evaluate(() => { Switchboard('setLocale', 'tr'); Switchboard('open'); });
    await w.frame.getByText('Bu sohbet kapatıldı.').waitFor();
    assert.equal(await w.frame.locator('html').getAttribute('lang'), 'tr');
    assert.deepEqual(errors, []);
  } finally {
    agent.close();
    await context.close();
  }
});

test('a message the server refuses says why, with Retry and Delete: a retry is stored once, a deleted one never', async () => {
  const { base, site } = env.server;
  host?.close();
  host = await hostSite({ '/': { html: shopPage(base, site.public_key) } });
  const agent = await agentSocket(env.server);
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
  // The first send of "Refused once" is answered by a refusal, as the server answers a
  // message it judges; everything else goes to the server.
  let refusedOnce = false;
  await context.routeWebSocket(/\/ws\/visitor/, (ws) => {
    const server = ws.connectToServer();
    ws.onMessage((text) => {
      const frame = JSON.parse(text);
      if (frame.type === 'send' && frame.body === 'Refused once' && !refusedOnce) {
        refusedOnce = true;
        ws.send(JSON.stringify({ type: 'error', code: 'attachment_not_found', message: 'refused by the test', ref: frame.client_id }));
      } else server.send(text);
    });
  });
  try {
    const page = await context.newPage();
    await page.goto(host.origin);
    const w = widgetOn(page);
    await w.launcher.click();
    const box = w.frame.getByRole('textbox', { name: 'Message' });
    await box.fill('First words');
    await box.press('Enter');
    const { conversation: conv } = await conversationSaying(env.server, 'First words');

    await box.fill('Refused once');
    await box.press('Enter');
    const refused = w.frame.locator('.line.mine', { hasText: 'Refused once' });
    await refused.getByRole('alert').waitFor();
    assert.ok(!(await refused.getByRole('alert').textContent()).includes('attachment_not_found'), 'a sentence, not a code');
    await page.screenshot({ path: path.join(shots, 'widget-send-refused.png') });
    await refused.getByRole('button', { name: 'Retry' }).click();
    await refused.locator('.state.sent').waitFor();

    // Longer than the server takes: refused for real, and deleted by the visitor.
    await box.fill('x'.repeat(10_001));
    await box.press('Enter');
    const tooLong = w.frame.locator('.line.mine').filter({ has: w.frame.getByRole('alert') });
    await tooLong.waitFor();
    await tooLong.getByRole('button', { name: 'Delete' }).click();
    await tooLong.waitFor({ state: 'detached' });

    await box.fill('Last words');
    await box.press('Enter');
    await w.frame.locator('.line.mine', { hasText: 'Last words' }).locator('.state.sent').waitFor();
    const history = await env.server.api('GET', `/api/v1/conversations/${conv.id}/messages`);
    const sent = history.items.filter((e) => e.kind === 'message').map((e) => e.message.body);
    assert.deepEqual(sent, ['First words', 'Refused once', 'Last words']);
    await page.reload();
    await widgetOn(page).frame.locator('.line.mine', { hasText: 'Last words' }).waitFor();
    assert.equal(await widgetOn(page).frame.getByRole('alert').count(), 0, 'the deleted message does not come back after a reload');
  } finally {
    agent.close();
    await context.close();
  }
});

// A 1×1 PNG, and a file just over this server's 2 KiB limit.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

test('a Turkish visitor pastes an image and drops a file that is too large: the preview shows, the refusal is in Turkish, nothing typed is lost', async () => {
  const { base, site } = env.server;
  const before = await env.server.api('GET', `/api/v1/sites/${site.id}`);
  await env.server.api('PATCH', `/api/v1/sites/${site.id}`, { appearance: { ...before.appearance, locale: 'tr' } });
  host?.close();
  host = await hostSite({ '/': { html: shopPage(base, site.public_key, { lang: 'tr' }) } });
  const agent = await agentSocket(env.server);
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'tr-TR' });
  try {
    const page = await context.newPage();
    await page.goto(host.origin);
    const w = widgetOn(page);
    await w.launcher.click();
    const box = w.frame.getByRole('textbox', { name: 'Mesaj' });
    await box.fill('Merhaba, kargo etiketi ekte');
    await box.press('Enter');
    const { conversation: conv } = await conversationSaying(env.server, 'Merhaba, kargo etiketi ekte');
    await box.fill('Bir de fatura');

    const frame = page.frames().find((f) => f.url().includes('/widget/frame'));
    await frame.evaluate((bytes) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], 'etiket.png', { type: 'image/png' }));
      document.querySelector('textarea').dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    }, [...PNG]);
    await frame.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(['x'.repeat(3000)], 'fatura.txt', { type: 'text/plain' }));
      document.querySelector('textarea').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    await w.frame.locator('img.thumb').waitFor();
    await w.frame.locator('li.bad', { hasText: 'fatura.txt' }).getByText('Bu dosya çok büyük.').waitFor();
    assert.equal(await box.inputValue(), 'Bir de fatura', 'what the visitor typed is still there');
    await page.screenshot({ path: path.join(shots, 'widget-tr-upload-refused.png') });

    await w.frame.getByRole('button', { name: 'fatura.txt dosyasını kaldır' }).click();
    await box.press('Enter');
    await eventually(async () => {
      const history = await env.server.api('GET', `/api/v1/conversations/${conv.id}/messages`);
      const sent = history.items.find((e) => e.kind === 'message' && e.message.body === 'Bir de fatura');
      return sent && sent.message.attachments.map((a) => a.filename).join() === 'etiket.png';
    }, 'the message with the pasted image only');
  } finally {
    await env.server.api('PATCH', `/api/v1/sites/${site.id}`, { appearance: before.appearance });
    agent.close();
    await context.close();
  }
});

test('dark and reduced motion: the chat follows the visitor’s system, Hebrew right to left at desktop width', async () => {
  const { base, site } = env.server;
  const before = await env.server.api('GET', `/api/v1/sites/${site.id}`);
  await env.server.api('PATCH', `/api/v1/sites/${site.id}`, { appearance: { ...before.appearance, locale: 'he', greeting: 'שלום! איך נוכל לעזור?', team_name: 'תמיכה' } });
  host?.close();
  host = await hostSite({ '/': { html: shopPage(base, site.public_key, { lang: 'he', dir: 'rtl' }) } });
  const agent = await agentSocket(env.server);
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'dark', reducedMotion: 'reduce', locale: 'he-IL' });
  try {
    const page = await context.newPage();
    await page.goto(host.origin);
    const w = widgetOn(page);
    await w.launcher.click();
    const box = w.frame.getByRole('textbox', { name: 'הודעה' });
    await box.fill('שלום, יש לכם את זה במידה 42? size 42');
    await box.press('Enter');
    await w.frame.locator('.line.mine .state.sent').waitFor();
    const frame = page.frames().find((f) => f.url().includes('/widget/frame'));
    const look = await frame.evaluate(() => {
      const bubble = document.querySelector('.line.mine .bubble');
      return {
        background: getComputedStyle(document.body).backgroundColor,
        dir: document.documentElement.dir,
        motion: getComputedStyle(bubble).transitionDuration,
      };
    });
    assert.equal(look.dir, 'rtl');
    assert.equal(look.background, 'rgb(22, 27, 34)', 'the dark background');
    assert.equal(look.motion, '0s', 'no transitions for those who asked');
    await page.screenshot({ path: path.join(shots, 'widget-he-dark-desktop.png') });
  } finally {
    await env.server.api('PATCH', `/api/v1/sites/${site.id}`, { appearance: before.appearance });
    agent.close();
    await context.close();
  }
});

test('the chat page of a key that does not exist says so in a sentence, and throws nothing', async () => {
  const context = await env.browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'en-GB' });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${env.server.base}/chat/pk_doesnotexist0000`);
  await page.getByText('This chat is not available. The link may be wrong or the site was removed.').waitFor();
  await page.screenshot({ path: path.join(shots, 'chat-page-unknown-key.png') });
  assert.deepEqual(errors, []);
  await context.close();
});
