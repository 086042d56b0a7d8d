// The widget's emoji picker, loaded when the visitor first opens it (`emoji.tsx`): a
// small hand-picked set by group rather than all of Unicode, since every byte reaches a
// visitor's phone. A grid of buttons with one tab stop: the arrow keys move (mirrored
// right to left), Home and End jump, Enter or Space picks, Escape closes. Screen readers
// read each emoji by its own name in the visitor's language.

import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from './i18n';
import './emoji.css';

/** Each group's emoji, in the order shown; the group's heading is `emoji.groups.<key>`. */
const GROUPS: Array<[string, string[]]> = [
  ['smileys', ['😀', '😃', '😄', '😁', '😊', '🙂', '😉', '😍', '🥰', '😘', '😋', '😎', '🤩', '🥳', '😇', '🤗', '🤔', '😅', '😂', '🥲', '😐', '🙄', '😬', '😮', '😢', '😭', '😤', '😴']],
  ['people', ['👍', '👎', '👌', '✌️', '🤞', '👏', '🙌', '🙏', '👋', '🤝', '💪', '☝️', '👀', '🤷', '🙋', '🤦']],
  ['symbols', ['❤️', '🧡', '💛', '💚', '💙', '💜', '💔', '💯', '✅', '❌', '⚠️', '❓', '❗', '⭐', '✨', '🔥', '🎉', '🎁']],
  ['objects', ['📦', '🚚', '🛒', '💳', '💰', '🧾', '📱', '💻', '📧', '📞', '📅', '🕒', '🔒', '🔑', '☕', '🌹']],
];
const ALL = GROUPS.flatMap(([, list]) => list);
/** Buttons per row of the grid (the CSS draws the same). */
const COLUMNS = 8;

export function EmojiPanel({ id, onPick, onClose }: { id: string; onPick: (emoji: string) => void; onClose: () => void }) {
  const [active, setActive] = useState(0);
  const root = useRef<HTMLDivElement>(null);
  const focus = (i: number) => {
    const next = Math.max(0, Math.min(ALL.length - 1, i));
    setActive(next);
    root.current?.querySelectorAll<HTMLButtonElement>('button')[next]?.focus();
  };
  useEffect(() => focus(0), []);
  const onKeyDown = (e: KeyboardEvent) => {
    const rtl = getComputedStyle(root.current!).direction === 'rtl';
    const step: Record<string, number> = {
      ArrowRight: rtl ? -1 : 1,
      ArrowLeft: rtl ? 1 : -1,
      ArrowDown: COLUMNS,
      ArrowUp: -COLUMNS,
    };
    if (e.key in step) focus(active + step[e.key]!);
    else if (e.key === 'Home') focus(0);
    else if (e.key === 'End') focus(ALL.length - 1);
    else if (e.key === 'Escape') onClose();
    else return;
    e.preventDefault();
    e.stopPropagation();
  };
  let index = 0;
  return (
    <div id={id} ref={root} class="emoji-panel" role="dialog" aria-label={t('emoji.title')} onKeyDown={onKeyDown}>
      {GROUPS.map(([key, list]) => (
        <div key={key} role="group" aria-labelledby={`emoji-${key}`}>
          <p class="emoji-group" id={`emoji-${key}`}>
            {t(`emoji.groups.${key}`)}
          </p>
          <div class="emoji-grid">
            {list.map((emoji) => {
              const i = index++;
              return (
                <button key={emoji} type="button" tabIndex={i === active ? 0 : -1} onFocus={() => setActive(i)} onClick={() => onPick(emoji)}>
                  {emoji}
                </button>
              );
            })}
          </div>
        </div>
      ))}
    </div>
  );
}
