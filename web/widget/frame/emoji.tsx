// The composer's emoji button (issue 12): a toggle that opens a small picker of common
// emoji. The picker and its emoji (`emoji-panel.tsx`) load the first time it opens, so
// the chat's first open pays only for this button. `insertAt` is the one rule of where a
// picked emoji goes: in place of the selection, or at the caret.

import { useEffect, useRef, useState } from 'preact/hooks';
import type { ComponentType } from 'preact';
import { t } from './i18n';

type Panel = ComponentType<{ id: string; onPick: (emoji: string) => void; onClose: () => void }>;

let panel: Promise<Panel> | null = null;
function loadPanel(): Promise<Panel> {
  panel ??= import('./emoji-panel').then((m) => m.EmojiPanel);
  panel.catch(() => {
    panel = null;
  });
  return panel;
}

/** `text` with `emoji` in place of `start..end`, and where the caret goes after it. */
export function insertAt(text: string, emoji: string, start: number, end: number): [string, number] {
  const from = Math.max(0, Math.min(start, text.length));
  const to = Math.max(from, Math.min(end, text.length));
  return [text.slice(0, from) + emoji + text.slice(to), from + emoji.length];
}

export function EmojiButton({ onPick }: { onPick: (emoji: string) => void }) {
  const [open, setOpen] = useState(false);
  const [Loaded, setLoaded] = useState<Panel | null>(null);
  const toggle = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (open && !Loaded) loadPanel().then((p) => setLoaded(() => p), () => setOpen(false));
  }, [open, Loaded]);
  const close = () => {
    setOpen(false);
    toggle.current?.focus();
  };
  return (
    <>
      <button
        ref={toggle}
        type="button"
        class="icon emoji-toggle"
        aria-label={t('emoji.open')}
        aria-expanded={open}
        aria-controls={open ? 'emoji-panel' : undefined}
        onClick={() => setOpen(!open)}
      >
        <svg viewBox="0 0 24 24" aria-hidden="true">
          <circle cx="12" cy="12" r="9" />
          <path d="M8.5 14.5a4.5 4.5 0 0 0 7 0M9 9.5h.01M15 9.5h.01" />
        </svg>
      </button>
      {open && Loaded && (
        <Loaded
          id="emoji-panel"
          onClose={close}
          onPick={(emoji) => {
            setOpen(false);
            onPick(emoji);
          }}
        />
      )}
    </>
  );
}
