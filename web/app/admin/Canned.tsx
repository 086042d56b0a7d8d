// Canned responses: replies an agent inserts by typing `/` and the shortcut in the
// composer. The server's rules, shown on each screen: workspace responses are shared by
// everyone and managed by owners and admins (in the settings); every agent manages
// their own personal ones (in their profile), which only they see. The variables the
// dashboard fills are listed beside the form so nobody has to guess them.

import { useState } from 'preact/hooks';
import { type Schemas, call, client } from '../api';
import { t } from '../i18n';
import { RowButton } from './table';
import { Empty, Field, FormDialog, Header, Loading, OfflineBanner, useConfirm, useLoad, useSubmit } from './ui';

type Canned = Schemas['CannedResponse'];
export const VARIABLES = ['{{contact.name}}', '{{agent.name}}', '{{site.name}}'];

type Scope = Schemas['CannedScope'];

/** The workspace's responses, as a settings section. */
export function Canned() {
  return (
    <section class="screen">
      <CannedList scope="workspace" />
    </section>
  );
}

/** The responses of one scope: the list (an agent's list holds both; one is shown). */
export function CannedList({ scope }: { scope: Scope }) {
  const list = useLoad(async () => (await call(client.GET('/api/v1/canned-responses'))).filter((c) => c.scope === scope), [scope]);
  const [editing, setEditing] = useState<Canned | 'new' | null>(null);
  const remove = useConfirm<Canned>({
    title: (c) => t('admin.canned.deleteWho', { shortcut: c.shortcut }),
    text: t('admin.canned.deleteText'),
    confirm: t('admin.delete'),
    run: (c) => call(client.DELETE('/api/v1/canned-responses/{id}', { params: { path: { id: c.id } } })),
    done: list.reload,
  });
  const newButton = (
    <button class="button primary" type="button" onClick={() => setEditing('new')}>
      {t('admin.canned.new')}
    </button>
  );
  return (
    <>
      {scope === 'workspace' ? (
        <Header title={t('admin.canned.title')} back="/app/settings">
          {newButton}
        </Header>
      ) : (
        <header class="screen-head">
          <h2 id="personal-canned-title">{t('admin.canned.personalTitle')}</h2>
          <div class="screen-actions">{newButton}</div>
        </header>
      )}
      {scope === 'workspace' && <OfflineBanner />}
      <p class="hint">{scope === 'workspace' ? t('admin.canned.hint') : t('admin.canned.personalHint')}</p>
      <Loading
        loaded={list.value}
        retry={list.reload}
        empty={<Empty title={t('admin.canned.emptyTitle')} text={scope === 'workspace' ? t('admin.canned.emptyText') : t('admin.canned.personalEmptyText')} />}
      >
        {(items) => (
          <ul class="cards">
            {items.map((c) => (
              <li key={c.id} class="card canned">
                <code dir="ltr">/{c.shortcut}</code>
                <p dir="auto" class="canned-body">
                  {c.body}
                </p>
                <span class="row-actions">
                  <RowButton label={t('admin.edit')} who={`/${c.shortcut}`} onClick={() => setEditing(c)} />
                  <RowButton danger label={t('admin.delete')} who={`/${c.shortcut}`} onClick={() => remove.ask(c)} />
                </span>
              </li>
            ))}
          </ul>
        )}
      </Loading>
      {editing && <CannedForm canned={editing === 'new' ? null : editing} scope={scope} onClose={() => setEditing(null)} onSaved={list.reload} />}
      {remove.dialog}
    </>
  );
}

function CannedForm({ canned, scope, onClose, onSaved }: { canned: Canned | null; scope: Scope; onClose: () => void; onSaved: () => void }) {
  const [shortcut, setShortcut] = useState(canned?.shortcut ?? '');
  const [body, setBody] = useState(canned?.body ?? '');
  const { busy, error, run, fieldError } = useSubmit();
  return (
    <FormDialog
      title={canned ? t('admin.canned.editWho', { shortcut: canned.shortcut }) : t('admin.canned.new')}
      submit={t('admin.save')}
      busy={busy}
      error={error}
      onClose={onClose}
      onSubmit={async () => {
        const request = { shortcut, body };
        const saved = await run(() =>
          canned
            ? call(client.PATCH('/api/v1/canned-responses/{id}', { params: { path: { id: canned.id } }, body: request }))
            : call(client.POST('/api/v1/canned-responses', { body: { ...request, scope } })),
        );
        if (saved) onSaved();
        return !!saved;
      }}
    >
      <Field label={t('admin.canned.shortcut')} hint={t('admin.canned.shortcutHint')} error={fieldError('shortcut')}>
        {(a) => <input {...a} value={shortcut} dir="ltr" required maxLength={50} pattern="[A-Za-z0-9_\-]+" onInput={(e) => setShortcut(e.currentTarget.value)} />}
      </Field>
      <Field label={t('admin.canned.body')} hint={t('admin.canned.variables', { list: VARIABLES.join('  ') })} error={fieldError('body')}>
        {(a) => <textarea {...a} rows={5} dir="auto" value={body} required onInput={(e) => setBody(e.currentTarget.value)} />}
      </Field>
    </FormDialog>
  );
}
