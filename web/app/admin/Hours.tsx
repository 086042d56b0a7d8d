// The business-hours editor of a site and of a team (issue 14): a time zone from the IANA
// names the browser knows, weekly ranges per day (several a day; a range that closes at
// or before it opens runs past midnight), holidays by date, and a live line saying
// whether the hours being typed are open now or when they open next. That line and the
// checks come from the server (`POST /business-hours/preview`), which owns the calendar
// rules (DST, overnight ranges, holidays): the console computes nothing itself, and shows
// the server's refusals beside the part of the form they name.

import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, type Schemas, call, client } from '../api';
import { i18n, t } from '../i18n';
import { asApiError } from './ui';
import { zones } from './Workspace';

type Hours = Schemas['BusinessHours'];
type Range = Schemas['WeeklyHours'];
type Preview = Schemas['HoursPreview'];

const DAYS = [1, 2, 3, 4, 5, 6, 7];
/** A new range starts as a working day. */
const NEW_RANGE = { open: '09:00', close: '17:00' };

/** The name of an ISO day (1 = Monday) in the agent's language. */
function dayName(day: number): string {
  // 2024-01-01 was a Monday.
  return new Intl.DateTimeFormat(i18n.value?.locale, { weekday: 'long', timeZone: 'UTC' }).format(Date.UTC(2024, 0, day));
}

/** The browser's own zone when it is a name the list knows, else UTC. */
function defaultZone(all: string[]): string {
  const mine = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return all.includes(mine) ? mine : 'UTC';
}

/**
 * `<input type="time">` stops at 23:59, and the server reads a close of 00:00 as "past
 * midnight", which ends at the same instant as 24:00: the field shows 24:00 as 00:00, and
 * a close of 00:00 is sent as 24:00 so that a whole day (00:00–00:00) is accepted.
 */
const shown = (hhmm: string) => (hhmm === '24:00' ? '00:00' : hhmm);
const sentClose = (hhmm: string) => (hhmm === '00:00' ? '24:00' : hhmm);
const overnight = (r: Range) => r.close !== '24:00' && r.close <= r.open;

/**
 * The native time field writes Latin digits whatever the agent's language, so where the
 * language writes its own digits (Persian, Arabic) each time is also written beside its
 * field, through `Intl`; elsewhere the field says it already.
 */
function ownDigits(): boolean {
  return new Intl.NumberFormat(i18n.value?.locale).resolvedOptions().numberingSystem !== 'latn';
}

/** `HH:MM` as the agent's language writes a time of day. */
function localTime(hhmm: string): string {
  const [h = NaN, m = NaN] = hhmm.split(':').map(Number);
  if (!Number.isInteger(h) || !Number.isInteger(m)) return '';
  return new Intl.DateTimeFormat(i18n.value?.locale, { hour: 'numeric', minute: '2-digit', timeZone: 'UTC' }).format(Date.UTC(2024, 0, 1, h % 24, m));
}

/** What the form holds, as the server reads it. */
function wire(h: Hours): Hours {
  return { ...h, weekly: h.weekly.map((r) => ({ ...r, close: sentClose(r.close) })), holidays: (h.holidays ?? []).map((x) => ({ ...x, name: x.name.trim() })) };
}

/** The sentence beside a part of the form for what the server refused there. */
const REFUSALS: [string, string][] = [
  ['time_zone', 'admin.hours.badZone'],
  ['weekly', 'admin.hours.tooMany'],
  ['weekly.day', 'admin.hours.badTime'],
  ['weekly.open', 'admin.hours.badTime'],
  ['weekly.close', 'admin.hours.badTime'],
  ['holidays', 'admin.hours.tooManyHolidays'],
  ['holidays.date', 'admin.hours.badHoliday'],
  ['holidays.name', 'admin.hours.badHolidayName'],
];

export function HoursEditor({
  value,
  onChange,
  saveError,
  noneLabel,
  hint,
}: {
  value: Hours | null;
  onChange: (h: Hours | null) => void;
  /** The form's last save failure: its field errors about hours are shown here too. */
  saveError: ApiError | null;
  /** What "no hours" means here: always open (a site), or the site's hours (a team). */
  noneLabel: string;
  hint?: string;
}) {
  const all = useMemo(zones, []);
  const digits = ownDigits();
  const [preview, setPreview] = useState<Preview | null>(null);
  const [refused, setRefused] = useState<ApiError | null>(null);
  // The live line: the server reads the hours being typed, a moment after the last change.
  useEffect(() => {
    setPreview(null);
    setRefused(null);
    if (!value) return;
    let current = true;
    const timer = setTimeout(() => {
      call(client.POST('/api/v1/business-hours/preview', { body: wire(value) })).then(
        (p) => current && setPreview(p),
        (failure) => current && setRefused(asApiError(failure)),
      );
    }, 250);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [value]);
  const problem = (field: string) => {
    const found = [refused, saveError].flatMap((e) => e?.fields ?? []).find((f) => f.field === field);
    if (!found) return null;
    return t(REFUSALS.find(([f]) => f === field)?.[1] ?? 'admin.fieldRefused');
  };
  const problems = (...fields: string[]) => [...new Set(fields.map(problem).filter((p): p is string => p !== null))];

  const set = (patch: Partial<Hours>) => value && onChange({ ...value, ...patch });
  const ranges = (day: number) => (value?.weekly ?? []).map((r, i) => ({ r, i })).filter(({ r }) => r.day === day);
  const editRange = (i: number, patch: Partial<Range>) => set({ weekly: value!.weekly.map((r, j) => (j === i ? { ...r, ...patch } : r)) });
  const removeRange = (i: number) => set({ weekly: value!.weekly.filter((_, j) => j !== i) });
  const addRange = (day: number) => set({ weekly: [...value!.weekly, { day, ...NEW_RANGE }] });
  const editHoliday = (i: number, patch: Partial<Schemas['Holiday']>) => set({ holidays: (value!.holidays ?? []).map((h, j) => (j === i ? { ...h, ...patch } : h)) });

  const holidays = value?.holidays ?? [];
  const zoneId = 'hours-zone';
  const zoneProblem = problem('time_zone');
  const weeklyProblems = problems('weekly', 'weekly.day', 'weekly.open', 'weekly.close');
  const holidayProblems = problems('holidays', 'holidays.date', 'holidays.name');
  return (
    <fieldset class="group hours">
      <legend>{t('admin.hours.title')}</legend>
      {hint && <p class="hint">{hint}</p>}
      <div class="choices" role="radiogroup" aria-label={t('admin.hours.title')}>
        <label class="choice">
          <input type="radio" name="hours-mode" checked={!value} onChange={() => onChange(null)} />
          <span>{noneLabel}</span>
        </label>
        <label class="choice">
          <input
            type="radio"
            name="hours-mode"
            checked={!!value}
            onChange={() => onChange({ time_zone: defaultZone(all), weekly: [1, 2, 3, 4, 5].map((day) => ({ day, ...NEW_RANGE })), holidays: [] })}
          />
          <span>{t('admin.hours.set')}</span>
        </label>
      </div>
      {value && (
        <>
          {/* While the server refuses the hours there is nothing to say: the refusals are beside their fields. */}
          <p class={`hours-now ${preview?.open_now ? 'open' : 'closed'}`} role="status" aria-live="polite" hidden={!!refused}>
            {preview ? nowLine(preview, value.time_zone) : refused ? '' : t('shell.loading')}
          </p>
          <div class="field">
            <label for={zoneId}>{t('admin.hours.timeZone')}</label>
            <select
              id={zoneId}
              value={value.time_zone}
              dir="ltr"
              aria-describedby={`${zoneId}-hint${zoneProblem ? ` ${zoneId}-error` : ''}`}
              aria-invalid={zoneProblem ? 'true' : undefined}
              onChange={(e) => set({ time_zone: e.currentTarget.value })}
            >
              {!all.includes(value.time_zone) && <option value={value.time_zone}>{value.time_zone}</option>}
              {all.map((z) => (
                <option key={z} value={z}>
                  {z}
                </option>
              ))}
            </select>
            <p class="hint" id={`${zoneId}-hint`}>
              {t('admin.hours.timeZoneHint')}
            </p>
            {zoneProblem && (
              <p class="field-error" id={`${zoneId}-error`}>
                {zoneProblem}
              </p>
            )}
          </div>

          <fieldset class="hours-week" aria-describedby="hours-weekly-hint">
            <legend>{t('admin.hours.weekly')}</legend>
            <p class="hint" id="hours-weekly-hint">
              {t('admin.hours.weeklyHint')}
            </p>
            {DAYS.map((day) => {
              const name = dayName(day);
              const list = ranges(day);
              return (
                <div class="hours-day" key={day}>
                  <span class="hours-day-name">{name}</span>
                  <div class="hours-ranges">
                    {list.length === 0 && <span class="muted">{t('admin.hours.closedDay')}</span>}
                    {list.map(({ r, i }) => (
                      <div class="hours-range" key={i}>
                        <span class="hours-time">
                        <input
                          type="time"
                          dir="ltr"
                          required
                          value={shown(r.open)}
                          aria-label={t('admin.hours.opensOn', { day: name })}
                          onInput={(e) => editRange(i, { open: e.currentTarget.value })}
                        />
                        {digits && <span class="hours-local" aria-hidden="true">{localTime(shown(r.open))}</span>}
                        </span>
                        <span aria-hidden="true">–</span>
                        <span class="hours-time">
                        <input
                          type="time"
                          dir="ltr"
                          required
                          value={shown(r.close)}
                          aria-label={t('admin.hours.closesOn', { day: name })}
                          onInput={(e) => editRange(i, { close: e.currentTarget.value })}
                        />
                        {digits && <span class="hours-local" aria-hidden="true">{localTime(shown(r.close))}</span>}
                        </span>
                        {overnight(r) && <span class="hint">{t('admin.hours.overnight')}</span>}
                        <button
                          type="button"
                          class="button ghost small"
                          aria-label={t('admin.hours.removeRange', { day: name, from: shown(r.open), to: shown(r.close) })}
                          onClick={() => removeRange(i)}
                        >
                          {t('admin.delete')}
                        </button>
                      </div>
                    ))}
                    <button type="button" class="button ghost small" aria-label={t('admin.hours.addRangeOn', { day: name })} onClick={() => addRange(day)}>
                      {t('admin.hours.addRange')}
                    </button>
                  </div>
                </div>
              );
            })}
            {weeklyProblems.map((p) => (
              <p class="field-error" key={p}>
                {p}
              </p>
            ))}
          </fieldset>

          <fieldset class="hours-holidays">
            <legend>{t('admin.hours.holidays')}</legend>
            <p class="hint">{t('admin.hours.holidaysHint')}</p>
            {holidays.length === 0 && <p class="muted">{t('admin.hours.noHolidays')}</p>}
            {holidays.map((h, i) => (
              <div class="hours-range" key={i}>
                <input
                  type="date"
                  dir="ltr"
                  required
                  value={h.date}
                  aria-label={t('admin.hours.holidayDate')}
                  onInput={(e) => editHoliday(i, { date: e.currentTarget.value })}
                />
                <input
                  type="text"
                  dir="auto"
                  maxLength={100}
                  value={h.name}
                  placeholder={t('admin.hours.holidayName')}
                  aria-label={t('admin.hours.holidayName')}
                  onInput={(e) => editHoliday(i, { name: e.currentTarget.value })}
                />
                <button
                  type="button"
                  class="button ghost small"
                  aria-label={t('admin.hours.removeHoliday', { date: h.date || '—' })}
                  onClick={() => set({ holidays: holidays.filter((_, j) => j !== i) })}
                >
                  {t('admin.delete')}
                </button>
              </div>
            ))}
            <button type="button" class="button ghost small" onClick={() => set({ holidays: [...holidays, { date: '', name: '' }] })}>
              {t('admin.hours.addHoliday')}
            </button>
            {holidayProblems.map((p) => (
              <p class="field-error" key={p}>
                {p}
              </p>
            ))}
          </fieldset>
        </>
      )}
    </fieldset>
  );
}

/** "Open now", or when the hours open next, told in the schedule's own zone. */
function nowLine(p: Preview, zone: string): string {
  if (p.open_now) return t('admin.hours.openNow');
  if (p.opens_at == null) return t('admin.hours.closedForGood');
  const options: Intl.DateTimeFormatOptions = { weekday: 'long', day: 'numeric', month: 'long', hour: 'numeric', minute: '2-digit', timeZone: zone };
  return t('admin.hours.closedUntil', { when: i18n.value?.date(p.opens_at, options) ?? '', zone });
}

/** What the form sends for the hours it holds. */
export function hoursForSave(h: Hours | null): Hours | null {
  return h && wire(h);
}
