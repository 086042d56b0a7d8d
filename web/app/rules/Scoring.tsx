// The workspace's lead-scoring rules: points for pages, time on site, visits, tracked
// events and attributes, how fast points fade (half-life) and the score at which a new
// conversation is served first. Owners and admins save; the server checks every field.

import { useState } from 'preact/hooks';
import { type Schemas, call, client } from '../api';
import { t } from '../i18n';
import { Field, Header, Loading, OfflineBanner, SaveBar, useLoad, useSubmit } from '../admin/ui';
import { scalar } from './Rules';
import './rules.css';

type Scoring = Schemas['Scoring'];
type Rule = Schemas['ScoringRule'];

const KINDS: Rule['kind'][] = ['page', 'time_on_site', 'visits', 'event', 'attribute'];

function newRule(kind: Rule['kind']): Rule {
  switch (kind) {
    case 'page':
      return { kind, match: 'contains', value: '', points: 10 };
    case 'time_on_site':
      return { kind, minutes: 5, points: 5 };
    case 'visits':
      return { kind, at_least: 3, points: 10 };
    case 'event':
      return { kind, name: '', points: 20 };
    case 'attribute':
      return { kind, key: '', value: null, points: 5 };
  }
}

export function ScoringScreen() {
  const scoring = useLoad(() => call(client.GET('/api/v1/scoring')), []);
  return (
    <section class="screen rules" aria-labelledby="scoring-title">
      <Header title={t('rules.scoring.title')} back="/app/settings" />
      <OfflineBanner />
      <p class="hint">{t('rules.scoring.hint')}</p>
      <Loading loaded={scoring.value} retry={scoring.reload}>
        {(s) => <ScoringForm initial={s} onSaved={scoring.set} />}
      </Loading>
    </section>
  );
}

function ScoringForm({ initial, onSaved }: { initial: Scoring; onSaved: (s: Scoring) => void }) {
  const [draft, setDraft] = useState<Scoring>(initial);
  const [saved, setSaved] = useState(false);
  const { busy, error, run, fieldError } = useSubmit();
  const set = (patch: Partial<Scoring>) => {
    setSaved(false);
    setDraft({ ...draft, ...patch });
  };
  const setRule = (i: number, r: Rule) => set({ rules: draft.rules.map((x, j) => (j === i ? r : x)) });
  return (
    <form
      class="form"
      onSubmit={async (e) => {
        e.preventDefault();
        const done = await run(() => call(client.PUT('/api/v1/scoring', { body: draft })));
        if (done) {
          onSaved(done);
          setSaved(true);
        }
      }}
    >
      <fieldset class="rule-group scoring-rules">
        <legend>{t('rules.scoring.rules')}</legend>
        {draft.rules.length === 0 && <p class="muted">{t('rules.scoring.empty')}</p>}
        {draft.rules.map((r, i) => (
          <div class="rule-row" key={i}>
            <select aria-label={t('rules.scoring.kind')} value={r.kind} onChange={(e) => setRule(i, newRule(e.currentTarget.value as Rule['kind']))}>
              {KINDS.map((k) => <option key={k} value={k}>{t(`rules.scoring.kinds.${k}`)}</option>)}
            </select>
            <RuleInputs rule={r} onChange={(next) => setRule(i, next)} />
            <label class="inline">
              {t('rules.scoring.points')}
              <input type="number" name="points" min={-1000} max={1000} value={r.points} onInput={(e) => setRule(i, { ...r, points: Number(e.currentTarget.value) })} />
            </label>
            <button class="button small ghost" type="button" onClick={() => set({ rules: draft.rules.filter((_, j) => j !== i) })}>
              {t('rules.remove')}
            </button>
          </div>
        ))}
        {fieldError('rules') && <p class="field-error">{t('admin.fieldRefused')}</p>}
        <button class="button small" type="button" disabled={draft.rules.length >= 100} onClick={() => set({ rules: [...draft.rules, newRule('page')] })}>
          {t('rules.scoring.add')}
        </button>
      </fieldset>
      <Field label={t('rules.scoring.halfLife')} hint={t('rules.scoring.halfLifeHint')} error={fieldError('half_life_days')}>
        {(a) => (
          <input {...a} type="number" min={1} max={365} placeholder={t('rules.scoring.never')} value={draft.half_life_days ?? ''}
            onInput={(e) => set({ half_life_days: e.currentTarget.value ? Number(e.currentTarget.value) : null })} />
        )}
      </Field>
      <Field label={t('rules.scoring.priorityAt')} hint={t('rules.scoring.priorityAtHint')} error={fieldError('priority_at')}>
        {(a) => (
          <input {...a} type="number" name="priority-at" placeholder={t('rules.scoring.never')} value={draft.priority_at ?? ''}
            onInput={(e) => set({ priority_at: e.currentTarget.value ? Number(e.currentTarget.value) : null })} />
        )}
      </Field>
      <SaveBar error={error} busy={busy} saved={saved} />
    </form>
  );
}

function RuleInputs({ rule: r, onChange }: { rule: Rule; onChange: (r: Rule) => void }) {
  switch (r.kind) {
    case 'page':
      return (
        <span class="rule-inputs">
          <select aria-label={t('rules.match')} value={r.match} onChange={(e) => onChange({ ...r, match: e.currentTarget.value as Schemas['UrlMatch'] })}>
            {(['contains', 'equals', 'pattern'] as const).map((m) => <option key={m} value={m}>{t(`rules.matches.${m}`)}</option>)}
          </select>
          <input aria-label={t('rules.value')} name="page-value" dir="ltr" placeholder="/pricing" value={r.value} onInput={(e) => onChange({ ...r, value: e.currentTarget.value })} />
        </span>
      );
    case 'time_on_site':
      return <label class="inline">{t('rules.scoring.minutes')}<input type="number" min={1} value={r.minutes} onInput={(e) => onChange({ ...r, minutes: Number(e.currentTarget.value) })} /></label>;
    case 'visits':
      return <label class="inline">{t('rules.atLeast')}<input type="number" min={1} value={r.at_least} onInput={(e) => onChange({ ...r, at_least: Number(e.currentTarget.value) })} /></label>;
    case 'event':
      return <input aria-label={t('rules.eventName')} dir="ltr" placeholder="demo_booked" value={r.name} onInput={(e) => onChange({ ...r, name: e.currentTarget.value })} />;
    case 'attribute':
      return (
        <span class="rule-inputs">
          <input aria-label={t('rules.key')} dir="ltr" placeholder="company" value={r.key} onInput={(e) => onChange({ ...r, key: e.currentTarget.value })} />
          <input aria-label={t('rules.scoring.anyValue')} placeholder={t('rules.scoring.anyValue')} dir="auto" value={r.value == null ? '' : String(r.value)}
            onInput={(e) => onChange({ ...r, value: e.currentTarget.value ? scalar(e.currentTarget.value) : null })} />
        </span>
      );
  }
}
