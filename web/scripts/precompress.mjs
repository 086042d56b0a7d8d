// Writes `FILE.gz` (gzip -9) and `FILE.br` (brotli, quality 11) beside every file of a
// build, so the server sends compressed bytes without compressing at run time.
// Usage: node scripts/precompress.mjs dist

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node scripts/precompress.mjs <dist directory>');
  process.exit(2);
}

let files = 0;
let before = 0;
let afterBrotli = 0;
for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || /\.(gz|br)$/.test(entry.name)) continue;
  const file = path.join(entry.parentPath, entry.name);
  const bytes = readFileSync(file);
  writeFileSync(`${file}.gz`, gzipSync(bytes, { level: 9 }));
  const br = brotliCompressSync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });
  writeFileSync(`${file}.br`, br);
  files += 1;
  before += bytes.length;
  afterBrotli += br.length;
}
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`precompressed ${files} files: ${kib(before)} → ${kib(afterBrotli)} with brotli`);
