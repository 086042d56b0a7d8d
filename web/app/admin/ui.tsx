// The pieces every settings screen shares, so each one has the same states: loading,
// error with a retry, empty, offline; server field errors beside their field; a modal
// confirmation for destructive actions; a copy button that says it copied.

import type { ComponentChildren, JSX } from 'preact';
import { useCallback, useEffect, useId, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api';
import { errorText, i18n, t } from '../i18n';
import { online } from '../online';

/** Turns anything thrown into an `ApiError` (the code decides the sentence shown). */
export function asApiError(failure: unknown): ApiError {
  return failure instanceof ApiError ? failure : new ApiError(0, 'internal', String(failure));
}

export type Loaded<T> =
  | { state: 'loading' }
  | { state: 'error'; error: ApiError }
  | { state: 'ready'; data: T };

/** Loads once per `deps`; `reload()` loads again, `set()` replaces what was loaded. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [value, setValue] = useState<Loaded<T>>({ state: 'loading' });
  const generation = useRef(0);
  const reload = useCallback(() => {
    const mine = ++generation.current;
    load().then(
      (data) => mine === generation.current && setValue({ state: 'ready', data }),
      (failure) => mine === generation.current && setValue({ state: 'error', error: asApiError(failure) }),
    );
  }, deps);
  useEffect(() => {
    setValue({ state: 'loading' });
    reload();
  }, [reload]);
  const set = useCallback((data: T) => setValue({ state: 'ready', data }), []);
  return { value, reload, set };
}

/**
 * Renders `children(data)` once loaded; the loading and error states otherwise. A list
 * that loaded empty shows `empty` instead, when given.
 */
export function Loading<T>({
  loaded,
  retry,
  empty,
  children,
}: {
  loaded: Loaded<T>;
  retry: () => void;
  empty?: ComponentChildren;
  children: (data: T) => ComponentChildren;
}) {
  if (loaded.state === 'loading') {
    return (
      <div class="state" role="status" aria-live="polite">
        <span class="spinner" aria-hidden="true" />
        <span>{t('shell.loading')}</span>
      </div>
    );
  }
  if (loaded.state === 'error') {
    return (
      <div class="state state-error" role="alert">
        <p>{errorText(loaded.error.code)}</p>
        <button class="button" type="button" onClick={retry}>
          {t('admin.retry')}
        </button>
      </div>
    );
  }
  if (empty !== undefined && Array.isArray(loaded.data) && loaded.data.length === 0) return <>{empty}</>;
  return <>{children(loaded.data)}</>;
}

/** What an empty list says, with the next thing to do. */
export function Empty({ title, text, children }: { title: string; text: string; children?: ComponentChildren }) {
  return (
    <div class="state state-empty">
      <p class="state-title">{title}</p>
      <p class="muted">{text}</p>
      {children}
    </div>
  );
}

/** Shown above every settings screen while the browser is offline. */
export function OfflineBanner() {
  return online.value ? null : (
    <p class="banner banner-warn" role="status">
      {t('admin.offline')}
    </p>
  );
}

/** The heading row of a screen: title, an optional back link (phone), actions. */
export function Header({ title, back, level = 2, children }: { title: string; back?: string; level?: 1 | 2; children?: ComponentChildren }) {
  const Heading = level === 1 ? 'h1' : 'h2';
  return (
    <header class="screen-head">
      {back && (
        // The way back to the list of sections is only needed at phone width.
        <a class={`button ghost back ${back === '/app/settings' ? 'to-index' : ''}`} href={back}>
          <span aria-hidden="true" class="mirror-text">
            ←
          </span>{' '}
          {t('admin.back')}
        </a>
      )}
      <Heading>{title}</Heading>
      <div class="screen-actions">{children}</div>
    </header>
  );
}

/**
 * A form's failure: `busy` while it runs, the error sentence for the form and the
 * server's field errors by field name (the server names fields like `appearance.color`).
 */
export function useSubmit() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const run = useCallback(async <T,>(work: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await work();
    } catch (failure) {
      setError(asApiError(failure));
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  const fieldError = (field: string) => error?.fields.find((f) => f.field === field || f.field.endsWith(`.${field}`)) ?? null;
  return { busy, error, run, fieldError, clear: () => setError(null) };
}

/** The form's error sentence, announced. Field errors are shown beside their fields. */
export function FormError({ error }: { error: ApiError | null }) {
  if (!error) return null;
  return (
    <p class="form-error" role="alert">
      {errorText(error.code)}
    </p>
  );
}

/**
 * The end of a settings form: the form's error, its submit button (`label`, "Save" by
 * default), any other actions, and "Saved." announced once the server took it.
 */
export function SaveBar({
  error,
  busy,
  saved,
  label,
  sticky = false,
  children,
}: {
  error: ApiError | null;
  busy: boolean;
  saved: boolean;
  label?: string;
  sticky?: boolean;
  children?: ComponentChildren;
}) {
  return (
    <>
      <FormError error={error} />
      <div class={sticky ? 'form-actions sticky-actions' : 'form-actions'}>
        <button class="button primary" type="submit" disabled={busy}>
          {label ?? t('admin.save')}
        </button>
        {children}
        <span role="status" class="muted">
          {saved ? t('admin.saved') : ''}
        </span>
      </div>
    </>
  );
}

/**
 * A labelled control with a hint and, when the server refused it, the reason beside it
 * (`aria-invalid` and `aria-describedby` point at it). `children` receives the ids.
 */
export function Field({
  label,
  hint,
  error,
  children,
}: {
  label: string;
  hint?: string;
  error?: { message: string } | null;
  children: (a: { id: string; 'aria-describedby'?: string; 'aria-invalid'?: 'true' }) => ComponentChildren;
}) {
  const id = useId();
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children({ id, ...(described ? { 'aria-describedby': described } : {}), ...(error ? { 'aria-invalid': 'true' as const } : {}) })}
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p class="field-error" id={`${id}-error`}>
          {t('admin.fieldRefused')}
        </p>
      )}
    </div>
  );
}

/**
 * A confirmation in a modal dialog (Esc cancels, focus stays inside). `onConfirm` may
 * fail: its error is shown in the dialog and the dialog stays open.
 */
export function Confirm({
  title,
  text,
  confirm,
  danger = true,
  onConfirm,
  onClose,
  children,
}: {
  title: string;
  text: string;
  confirm: string;
  danger?: boolean;
  onConfirm: () => Promise<unknown>;
  onClose: () => void;
  children?: ComponentChildren;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const { busy, error, run } = useSubmit();
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  async function yes(e: Event) {
    e.preventDefault();
    const done = await run(async () => {
      await onConfirm();
      return true;
    });
    if (done) onClose();
  }
  return (
    <dialog ref={ref} class="dialog" aria-labelledby="confirm-title" onClose={onClose}>
      <form method="dialog" onSubmit={yes}>
        <h2 id="confirm-title">{title}</h2>
        <p>{text}</p>
        {children}
        <FormError error={error} />
        <div class="dialog-actions">
          <button class="button" type="button" onClick={() => ref.current?.close()}>
            {t('admin.cancel')}
          </button>
          <button class={`button ${danger ? 'danger-solid' : 'primary'}`} type="submit" disabled={busy}>
            {confirm}
          </button>
        </div>
      </form>
    </dialog>
  );
}

/**
 * A destructive action on one item, asked first: `ask(item)` opens the confirmation
 * (`title` names the item), `dialog` is what to render where it goes (nothing until asked).
 * `done` runs once `run` succeeded (a failure stays in the dialog).
 */
export function useConfirm<T>({
  title,
  text,
  confirm,
  run,
  done,
}: {
  title: (item: T) => string;
  text: string;
  confirm: string;
  run: (item: T) => Promise<unknown>;
  done: () => void;
}) {
  const [asked, setAsked] = useState<{ item: T } | null>(null);
  const act = async (item: T) => {
    await run(item);
    done();
  };
  const dialog = asked && <Confirm title={title(asked.item)} text={text} confirm={confirm} onClose={() => setAsked(null)} onConfirm={() => act(asked.item)} />;
  return { ask: (item: T) => setAsked({ item }), dialog };
}

/** A modal form: the same dialog behaviour as `Confirm`, with fields. */
export function FormDialog({
  title,
  submit,
  onClose,
  busy,
  error,
  onSubmit,
  children,
}: {
  title: string;
  submit: string;
  busy: boolean;
  error: ApiError | null;
  onClose: () => void;
  onSubmit: () => Promise<boolean>;
  children: ComponentChildren;
}) {
  return (
    <dialog
      class="dialog"
      aria-labelledby="form-dialog-title"
      ref={(el) => {
        if (el && !el.open) el.showModal();
      }}
      onClose={onClose}
    >
      <form
        class="form"
        onSubmit={async (e) => {
          e.preventDefault();
          if (await onSubmit()) onClose();
        }}
      >
        <h2 id="form-dialog-title">{title}</h2>
        {children}
        <FormError error={error} />
        <div class="dialog-actions">
          <button class="button" type="button" onClick={onClose}>
            {t('admin.cancel')}
          </button>
          <button class="button primary" type="submit" disabled={busy}>
            {submit}
          </button>
        </div>
      </form>
    </dialog>
  );
}

/** Copies `text` and says so for a moment (announced to screen readers). */
export function CopyButton({ text, label, small = false }: { text: string; label: string; small?: boolean }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const timer = setTimeout(() => setState('idle'), 2000);
    return () => clearTimeout(timer);
  }, [state]);
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setState('copied');
    } catch {
      setState('failed');
    }
  }
  return (
    <span class="copy">
      <button class={small ? 'button small' : 'button'} type="button" onClick={copy}>
        {label}
      </button>
      <span role="status" aria-live="polite" class="copy-status">
        {state === 'copied' ? t('admin.copied') : state === 'failed' ? t('admin.copyFailed') : ''}
      </span>
    </span>
  );
}

/** A read-only block of code, selectable as a whole, left to right in every language. */
export function CodeBlock({ code, label }: { code: string; label: string }) {
  return (
    <pre class="code" dir="ltr" tabIndex={0} aria-label={label}>
      <code>{code}</code>
    </pre>
  );
}

/** A date in the agent's language. */
export function When({ at }: { at: number }): JSX.Element {
  return <time dateTime={new Date(at).toISOString()}>{i18n.value?.date(at, { year: 'numeric', month: 'short', day: 'numeric' })}</time>;
}
