// What the visitor sees: the header (team, agents, online state), a banner for the
// connection, the pre-chat form or the offline form when the site asks for them (or
// when the wait in the queue ran out), the transcript (a live region), their place in
// line while they wait, and the composer with attachments (picker, drag-and-drop,
// paste). Every string comes from the catalogs; every bubble is `dir="auto"`.

import { computed, signal } from '@preact/signals';
import { useEffect, useRef, useState } from 'preact/hooks';
import * as chat from './chat';
import { toHost } from './host';
import { backAt, errorText, size, t, time, tr } from './i18n';
import { formatText } from './text';
import { EmojiButton, insertAt } from './emoji';

/** The chat page's query string: `?name=&email=&message=`. */
export const prefill = signal({ name: '', email: '', message: '' });
/** The pre-chat form was filled in this visit. */
const prechatDone = signal(false);
/** The offline form was sent: thank the visitor. */
const offlineSent = signal(false);

const needsPrechat = computed(
  () =>
    !prechatDone.value &&
    !chat.identified.value &&
    !chat.conversation.value &&
    prechatFields.value.length > 0 &&
    chat.lines.value.length === 0,
);
/** The pre-chat form's fields: a `team` field only when the server named its teams. */
const prechatFields = computed(() => {
  const site = chat.site.value;
  return (site?.prechat_form ?? []).filter((f) => f.kind !== 'team' || (site?.teams.length ?? 0) > 0);
});
/** Outside the site's business hours (the server says so in the site it sends). */
const closed = computed(() => chat.site.value?.open_now === false);
const needsOffline = computed(
  () =>
    // An invitation is answered in the chat, whoever is online: it says the team is there.
    (chat.agentsOnline.value === 0 || closed.value) && !chat.conversation.value && chat.lines.value.length === 0 && !offlineSent.value && !chat.invitation.value,
);
/** The visitor waited longer than the team allows and has not left a message yet. */
const lateOffline = computed(() => chat.queueTimedOut.value && !offlineSent.value && !chat.resolved.value);

export function App({ embedded, fatal = false }: { embedded: boolean; fatal?: boolean }) {
  if (!tr.value) return null;
  return (
    <div class="app">
      <Header embedded={embedded} />
      <Banner />
      {fatal || chat.banned.value ? null : needsOffline.value ? <Offline /> : lateOffline.value ? <Offline late /> : needsPrechat.value ? <Prechat /> : <Conversation />}
    </div>
  );
}

function Header({ embedded }: { embedded: boolean }) {
  const site = chat.site.value;
  const online = chat.agentsOnline.value;
  const shown = chat.agents.value.slice(0, 3);
  const reply = site?.appearance.reply_time;
  return (
    <header class="head">
      {shown.length > 0 && (
        <div class="faces" aria-hidden="true">
          {shown.map((a) => (
            <Face key={a.id} agent={a} />
          ))}
        </div>
      )}
      <div class="titles">
        <h1 dir="auto">{site?.appearance.team_name ?? t('title')}</h1>
        {closed.value ? (
          <p class="state">{t('hours.closed')}</p>
        ) : (
          online !== null && (
            <p class={online > 0 ? 'state on' : 'state'}>
              {online > 0 ? t('online') : reply ? t(`offline.reply.${reply}`) : t('away')}
            </p>
          )
        )}
      </div>
      {embedded && (
        <button type="button" class="icon close" aria-label={t('close')} onClick={() => toHost({ sb: 1, t: 'close' })}>
          <svg viewBox="0 0 24 24" aria-hidden="true">
            <path d="M6 6l12 12M18 6L6 18" />
          </svg>
        </button>
      )}
    </header>
  );
}

function Face({ agent }: { agent: chat.PublicAgent }) {
  return <span class="face">{agent.avatar_url ? <img src={agent.avatar_url} alt="" /> : [...agent.name][0]}</span>;
}

function Banner() {
  const link = chat.link.value;
  const notice = chat.notice.value;
  if (notice) {
    return (
      <p class="banner error" role="alert">
        {errorText(notice)}
      </p>
    );
  }
  if (link === 'online' || link === 'connecting') return null;
  return (
    <p class={`banner ${link}`} role="status">
      {t(`link.${link}`)}
    </p>
  );
}

// --- forms -------------------------------------------------------------------------------

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+?[\d\s().-]{6,20}$/;

/** The message for `value` of a field of `kind`, or null when it is fine. */
function invalid(kind: string, value: string, required: boolean): string | null {
  const v = value.trim();
  if (!v) return required ? t('prechat.required') : null;
  if (kind === 'email' && !EMAIL.test(v)) return t('prechat.email');
  if (kind === 'phone' && !PHONE.test(v)) return t('prechat.phone');
  return null;
}

function Field(props: {
  id: string;
  label: string;
  kind: string;
  required: boolean;
  value: string;
  error: string | null;
  /** A select's choices: what is sent, and what the visitor reads. */
  options?: { value: string; label: string }[];
  onInput: (v: string) => void;
  autofocus?: boolean;
}) {
  const { id, label, kind, required, value, error, options } = props;
  const common = {
    id,
    name: id,
    value,
    required,
    'aria-invalid': error ? ('true' as const) : undefined,
    'aria-describedby': error ? `${id}-error` : undefined,
    onInput: (e: Event) => props.onInput((e.currentTarget as HTMLInputElement).value),
    ...(props.autofocus ? { 'data-autofocus': true } : {}),
  };
  return (
    <div class="field">
      <label for={id}>
        <span dir="auto">{label}</span>
        {!required && <span class="opt"> ({t('prechat.optional')})</span>}
      </label>
      {kind === 'select' || kind === 'team' ? (
        <select {...common} dir="auto">
          <option value="">{t('prechat.choose')}</option>
          {options?.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      ) : kind === 'textarea' ? (
        <textarea {...common} rows={3} dir="auto" />
      ) : (
        <input
          {...common}
          type={(kind === 'email' ? 'email' : kind === 'phone' ? 'tel' : 'text') as 'text'}
          dir={kind === 'email' || kind === 'phone' ? 'ltr' : 'auto'}
          autocomplete={kind === 'email' ? 'email' : kind === 'phone' ? 'tel' : id === 'f-name' ? 'name' : 'off'}
        />
      )}
      {error && (
        <p class="invalid" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

function Prechat() {
  // A `team` field offers the teams the server named (`site.teams`); the choice goes with
  // the `send` that starts the conversation, not into the contact's attributes.
  const fields = prechatFields.value;
  const teams = chat.site.value?.teams ?? [];
  const choices = (f: (typeof fields)[number]) =>
    f.kind === 'team' ? teams.map((x) => ({ value: x.id, label: x.name })) : (f.options ?? []).map((o) => ({ value: o, label: o }));
  const [values, setValues] = useState<Record<string, string>>(() => ({
    name: prefill.value.name,
    email: prefill.value.email,
  }));
  const [errors, setErrors] = useState<Record<string, string | null>>({});
  const submit = (e: Event) => {
    e.preventDefault();
    const found: Record<string, string | null> = {};
    for (const f of fields) found[f.key] = invalid(f.kind, values[f.key] ?? '', f.required ?? false);
    setErrors(found);
    const first = fields.find((f) => found[f.key]);
    if (first) {
      document.getElementById(`f-${first.key}`)?.focus();
      return;
    }
    const attributes: Record<string, string> = {};
    const profile: { name?: string; email?: string; phone?: string; attributes?: Record<string, string> } = {};
    for (const f of fields) {
      const v = (values[f.key] ?? '').trim();
      if (!v) continue;
      if (f.kind === 'team') chat.chosenTeam.value = v;
      else if (f.key === 'name' || f.key === 'email' || f.key === 'phone') profile[f.key] = v;
      else attributes[f.key] = v;
    }
    if (Object.keys(attributes).length) profile.attributes = attributes;
    chat.profile(profile);
    prechatDone.value = true;
  };
  return (
    <form class="form" onSubmit={submit} noValidate>
      <p class="intro">{t('prechat.intro')}</p>
      {fields.map((f, i) => (
        <Field
          key={f.key}
          id={`f-${f.key}`}
          label={f.label}
          kind={f.kind}
          required={f.required ?? false}
          value={values[f.key] ?? ''}
          error={errors[f.key] ?? null}
          options={choices(f)}
          autofocus={i === 0}
          onInput={(v) => setValues({ ...values, [f.key]: v })}
        />
      ))}
      <button class="primary" type="submit">
        {t('prechat.submit')}
      </button>
    </form>
  );
}

function Offline({ late = false }: { late?: boolean }) {
  const [email, setEmail] = useState(prefill.value.email);
  const [message, setMessage] = useState(prefill.value.message);
  const [errors, setErrors] = useState<{ email: string | null; message: string | null }>({ email: null, message: null });
  const reply = chat.site.value?.appearance.reply_time;
  const opensAt = chat.site.value?.opens_at;
  const submit = (e: Event) => {
    e.preventDefault();
    const found = { email: invalid('email', email, true), message: invalid('text', message, true) };
    setErrors(found);
    if (found.email || found.message) {
      document.getElementById(found.email ? 'o-email' : 'o-message')?.focus();
      return;
    }
    chat.profile({ email: email.trim() });
    chat.say(message);
    offlineSent.value = true;
  };
  return (
    <form class="form" onSubmit={submit} noValidate>
      <h2>{t('offline.title')}</h2>
      <p class="intro">{late ? t('queue.late') : closed.value ? t('hours.intro') : t('offline.intro')}</p>
      {closed.value && opensAt !== null && opensAt !== undefined && <p class="intro back">{backAt(opensAt)}</p>}
      {!closed.value && reply && !late && <p class="intro">{t(`offline.reply.${reply}`)}</p>}
      <Field id="o-email" label={t('offline.email')} kind="email" required value={email} error={errors.email} onInput={setEmail} autofocus />
      <Field id="o-message" label={t('offline.message')} kind="textarea" required value={message} error={errors.message} onInput={setMessage} />
      <button class="primary" type="submit">
        {t('offline.submit')}
      </button>
    </form>
  );
}

// --- the conversation -------------------------------------------------------------------

function Conversation() {
  const log = useRef<HTMLDivElement>(null);
  const lines = chat.lines.value;
  const greeting = chat.site.value?.appearance.greeting;
  // An invitation the visitor opened opens the conversation: the first reply answers it.
  const invitation = chat.invitation.value;
  // Stay at the newest message as messages arrive, unless the visitor scrolled up to read.
  useEffect(() => {
    const el = log.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 160) el.scrollTop = el.scrollHeight;
  }, [lines.length, chat.agentTyping.value]);
  useEffect(() => {
    const el = log.current;
    if (el) el.scrollTop = el.scrollHeight;
    chat.markRead();
  }, []);
  const typing = chat.agentTyping.value;
  return (
    <>
      <div class="log" ref={log} role="log" aria-live="polite" aria-label={t('message.log')} tabIndex={0}>
        {greeting && !invitation && (
          <div class="line team greeting">
            <div class="bubble" dir="auto">
              {greeting}
            </div>
          </div>
        )}
        {invitation?.body && !chat.conversation.value && (
          <div class="line team invitation">
            <span class="who">{invitation.agent?.name ?? chat.site.value?.appearance.team_name}</span>
            <div class="bubble" dir="auto">
              {invitation.body}
            </div>
          </div>
        )}
        {lines.map((l) => (l.closedUntil ? <ClosedReply key={l.key} reopensAt={l.closedUntil.reopensAt} /> : <Bubble key={l.key} line={l} />))}
        {offlineSent.value && <p class="note">{t('offline.thanks')}</p>}
        <Place />
        {typing && (
          <p class="typing" aria-live="off">
            {typing.name ? t('message.typing', { name: `\u2068${typing.name}\u2069` }) : t('message.someone_typing')}
          </p>
        )}
      </div>
      {chat.resolved.value ? <Resolved /> : <Composer />}
    </>
  );
}

/** The automatic reply outside business hours, worded here: the visitor's language, and
 * the reopening time in the visitor's own time zone. */
function ClosedReply({ reopensAt }: { reopensAt: number | null }) {
  return (
    <p class="note hours" role="status">
      {t('hours.autoReply')} {reopensAt === null ? t('hours.later') : backAt(reopensAt)}
    </p>
  );
}

/** "You are number 3 in line · about 4 minutes", while the conversation waits for an agent. */
function Place() {
  const place = chat.queue.value;
  if (!place) return null;
  const wait = place.estimate;
  return (
    <p class="note queue" role="status">
      {t('queue.position', { n: place.position })}
      {wait != null && ` · ${wait < 60 ? t('queue.underMinute') : t('queue.about', { count: Math.round(wait / 60) })}`}
    </p>
  );
}

function Bubble({ line }: { line: chat.Line }) {
  const token = chat.token();
  return (
    <div class={`line ${line.mine ? 'mine' : 'team'}${line.state === 'failed' ? ' failed' : ''}`}>
      {!line.mine && line.author && (
        <span class="who">
          <Face agent={line.author} />
          <span dir="auto">{line.author.name}</span>
        </span>
      )}
      <div class="bubble" dir="auto">
        {line.body && <p>{formatText(line.body, line.format === 'markdown')}</p>}
        {line.attachments.map((a) =>
          a.content_type.startsWith('image/') ? (
            <a key={a.id} class="image" href={`${a.url}?token=${encodeURIComponent(token ?? '')}`} target="_blank" rel="noopener noreferrer">
              <img src={`${a.url}?token=${encodeURIComponent(token ?? '')}`} alt={a.filename} width={a.width ?? undefined} height={a.height ?? undefined} loading="lazy" />
            </a>
          ) : (
            <a key={a.id} class="file" href={`${a.url}?token=${encodeURIComponent(token ?? '')}`} target="_blank" rel="noopener noreferrer" dir="auto">
              {t('message.file', { name: a.filename, size: size(a.size) })}
            </a>
          ),
        )}
      </div>
      <span class="meta">
        <time dateTime={new Date(line.at).toISOString()}>{time(line.at)}</time>
        {line.state && line.state !== 'failed' && <span class={`state ${line.state}`}> · {t(`message.${line.state}`)}</span>}
      </span>
      {line.state === 'failed' && (
        <span class="failure" role="alert">
          {line.error ? errorText(line.error) : t('message.failed')}{' '}
          <button type="button" class="link" onClick={() => chat.retry(line.key)}>
            {t('message.retry')}
          </button>{' '}
          <button type="button" class="link" onClick={() => chat.discard(line.key)}>
            {t('message.discard')}
          </button>
        </span>
      )}
    </div>
  );
}

function Resolved() {
  const given = chat.rating.value;
  const [score, setScore] = useState(0);
  const [comment, setComment] = useState('');
  return (
    <div class="resolved">
      <p>{t('resolved.closed')}</p>
      {given ? (
        <p role="status">{t('rating.thanks')}</p>
      ) : (
        <form
          class="rate"
          onSubmit={(e) => {
            e.preventDefault();
            if (score) chat.rate(score, comment);
          }}
        >
          <fieldset>
            <legend>{t('rating.ask')}</legend>
            <div class="stars">
              {[1, 2, 3, 4, 5].map((n) => (
                <label key={n} class={n <= score ? 'on' : ''}>
                  <input type="radio" name="score" value={n} checked={n === score} onChange={() => setScore(n)} />
                  <span aria-hidden="true">★</span>
                  <span class="sr">{t('rating.star', { count: n })}</span>
                </label>
              ))}
            </div>
          </fieldset>
          <label class="sr" for="rate-comment">
            {t('rating.comment')}
          </label>
          <textarea id="rate-comment" rows={2} dir="auto" maxLength={2000} placeholder={t('rating.comment')} value={comment} onInput={(e) => setComment((e.currentTarget as HTMLTextAreaElement).value)} />
          <button type="submit" class="primary" disabled={!score}>
            {t('rating.submit')}
          </button>
        </form>
      )}
      <Transcript />
      <button type="button" class="link" data-autofocus onClick={() => chat.startNew()}>
        {t('resolved.again')}
      </button>
    </div>
  );
}

function Transcript() {
  const [email, setEmail] = useState(prefill.value.email);
  const [error, setError] = useState<string | null>(null);
  const [sentTo, setSentTo] = useState<string | null>(null);
  if (chat.transcriptRequested.value && sentTo) return <p role="status">{t('transcript.done', { email: `\u2068${sentTo}\u2069` })}</p>;
  return (
    <details class="transcript">
      <summary>{t('transcript.ask')}</summary>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const bad = invalid('email', email, true);
          setError(bad);
          if (bad) return;
          setSentTo(email.trim());
          chat.transcript(email);
        }}
        noValidate
      >
        <Field id="t-email" label={t('transcript.email')} kind="email" required value={email} error={error} onInput={setEmail} />
        <button type="submit" class="primary">
          {t('transcript.submit')}
        </button>
      </form>
    </details>
  );
}

interface Upload {
  key: string;
  name: string;
  /** A local preview of an image, until it is sent. */
  preview: string | null;
  attachment: chat.Attachment | null;
  error: string | null;
}

async function upload(file: File): Promise<chat.Attachment> {
  const site = new URLSearchParams(location.search).get('site') ?? decodeURIComponent(location.pathname.split('/')[2] ?? '');
  const form = new FormData();
  form.append('file', file, file.name);
  let r: Response;
  try {
    r = await fetch(`/api/v1/widget/${encodeURIComponent(site)}/attachments`, {
      method: 'POST',
      headers: { authorization: `Visitor ${chat.token() ?? ''}` },
      body: form,
    });
  } catch {
    throw new Error(errorText('unavailable'));
  }
  if (r.ok) return (await r.json()) as chat.Attachment;
  const body = (await r.json().catch(() => ({}))) as { code?: string };
  throw new Error(errorText(body.code ?? (r.status === 413 ? 'payload_too_large' : 'internal')));
}

function Composer() {
  const [text, setText] = useState(prefill.value.message);
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [dragging, setDragging] = useState(false);
  const input = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  const typingSince = useRef(0);
  const stopTyping = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const add = (files: FileList | File[] | null) => {
    for (const file of Array.from(files ?? [])) {
      const key = `${file.name}-${Math.random()}`;
      const preview = file.type.startsWith('image/') ? URL.createObjectURL(file) : null;
      setUploads((u) => [...u, { key, name: file.name, preview, attachment: null, error: null }]);
      upload(file).then(
        (attachment) => setUploads((u) => u.map((x) => (x.key === key ? { ...x, attachment } : x))),
        (e: Error) => setUploads((u) => u.map((x) => (x.key === key ? { ...x, error: e.message } : x))),
      );
    }
  };
  const ready = uploads.filter((u) => u.attachment).map((u) => u.attachment!);
  const busy = uploads.some((u) => !u.attachment && !u.error);
  const submit = (e?: Event) => {
    e?.preventDefault();
    if (busy || (!text.trim() && ready.length === 0)) return;
    chat.say(text, ready);
    setText('');
    for (const u of uploads) if (u.preview) URL.revokeObjectURL(u.preview);
    setUploads([]);
    clearTimeout(stopTyping.current);
    typingSince.current = 0;
    chat.typing(false);
    input.current?.focus();
  };
  const onInput = (value: string) => {
    setText(value);
    const now = Date.now();
    if (now - typingSince.current > 3000) {
      typingSince.current = now;
      chat.typing(true);
    }
    clearTimeout(stopTyping.current);
    stopTyping.current = setTimeout(() => {
      typingSince.current = 0;
      chat.typing(false);
    }, 4000);
  };
  /** A picked emoji goes where the caret was (or replaces the selection). */
  const insertEmoji = (emoji: string) => {
    const el = input.current;
    const [next, caret] = insertAt(text, emoji, el?.selectionStart ?? text.length, el?.selectionEnd ?? text.length);
    onInput(next);
    requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(caret, caret);
    });
  };
  useEffect(() => {
    const el = input.current;
    if (!el) return;
    el.style.blockSize = 'auto';
    el.style.blockSize = `${Math.min(el.scrollHeight, 120)}px`;
  }, [text]);

  return (
    <form
      class={`composer${dragging ? ' dragging' : ''}`}
      onSubmit={submit}
      onDragOver={(e) => {
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(e) => {
        e.preventDefault();
        setDragging(false);
        add(e.dataTransfer?.files ?? null);
      }}
    >
      {dragging && <p class="drop">{t('composer.drop')}</p>}
      {uploads.length > 0 && (
        <ul class="uploads">
          {uploads.map((u) => (
            <li key={u.key} class={u.error ? 'bad' : ''}>
              {u.preview && !u.error && <img class="thumb" src={u.preview} alt="" />}
              <span dir="auto">{u.attachment ? u.name : u.error ? u.name : t('composer.uploading', { name: u.name })}</span>
              {u.error && (
                <span class="invalid" role="alert">
                  {u.error}
                </span>
              )}
              <button
                type="button"
                class="icon"
                aria-label={t('composer.remove', { name: u.name })}
                onClick={() => setUploads((all) => all.filter((x) => x.key !== u.key))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      <div class="row">
        <button type="button" class="icon attach" aria-label={t('composer.attach')} onClick={() => picker.current?.click()}>
          <svg viewBox="0 0 24 24" aria-hidden="true">
            <path d="M21 11l-8.5 8.5a5 5 0 0 1-7-7L14 4a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L15 7" />
          </svg>
        </button>
        <EmojiButton onPick={insertEmoji} />
        <input ref={picker} type="file" multiple hidden onChange={(e) => add((e.currentTarget as HTMLInputElement).files)} />
        <textarea
          ref={input}
          data-autofocus
          rows={1}
          dir="auto"
          value={text}
          aria-label={t('composer.label')}
          placeholder={t('composer.placeholder')}
          onInput={(e) => onInput((e.currentTarget as HTMLTextAreaElement).value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) submit(e);
          }}
          onPaste={(e) => {
            const files = e.clipboardData?.files;
            if (files && files.length > 0) {
              e.preventDefault();
              add(files);
            }
          }}
        />
        <button type="submit" class="icon send" aria-label={t('composer.send')} disabled={busy}>
          <svg viewBox="0 0 24 24" aria-hidden="true">
            <path d="M4 12l16-8-6 16-2-6z" />
          </svg>
        </button>
      </div>
    </form>
  );
}
