// The composer's emoji picker: every Unicode emoji by group, the agent's recent ones first,
// and a search by name and keyword in the dashboard's language and in English ("kalp",
// "قلب" and "heart" all find ❤️). Its data (`emoji/`, written by `scripts/emoji.mjs` from
// emojibase and the Unicode CLDR annotations) loads when the picker first opens, so the
// first load of the dashboard pays nothing for it.

import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { i18n, t } from '../i18n';

interface Data {
  groups: Array<[string, number]>;
  emoji: string[];
  /** Per emoji: the names and keywords to search, in the UI's language then in English. */
  words: string[];
}

const RECENT_KEY = 'sb.emoji.recent';
const RECENT_MAX = 24;
/** What "recent" shows before the agent has picked anything. */
const STARTERS = ['😀', '😊', '🙂', '😉', '😍', '🤔', '😅', '😢', '🙏', '👍', '👎', '👋', '👏', '🎉', '✅', '❌', '⚠️', '❤️', '🔥', '⭐', '📦', '🚚', '💳', '🤝'];
/** The glyph each group's tab shows. */
const TAB: Record<string, string> = { recent: '🕒', smileys: '😀', people: '👋', nature: '🐻', food: '🍔', travel: '🚗', activities: '⚽', objects: '💡', symbols: '❤️', flags: '🏁' };
const RESULTS_MAX = 240;

const names = import.meta.glob<string[]>('./emoji/names.*.json', { import: 'default' });
let loading: Promise<Data> | null = null;

function load(language: string): Promise<Data> {
  loading ??= (async () => {
    const base = (await import('./emoji/emoji.json')).default as { groups: Array<[string, number]>; emoji: string[] };
    const own = names[`./emoji/names.${language}.json`] ?? names['./emoji/names.en.json']!;
    const [local, english] = await Promise.all([own(), language === 'en' ? Promise.resolve(null) : names['./emoji/names.en.json']!()]);
    const words = local.map((w, i) => (english ? `${w}|${english[i]}` : w));
    return { ...base, words };
  })();
  loading.catch(() => {
    loading = null;
  });
  return loading;
}

export function recentEmoji(): string[] {
  try {
    const saved = JSON.parse(localStorage.getItem(RECENT_KEY) ?? '[]') as unknown;
    if (Array.isArray(saved) && saved.length) return saved.filter((e): e is string => typeof e === 'string');
  } catch {}
  return STARTERS;
}

function remember(emoji: string) {
  const next = [emoji, ...recentEmoji().filter((e) => e !== emoji)].slice(0, RECENT_MAX);
  try {
    localStorage.setItem(RECENT_KEY, JSON.stringify(next));
  } catch {}
}

/**
 * Emoji whose words contain every word of `query`, best first: the query is the emoji's
 * name, then one of its keywords, then the start of its name, of a keyword, anywhere.
 */
export function searchEmoji(data: Pick<Data, 'emoji' | 'words'>, query: string, language: string): string[] {
  const whole = query.trim().toLocaleLowerCase(language);
  const terms = whole.split(/\s+/).filter(Boolean);
  if (!terms.length) return [];
  const hits: Array<[number, string]> = [];
  data.words.forEach((words, i) => {
    if (!terms.every((term) => words.includes(term))) return;
    const list = words.split('|');
    const rank = list[0] === whole ? 0 : list.includes(whole) ? 1 : list[0]!.startsWith(whole) ? 2 : list.some((w) => w.startsWith(whole)) ? 3 : 4;
    hits.push([rank, data.emoji[i]!]);
  });
  return hits.sort((a, b) => a[0] - b[0]).slice(0, RESULTS_MAX).map(([, e]) => e);
}

export function EmojiPicker({ onPick, onClose }: { onPick: (emoji: string) => void; onClose: () => void }) {
  const language = i18n.value?.locale ?? 'en';
  const [data, setData] = useState<Data | null>(null);
  const [failed, setFailed] = useState(false);
  const [query, setQuery] = useState('');
  const [group, setGroup] = useState('recent');
  const [hovered, setHovered] = useState<string | null>(null);
  const search = useRef<HTMLInputElement>(null);
  const grid = useRef<HTMLDivElement>(null);

  useEffect(() => {
    search.current?.focus();
    load(language).then(setData, () => setFailed(true));
  }, [language]);

  const starts = useMemo(() => {
    const at: Record<string, number> = {};
    let n = 0;
    for (const [key, count] of data?.groups ?? []) {
      at[key] = n;
      n += count;
    }
    return at;
  }, [data]);

  const shown: string[] = useMemo(() => {
    if (!data) return query ? [] : recentEmoji();
    if (query.trim()) return searchEmoji(data, query, language);
    if (group === 'recent') return recentEmoji();
    const count = data.groups.find(([key]) => key === group)?.[1] ?? 0;
    return data.emoji.slice(starts[group], (starts[group] ?? 0) + count);
  }, [data, query, group, starts, language]);

  const nameOf = (emoji: string) => {
    const i = data?.emoji.indexOf(emoji) ?? -1;
    return i >= 0 ? data!.words[i]!.split('|')[0]! : emoji;
  };

  const pick = (emoji: string) => {
    remember(emoji);
    onPick(emoji);
  };

  // Arrow keys move through the grid (8 columns), mirrored in right-to-left.
  const onGridKey = (e: KeyboardEvent) => {
    const buttons = [...(grid.current?.querySelectorAll('button') ?? [])];
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (at < 0) return;
    const rtl = getComputedStyle(grid.current!).direction === 'rtl';
    const step = { ArrowRight: rtl ? -1 : 1, ArrowLeft: rtl ? 1 : -1, ArrowDown: 8, ArrowUp: -8 }[e.key];
    if (step === undefined) return;
    e.preventDefault();
    const next = at + step;
    if (next < 0 && step === -8) search.current?.focus();
    else buttons[Math.max(0, Math.min(buttons.length - 1, next))]?.focus();
  };

  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      onClose();
    }
  };

  const label = query.trim() ? t('inbox.emoji.results') : t(`inbox.emoji.groups.${group}`);
  const preview = hovered ?? (query.trim() ? shown[0] : null);
  return (
    <div class="emoji-picker" role="dialog" aria-label={t('inbox.composer.emoji')} onKeyDown={onKey}>
      <input
        ref={search}
        type="search"
        class="emoji-search"
        value={query}
        placeholder={t('inbox.emoji.search')}
        aria-label={t('inbox.emoji.search')}
        onInput={(e) => setQuery(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && shown[0]) {
            e.preventDefault();
            pick(shown[0]);
          } else if (e.key === 'ArrowDown') {
            e.preventDefault();
            grid.current?.querySelector('button')?.focus();
          }
        }}
      />
      <div class="emoji-tabs" role="tablist" aria-label={t('inbox.emoji.groupsLabel')}>
        {['recent', ...(data?.groups.map(([key]) => key) ?? [])].map((key) => (
          <button
            key={key}
            type="button"
            role="tab"
            aria-selected={!query.trim() && group === key}
            aria-label={t(`inbox.emoji.groups.${key}`)}
            title={t(`inbox.emoji.groups.${key}`)}
            onClick={() => {
              setQuery('');
              setGroup(key);
              grid.current?.scrollTo({ top: 0 });
            }}
          >
            {TAB[key]}
          </button>
        ))}
      </div>
      <div class="emoji-heading muted" id="emoji-heading">{label}</div>
      <div ref={grid} class="emoji-grid" role="group" aria-labelledby="emoji-heading" onKeyDown={onGridKey}>
        {shown.map((emoji) => (
          <button key={emoji} type="button" aria-label={nameOf(emoji)} onClick={() => pick(emoji)} onMouseEnter={() => setHovered(emoji)} onFocus={() => setHovered(emoji)}>
            {emoji}
          </button>
        ))}
        {failed && <p class="emoji-note">{t('inbox.emoji.loadFailed')}</p>}
        {!failed && !data && query.trim() && <p class="emoji-note muted">{t('inbox.emoji.loading')}</p>}
        {data && query.trim() && !shown.length && <p class="emoji-note muted">{t('inbox.emoji.none', { query: query.trim() })}</p>}
      </div>
      <div class="emoji-preview" aria-live="polite">
        {preview && (
          <>
            <span class="emoji-big">{preview}</span>
            <span>{nameOf(preview)}</span>
          </>
        )}
      </div>
    </div>
  );
}
