// Every error code the server can answer has a sentence in every locale the front ends
// ship, translated: the codes come from the generated OpenAPI document, so a new code
// in `switchboard-proto` fails here until each locale says it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const web = path.resolve(import.meta.dirname, '..');
const LOCALES = ['en', 'ar', 'fa', 'he', 'tr'];
const RIGHT_TO_LEFT = { ar: /[\u0600-\u06FF]/, fa: /[\u0600-\u06FF]/, he: /[\u0590-\u05FF]/ };

const openapi = JSON.parse(readFileSync(path.join(web, 'generated/openapi.json'), 'utf8'));
const codes = openapi.components.schemas.ErrorCode.enum;
const load = (locale) => JSON.parse(readFileSync(path.join(web, `locales/${locale}.json`), 'utf8'));

test('the wire contract lists the error codes', () => {
  assert.ok(Array.isArray(codes) && codes.includes('conversation_not_found'), 'ErrorCode is an enum of strings');
});

for (const locale of LOCALES) {
  test(`${locale}: a sentence for every error code, and none for a code that does not exist`, () => {
    const errors = load(locale).errors;
    const missing = codes.filter((code) => typeof errors[code] !== 'string' || errors[code].trim() === '');
    assert.deepEqual(missing, [], `locales/${locale}.json has no sentence for these codes`);
    const unknown = Object.keys(errors).filter((code) => !codes.includes(code));
    assert.deepEqual(unknown, [], `locales/${locale}.json has sentences for codes the server never sends`);
  });
}

for (const locale of LOCALES.filter((l) => l !== 'en')) {
  test(`${locale}: every error sentence is translated`, () => {
    const english = load('en').errors;
    const errors = load(locale).errors;
    const untranslated = codes.filter((code) => errors[code] === english[code]);
    assert.deepEqual(untranslated, [], `locales/${locale}.json repeats the English sentence`);
    const script = RIGHT_TO_LEFT[locale];
    if (script) {
      const latin = codes.filter((code) => !script.test(errors[code]));
      assert.deepEqual(latin, [], `locales/${locale}.json has sentences without ${locale} script`);
    }
  });
}
