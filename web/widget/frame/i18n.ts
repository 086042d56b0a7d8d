// The chat's language: the first tag we ship among those asked (the page's request, the
// site's setting, the host page's `lang`, the browser's), its catalog alone downloaded
// (the chat's words and the server's error sentences). Dates and numbers use the full tag
// asked for (`ar-MA` writes Latin digits, `ar-EG` Arabic-Indic ones; `fa` Persian ones).

import { signal } from '@preact/signals';
import { type Catalog, type Translator, pickLocale, translator } from '../../shared/i18n';

const words = import.meta.glob<{ default: Catalog }>('../locales/*.json');
const errors = import.meta.glob<{ default: Catalog }>('../../locales/*.json');

export const tr = signal<Translator | null>(null);
/** The full tag for `Intl` (`fa-IR`, `ar-EG`), or the locale itself. */
export const intlTag = signal('en');

export async function setLanguage(wanted: ReadonlyArray<string | null | undefined>) {
  const locale = pickLocale(wanted);
  const tag = wanted.find((t) => t?.slice(0, 2).toLowerCase() === locale) ?? locale;
  const [mine, shared] = await Promise.all([words[`../locales/${locale}.json`]!(), errors[`../../locales/${locale}.json`]!()]);
  const next = translator(locale, { ...mine.default, ...shared.default });
  document.documentElement.lang = tag;
  document.documentElement.dir = next.dir;
  try {
    Intl.getCanonicalLocales(tag);
    intlTag.value = tag;
  } catch {
    intlTag.value = locale;
  }
  tr.value = next;
}

export function t(key: string, params?: Record<string, string | number>): string {
  return tr.value?.t(key, params) ?? '';
}

/** The sentence for a server error code in the visitor's language. */
export function errorText(code: string): string {
  return tr.value?.has(`errors.${code}`) ? t(`errors.${code}`) : t('errors.internal');
}

export function time(at: number): string {
  return new Intl.DateTimeFormat(intlTag.value, { hour: 'numeric', minute: '2-digit' }).format(at);
}

/** "We're back Monday at 9:00" for a reopening time, in the visitor's language and zone. */
export function backAt(at: number): string {
  const when = new Date(at);
  const timeText = time(at);
  if (when.toDateString() === new Date().toDateString()) return t('hours.backToday', { time: timeText });
  // Within the week the day's name says it; further (a long holiday) the date too.
  const far = at - Date.now() > 6 * 86_400_000;
  const day = new Intl.DateTimeFormat(intlTag.value, far ? { weekday: 'long', day: 'numeric', month: 'long' } : { weekday: 'long' }).format(when);
  return t('hours.back', { day, time: timeText });
}

export function size(bytes: number): string {
  const [n, unit] = bytes >= 1_048_576 ? [bytes / 1_048_576, 'megabyte'] : [Math.max(1, bytes / 1024), 'kilobyte'];
  return new Intl.NumberFormat(intlTag.value, { style: 'unit', unit, maximumFractionDigits: 1 }).format(n);
}
