// The composer: Enter sends, Shift+Enter breaks the line, drafts kept per conversation,
// replies and private notes visibly different, attachments by picker, drag-and-drop or
// paste (with previews and the server's errors explained), emoji, canned responses on
// `/`, and the agent's typing sent to the visitor.

import { signal } from '@preact/signals';
import { useEffect, useRef, useState } from 'preact/hooks';
import { Icon } from '../Shell';
import { ApiError, call, client } from '../api';
import { errorText, t } from '../i18n';
import { sendNow } from '../live/socket';
import { EmojiPicker } from './EmojiPicker';
import { me } from '../session';
import { type Attachment, cannedResponses, contacts, conversation, sendMessage, siteName } from './store';

/** Reply or private note; shortcuts `r` and `n` set it. */
export const mode = signal<'reply' | 'note'>('reply');
/** Asks the composer to take focus (shortcuts). */
export const focusComposer = signal(0);

const draftKey = (id: string) => `sb.draft.${id}`;

interface Upload {
  key: string;
  name: string;
  preview: string | null;
  done: Attachment | null;
  error: string | null;
}

export function Composer({ id }: { id: string }) {
  const [text, setText] = useState(() => localStorage.getItem(draftKey(id)) ?? '');
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [emojiOpen, setEmojiOpen] = useState(false);
  const [dragging, setDragging] = useState(false);
  const [pick, setPick] = useState(0);
  const area = useRef<HTMLTextAreaElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const typingSent = useRef(0);
  const typingStop = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const note = mode.value === 'note';

  // Each conversation has its own draft.
  useEffect(() => {
    setText(localStorage.getItem(draftKey(id)) ?? '');
    setUploads([]);
    return () => stopTyping(id);
  }, [id]);
  useEffect(() => {
    if (focusComposer.value) area.current?.focus();
  }, [focusComposer.value]);

  const saveDraft = (value: string) => {
    setText(value);
    if (value) localStorage.setItem(draftKey(id), value);
    else localStorage.removeItem(draftKey(id));
  };

  function stopTyping(conversationId: string) {
    clearTimeout(typingStop.current);
    if (typingSent.current) {
      typingSent.current = 0;
      sendNow({ type: 'typing', conversation_id: conversationId, typing: false });
    }
  }

  const onInput = (value: string) => {
    saveDraft(value);
    setPick(0);
    // Notes are private: the visitor is not told that someone types one.
    if (note || !value.trim()) return stopTyping(id);
    const now = Date.now();
    if (now - typingSent.current > 3000) {
      typingSent.current = now;
      sendNow({ type: 'typing', conversation_id: id, typing: true });
    }
    clearTimeout(typingStop.current);
    typingStop.current = setTimeout(() => stopTyping(id), 4000);
  };

  /** Puts the emoji where the caret was (replacing a selection) and keeps typing there. */
  const insertEmoji = (emoji: string) => {
    const el = area.current;
    const start = el?.selectionStart ?? text.length;
    const end = el?.selectionEnd ?? text.length;
    onInput(text.slice(0, start) + emoji + text.slice(end));
    setEmojiOpen(false);
    requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(start + emoji.length, start + emoji.length);
    });
  };

  const query = slashQuery(text);
  const choices = query === null ? [] : fuzzy(query, cannedResponses.value).slice(0, 8);
  const picking = choices.length > 0;

  const insertCanned = (body: string) => {
    const filled = fillVariables(body, id);
    const next = text.replace(/(^|\s)\/[^\s]*$/, (_, space: string) => space + filled);
    onInput(next);
    area.current?.focus();
  };

  const ready = uploads.filter((u) => u.done).map((u) => u.done!);
  const busy = uploads.some((u) => !u.done && !u.error);
  const submit = () => {
    const body = text.trim();
    if ((!body && ready.length === 0) || busy) return;
    sendMessage(id, body, note, ready);
    stopTyping(id);
    saveDraft('');
    setUploads([]);
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.isComposing) return;
    if (picking) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        setPick((p) => (p + (e.key === 'ArrowDown' ? 1 : choices.length - 1)) % choices.length);
        return;
      }
      if (e.key === 'Enter' || e.key === 'Tab') {
        e.preventDefault();
        insertCanned(choices[pick % choices.length]!.body);
        return;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        onInput(text.replace(/\/[^\s]*$/, ''));
        return;
      }
    }
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      submit();
    } else if (e.key === 'Escape') {
      area.current?.blur();
    }
  };

  const upload = (files: Iterable<File>) => {
    for (const file of files) {
      const key = crypto.randomUUID();
      const preview = file.type.startsWith('image/') ? URL.createObjectURL(file) : null;
      setUploads((u) => [...u, { key, name: file.name, preview, done: null, error: null }]);
      const form = new FormData();
      form.append('file', file, file.name);
      call(client.POST('/api/v1/attachments', { body: form as unknown as string, bodySerializer: (b: unknown) => b as FormData }))
        .then((done) => setUploads((u) => u.map((x) => (x.key === key ? { ...x, done } : x))))
        .catch((err: unknown) => {
          const code = err instanceof ApiError ? err.code : 'internal';
          setUploads((u) => u.map((x) => (x.key === key ? { ...x, error: errorText(code) } : x)));
        });
    }
  };

  return (
    <form
      class={`composer ${note ? 'is-note' : ''} ${dragging ? 'dragging' : ''}`}
      onSubmit={(e) => { e.preventDefault(); submit(); }}
      onDragOver={(e) => { if (e.dataTransfer?.types.includes('Files')) { e.preventDefault(); setDragging(true); } }}
      onDragLeave={() => setDragging(false)}
      onDrop={(e) => { e.preventDefault(); setDragging(false); if (e.dataTransfer?.files.length) upload(e.dataTransfer.files); }}
    >
      <div class="composer-modes" role="tablist" aria-label={t('inbox.composer.mode')}>
        <button type="button" role="tab" aria-selected={!note} onClick={() => (mode.value = 'reply')}>{t('inbox.composer.reply')}</button>
        <button type="button" role="tab" aria-selected={note} onClick={() => (mode.value = 'note')}>{t('inbox.composer.note')}</button>
      </div>
      {picking && (
        <ul class="canned-picker" role="listbox" aria-label={t('inbox.canned.title')}>
          {choices.map((c, i) => (
            <li key={c.id} role="option" aria-selected={i === pick % choices.length} onMouseDown={(e) => { e.preventDefault(); insertCanned(c.body); }}>
              <strong dir="ltr">/{c.shortcut}</strong>
              <span dir="auto">{fillVariables(c.body, id)}</span>
            </li>
          ))}
        </ul>
      )}
      {uploads.length > 0 && (
        <ul class="uploads" aria-label={t('inbox.composer.attachments')}>
          {uploads.map((u) => (
            <li key={u.key} class={u.error ? 'failed' : u.done ? 'done' : 'busy'}>
              {u.preview ? <img src={u.preview} alt="" /> : <Icon name="paperclip" />}
              <bdi>{u.name}</bdi>
              {u.error && <span class="failed-text" role="alert">{u.error}</span>}
              {!u.done && !u.error && <span class="spinner small" role="status" aria-label={t('inbox.composer.uploading')} />}
              <button type="button" class="icon-button" aria-label={t('inbox.composer.remove', { name: u.name })} onClick={() => setUploads((x) => x.filter((y) => y.key !== u.key))}><Icon name="close" /></button>
            </li>
          ))}
        </ul>
      )}
      <textarea
        ref={area}
        dir="auto"
        rows={3}
        value={text}
        aria-label={note ? t('inbox.composer.notePlaceholder') : t('inbox.composer.placeholder')}
        placeholder={note ? t('inbox.composer.notePlaceholder') : t('inbox.composer.placeholder')}
        onInput={(e) => onInput(e.currentTarget.value)}
        onKeyDown={onKeyDown}
        onPaste={(e) => { const files = e.clipboardData?.files; if (files?.length) { e.preventDefault(); upload(files); } }}
      />
      <div class="composer-bar">
        <input ref={fileInput} type="file" multiple hidden onChange={(e) => { if (e.currentTarget.files) upload(e.currentTarget.files); e.currentTarget.value = ''; }} />
        <button type="button" class="icon-button" aria-label={t('inbox.composer.attach')} title={t('inbox.composer.attach')} onClick={() => fileInput.current?.click()}><Icon name="paperclip" /></button>
        <div class="emoji">
          <button type="button" class="icon-button" aria-label={t('inbox.composer.emoji')} aria-expanded={emojiOpen} title={t('inbox.composer.emoji')} onClick={() => setEmojiOpen(!emojiOpen)}><Icon name="smile" /></button>
          {emojiOpen && (
            <EmojiPicker
              onPick={insertEmoji}
              onClose={() => {
                setEmojiOpen(false);
                area.current?.focus();
              }}
            />
          )}
        </div>
        <span class="composer-hint muted">{t('inbox.composer.hint')}</span>
        <button type="submit" class="button primary" disabled={busy || (!text.trim() && ready.length === 0)}>
          {note ? t('inbox.composer.addNote') : t('inbox.composer.send')}
          {!note && <Icon name="send" class="mirror" />}
        </button>
      </div>
    </form>
  );
}

/** The word after a `/` at the end of the text (at its start or after a space), or null. */
export function slashQuery(text: string): string | null {
  const m = /(?:^|\s)\/([^\s]*)$/.exec(text);
  return m ? m[1]! : null;
}

/** Canned responses whose shortcut or text holds the letters of `query` in order, best first. */
export function fuzzy<T extends { shortcut: string; body: string }>(query: string, all: T[]): T[] {
  const q = query.toLocaleLowerCase();
  const score = (s: string) => {
    const hay = s.toLocaleLowerCase();
    if (hay.startsWith(q)) return 0;
    if (hay.includes(q)) return 1;
    let at = 0;
    for (const ch of q) {
      at = hay.indexOf(ch, at);
      if (at < 0) return Infinity;
      at++;
    }
    return 2 + at / 1000;
  };
  return all
    .map((c) => ({ c, s: Math.min(score(c.shortcut), score(c.body) + 0.5) }))
    .filter((x) => x.s !== Infinity)
    .sort((a, b) => a.s - b.s)
    .map((x) => x.c);
}

/** `{{contact.name}}`, `{{agent.name}}` and `{{site.name}}` with this conversation's values. */
export function fillVariables(body: string, conversationId: string): string {
  const c = conversation(conversationId)?.value;
  const contact = c ? contacts.value[c.contact_id] : undefined;
  const values: Record<string, string> = {
    'contact.name': contact?.name ?? '',
    'contact.email': contact?.email ?? '',
    'agent.name': me.value?.agent.name ?? '',
    'site.name': siteName(c?.site_id),
  };
  return body.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (whole, key: string) => values[key] ?? whole).replace(/ {2,}/g, ' ').replace(/ ([,.!?،])/g, '$1');
}
