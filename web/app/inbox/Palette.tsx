// The command palette (Ctrl/Cmd+K): every action with its key, filtered as one types.
// `?` opens it as the shortcut sheet: the same list, only the commands that have keys.

import { signal } from '@preact/signals';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n';
import { type Command, keyLabel } from './keys';

export const palette = signal<'closed' | 'commands' | 'shortcuts'>('closed');

export function Palette({ commands }: { commands: Command[] }) {
  const [query, setQuery] = useState('');
  const [at, setAt] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const opened = useRef<Element | null>(null);
  const kind = palette.value;

  // Focus moves before paint, so what is typed right after Ctrl+K or `?` lands here.
  useLayoutEffect(() => {
    if (kind === 'closed') return;
    opened.current = document.activeElement;
    setQuery('');
    setAt(0);
    input.current?.focus();
    return () => (opened.current as HTMLElement | null)?.focus?.();
  }, [kind]);

  if (kind === 'closed') return null;
  const q = query.trim().toLocaleLowerCase();
  const shown = commands.filter((c) => (kind === 'commands' || c.keys.length > 0) && (!q || c.label.toLocaleLowerCase().includes(q)));
  const close = () => (palette.value = 'closed');
  const run = (c: Command | undefined) => {
    if (!c) return;
    close();
    c.run();
  };
  const title = kind === 'shortcuts' ? t('inbox.palette.shortcuts') : t('inbox.palette.title');

  return (
    <div class="overlay" onMouseDown={(e) => e.target === e.currentTarget && close()}>
      <div class="palette" role="dialog" aria-modal="true" aria-label={title}>
        <input
          ref={input}
          type="search"
          aria-controls="palette-list"
          aria-activedescendant={shown[at] ? `cmd-${shown[at].id}` : undefined}
          aria-label={title}
          placeholder={kind === 'shortcuts' ? t('inbox.palette.shortcutsPlaceholder') : t('inbox.palette.placeholder')}
          value={query}
          onInput={(e) => { setQuery(e.currentTarget.value); setAt(0); }}
          onKeyDown={(e) => {
            if (e.key === 'Escape') { e.preventDefault(); close(); }
            else if (e.key === 'ArrowDown') { e.preventDefault(); setAt((a) => Math.min(a + 1, shown.length - 1)); }
            else if (e.key === 'ArrowUp') { e.preventDefault(); setAt((a) => Math.max(a - 1, 0)); }
            else if (e.key === 'Enter' && !e.isComposing) { e.preventDefault(); run(shown[at]); }
          }}
        />
        <ul id="palette-list" role="listbox" aria-label={title}>
          {shown.map((c, i) => (
            <li key={c.id} id={`cmd-${c.id}`} role="option" aria-selected={i === at} onMouseDown={(e) => { e.preventDefault(); run(c); }} onMouseEnter={() => setAt(i)}>
              <span>{c.label}</span>
              <span class="keys">{c.keys.map((k) => <kbd key={k} dir="ltr">{keyLabel(k)}</kbd>)}</span>
            </li>
          ))}
          {shown.length === 0 && <li class="muted" role="presentation">{t('inbox.palette.none')}</li>}
        </ul>
      </div>
    </div>
  );
}
