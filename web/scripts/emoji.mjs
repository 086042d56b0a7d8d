// Writes the composer's emoji picker data, `app/inbox/emoji/`, from two kept sources:
// emojibase-data (the Unicode emoji in their standard order and groups) and the Unicode
// CLDR annotations (each emoji's name and keywords in every language we ship, so an
// agent can search "kalp" or "قلب" as well as "heart").
//
//   node scripts/emoji.mjs          writes the files
//   node scripts/emoji.mjs --check  fails when the committed files differ (the catalog test runs it)
//
// Output: `emoji.json` — `{groups: [[groupKey, count], …], emoji: [string, …]}` in order — and
// `names.<lang>.json`, one string per emoji, aligned with `emoji`: its name, then its keywords,
// separated by `|`, lower-cased for search. The picker loads them when it first opens.

import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

const web = path.resolve(import.meta.dirname, '..');
const out = path.join(web, 'app/inbox/emoji');
const LANGS = ['en', 'ar', 'fa', 'he', 'tr'];
/** Newer emoji than this have no glyph on many agents' systems yet. */
const MAX_VERSION = 15.1;
/** emojibase group numbers → our locale keys (`inbox.emoji.groups.<key>`); group 2 is skin-tone components. */
const GROUPS = { 0: 'smileys', 1: 'people', 3: 'nature', 4: 'food', 5: 'travel', 6: 'activities', 7: 'objects', 8: 'symbols', 9: 'flags' };

const json = (file) => JSON.parse(readFileSync(path.join(web, 'node_modules', file), 'utf8'));
const data = json('emojibase-data/en/data.json')
  .filter((e) => e.group in GROUPS && e.version <= MAX_VERSION && e.order !== undefined)
  .sort((a, b) => a.group - b.group || a.order - b.order);

// CLDR keys drop the emoji presentation selector.
const bare = (s) => s.replaceAll('\uFE0F', '');
function names(lang) {
  const base = json(`cldr-annotations-modern/annotations/${lang}/annotations.json`).annotations.annotations;
  const derived = json(`cldr-annotations-derived-modern/annotationsDerived/${lang}/annotations.json`).annotationsDerived.annotations;
  return (emoji) => base[bare(emoji)] ?? derived[bare(emoji)] ?? base[emoji] ?? derived[emoji];
}

const files = {};
const groups = [];
for (const e of data) {
  const key = GROUPS[e.group];
  if (groups.at(-1)?.[0] === key) groups.at(-1)[1] += 1;
  else groups.push([key, 1]);
}
files['emoji.json'] = { groups, emoji: data.map((e) => e.emoji) };
const english = names('en');
for (const lang of LANGS) {
  const lookup = names(lang);
  files[`names.${lang}.json`] = data.map((e) => {
    // A language without a name for an emoji falls back to English, then to emojibase's label.
    const found = lookup(e.emoji) ?? english(e.emoji);
    const words = found ? [...(found.tts ?? []), ...(found.default ?? [])] : [e.label];
    return [...new Set(words.map((w) => w.toLocaleLowerCase(lang)))].join('|');
  });
}

const check = process.argv.includes('--check');
let stale = [];
mkdirSync(out, { recursive: true });
for (const [name, value] of Object.entries(files)) {
  const text = `${JSON.stringify(value)}\n`;
  const file = path.join(out, name);
  if (check) {
    let current = null;
    try {
      current = readFileSync(file, 'utf8');
    } catch {}
    if (current !== text) stale.push(name);
  } else {
    writeFileSync(file, text);
  }
}
if (stale.length) {
  console.error(`app/inbox/emoji is stale (${stale.join(', ')}): run \`node scripts/emoji.mjs\` in web/`);
  process.exit(1);
}
if (!check) console.log(`wrote ${Object.keys(files).length} files: ${data.length} emoji in ${groups.length} groups, names in ${LANGS.join(', ')}`);
