// Full-text search across transcripts and contacts: hits with the matched words
// highlighted (as text, never HTML), each opening its conversation at the hit.

import { signal } from '@preact/signals';
import { useRef } from 'preact/hooks';
import { ApiError, type Schemas, call, client } from '../api';
import { errorText, i18n, t } from '../i18n';

export const searchQuery = signal('');
export const results = signal<{ q: string; data: Schemas['SearchResults'] | null; error: string | null; loading: boolean } | null>(null);
export const focusSearch = signal(0);

export async function runSearch(q: string) {
  const query = q.trim();
  if (!query) {
    results.value = null;
    return;
  }
  results.value = { q: query, data: null, error: null, loading: true };
  try {
    const data = await call(client.GET('/api/v1/search', { params: { query: { q: query, limit: 30 } } }));
    if (results.value?.q === query) results.value = { q: query, data, error: null, loading: false };
  } catch (e) {
    if (results.value?.q === query) results.value = { q: query, data: null, error: errorText(e instanceof ApiError ? e.code : 'internal'), loading: false };
  }
}

export function SearchBox() {
  const input = useRef<HTMLInputElement>(null);
  if (focusSearch.value && input.current && document.activeElement !== input.current) queueMicrotask(() => input.current?.focus());
  return (
    <form role="search" class="search" onSubmit={(e) => { e.preventDefault(); void runSearch(searchQuery.value); }}>
      <input
        ref={input}
        id="inbox-search"
        type="search"
        dir="auto"
        value={searchQuery.value}
        aria-label={t('inbox.search.label')}
        placeholder={t('inbox.search.placeholder')}
        onInput={(e) => { searchQuery.value = e.currentTarget.value; if (!e.currentTarget.value) results.value = null; }}
        onKeyDown={(e) => { if (e.key === 'Escape') { searchQuery.value = ''; results.value = null; e.currentTarget.blur(); } }}
      />
    </form>
  );
}

/** Text with every occurrence of the query's words wrapped in `<mark>`. */
export function Highlight({ text, q }: { text: string; q: string }) {
  const words = q.split(/\s+/).filter(Boolean).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  if (!words.length) return <>{text}</>;
  const parts = text.split(new RegExp(`(${words.join('|')})`, 'giu'));
  return <>{parts.map((p, i) => (i % 2 ? <mark key={i}>{p}</mark> : p))}</>;
}

/** The server's snippet: hits sit between U+0001 and U+0002; every part is plain text. */
export function Snippet({ text }: { text: string }) {
  const parts: preact.ComponentChild[] = [];
  text.split('\u0001').forEach((chunk, i) => {
    if (i === 0) return parts.push(chunk);
    const [hit = '', rest = ''] = chunk.split('\u0002');
    parts.push(<mark key={i}>{hit}</mark>, rest);
  });
  return <>{parts}</>;
}

export function SearchResults({ onOpen }: { onOpen: (id: string, seq?: number) => void }) {
  const r = results.value;
  if (!r) return null;
  const openContact = async (contactId: string) => {
    const page = await call(client.GET('/api/v1/conversations', { params: { query: { contact_id: contactId, limit: 1 } } })).catch(() => null);
    const first = page?.items[0];
    if (first) onOpen(first.id);
  };
  return (
    <section class="search-results" aria-label={t('inbox.search.results')} aria-busy={r.loading}>
      <div class="card-head">
        <h2>{t('inbox.search.results')}</h2>
        <button type="button" class="link-button" onClick={() => { results.value = null; searchQuery.value = ''; }}>{t('inbox.search.close')}</button>
      </div>
      {r.loading && <span class="spinner small" role="status" aria-label={t('shell.loading')} />}
      {r.error && <p role="alert" class="form-error">{r.error}</p>}
      {r.data && r.data.hits.length === 0 && r.data.contacts.length === 0 && <p class="muted">{t('inbox.search.none')}</p>}
      {r.data && r.data.contacts.length > 0 && (
        <ul class="hits">
          {r.data.contacts.map((c) => (
            <li key={c.id}>
              <button type="button" class="hit-button" onClick={() => void openContact(c.id)}>
                <strong dir="auto"><Highlight text={c.name || c.email || '—'} q={r.q} /></strong>
                {c.email && <span class="muted" dir="ltr"><Highlight text={c.email} q={r.q} /></span>}
              </button>
            </li>
          ))}
        </ul>
      )}
      {r.data && r.data.hits.length > 0 && (
        <ul class="hits">
          {r.data.hits.map((h) => (
            <li key={h.message.id}>
              <button type="button" class="hit-button" onClick={() => onOpen(h.conversation_id, h.seq)}>
                <span dir="auto" class="hit-text"><Snippet text={h.snippet} /></span>
                <time class="muted">{i18n.value?.date(h.message.created_at)}</time>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
