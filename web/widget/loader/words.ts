// The loader's few words (the launcher's labels and the bubble's). English is bundled; the
// other languages are small files of their own (hashed names under /assets/, cached for
// good) that only a page in that language downloads: bundling all five cost a tenth of
// the loader's 5 KB. The chat's own catalogs load with the frame.

import en from './locales/en.json';
import ar from './locales/ar.json?url';
import fa from './locales/fa.json?url';
import he from './locales/he.json?url';
import tr from './locales/tr.json?url';

export type Words = typeof en;
export const EN = en;
/** Where each other language's words are, relative to the server. */
export const URLS: Record<string, string> = { ar, fa, he, tr };
