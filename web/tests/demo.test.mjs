// `switchboard demo` (what `cargo xtask demo` runs): the demo shop it serves on another
// port embeds the real widget, and the chat page it prints opens the same chat.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { root, launchBrowser, widgetOn } from './harness.mjs';

const bin = process.env.SWITCHBOARD_BIN ?? path.join(root, 'target/debug/switchboard');
let child;
let browser;
after(async () => {
  await browser?.close();
  child?.kill('SIGTERM');
});

test('the demo prints a shop on another origin that embeds the widget, and the chat page', async () => {
  const data = mkdtempSync(path.join(tmpdir(), 'sb-demo-'));
  child = spawn(bin, ['--data', data, '--listen', '127.0.0.1:0', 'demo'], {
    env: { ...process.env, SWITCHBOARD__LOG__LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  const printed = {};
  await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = line.match(/^\s+(Demo shop|Chat page):\s+(\S+)/);
      if (m) printed[m[1]] = m[2];
      if (printed['Demo shop'] && printed['Chat page']) resolve();
    });
    child.on('exit', (code) => reject(new Error(`switchboard demo exited with ${code}`)));
  });
  const shop = new URL(printed['Demo shop']);
  const chat = new URL(printed['Chat page']);
  assert.notEqual(shop.origin, chat.origin, 'the shop is another origin than the server');

  browser = await launchBrowser();
  const page = await browser.newPage();
  await page.goto(shop.href);
  const w = widgetOn(page);
  await w.launcher.click();
  await w.frame.getByRole('heading', { name: 'Leave us a message' }).waitFor();
  await page.goto(chat.href);
  await page.getByRole('heading', { name: 'Leave us a message' }).waitFor();
});
