// The widget loader, `dist/widget.js`: the one script a business puts on its pages, and
// the chat part it loads on the first open, `dist/assets/widget-chat-<hash>.js`.
//
// A classic `<script async>` (so `document.currentScript` names it and tag managers can
// inject it), hence an IIFE with a stable, un-hashed name, built in a pass of its own
// after the main build (`emptyOutDir: false` keeps what that build wrote). No framework:
// every byte here is paid on every page view of every visitor, chat or not. Rollup cannot
// split an IIFE, so the chat part is an IIFE of its own, built first; its hashed name
// (cached for good, like every file under /assets/) is compiled into the loader.

import { resolve } from 'node:path';
import { build, defineConfig, type UserConfig } from 'vite';

const shared = (): UserConfig => ({
  root: import.meta.dirname,
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    reportCompressedSize: false,
    // The widget inserts nothing into the host page but its own element: no CSS file.
    cssCodeSplit: false,
    // The launcher's words in languages other than English stay files of their own.
    assetsInlineLimit: 0,
  },
});

export default defineConfig(async ({ command }) => {
  let chat = '/assets/widget-chat.js';
  if (command === 'build') {
    const config = shared();
    config.build!.rollupOptions = {
      input: resolve(import.meta.dirname, 'widget/loader/chat.ts'),
      output: { format: 'iife', entryFileNames: 'assets/widget-chat-[hash].js' },
    };
    // `configFile: false`: this file is not read again for the inner build.
    const out = await build({ ...config, configFile: false });
    const output = (Array.isArray(out) ? out[0] : out) as { output: { fileName: string; type: string }[] };
    const file = output.output.find((o) => o.type === 'chunk');
    if (!file) throw new Error('the chat part of the widget was not built');
    chat = `/${file.fileName}`;
  }
  const config = shared();
  config.define = { __SB_CHAT__: JSON.stringify(chat) };
  config.build!.rollupOptions = {
    input: resolve(import.meta.dirname, 'widget/loader/index.ts'),
    output: { format: 'iife', entryFileNames: 'widget.js' },
  };
  return config;
});
