// How `web/` is built: one Vite build with an entry per front end, into `dist/`.
//
// Layout of `dist/` (what `crates/switchboard-web` relies on):
// - `assets/`: everything Vite hashes (scripts, styles, fonts, images). The server caches
//   these forever (`immutable`): a new build gives a changed file a new name.
// - everything else is an entry point with a stable URL: `<page>/index.html` for each
//   page below, and `widget.js`, the loader sites embed (built by `vite.widget.config.ts`). The server maps routes to
//   them (`switchboard_web::ENTRIES`) and caches them briefly, with an ETag.
// `scripts/precompress.mjs` then writes `.gz` and `.br` beside every file.

import { resolve } from 'node:path';
import { defineConfig } from 'vite';

/** Pages: `<name>/index.html`, served at a route the server chooses. */
const pages: Record<string, string> = {
  'api-docs': 'api-docs/index.html',
  app: 'app/index.html',
  // The visitor's chat: inside the widget's iframe (`/widget/frame`) and as the full
  // chat page (`/chat/{key}`); one document, which tells the two apart at start.
  'widget-frame': 'widget/frame/index.html',
};

/**
 * Scripts that keep a stable URL (`dist/<name>.js`) because other sites link to them.
 * A classic `<script async>` (the widget loader) needs an IIFE, which Rollup cannot emit
 * from a multi-entry build: give it a `vite build --config` pass of its own into `dist/`
 * (`emptyOutDir: false`) and list it here only if it can be an ES module.
 */
const stableScripts: Record<string, string> = {
  // The dashboard's service worker: its scope is the folder of its URL, so it must be
  // served from `/app/sw.js`, never from a hashed name under `/assets/`.
  'app/sw': 'app/sw.ts',
};

export default defineConfig({
  root: import.meta.dirname,
  // Relative URLs would break for pages served below a path (`/api/docs`).
  base: '/',
  // JSX is Preact's (both front ends use Preact 11 + signals).
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    // The server compresses nothing at run time; precompress.mjs writes the variants.
    reportCompressedSize: false,
    chunkSizeWarningLimit: 8192,
    rollupOptions: {
      input: Object.fromEntries(
        Object.entries({ ...pages, ...stableScripts }).map(([name, file]) => [name, resolve(import.meta.dirname, file)]),
      ),
      output: {
        entryFileNames: (chunk) => (chunk.name in stableScripts ? '[name].js' : 'assets/[name]-[hash].js'),
        chunkFileNames: 'assets/[name]-[hash].js',
        assetFileNames: 'assets/[name]-[hash][extname]',
      },
    },
  },
});
