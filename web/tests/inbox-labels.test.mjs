// The inbox's label filter offers the workspace's labels, not only those on the
// conversations the list happens to have loaded: the managed labels (even one on no
// conversation yet) and every label the counts find on open conversations, each once,
// in the agent's alphabetical order.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, serverAndBrowser, NO_LIMITS } from './harness.mjs';
import { addAgent, signIn, visitorSaying } from './helpers.mjs';

const env = serverAndBrowser(NO_LIMITS);

const rows = (page) => page.locator('.conversations .row');

test('an agent filters by a label found only on a conversation her list has not loaded, and finds it', async () => {
  const noa = await addAgent(env.server, 'Noa');
  // Noa's own list (Mine) holds one conversation, without labels.
  const mo = await visitorSaying(env.server, 'Mine Mo', 'Where is my parcel?');
  await env.server.api('PUT', `/api/v1/conversations/${mo.conversationId}/assignee`, { agent_id: noa.id, team_id: null });
  // The labelled one waits unassigned, outside what her list loads.
  const wes = await visitorSaying(env.server, 'Warranty Wes', 'The zip broke after a week');
  await env.server.api('PUT', `/api/v1/conversations/${wes.conversationId}/labels`, { labels: ['ödeme', 'iade'] });
  // Managed labels: one also in use, one on no conversation yet.
  await env.server.api('POST', '/api/v1/labels', { name: 'zahlung', color: '#0969da', description: '' });
  await env.server.api('POST', '/api/v1/labels', { name: 'iade', color: '#1a7f37', description: '' });

  const page = await signIn(env, noa);
  await rows(page).filter({ hasText: 'Mine Mo' }).waitFor();
  assert.equal(await rows(page).filter({ hasText: 'Warranty Wes' }).count(), 0, 'the labelled conversation is not in the loaded list');

  // Each label once, in alphabetical order for people (ö beside o, not after z).
  const options = page.locator('select[aria-label="Label"] option');
  const wanted = ['All labels', 'iade', 'ödeme', 'zahlung'];
  await eventually(async () => JSON.stringify(await options.allInnerTexts()) === JSON.stringify(wanted), `the label choices ${wanted.join(', ')}`).catch(async (e) => {
    throw new Error(`${e.message}; offered: ${(await options.allInnerTexts()).join(', ') || 'no label filter'}`);
  });

  await page.getByLabel('Label').selectOption('ödeme');
  await page.getByRole('tab', { name: /^All/ }).click();
  await eventually(async () => {
    const texts = await rows(page).allInnerTexts();
    return texts.length === 1 && texts[0].includes('Warranty Wes');
  }, 'only Warranty Wes in the list filtered by ödeme');
  await page.context().close();
  mo.close?.();
  wes.close?.();
});
