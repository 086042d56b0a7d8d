// Business hours and the team choice as people meet them (issue 14): a visitor who
// writes while the team is closed reads one automatic reply saying when the team is back,
// in their own language and time zone, and the agent reads the same reply in theirs; a
// visitor picks a team by name in the pre-chat form and the chat lands in that team's
// queue; an admin edits a site's hours in the console (live "open now / opens at" line,
// the server's refusals beside their fields) and the widget's closed state follows.
// Screenshots left to right and right to left, light and dark, desktop and phone.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { agentOnline, eventually, hostSite, serverAndBrowser, shopPage, shots, widgetOn, NO_LIMITS } from './harness.mjs';
import { addAgent, conversationSaying, signIn } from './helpers.mjs';

const env = serverAndBrowser(NO_LIMITS);
let host;
after(() => host?.close());

async function shop() {
  host?.close();
  host = await hostSite({ '/': { html: shopPage(env.server.base, env.server.site.public_key) } });
  return host;
}

/** The ISO day of the week (Monday 1 … Sunday 7) `days` from today, in UTC. */
function isoDay(days) {
  return ((new Date().getUTCDay() + days + 6) % 7) + 1;
}

test('a visitor writing while the team is closed reads one automatic reply in their zone; the agent reads it in theirs', async () => {
  const { site } = env.server;
  const { appearance } = await env.server.api('GET', `/api/v1/sites/${site.id}`);
  // Open only tomorrow (UTC), 09:00–10:00: closed now.
  const hours = { time_zone: 'UTC', weekly: [{ day: isoDay(1), open: '09:00', close: '10:00' }], holidays: [] };
  await env.server.api('PATCH', `/api/v1/sites/${site.id}`, { business_hours: hours, prechat_form: [] });
  const deniz = await addAgent(env.server, 'Deniz', { locale: 'tr' });
  const { origin } = await shop();
  try {
    // A visitor in Tokyo: 09:00 UTC is 18:00 there.
    const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB', timezoneId: 'Asia/Tokyo' });
    const page = await context.newPage();
    await page.goto(origin);
    const w = widgetOn(page);
    await w.launcher.click();
    await w.frame.getByLabel('Your e-mail').fill('yuki@example.jp');
    await w.frame.getByLabel('Your message').fill('Do you ship to Osaka?');
    await w.frame.getByRole('button', { name: 'Send message' }).click();
    const reply = w.frame.locator('.note.hours');
    await reply.waitFor();
    const text = await reply.textContent();
    const tomorrow = new Intl.DateTimeFormat('en-GB', { weekday: 'long', timeZone: 'Asia/Tokyo' }).format(new Date(Date.now() + 86_400_000));
    assert.match(text, /^Thanks for your message\. We're closed right now/);
    assert.ok(text.includes(tomorrow) || text.includes('today'), `"${text}" names the day`);
    // The widget speaks the site's language (en): 18:00 in Tokyo reads "6:00 PM".
    assert.match(text, /\b6:00\sPM\b/, 'Tokyo\'s time for 09:00 UTC');
    await page.screenshot({ path: path.join(shots, 'hours-auto-reply-ltr-light.png') });

    // Writing again in the same closed period brings no second reply.
    await w.frame.getByLabel('Message').fill('And to Kyoto?');
    await w.frame.getByLabel('Message').press('Enter');
    const { conversation, events } = await conversationSaying(env.server, 'And to Kyoto?');
    assert.equal(events.filter((e) => e.kind === 'outside_hours').length, 1, 'one reply per closed period');
    assert.equal(await w.frame.locator('.note.hours').count(), 1);
    await context.close();

    // Deniz reads it in Turkish, at Istanbul's time (12:00 for 09:00 UTC).
    const dashboard = await signIn(env, deniz, '/app', { locale: 'tr', timezoneId: 'Europe/Istanbul' });
    await dashboard.goto(`${env.server.base}/app/c/${conversation.id}`);
    const line = dashboard.locator('.transcript .system', { hasText: 'Otomatik yanıt: şu an kapalı, dönüş' });
    await line.waitFor();
    assert.ok((await line.textContent()).includes('12:00'), 'the reopening in the agent\'s zone');
    await dashboard.screenshot({ path: path.join(shots, 'hours-auto-reply-dashboard-tr.png') });
    await dashboard.context().close();

    // In Persian, right to left, dark, at phone width.
    await env.server.api('PATCH', `/api/v1/sites/${site.id}`, { appearance: { ...appearance, locale: 'fa' } });
    const phone = await env.browser.newContext({ viewport: { width: 390, height: 780 }, locale: 'fa', colorScheme: 'dark', timezoneId: 'Asia/Tehran' });
    const fa = await phone.newPage();
    await fa.goto(origin);
    const wf = widgetOn(fa);
    await wf.launcher.click();
    await wf.frame.locator('#o-email').fill('sara@example.ir');
    await wf.frame.locator('#o-message').fill('آیا به شیراز ارسال دارید؟');
    await wf.frame.locator('form button.primary').click();
    const farsi = wf.frame.locator('.note.hours');
    await farsi.waitFor();
    assert.match(await farsi.textContent(), /اکنون تعطیل هستیم/);
    assert.equal(await wf.frame.locator('html').getAttribute('dir'), 'rtl');
    await fa.screenshot({ path: path.join(shots, 'hours-auto-reply-rtl-dark-phone.png') });
    await phone.close();
  } finally {
    await env.server.api('PATCH', `/api/v1/sites/${site.id}`, { business_hours: null, appearance });
  }
});

test('a visitor picks a team by name in the pre-chat form, and the chat waits in that team\'s queue', async () => {
  const { site } = env.server;
  const sales = await env.server.api('POST', '/api/v1/teams', { name: 'Satış', strategy: 'manual' });
  const support = await env.server.api('POST', '/api/v1/teams', { name: 'Destek', strategy: 'manual' });
  await env.server.api('PATCH', `/api/v1/sites/${site.id}`, {
    default_team_id: sales.id,
    prechat_form: [
      { key: 'name', label: 'Your name', kind: 'text', required: true },
      { key: 'team', label: 'Which team?', kind: 'team', required: true, options: [sales.id, support.id] },
    ],
  });
  const { origin } = await shop();
  // Someone is online (the owner's socket), so the widget offers the pre-chat form rather
  // than the offline one; the teams route by hand, so the chat waits in its queue.
  const owner = await agentOnline(env.server);
  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB' });
  const page = await context.newPage();
  await page.goto(origin);
  const w = widgetOn(page);
  await w.launcher.click();
  const choice = w.frame.getByLabel('Which team?');
  await choice.waitFor();
  const names = await choice.locator('option').allTextContents();
  assert.deepEqual(names.slice(1), ['Satış', 'Destek'], 'the teams by name, in the form\'s order');
  await w.frame.getByRole('button', { name: 'Start chat' }).click();
  await w.frame.getByText('Please fill this in.').first().waitFor();
  await w.frame.getByLabel('Your name').fill('Ayşe');
  await choice.selectOption({ label: 'Destek' });
  await page.screenshot({ path: path.join(shots, 'hours-team-choice-ltr-light.png') });
  await w.frame.getByRole('button', { name: 'Start chat' }).click();
  await w.frame.getByLabel('Message').fill('My invoice is wrong');
  await w.frame.getByLabel('Message').press('Enter');
  const { conversation } = await conversationSaying(env.server, 'My invoice is wrong');
  assert.equal(conversation.team_id, support.id, 'the chosen team, not the site\'s default');
  const queues = await eventually(async () => {
    const { queues } = await env.server.api('GET', '/api/v1/queues');
    return queues.find((q) => q.team_id === support.id && q.length === 1);
  }, 'the chat in the support queue');
  assert.ok(queues);
  await w.frame.getByText('You are number 1 in line').waitFor();
  await context.close();
  owner.close();
});

test('an admin edits a site\'s hours in the console, sees the live line and the server\'s refusals, and the widget follows', async () => {
  const { site } = env.server;
  await env.server.api('PATCH', `/api/v1/sites/${site.id}`, { prechat_form: [], default_team_id: null, business_hours: null });
  const aylin = await addAgent(env.server, 'Aylin', { role: 'admin', locale: 'en' });
  const page = await signIn(env, aylin, '/app', { locale: 'en-GB', timezoneId: 'UTC' });
  await page.goto(`${env.server.base}/app/settings/sites/${site.id}`);
  const hours = page.locator('fieldset.hours');
  await hours.getByRole('radio', { name: 'Open at set hours' }).check();
  const now = hours.locator('.hours-now');
  await now.filter({ hasText: /Open now|Closed now/ }).waitFor();
  assert.equal(await hours.locator('.hours-local').count(), 0, 'English writes the digits the fields show: nothing beside them');
  await hours.getByLabel('Time zone').selectOption('UTC');

  // Only tomorrow, 09:00–10:00 UTC: the weekdays the editor starts with go, one range comes.
  const day = (offset) => new Intl.DateTimeFormat('en-GB', { weekday: 'long', timeZone: 'UTC' }).format(new Date(Date.now() + offset * 86_400_000));
  for (const name of ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday']) {
    await hours.getByRole('button', { name: `Remove ${name} 09:00–17:00` }).click();
  }
  await now.filter({ hasText: 'Closed now, with no opening in the coming year' }).waitFor();
  const tomorrow = day(1);
  // Keyboard: the day's "Add hours" button works with Enter.
  await hours.getByRole('button', { name: `Add hours on ${tomorrow}` }).focus();
  await page.keyboard.press('Enter');
  await hours.getByLabel(`Closes on ${tomorrow}`).fill('10:00');
  await now.filter({ hasText: `Closed now · opens ${tomorrow}` }).waitFor();
  // In the schedule's zone, in the agent's language (en).
  assert.match(await now.textContent(), /9:00\sAM \(UTC\)$/);

  // A holiday without a date: the server's refusal shows beside the holidays.
  await hours.getByRole('button', { name: 'Add a holiday' }).click();
  const refusal = hours.locator('.hours-holidays .field-error', { hasText: 'A holiday has no date' });
  await refusal.waitFor();
  await hours.getByLabel('Date').fill('2031-01-01');
  await hours.getByLabel('Name (optional)').fill('New Year');
  await refusal.waitFor({ state: 'detached' });
  await page.screenshot({ path: path.join(shots, 'hours-editor-ltr-light-desktop.png'), fullPage: true });
  await page.getByRole('button', { name: 'Save' }).first().click();
  await page.getByText('Saved.').waitFor();
  const saved = (await env.server.api('GET', `/api/v1/sites/${site.id}`)).business_hours;
  assert.deepEqual(saved, { time_zone: 'UTC', weekly: [{ day: saved.weekly[0].day, open: '09:00', close: '10:00' }], holidays: [{ date: '2031-01-01', name: 'New Year' }] });

  // The widget is closed now and says when the team is back.
  const { origin } = await shop();
  const visit = async () => {
    const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB', timezoneId: 'UTC' });
    const visitorPage = await context.newPage();
    await visitorPage.goto(origin);
    const w = widgetOn(visitorPage);
    await w.launcher.click();
    // Closed, the offline form; open, the chat (the admin, in the console, is online).
    await w.frame.getByRole('heading', { name: 'Leave us a message' }).or(w.frame.getByRole('textbox', { name: 'Message' })).first().waitFor();
    const closed = await w.frame.getByText('Closed now').count();
    const back = (await w.frame.locator('form .back').allTextContents()).join('');
    await context.close();
    return { closed, back };
  };
  const closed = await visit();
  assert.equal(closed.closed, 1);
  assert.ok(closed.back.includes(tomorrow), `"${closed.back}" names ${tomorrow}`);

  // Always open again: the widget follows.
  await hours.getByRole('radio', { name: 'Always open' }).check();
  await page.getByRole('button', { name: 'Save' }).first().click();
  await page.getByText('Saved.').waitFor();
  assert.equal((await env.server.api('GET', `/api/v1/sites/${site.id}`)).business_hours, null);
  const open = await visit();
  assert.deepEqual(open, { closed: 0, back: '' });
  await page.context().close();
});

test('a team\'s hours in Persian, right to left, dark, at phone width', async () => {
  const nima = await addAgent(env.server, 'Nima', { role: 'admin', locale: 'fa' });
  const desk = await env.server.api('POST', '/api/v1/teams', { name: 'میز پشتیبانی' });
  const page = await signIn(env, nima, '/app', { locale: 'fa', colorScheme: 'dark', viewport: { width: 390, height: 844 }, timezoneId: 'Asia/Tehran' });
  await page.goto(`${env.server.base}/app/settings/teams/${desk.id}`);
  const hours = page.locator('fieldset.hours');
  await hours.getByRole('radio', { name: 'باز در ساعات مشخص' }).check();
  await hours.locator('.hours-now').filter({ hasText: /اکنون (باز|بسته) است/ }).waitFor();
  assert.equal(await page.locator('html').getAttribute('dir'), 'rtl');
  // The native time fields write Latin digits; beside each, the time in Persian digits.
  const times = await hours.locator('.hours-local').allTextContents();
  assert.equal(times.length, 10, 'a time beside each field of the five weekdays');
  assert.deepEqual([...new Set(times)], ['۹:۰۰', '۱۷:۰۰']);
  await hours.getByLabel(/^بازشدن در /).first().fill('08:30');
  await hours.locator('.hours-local', { hasText: '۸:۳۰' }).waitFor();
  await hours.getByRole('button', { name: 'افزودن تعطیلی' }).click();
  await hours.locator('.hours-holidays .field-error').waitFor();
  await hours.screenshot({ path: path.join(shots, 'hours-editor-rtl-dark-phone.png') });
  await page.context().close();
});
