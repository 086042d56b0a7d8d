// Every catalog of the front ends (each `locales/` folder under web/) has the same keys in
// en, ar, fa, he and tr, every plural category each language needs, the same
// placeholders as English, and a real translation: no English left in another locale.
// (The error sentences of web/locales/ are checked against the wire contract by
// locales.test.mjs; this test checks their keys line up too.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const web = path.resolve(import.meta.dirname, '..');
const LOCALES = ['en', 'ar', 'fa', 'he', 'tr'];
const SCRIPT = { ar: /[\u0600-\u06FF]/, fa: /[\u0600-\u06FF]/, he: /[\u0590-\u05FF]/ };
const PLURAL = new Set(['zero', 'one', 'two', 'few', 'many', 'other']);
/** Strings that are the same in every language (names, symbols). */
const SAME_EVERYWHERE = /^(Switchboard|[\s\p{P}\p{S}\d{}a-z_]*)$/u;

function catalogDirs(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || ['node_modules', 'dist', 'generated', 'tests'].includes(entry.name)) continue;
    const full = path.join(dir, entry.name);
    if (entry.name === 'locales') found.push(full);
    else found.push(...catalogDirs(full));
  }
  return found;
}

/** `{dotted.key: string}`; a plural object stays whole under its key. */
function flatten(node, prefix = '', out = {}) {
  for (const [key, value] of Object.entries(node)) {
    const name = prefix ? `${prefix}.${key}` : key;
    const isPlural = typeof value === 'object' && Object.keys(value).every((k) => PLURAL.has(k));
    if (typeof value === 'object' && !isPlural) flatten(value, name, out);
    else out[name] = value;
  }
  return out;
}

const placeholders = (text) => [...String(text).matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
const dirs = catalogDirs(web);

test('the front ends have catalogs', () => {
  assert.ok(dirs.length >= 2, `found ${dirs.map((d) => path.relative(web, d))}`);
});

for (const dir of dirs) {
  const name = path.relative(web, dir);
  const load = (locale) => flatten(JSON.parse(readFileSync(path.join(dir, `${locale}.json`), 'utf8')));
  const english = load('en');

  for (const locale of LOCALES.filter((l) => l !== 'en')) {
    test(`${name}/${locale}.json: the same messages as English, translated, with the same placeholders`, () => {
      const catalog = load(locale);
      assert.deepEqual(Object.keys(catalog).sort(), Object.keys(english).sort(), 'keys differ from en.json');
      const problems = [];
      const categories = new Intl.PluralRules(locale).resolvedOptions().pluralCategories;
      for (const [key, value] of Object.entries(catalog)) {
        const source = english[key];
        if (typeof value === 'object') {
          const missing = categories.filter((c) => typeof value[c] !== 'string');
          if (missing.length) problems.push(`${key}: plural forms ${missing} missing`);
          for (const form of Object.values(value)) {
            if (placeholders(form).join() !== placeholders(source.other).join()) problems.push(`${key}: placeholders differ`);
          }
          continue;
        }
        if (typeof value !== 'string' || !value.trim()) problems.push(`${key}: empty`);
        else if (value === source && !SAME_EVERYWHERE.test(value)) problems.push(`${key}: still English`);
        else if (SCRIPT[locale] && !SAME_EVERYWHERE.test(value) && !SCRIPT[locale].test(value)) problems.push(`${key}: not in ${locale} script`);
        if (placeholders(value).join() !== placeholders(source).join()) problems.push(`${key}: placeholders differ from en`);
      }
      assert.deepEqual(problems, []);
    });
  }
  test(`${name}/en.json: plural messages have "one" and "other"`, () => {
    for (const [key, value] of Object.entries(english)) {
      if (typeof value === 'object') assert.ok(value.one && value.other, `${key} needs one and other`);
    }
  });
}

test("the emoji picker's names (app/inbox/emoji, from emojibase and CLDR) match what scripts/emoji.mjs writes", async () => {
  const { execFileSync } = await import('node:child_process');
  execFileSync(process.execPath, [path.join(web, 'scripts/emoji.mjs'), '--check'], { stdio: 'pipe' });
});
