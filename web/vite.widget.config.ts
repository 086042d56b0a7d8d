// The widget loader, `dist/widget.js`: the one script a business puts on its pages.
//
// A classic `<script async>` (so `document.currentScript` names it and tag managers can
// inject it), hence an IIFE with a stable, un-hashed name, built in a pass of its own
// after the main build (`emptyOutDir: false` keeps what that build wrote). No framework:
// every byte here is paid on every page view of every visitor, chat or not.

import { resolve } from 'node:path';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    reportCompressedSize: false,
    // The loader inserts nothing into the host page but its own element: no CSS file.
    cssCodeSplit: false,
    // The launcher's words in languages other than English stay files of their own.
    assetsInlineLimit: 0,
    rollupOptions: {
      input: resolve(import.meta.dirname, 'widget/loader/index.ts'),
      output: { format: 'iife', entryFileNames: 'widget.js' },
    },
  },
});
