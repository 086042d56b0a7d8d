// What browser stories do again and again, written once: add an agent and sign them in
// to the dashboard, speak as them over REST, add a site, start a visitor's conversation,
// find a conversation by its words, read its messages, and ask axe what is wrong with a
// page. Each takes the story's `env` (from `serverAndBrowser`) or its server.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { eventually } from './harness.mjs';
import { visitor } from './visitor.mjs';

/** Every agent the stories add signs in with this. */
export const PASSWORD = 'a long enough password';

/** A new agent of the workspace, `name@shop.example` (the name in lower case): `{ email, id, name }`. */
export async function addAgent(server, name, { role = 'agent', locale = 'en' } = {}) {
  const email = `${name.toLowerCase()}@shop.example`;
  const created = await server.api('POST', '/api/v1/agents', { email, name, role, password: PASSWORD, locale });
  return { email, id: created.id, name };
}

/**
 * A dashboard page in a browser context of its own, signed in as `who` (an agent or an
 * e-mail) through the login form and arrived at `where`; at `/app`, once the inbox shows.
 * `init` runs in the page before any of its scripts, `prepare(page)` before it opens (to
 * listen to it or route its requests); the rest are options of the browser context.
 */
export async function signIn(env, who, where = '/app', { password = PASSWORD, init, prepare, ...options } = {}) {
  const context = await env.browser.newContext({ viewport: { width: 1366, height: 860 }, ...options });
  const page = await context.newPage();
  if (init) await page.addInitScript(init);
  await prepare?.(page);
  await page.goto(`${env.server.base}${where}`);
  await page.locator('input[name=email]').fill(typeof who === 'string' ? who : who.email);
  await page.locator('input[name=password]').fill(password);
  await page.locator('button[type=submit]').click();
  await page.waitForURL((url) => url.pathname === where);
  if (where === '/app') await page.locator('.list-pane').waitFor();
  return page;
}

/**
 * `who`'s own session over REST (what only a signed-in person may do: invitations,
 * their profile): `request` answers `{ status, body }`, `call` the body or throws.
 */
export async function asAgent(server, who, password = PASSWORD) {
  const login = await fetch(`${server.base}/api/v1/sessions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: typeof who === 'string' ? who : who.email, password }),
  });
  if (!login.ok) throw new Error(`signing in answered ${login.status}`);
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const { csrf_token } = await login.json();
  const request = async (method, p, body) => {
    const res = await fetch(`${server.base}${p}`, {
      method, headers: { cookie, 'x-csrf-token': csrf_token, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: await res.json().catch(() => null) };
  };
  const call = async (method, p, body) => {
    const { status, body: answer } = await request(method, p, body);
    if (status >= 400) throw new Error(`${method} ${p} answered ${status}: ${JSON.stringify(answer)}`);
    return answer;
  };
  return { request, call, cookie };
}

/** A new site named `name`, with `changes` to its settings made after it is created. */
export async function addSite(server, name, changes = {}) {
  const site = await server.api('POST', '/api/v1/sites', { name });
  if (Object.keys(changes).length) return server.api('PATCH', `/api/v1/sites/${site.id}`, changes);
  return site;
}

/** A visitor on the server's site who gives their name and writes `text` (acknowledged). */
export async function visitorSaying(server, name, text) {
  const v = await visitor(server.base, server.site.public_key);
  v.profile({ name });
  await v.say(text);
  return v;
}

/** The messages' bodies of a conversation, oldest first. */
export async function messageBodies(server, conversationId) {
  const history = await server.api('GET', `/api/v1/conversations/${conversationId}/messages`);
  return history.items.filter((e) => e.kind === 'message').map((e) => e.message.body);
}

/** The conversation a message `body` was written in (once it is stored), with its events. */
export function conversationSaying(server, body) {
  return eventually(async () => {
    const all = await server.api('GET', '/api/v1/conversations');
    for (const c of all.items) {
      const history = await server.api('GET', `/api/v1/conversations/${c.id}/messages`);
      if (history.items.some((e) => e.kind === 'message' && e.message.body === body)) return { conversation: c, events: history.items };
    }
    return null;
  }, `the conversation with "${body}"`);
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Serious and critical axe violations in `target` (a page or a frame), as readable lines.
 * axe is evaluated through the DevTools protocol: the pages' CSP forbids inline scripts.
 */
export async function seriousViolations(target) {
  await target.evaluate((src) => (0, eval)(src), axeSource);
  const result = await target.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}
