// Proactive rules ("triggers") of a site: the list with how each did (fired, opened,
// answered, converted), and the editor for every condition and action kind with a live
// preview of the message as the visitor's widget shows it. Owners and admins change
// rules; the server checks every field and the editor shows its refusals in place.

import { useLocation } from 'preact-iso';
import { useState } from 'preact/hooks';
import { type Schemas, call, client } from '../api';
import { i18n, t } from '../i18n';
import { Confirm, Empty, Field, FormDialog, Header, Loading, OfflineBanner, useLoad, useSubmit } from '../admin/ui';
import './rules.css';

type Trigger = Schemas['Trigger'];
type TriggerRequest = Schemas['TriggerRequest'];
type Condition = Schemas['TriggerCondition'];
type Action = Schemas['TriggerAction'];
type Site = Schemas['Site'];
type Agent = Schemas['Agent'];

const CONDITIONS: Condition['kind'][] = [
  'time_on_page', 'time_on_site', 'url', 'pages', 'referrer', 'utm', 'returning', 'language', 'country',
  'identified', 'attribute', 'event', 'exit_intent', 'lead_score', 'agents_online', 'business_hours',
];
const ACTIONS: Action['kind'][] = ['message', 'open_widget', 'set_attributes', 'add_labels', 'set_priority'];
const MATCHES: Schemas['UrlMatch'][] = ['contains', 'equals', 'pattern'];
const UTM: Schemas['UtmField'][] = ['source', 'medium', 'campaign', 'term', 'content'];
const PRIORITIES: Schemas['Priority'][] = ['none', 'low', 'medium', 'high', 'urgent'];
const FREQUENCIES: Schemas['TriggerFrequency'][] = ['once_per_visit', 'once_per_visitor', 'every_days'];

/** A new condition of a kind, with sensible starting values. */
function newCondition(kind: Condition['kind']): Condition {
  switch (kind) {
    case 'time_on_page':
    case 'time_on_site':
      return { kind, seconds: 30 };
    case 'url':
    case 'referrer':
      return { kind, match: 'contains', value: '' };
    case 'pages':
      return { kind, at_least: 2 };
    case 'utm':
      return { kind, field: 'source', value: '' };
    case 'returning':
      return { kind, returning: true };
    case 'language':
      return { kind, languages: [] };
    case 'country':
      return { kind, countries: [] };
    case 'identified':
      return { kind, identified: true };
    case 'attribute':
      return { kind, key: '', value: scalar('') };
    case 'event':
      return { kind, name: '' };
    case 'exit_intent':
      return { kind };
    case 'lead_score':
      return { kind, at_least: 50 };
    case 'agents_online':
      return { kind, online: true };
    case 'business_hours':
      return { kind, open: true };
  }
}

function newAction(kind: Action['kind']): Action {
  switch (kind) {
    case 'message':
      return { kind, body: '', agent_id: null, typing_seconds: 2 };
    case 'open_widget':
      return { kind };
    case 'set_attributes':
      return { kind, attributes: {} };
    case 'add_labels':
      return { kind, labels: [] };
    case 'set_priority':
      return { kind, priority: 'high' };
  }
}

/**
 * An attribute value as the wire carries it: a string, number or boolean. The generated
 * schema types these `Object` (utoipa's `value_type = Object` in switchboard-proto), so
 * a scalar is passed through this one conversion.
 */
type AttributeJson = Extract<Condition, { kind: 'attribute' }>['value'];
export const scalar = (v: string): AttributeJson => v as unknown as AttributeJson;
type AttributesJson = Extract<Action, { kind: 'set_attributes' }>['attributes'];
const attributesJson = (pairs: [string, string][]): AttributesJson => Object.fromEntries(pairs) as unknown as AttributesJson;

const list = (raw: string) => raw.split(',').map((s) => s.trim()).filter(Boolean);

export function Rules({ id }: { id: string | undefined }) {
  const sites = useLoad(() => call(client.GET('/api/v1/sites')), []);
  return (
    <section class="screen rules" aria-labelledby="rules-title">
      <Header title={t('rules.title')} back="/app/settings" />
      <OfflineBanner />
      <p class="hint">{t('rules.hint')}</p>
      <Loading loaded={sites.value} retry={sites.reload}>
        {(all) =>
          all.length === 0 ? (
            <Empty title={t('rules.noSitesTitle')} text={t('rules.noSitesText')} />
          ) : (
            <SiteRules sites={all} site={all.find((s) => s.id === id) ?? all[0]!} />
          )
        }
      </Loading>
    </section>
  );
}

function SiteRules({ sites, site }: { sites: Site[]; site: Site }) {
  const rules = useLoad(() => call(client.GET('/api/v1/sites/{id}/triggers', { params: { path: { id: site.id } } })), [site.id]);
  const agents = useLoad(() => call(client.GET('/api/v1/agents')), []);
  const [editing, setEditing] = useState<Trigger | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Trigger | null>(null);
  const { route } = useLocation();
  const agentList = agents.value.state === 'ready' ? agents.value.data : [];
  const n = (v: number) => i18n.value?.number(v) ?? String(v);
  return (
    <>
      <div class="rules-bar">
        {sites.length > 1 && (
          <Field label={t('rules.site')}>
            {(a) => (
              <select {...a} value={site.id} onChange={(e) => route(`/app/settings/rules/${e.currentTarget.value}`)}>
                {sites.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}
        <button class="button primary" type="button" onClick={() => setEditing('new')}>
          {t('rules.new')}
        </button>
      </div>
      <Loading loaded={rules.value} retry={rules.reload}>
        {(found) =>
          found.length === 0 ? (
            <Empty title={t('rules.emptyTitle')} text={t('rules.emptyText')} />
          ) : (
            <ul class="rule-list">
              {found.map((r) => (
                <li key={r.id} class={`card rule ${r.enabled ? '' : 'inactive'}`}>
                  <div class="rule-head">
                    <h3 dir="auto">{r.name}</h3>
                    <span class={`pill ${r.enabled ? 'on' : 'off'}`}>{r.enabled ? t('rules.enabled') : t('rules.disabled')}</span>
                  </div>
                  <p class="muted rule-summary">
                    {t('rules.summary', { conditions: r.conditions.length, actions: r.actions.length })} · {t(`rules.frequencies.${r.frequency}`, { days: r.every_days ?? 0 })}
                  </p>
                  <dl class="rule-stats">
                    <div><dt>{t('rules.stats.fired')}</dt><dd>{n(r.stats.fired)}</dd></div>
                    <div><dt>{t('rules.stats.opened')}</dt><dd>{n(r.stats.opened)}</dd></div>
                    <div><dt>{t('rules.stats.answered')}</dt><dd>{n(r.stats.answered)}</dd></div>
                    <div><dt>{t('rules.stats.converted')}</dt><dd>{n(r.stats.converted)}</dd></div>
                  </dl>
                  <div class="row-actions">
                    <button class="button small" type="button" onClick={() => setEditing(r)}>
                      {t('rules.edit')}<span class="visually-hidden"> {r.name}</span>
                    </button>
                    <button
                      class="button small"
                      type="button"
                      onClick={async () => {
                        await call(client.PUT('/api/v1/triggers/{id}', { params: { path: { id: r.id } }, body: { ...request(r), enabled: !r.enabled } }));
                        rules.reload();
                      }}
                    >
                      {r.enabled ? t('rules.disable') : t('rules.enable')}
                    </button>
                    <button class="button small danger" type="button" onClick={() => setDeleting(r)}>
                      {t('rules.delete')}<span class="visually-hidden"> {r.name}</span>
                    </button>
                  </div>
                </li>
              ))}
            </ul>
          )
        }
      </Loading>
      {editing && (
        <RuleForm site={site} agents={agentList} rule={editing === 'new' ? null : editing} onClose={() => setEditing(null)} onSaved={rules.reload} />
      )}
      {deleting && (
        <Confirm
          title={t('rules.deleteTitle', { name: deleting.name })}
          text={t('rules.deleteText')}
          confirm={t('rules.delete')}
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await call(client.DELETE('/api/v1/triggers/{id}', { params: { path: { id: deleting.id } } }));
            rules.reload();
          }}
        />
      )}
    </>
  );
}

function request(r: Trigger): TriggerRequest {
  return { name: r.name, enabled: r.enabled, conditions: r.conditions, actions: r.actions, frequency: r.frequency, every_days: r.every_days ?? null };
}

function RuleForm({ site, agents, rule, onClose, onSaved }: { site: Site; agents: Agent[]; rule: Trigger | null; onClose: () => void; onSaved: () => void }) {
  const [draft, setDraft] = useState<TriggerRequest>(
    rule ? request(rule) : { name: '', enabled: true, conditions: [newCondition('time_on_page')], actions: [newAction('message')], frequency: 'once_per_visit', every_days: null },
  );
  const { busy, error, run, fieldError } = useSubmit();
  const set = (patch: Partial<TriggerRequest>) => setDraft({ ...draft, ...patch });
  const setCondition = (i: number, c: Condition) => set({ conditions: draft.conditions.map((x, j) => (j === i ? c : x)) });
  const setAction = (i: number, a: Action) => set({ actions: draft.actions.map((x, j) => (j === i ? a : x)) });
  const message = draft.actions.find((a): a is Extract<Action, { kind: 'message' }> => a.kind === 'message');
  return (
    <FormDialog
      title={rule ? t('rules.editTitle') : t('rules.new')}
      submit={t('rules.save')}
      busy={busy}
      error={error}
      onClose={onClose}
      onSubmit={async () => {
        const saved = await run(() =>
          rule
            ? call(client.PUT('/api/v1/triggers/{id}', { params: { path: { id: rule.id } }, body: draft }))
            : call(client.POST('/api/v1/sites/{id}/triggers', { params: { path: { id: site.id } }, body: draft })),
        );
        if (saved) onSaved();
        return !!saved;
      }}
    >
      <div class="rule-editor">
        <div class="rule-fields">
          <Field label={t('rules.name')} error={fieldError('name')}>
            {(a) => <input {...a} name="rule-name" dir="auto" required maxLength={100} value={draft.name} onInput={(e) => set({ name: e.currentTarget.value })} />}
          </Field>
          <label class="check">
            <input type="checkbox" checked={draft.enabled} onChange={(e) => set({ enabled: e.currentTarget.checked })} /> {t('rules.enabled')}
          </label>
          <Field label={t('rules.frequency')} error={fieldError('every_days')}>
            {(a) => (
              <select {...a} value={draft.frequency} onChange={(e) => {
                const frequency = e.currentTarget.value as TriggerRequest['frequency'];
                set({ frequency, every_days: frequency === 'every_days' ? (draft.every_days ?? 7) : null });
              }}>
                {FREQUENCIES.map((f) => <option key={f} value={f}>{t(`rules.frequencyKinds.${f}`)}</option>)}
              </select>
            )}
          </Field>
          {draft.frequency === 'every_days' && (
            <Field label={t('rules.everyDays')}>
              {(a) => <input {...a} type="number" min={1} max={365} value={draft.every_days ?? 7} onInput={(e) => set({ every_days: Number(e.currentTarget.value) })} />}
            </Field>
          )}
          <fieldset class="rule-group">
            <legend>{t('rules.conditions')}</legend>
            <p class="hint">{t('rules.conditionsHint')}</p>
            {draft.conditions.map((c, i) => (
              <div class="rule-row" key={i}>
                <select aria-label={t('rules.conditionKind')} value={c.kind} onChange={(e) => setCondition(i, newCondition(e.currentTarget.value as Condition['kind']))}>
                  {CONDITIONS.map((k) => <option key={k} value={k}>{t(`rules.conditionKinds.${k}`)}</option>)}
                </select>
                <ConditionInputs condition={c} onChange={(next) => setCondition(i, next)} />
                <button class="button small ghost" type="button" onClick={() => set({ conditions: draft.conditions.filter((_, j) => j !== i) })}>
                  {t('rules.remove')}
                </button>
              </div>
            ))}
            {fieldError('conditions') && <p class="field-error">{t('admin.fieldRefused')}</p>}
            <button class="button small" type="button" disabled={draft.conditions.length >= 20} onClick={() => set({ conditions: [...draft.conditions, newCondition('url')] })}>
              {t('rules.addCondition')}
            </button>
          </fieldset>
          <fieldset class="rule-group">
            <legend>{t('rules.actions')}</legend>
            {draft.actions.map((a, i) => (
              <div class="rule-row" key={i}>
                <select aria-label={t('rules.actionKind')} value={a.kind} onChange={(e) => setAction(i, newAction(e.currentTarget.value as Action['kind']))}>
                  {ACTIONS.map((k) => <option key={k} value={k}>{t(`rules.actionKinds.${k}`)}</option>)}
                </select>
                <ActionInputs action={a} agents={agents} onChange={(next) => setAction(i, next)} />
                <button class="button small ghost" type="button" disabled={draft.actions.length <= 1} onClick={() => set({ actions: draft.actions.filter((_, j) => j !== i) })}>
                  {t('rules.remove')}
                </button>
              </div>
            ))}
            {(fieldError('actions') || fieldError('body') || fieldError('agent_id') || fieldError('labels')) && <p class="field-error">{t('admin.fieldRefused')}</p>}
            <button class="button small" type="button" disabled={draft.actions.length >= 10} onClick={() => set({ actions: [...draft.actions, newAction('open_widget')] })}>
              {t('rules.addAction')}
            </button>
          </fieldset>
        </div>
        <Preview site={site} agents={agents} message={message} open={draft.actions.some((a) => a.kind === 'open_widget')} />
      </div>
    </FormDialog>
  );
}

function NumberInput({ label, value, min, max, onChange }: { label: string; value: number; min?: number; max?: number; onChange: (n: number) => void }) {
  return <input type="number" aria-label={label} value={value} min={min} max={max} onInput={(e) => onChange(Number(e.currentTarget.value))} />;
}

function ConditionInputs({ condition: c, onChange }: { condition: Condition; onChange: (c: Condition) => void }) {
  switch (c.kind) {
    case 'time_on_page':
    case 'time_on_site':
      return <span class="rule-inputs"><NumberInput label={t('rules.seconds')} value={c.seconds} min={0} onChange={(seconds) => onChange({ ...c, seconds })} /> {t('rules.secondsUnit')}</span>;
    case 'url':
    case 'referrer':
      return (
        <span class="rule-inputs">
          <select aria-label={t('rules.match')} value={c.match} onChange={(e) => onChange({ ...c, match: e.currentTarget.value as Schemas['UrlMatch'] })}>
            {MATCHES.map((m) => <option key={m} value={m}>{t(`rules.matches.${m}`)}</option>)}
          </select>
          <input aria-label={t('rules.value')} dir="ltr" placeholder={c.match === 'pattern' ? '*/pricing*' : '/pricing'} value={c.value} onInput={(e) => onChange({ ...c, value: e.currentTarget.value })} />
        </span>
      );
    case 'pages':
      return <NumberInput label={t('rules.atLeast')} value={c.at_least} min={1} onChange={(at_least) => onChange({ ...c, at_least })} />;
    case 'lead_score':
      return <NumberInput label={t('rules.atLeast')} value={c.at_least} onChange={(at_least) => onChange({ ...c, at_least })} />;
    case 'utm':
      return (
        <span class="rule-inputs">
          <select aria-label={t('rules.utmField')} value={c.field} onChange={(e) => onChange({ ...c, field: e.currentTarget.value as Schemas['UtmField'] })}>
            {UTM.map((f) => <option key={f} value={f}>utm_{f}</option>)}
          </select>
          <input aria-label={t('rules.value')} dir="ltr" value={c.value} onInput={(e) => onChange({ ...c, value: e.currentTarget.value })} />
        </span>
      );
    case 'returning':
      return <YesNo label={t('rules.conditionKinds.returning')} yes={t('rules.returning')} no={t('rules.newVisitor')} value={c.returning} onChange={(returning) => onChange({ ...c, returning })} />;
    case 'identified':
      return <YesNo label={t('rules.conditionKinds.identified')} yes={t('rules.identified')} no={t('rules.anonymous')} value={c.identified} onChange={(identified) => onChange({ ...c, identified })} />;
    case 'agents_online':
      return <YesNo label={t('rules.conditionKinds.agents_online')} yes={t('rules.someoneOnline')} no={t('rules.nobodyOnline')} value={c.online} onChange={(online) => onChange({ ...c, online })} />;
    case 'business_hours':
      return <YesNo label={t('rules.conditionKinds.business_hours')} yes={t('rules.open')} no={t('rules.closed')} value={c.open} onChange={(open) => onChange({ ...c, open })} />;
    case 'language':
      return <input aria-label={t('rules.languages')} dir="ltr" placeholder="ar, fa, tr" value={c.languages.join(', ')} onChange={(e) => onChange({ ...c, languages: list(e.currentTarget.value) })} />;
    case 'country':
      return <input aria-label={t('rules.countries')} dir="ltr" placeholder="TR, EG" value={c.countries.join(', ')} onChange={(e) => onChange({ ...c, countries: list(e.currentTarget.value) })} />;
    case 'attribute':
      return (
        <span class="rule-inputs">
          <input aria-label={t('rules.key')} dir="ltr" placeholder="plan" value={c.key} onInput={(e) => onChange({ ...c, key: e.currentTarget.value })} />
          <input aria-label={t('rules.value')} dir="auto" value={String(c.value ?? '')} onInput={(e) => onChange({ ...c, value: scalar(e.currentTarget.value) })} />
        </span>
      );
    case 'event':
      return <input aria-label={t('rules.eventName')} dir="ltr" placeholder="cart" value={c.name} onInput={(e) => onChange({ ...c, name: e.currentTarget.value })} />;
    case 'exit_intent':
      return null;
  }
}

function YesNo({ label, yes, no, value, onChange }: { label: string; yes: string; no: string; value: boolean; onChange: (v: boolean) => void }) {
  return (
    <select aria-label={label} value={value ? 'yes' : 'no'} onChange={(e) => onChange(e.currentTarget.value === 'yes')}>
      <option value="yes">{yes}</option>
      <option value="no">{no}</option>
    </select>
  );
}

function ActionInputs({ action: a, agents, onChange }: { action: Action; agents: Agent[]; onChange: (a: Action) => void }) {
  switch (a.kind) {
    case 'message':
      return (
        <span class="rule-inputs message-inputs">
          <textarea aria-label={t('rules.body')} name="rule-message" dir="auto" rows={2} maxLength={2000} value={a.body} onInput={(e) => onChange({ ...a, body: e.currentTarget.value })} />
          <select aria-label={t('rules.from')} value={a.agent_id ?? ''} onChange={(e) => onChange({ ...a, agent_id: e.currentTarget.value || null })}>
            <option value="">{t('rules.fromTeam')}</option>
            {agents.map((g) => <option key={g.id} value={g.id}>{g.name}</option>)}
          </select>
          <label class="inline">
            {t('rules.typing')} <NumberInput label={t('rules.typing')} value={a.typing_seconds} min={0} max={10} onChange={(typing_seconds) => onChange({ ...a, typing_seconds })} />
          </label>
        </span>
      );
    case 'open_widget':
      return null;
    case 'set_attributes':
      return (
        <input
          aria-label={t('rules.attributes')}
          dir="ltr"
          placeholder="segment=pricing"
          value={Object.entries(a.attributes).map(([k, v]) => `${k}=${String(v)}`).join(', ')}
          onChange={(e) => onChange({ ...a, attributes: attributesJson(list(e.currentTarget.value).map((pair) => { const [k, ...v] = pair.split('='); return [k!.trim(), v.join('=').trim()]; })) })}
        />
      );
    case 'add_labels':
      return <input aria-label={t('rules.labels')} dir="auto" placeholder="pricing" value={a.labels.join(', ')} onChange={(e) => onChange({ ...a, labels: list(e.currentTarget.value) })} />;
    case 'set_priority':
      return (
        <select aria-label={t('rules.priority')} value={a.priority} onChange={(e) => onChange({ ...a, priority: e.currentTarget.value as Schemas['Priority'] })}>
          {PRIORITIES.map((p) => <option key={p} value={p}>{t(`rules.priorities.${p}`)}</option>)}
        </select>
      );
  }
}

/** The message as the visitor's widget shows it: a bubble from the agent or the team beside the launcher. */
function Preview({ site, agents, message, open }: { site: Site; agents: Agent[]; message: Extract<Action, { kind: 'message' }> | undefined; open: boolean }) {
  const from = message?.agent_id ? agents.find((a) => a.id === message.agent_id)?.name : site.appearance.team_name;
  return (
    <aside class="rule-preview" aria-label={t('rules.preview')} style={{ '--site-accent': site.appearance.color }}>
      <p class="muted">{t('rules.preview')}</p>
      <div class={`preview-page ${site.appearance.position === 'start' ? 'start' : 'end'}`}>
        {message ? (
          <div class="invite">
            <span class="invite-from"><bdi>{from || t('rules.fromTeam')}</bdi></span>
            {message.typing_seconds > 0 && <span class="invite-typing" aria-hidden="true">•••</span>}
            <p class="invite-bubble" dir="auto">{message.body || t('rules.previewEmpty')}</p>
          </div>
        ) : (
          <p class="muted">{open ? t('rules.previewOpens') : t('rules.previewNothing')}</p>
        )}
        <span class="launcher" aria-hidden="true">💬</span>
      </div>
    </aside>
  );
}
