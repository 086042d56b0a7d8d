// Labels the workspace manages: a name agents put on conversations, a colour to tell
// them apart in lists, and a description saying when to use it. Owners and admins
// manage them; labels already on conversations keep working when one is renamed away.

import { useState } from 'preact/hooks';
import { type Schemas, call, client } from '../api';
import { t } from '../i18n';
import { textOn } from './SitePreview';
import { RowButton } from './table';
import { Empty, Field, FormDialog, Header, Loading, OfflineBanner, useConfirm, useLoad, useSubmit } from './ui';

type Label = Schemas['Label'];

export function Labels() {
  const labels = useLoad(() => call(client.GET('/api/v1/labels')), []);
  const [editing, setEditing] = useState<Label | 'new' | null>(null);
  const remove = useConfirm<Label>({
    title: (l) => t('admin.labels.deleteTitle', { name: l.name }),
    text: t('admin.labels.deleteText'),
    confirm: t('admin.delete'),
    run: (l) => call(client.DELETE('/api/v1/labels/{name}', { params: { path: { name: l.name } } })),
    done: labels.reload,
  });
  return (
    <section class="screen">
      <Header title={t('admin.labels.title')} back="/app/settings">
        <button class="button primary" type="button" onClick={() => setEditing('new')}>
          {t('admin.labels.new')}
        </button>
      </Header>
      <OfflineBanner />
      <Loading loaded={labels.value} retry={labels.reload} empty={<Empty title={t('admin.labels.emptyTitle')} text={t('admin.labels.emptyText')} />}>
        {(list) => (
          <ul class="cards">
            {list.map((l) => (
              <li key={l.name} class="card">
                <span class="label-chip" dir="ltr" style={{ background: l.color, color: textOn(l.color) }}>
                  {l.name}
                </span>
                <p class="muted label-description" dir="auto">
                  {l.description || t('admin.labels.noDescription')}
                </p>
                <span class="row-actions">
                  <RowButton label={t('admin.edit')} who={l.name} onClick={() => setEditing(l)} />
                  <RowButton danger label={t('admin.delete')} who={l.name} onClick={() => remove.ask(l)} />
                </span>
              </li>
            ))}
          </ul>
        )}
      </Loading>
      {editing && <LabelForm label={editing === 'new' ? null : editing} onClose={() => setEditing(null)} onSaved={labels.reload} />}
      {remove.dialog}
    </section>
  );
}

function LabelForm({ label, onClose, onSaved }: { label: Label | null; onClose: () => void; onSaved: () => void }) {
  const [name, setName] = useState(label?.name ?? '');
  const [color, setColor] = useState(label?.color ?? '#6e7781');
  const [description, setDescription] = useState(label?.description ?? '');
  const { busy, error, run, fieldError } = useSubmit();
  return (
    <FormDialog
      title={label ? t('admin.labels.editWho', { name: label.name }) : t('admin.labels.new')}
      submit={t('admin.save')}
      busy={busy}
      error={error}
      onClose={onClose}
      onSubmit={async () => {
        const body = { name, color, description };
        const saved = await run(() =>
          label
            ? call(client.PATCH('/api/v1/labels/{name}', { params: { path: { name: label.name } }, body }))
            : call(client.POST('/api/v1/labels', { body })),
        );
        if (saved) onSaved();
        return !!saved;
      }}
    >
      <Field label={t('admin.labels.name')} hint={t('admin.labels.nameHint')} error={fieldError('name')}>
        {(a) => <input {...a} value={name} dir="ltr" required maxLength={50} pattern="[A-Za-z0-9_\-]+" onInput={(e) => setName(e.currentTarget.value)} />}
      </Field>
      <Field label={t('admin.labels.color')} error={fieldError('color')}>
        {(a) => (
          <span class="color-pair">
            <input type="color" value={color.length === 7 ? color : '#6e7781'} aria-label={t('admin.labels.colorPicker')} onInput={(e) => setColor(e.currentTarget.value)} />
            <input {...a} value={color} dir="ltr" required pattern="#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})" onInput={(e) => setColor(e.currentTarget.value)} />
          </span>
        )}
      </Field>
      <Field label={t('admin.labels.description')} error={fieldError('description')}>
        {(a) => <textarea {...a} rows={2} dir="auto" value={description} maxLength={500} onInput={(e) => setDescription(e.currentTarget.value)} />}
      </Field>
    </FormDialog>
  );
}
