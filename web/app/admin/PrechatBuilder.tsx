// The pre-chat form builder: the fields a visitor fills before the first message, in
// order. Each field has a label, a key (`name`, `email`, `phone` fill the contact; any
// other key becomes a custom attribute), a kind, whether it is required, and for a
// `select` its options, or for a `team` the teams offered (the visitor's choice routes
// the conversation to that team; the server checks it is one of them). Fields move up and down with buttons, so the order is keyboard
// operable without drag and drop. Choices are kept as typed (blank lines too, so Enter
// works) and cleaned when the site is saved (`cleanForm`).

import type { Schemas } from '../api';
import { t } from '../i18n';

type PrechatField = Schemas['PrechatField'];
const KINDS: Schemas['PrechatFieldKind'][] = ['text', 'email', 'phone', 'select', 'team'];

export function PrechatBuilder({
  fields,
  teams,
  onChange,
  invalid,
}: {
  fields: PrechatField[];
  teams: Schemas['Team'][];
  onChange: (fields: PrechatField[]) => void;
  invalid: boolean;
}) {
  const update = (i: number, patch: Partial<PrechatField>) => onChange(fields.map((f, j) => (j === i ? { ...f, ...patch } : f)));
  const move = (i: number, by: -1 | 1) => {
    const next = [...fields];
    const [taken] = next.splice(i, 1);
    next.splice(i + by, 0, taken!);
    onChange(next);
  };
  const add = () => {
    const used = new Set(fields.map((f) => f.key));
    const key = ['name', 'email', 'phone'].find((k) => !used.has(k)) ?? `field_${fields.length + 1}`;
    const kind: PrechatField['kind'] = key === 'email' ? 'email' : key === 'phone' ? 'phone' : 'text';
    onChange([...fields, { key, kind, label: t(`admin.prechat.default.${key.startsWith('field_') ? 'custom' : key}`), required: false, options: [] }]);
  };
  return (
    <div class="prechat" aria-invalid={invalid ? 'true' : undefined}>
      {fields.length === 0 ? (
        <p class="muted">{t('admin.prechat.none')}</p>
      ) : (
        <ol class="prechat-list">
          {fields.map((f, i) => {
            const n = i + 1;
            return (
              <li key={i} class="prechat-field">
                <fieldset>
                  <legend>{t('admin.prechat.fieldN', { n })}</legend>
                  <div class="grid-2">
                    <label>
                      {t('admin.prechat.label')}
                      <input value={f.label} maxLength={200} required onInput={(e) => update(i, { label: e.currentTarget.value })} />
                    </label>
                    <label>
                      {t('admin.prechat.key')}
                      <input value={f.key} maxLength={64} required dir="ltr" onInput={(e) => update(i, { key: e.currentTarget.value })} />
                    </label>
                    <label>
                      {t('admin.prechat.kind')}
                      <select
                        value={f.kind}
                        onChange={(e) => {
                          const kind = e.currentTarget.value as PrechatField['kind'];
                          // A team field offers every team until the admin narrows it down.
                          update(i, kind === 'team' ? { kind, options: teams.map((x) => x.id) } : { kind, options: f.kind === 'team' ? [] : f.options });
                        }}
                      >
                        {KINDS.map((k) => (
                          <option key={k} value={k}>
                            {t(`admin.prechat.kinds.${k}`)}
                          </option>
                        ))}
                      </select>
                    </label>
                    <label class="check">
                      <input type="checkbox" checked={f.required ?? false} onChange={(e) => update(i, { required: e.currentTarget.checked })} />
                      {t('admin.prechat.required')}
                    </label>
                  </div>
                  {f.kind === 'select' && (
                    <div class="field">
                      <label for={`prechat-${i}-options`}>{t('admin.prechat.options')}</label>
                      <textarea
                        id={`prechat-${i}-options`}
                        rows={3}
                        value={(f.options ?? []).join('\n')}
                        required
                        aria-describedby={`prechat-${i}-options-hint`}
                        onInput={(e) => update(i, { options: e.currentTarget.value.split('\n') })}
                      />
                      <span class="hint" id={`prechat-${i}-options-hint`}>
                        {t('admin.prechat.optionsHint')}
                      </span>
                    </div>
                  )}
                  {f.kind === 'team' && (
                    <fieldset class="team-options">
                      <legend>{t('admin.prechat.teams')}</legend>
                      {teams.length === 0 ? (
                        <p class="hint">{t('admin.prechat.noTeams')}</p>
                      ) : (
                        teams.map((x) => (
                          <label key={x.id} class="check">
                            <input
                              type="checkbox"
                              checked={(f.options ?? []).includes(x.id)}
                              onChange={(e) =>
                                update(i, { options: e.currentTarget.checked ? [...(f.options ?? []), x.id] : (f.options ?? []).filter((o) => o !== x.id) })
                              }
                            />
                            {x.name}
                          </label>
                        ))
                      )}
                      <p class="hint">{t('admin.prechat.teamsHint')}</p>
                    </fieldset>
                  )}
                  <div class="row-actions">
                    <button class="button small" type="button" disabled={i === 0} onClick={() => move(i, -1)} aria-label={t('admin.prechat.moveUp', { n })}>
                      ↑
                    </button>
                    <button
                      class="button small"
                      type="button"
                      disabled={i === fields.length - 1}
                      onClick={() => move(i, 1)}
                      aria-label={t('admin.prechat.moveDown', { n })}
                    >
                      ↓
                    </button>
                    <button class="button small danger" type="button" onClick={() => onChange(fields.filter((_, j) => j !== i))}>
                      {t('admin.prechat.remove', { n })}
                    </button>
                  </div>
                </fieldset>
              </li>
            );
          })}
        </ol>
      )}
      <button class="button" type="button" onClick={add}>
        {t('admin.prechat.add')}
      </button>
    </div>
  );
}

/** The form as it is saved: choices trimmed, blank ones dropped, team ids kept, none on other kinds. */
export function cleanForm(fields: PrechatField[]): PrechatField[] {
  return fields.map((f) => ({
    ...f,
    options: f.kind === 'select' ? (f.options ?? []).map((o) => o.trim()).filter(Boolean) : f.kind === 'team' ? (f.options ?? []) : [],
  }));
}
