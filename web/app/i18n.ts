// The dashboard's language: the agent's own setting, else the browser's. Catalogs are
// split by area (`locales/` for the shell, `inbox/locales/`, `admin/locales/`, and the
// shared `../locales/` error sentences) and only the chosen language is downloaded.

import { signal } from '@preact/signals';
import { type Catalog, type Locale, type Translator, pickLocale, translator } from '../shared/i18n';

const catalogs = import.meta.glob<{ default: Catalog }>(['./locales/*.json', './*/locales/*.json', '../locales/*.json']);

/** `./inbox/locales/fa.json` → `inbox`; the shell's own file → `shell`; `../locales` → its top keys. */
function area(path: string): string | null {
  if (path.startsWith('../')) return null;
  const parts = path.split('/');
  return parts.length === 3 ? 'shell' : (parts[1] ?? 'shell');
}

async function load(locale: Locale): Promise<Translator> {
  const merged: Catalog = {};
  await Promise.all(
    Object.entries(catalogs)
      .filter(([path]) => path.endsWith(`/${locale}.json`))
      .map(async ([path, loadOne]) => {
        const catalog = (await loadOne()).default;
        const name = area(path);
        if (name) merged[name] = catalog;
        else Object.assign(merged, catalog);
      }),
  );
  return translator(locale, merged);
}

/** The current translator; `null` until the first catalog arrived. */
export const i18n = signal<Translator | null>(null);

/** Switches the whole dashboard to `wanted` (or the browser's language), mirroring for RTL. */
export async function useLanguage(wanted?: string | null) {
  const locale = pickLocale([wanted, ...navigator.languages]);
  const next = await load(locale);
  document.documentElement.lang = locale;
  document.documentElement.dir = next.dir;
  i18n.value = next;
}

/** Shorthand for components rendered after the catalog loaded. */
export function t(key: string, params?: Record<string, string | number>): string {
  return i18n.value?.t(key, params) ?? '';
}

/** The sentence for a server error code, in the agent's language. */
export function errorText(code: string): string {
  const tr = i18n.value;
  return tr?.has(`errors.${code}`) ? tr.t(`errors.${code}`) : (tr?.t('errors.internal') ?? code);
}

/** "in 7 days": a link's expiry, rounded to the nearest unit rather than cut down. */
export function expiresIn(at: number, locale: string, now = Date.now()): string {
  const format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  const seconds = (at - now) / 1000;
  for (const [unit, size] of [['day', 86400], ['hour', 3600], ['minute', 60]] as const) {
    if (Math.abs(seconds) >= size) return format.format(Math.round(seconds / size), unit);
  }
  return format.format(0, 'minute');
}
