// The loader's few words (the launcher's labels and the teaser), in every language we
// ship. They are bundled together, a few hundred bytes, because the loader must draw the
// launcher before anything else loads; the chat's own catalogs load with the frame.

import ar from './locales/ar.json';
import en from './locales/en.json';
import fa from './locales/fa.json';
import he from './locales/he.json';
import tr from './locales/tr.json';

export const WORDS = { en, ar, fa, he, tr };
