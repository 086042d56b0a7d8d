// Writes `FILE.gz` (gzip -9) and `FILE.br` (brotli, quality 11) beside every file of a
// build that they shrink, so the server sends compressed bytes without compressing at run
// time. When both shrink it, `FILE` itself is removed: the release binary embeds `dist/`,
// and a third copy would only serve the rare client that accepts neither encoding, which
// the server answers by decoding the gzip copy (`crates/switchboard-web/src/assets.rs`).
// A file that does not compress (a font, an image) stays as it is, without copies.
// Prints what the binary will embed.
// Usage: node scripts/precompress.mjs dist

import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node scripts/precompress.mjs <dist directory>');
  process.exit(2);
}

let files = 0;
let compressed = 0;
let before = 0;
for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || /\.(gz|br)$/.test(entry.name)) continue;
  const file = path.join(entry.parentPath, entry.name);
  const bytes = readFileSync(file);
  const gz = gzipSync(bytes, { level: 9 });
  const br = brotliCompressSync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });
  if (gz.length < bytes.length) writeFileSync(`${file}.gz`, gz);
  if (br.length < bytes.length) writeFileSync(`${file}.br`, br);
  if (gz.length < bytes.length && br.length < bytes.length) {
    rmSync(file);
    compressed += 1;
  }
  files += 1;
  before += bytes.length;
}

let embedded = 0;
for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
  if (entry.isFile()) embedded += statSync(path.join(entry.parentPath, entry.name)).size;
}
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(
  `precompressed ${files} files (${kib(before)}); ${compressed} kept only as .br and .gz; ` +
    `the binary embeds ${kib(embedded)} of ${dir}`,
);
