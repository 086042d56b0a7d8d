// Keyboard shortcuts by physical key (`event.code`), so `j` works on Arabic, Persian,
// Hebrew and Turkish layouts too. Single keys act only outside text fields, never with
// Alt (Alt+letter types characters on Polish and German keyboards), never while an IME
// composes; two-key chords (`g` then a key) time out after 800 ms.

export interface Command {
  id: string;
  /** The palette's text (already translated). */
  label: string;
  /** Key codes: `KeyJ`, `Shift+Slash`, `Mod+KeyK`, or a chord `KeyG KeyI`. */
  keys: string[];
  run: () => void;
}

/** How a key code is shown: the letter on a US layout, which is what the help prints. */
export function keyLabel(code: string): string {
  return code
    .split(' ')
    .map((part) =>
      part
        .split('+')
        .map((k) =>
          k === 'Mod'
            ? /Mac|iPhone|iPad/.test(navigator.platform) ? '⌘' : 'Ctrl'
            : k.startsWith('Key')
              ? k.slice(3)
              : ({ Slash: '/', BracketLeft: '[', BracketRight: ']', ArrowDown: '↓', ArrowUp: '↑', Escape: 'Esc', Enter: 'Enter', Shift: 'Shift' } as Record<string, string>)[k] ?? k,
        )
        .join('+'),
    )
    .join(' ');
}

function inTextField(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || target.closest('input, textarea, select, [contenteditable]') !== null;
}

/** The pressed key as a code string of the table (`Shift+Slash`, `Mod+KeyK`). */
export function codeOf(e: KeyboardEvent): string {
  const parts = [];
  if (e.ctrlKey || e.metaKey) parts.push('Mod');
  if (e.shiftKey) parts.push('Shift');
  parts.push(e.code);
  return parts.join('+');
}

/** Listens on `document`; returns the unsubscribe. `commands` is read at each key press. */
export function bindKeys(commands: () => Command[]): () => void {
  let chord: string | null = null;
  let chordTimer: ReturnType<typeof setTimeout> | undefined;
  const onKey = (e: KeyboardEvent) => {
    if (e.isComposing || e.altKey || e.defaultPrevented) return;
    const code = codeOf(e);
    const modded = code.startsWith('Mod+');
    // In a text field only modified shortcuts (Ctrl/Cmd+K) act; letters are typing.
    if (!modded && inTextField(e.target)) return;
    // Enter on a button or link presses it; arrows scroll a focused transcript.
    const el = e.target instanceof HTMLElement ? e.target : null;
    if (code === 'Enter' && el?.closest('button, a, [role=button], [role=tab], [role=option]')) return;
    if ((code === 'ArrowDown' || code === 'ArrowUp') && el?.closest('.transcript, .overlay')) return;
    const all = commands();
    const wanted = chord ? `${chord} ${code}` : code;
    const found = all.find((c) => c.keys.includes(wanted));
    if (chord) {
      chord = null;
      clearTimeout(chordTimer);
      if (found) {
        e.preventDefault();
        found.run();
      }
      return;
    }
    if (found) {
      e.preventDefault();
      found.run();
      return;
    }
    if (all.some((c) => c.keys.some((k) => k.startsWith(`${code} `)))) {
      e.preventDefault();
      chord = code;
      chordTimer = setTimeout(() => (chord = null), 800);
    }
  };
  document.addEventListener('keydown', onKey);
  return () => document.removeEventListener('keydown', onKey);
}
