// The translator both front ends share: JSON catalogs, `{name}` placeholders and plural
// branches chosen by `Intl.PluralRules`; numbers and dates through `Intl` only.
//
// A catalog is a nested object of strings. A plural message is an object whose keys are
// plural categories (`zero one two few many other`), chosen by the `count` parameter:
//   "unread": { "one": "{count} unread message", "other": "{count} unread messages" }
// Numbers passed as parameters are formatted in the locale (Persian digits for `fa`).

/** The languages every front end ships, each translated by hand. */
export const LOCALES = ['en', 'ar', 'fa', 'he', 'tr'] as const;
export type Locale = (typeof LOCALES)[number];

export type Catalog = { [key: string]: string | Catalog };
export type Params = Record<string, string | number>;

const RTL: ReadonlySet<string> = new Set(['ar', 'fa', 'he']);

/** `rtl` for Arabic, Persian and Hebrew, `ltr` otherwise. */
export function dirOf(locale: string): 'ltr' | 'rtl' {
  return RTL.has(locale.slice(0, 2).toLowerCase()) ? 'rtl' : 'ltr';
}

/** The first of `wanted` (BCP 47 tags, best first) that we ship, else English. */
export function pickLocale(wanted: ReadonlyArray<string | null | undefined>): Locale {
  for (const tag of wanted) {
    const base = tag?.slice(0, 2).toLowerCase();
    if (base && (LOCALES as readonly string[]).includes(base)) return base as Locale;
  }
  return 'en';
}

export interface Translator {
  readonly locale: Locale;
  readonly dir: 'ltr' | 'rtl';
  /** The message at dotted `key`; the key itself (so a gap is visible, never blank) when missing. */
  t(key: string, params?: Params): string;
  /** Whether `key` names a message (e.g. an error code with a sentence). */
  has(key: string): boolean;
  number(n: number, options?: Intl.NumberFormatOptions): string;
  /** A date and time; never `dateStyle: 'full'`, which Chromium renders wrongly for `he`. */
  date(at: number | Date, options?: Intl.DateTimeFormatOptions): string;
  /** "3 minutes ago", "in 2 hours": the largest unit that fits. */
  relative(at: number | Date, now?: number): string;
}

export function translator(locale: Locale, catalog: Catalog): Translator {
  const plural = new Intl.PluralRules(locale);
  const numbers = new Intl.NumberFormat(locale);
  const relative = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  const lookup = (key: string): string | Catalog | undefined => {
    let node: string | Catalog | undefined = catalog;
    for (const part of key.split('.')) {
      if (node === undefined || typeof node === 'string') return undefined;
      node = node[part];
    }
    return node;
  };
  const fill = (text: string, params: Params | undefined) =>
    params
      ? text.replace(/\{(\w+)\}/g, (whole, name: string) => {
          const value = params[name];
          return value === undefined ? whole : typeof value === 'number' ? numbers.format(value) : value;
        })
      : text;
  return {
    locale,
    dir: dirOf(locale),
    t(key, params) {
      const found = lookup(key);
      if (typeof found === 'string') return fill(found, params);
      if (found && typeof params?.count === 'number') {
        const branch = found[plural.select(params.count)] ?? found.other;
        if (typeof branch === 'string') return fill(branch, params);
      }
      return key;
    },
    has: (key) => lookup(key) !== undefined,
    number: (n, options) => (options ? new Intl.NumberFormat(locale, options) : numbers).format(n),
    date: (at, options = { dateStyle: 'medium', timeStyle: 'short' }) => new Intl.DateTimeFormat(locale, options).format(at),
    relative(at, now = Date.now()) {
      const seconds = Math.round((+at - now) / 1000);
      const units: Array<[Intl.RelativeTimeFormatUnit, number]> = [['day', 86400], ['hour', 3600], ['minute', 60]];
      for (const [unit, size] of units) {
        if (Math.abs(seconds) >= size) return relative.format(Math.trunc(seconds / size), unit);
      }
      return relative.format(0, 'second');
    },
  };
}
