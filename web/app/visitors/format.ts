// How the visitors screens write what they show, in the agent's language through `Intl`:
// durations ("3 min 5 s"), countries (a flag from the ISO code and the localised name),
// devices and where a visit came from. Nothing here is English text.

import { signal } from '@preact/signals';
import { i18n, t } from '../i18n';
import type { Schemas } from '../api';

/** The clock the ticking cells read: moved once a second while a visitors screen is open. */
export const now = signal(Date.now());
let tickers = 0;
let timer: ReturnType<typeof setInterval> | undefined;

/** Starts the one-second tick (counted, so two screens share it); returns the stop. */
export function tick(): () => void {
  if (tickers++ === 0) {
    now.value = Date.now();
    timer = setInterval(() => (now.value = Date.now()), 1000);
  }
  return () => {
    if (--tickers === 0) clearInterval(timer);
  };
}

interface DurationFormat {
  format(d: Record<string, number>): string;
}
type DurationFormatCtor = new (locale: string, options: { style: 'narrow' | 'short' }) => DurationFormat;
const durationFormats = new Map<string, DurationFormat | null>();

/** A span of time, largest two units: "1 hr 5 min", "42 s", in the agent's language. */
export function duration(ms: number): string {
  const locale = i18n.value?.locale ?? 'en';
  const total = Math.max(0, Math.floor(ms / 1000));
  const parts: Record<string, number> = {};
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h) Object.assign(parts, { hours: h, minutes: m });
  else if (m) Object.assign(parts, { minutes: m, seconds: s });
  else parts.seconds = s;
  if (!durationFormats.has(locale)) {
    const Ctor = (Intl as unknown as { DurationFormat?: DurationFormatCtor }).DurationFormat;
    durationFormats.set(locale, Ctor ? new Ctor(locale, { style: 'short' }) : null);
  }
  const formatter = durationFormats.get(locale);
  // DurationFormat writes nothing for zero; the fallback below says "0 sec".
  if (formatter && total > 0) return formatter.format(parts);
  // Without Intl.DurationFormat: each unit through NumberFormat's units, joined by a list.
  const units: Record<string, string> = { hours: 'hour', minutes: 'minute', seconds: 'second' };
  const list = new Intl.ListFormat(locale, { style: 'narrow', type: 'unit' });
  return list.format(
    Object.entries(parts).map(([k, v]) => new Intl.NumberFormat(locale, { style: 'unit', unit: units[k]!, unitDisplay: 'short' }).format(v)),
  );
}

/** The flag emoji of an ISO 3166-1 alpha-2 code (regional indicator letters). */
export function flag(code: string): string {
  if (!/^[A-Za-z]{2}$/.test(code)) return '';
  return [...code.toUpperCase()].map((c) => String.fromCodePoint(0x1f1e6 + c.charCodeAt(0) - 65)).join('');
}

/** The country's name in the agent's language ("Türkiye", "ترکیه"), or the code itself. */
export function countryName(code: string): string {
  try {
    return new Intl.DisplayNames(i18n.value?.locale ?? 'en', { type: 'region' }).of(code.toUpperCase()) ?? code;
  } catch {
    return code;
  }
}

/** A language tag's name in the agent's language ("German (Austria)"). */
export function languageName(tag: string | null | undefined): string {
  // A browser that names no language sends `*`: nothing to show.
  if (!tag || !/^[a-z]{2,3}\b/i.test(tag)) return '';
  try {
    return new Intl.DisplayNames(i18n.value?.locale ?? 'en', { type: 'language' }).of(tag) ?? tag;
  } catch {
    return tag;
  }
}

/** "Desktop · Firefox · Linux": what the server recognised, the device kind translated. */
export function deviceText(d: Schemas['Device']): string {
  const kind = d.device ? (i18n.value?.has(`visitors.devices.${d.device}`) ? t(`visitors.devices.${d.device}`) : d.device) : '';
  return [kind, d.browser, d.os].filter(Boolean).join(' · ');
}

/** The host of a referrer URL ("google.com"), or the text when it is no URL. */
export function referrerHost(referrer: string | null | undefined): string {
  if (!referrer) return '';
  try {
    return new URL(referrer).host.replace(/^www\./, '');
  } catch {
    return referrer;
  }
}

/** "utm_source / utm_medium / utm_campaign", the ones given. */
export function utmText(utm: Schemas['Utm']): string {
  return [utm.source, utm.medium, utm.campaign, utm.term, utm.content].filter(Boolean).join(' / ');
}

/** The path and query of a page, for a narrow cell (the full URL is its title). */
export function pagePath(url: string): string {
  try {
    const u = new URL(url);
    return `${u.pathname}${u.search}`;
  } catch {
    return url;
  }
}
