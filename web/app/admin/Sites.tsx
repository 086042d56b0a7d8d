// Sites: the list, creating one, and the editor (name, the team its conversations go
// to, appearance, reply time, title badge, allowed origins, pre-chat form, identity
// verification, data retention) beside a live preview,
// with what it takes to install the widget: the snippet, the tag-manager loader, the
// chat link and its QR code (an SVG the server draws).

import { useLocation } from 'preact-iso';
import { useState } from 'preact/hooks';
import { type Schemas, call, client } from '../api';
import { t } from '../i18n';
import { LOCALES } from '../../shared/i18n';
import { HoursEditor, hoursForSave } from './Hours';
import { PrechatBuilder, cleanForm } from './PrechatBuilder';
import { RetentionFields } from './Retention';
import type { SectionProps } from './Settings';
import { SitePreview } from './SitePreview';
import { CodeBlock, Confirm, CopyButton, Empty, Field, FormError, Header, Loading, OfflineBanner, SaveBar, When, useLoad, useSubmit } from './ui';

type Site = Schemas['Site'];
const REPLY_TIMES: Schemas['ReplyTime'][] = ['minutes', 'hours', 'day'];

export function Sites({ id }: SectionProps) {
  if (id === 'new') return <NewSite />;
  if (id) return <SiteEditor key={id} id={id} />;
  return <SiteList />;
}

function SiteList() {
  const sites = useLoad(() => call(client.GET('/api/v1/sites')), []);
  return (
    <section class="screen" aria-labelledby="sites-title">
      <Header title={t('admin.sites.title')} back="/app/settings">
        <a class="button primary" href="/app/settings/sites/new">
          {t('admin.sites.new')}
        </a>
      </Header>
      <OfflineBanner />
      <Loading
        loaded={sites.value}
        retry={sites.reload}
        empty={
          <Empty title={t('admin.sites.emptyTitle')} text={t('admin.sites.emptyText')}>
            <a class="button primary" href="/app/settings/sites/new">
              {t('admin.sites.new')}
            </a>
          </Empty>
        }
      >
        {(list) => (
          <ul class="cards">
            {list.map((s) => (
              <li key={s.id} class="card">
                <a class="card-link" href={`/app/settings/sites/${s.id}`}>
                  <span class="swatch" style={{ background: s.appearance.color }} aria-hidden="true" />
                  <strong>{s.name}</strong>
                </a>
                <span class="muted">
                  {t('admin.created')} <When at={s.created_at} />
                </span>
              </li>
            ))}
          </ul>
        )}
      </Loading>
    </section>
  );
}

function NewSite() {
  const { route } = useLocation();
  const { busy, error, run, fieldError } = useSubmit();
  const [name, setName] = useState('');
  async function submit(e: Event) {
    e.preventDefault();
    const site = await run(() => call(client.POST('/api/v1/sites', { body: { name } })));
    if (site) route(`/app/settings/sites/${site.id}`);
  }
  return (
    <section class="screen">
      <Header title={t('admin.sites.new')} back="/app/settings/sites" />
      <OfflineBanner />
      <form class="form narrow" onSubmit={submit}>
        <Field label={t('admin.sites.name')} hint={t('admin.sites.nameHint')} error={fieldError('name')}>
          {(a) => <input {...a} value={name} required maxLength={100} autoFocus onInput={(e) => setName(e.currentTarget.value)} />}
        </Field>
        <FormError error={error} />
        <div class="form-actions">
          <button class="button primary" type="submit" disabled={busy}>
            {t('admin.sites.create')}
          </button>
        </div>
      </form>
    </section>
  );
}

function SiteEditor({ id }: { id: string }) {
  const site = useLoad(() => call(client.GET('/api/v1/sites/{id}', { params: { path: { id } } })), [id]);
  return (
    <Loading loaded={site.value} retry={site.reload}>
      {(loaded) => <SiteForm site={loaded} onSaved={site.set} />}
    </Loading>
  );
}

function SiteForm({ site, onSaved }: { site: Site; onSaved: (s: Site) => void }) {
  const { route } = useLocation();
  const [name, setName] = useState(site.name);
  const [appearance, setAppearance] = useState(site.appearance);
  const [origins, setOrigins] = useState(site.allowed_origins.join('\n'));
  const [form, setForm] = useState(site.prechat_form);
  const [retention, setRetention] = useState<string | null>(site.retention_days == null ? null : String(site.retention_days));
  const [banned, setBanned] = useState(site.banned_behaviour);
  const [masking, setMasking] = useState(site.masking);
  const [team, setTeam] = useState(site.default_team_id ?? null);
  const [hours, setHours] = useState(site.business_hours ?? null);
  const [saved, setSaved] = useState(false);
  const teams = useLoad(() => call(client.GET('/api/v1/teams')), []);
  const teamList = teams.value.state === 'ready' ? teams.value.data : [];
  const [confirming, setConfirming] = useState<'rotate' | 'delete' | null>(null);
  const [showSecret, setShowSecret] = useState(false);
  const { busy, error, run, fieldError } = useSubmit();
  const look = (patch: Partial<Schemas['Appearance']>) => {
    setSaved(false);
    setAppearance({ ...appearance, ...patch });
  };

  async function save(e: Event) {
    e.preventDefault();
    setSaved(false);
    const body: Schemas['SiteRequest'] = {
      name,
      appearance,
      allowed_origins: origins.split('\n').map((o) => o.trim()).filter(Boolean),
      prechat_form: cleanForm(form),
      retention_days: retention === null ? null : Number(retention),
      banned_behaviour: banned,
      masking,
      default_team_id: team,
      business_hours: hoursForSave(hours),
    };
    const next = await run(() => call(client.PATCH('/api/v1/sites/{id}', { params: { path: { id: site.id } }, body })));
    if (next) {
      onSaved(next);
      setSaved(true);
    }
  }

  const origin = location.origin;
  const snippet = `<script src="${origin}/widget.js" data-site="${site.public_key}" async></script>`;
  const loader =
    `<script>\n(function (w, d, key) {\n  w.Switchboard = w.Switchboard || function () { (w.Switchboard.q = w.Switchboard.q || []).push(arguments); };\n` +
    `  var s = d.createElement('script');\n  s.async = true;\n  s.src = '${origin}/widget.js';\n  s.setAttribute('data-site', key);\n` +
    `  d.head.appendChild(s);\n})(window, document, '${site.public_key}');\n</script>`;
  const chatLink = `${origin}/chat/${site.public_key}`;
  const qr = `/api/v1/sites/${site.id}/qr.svg`;

  return (
    <section class="screen" aria-labelledby="site-title">
      <Header title={site.name} back="/app/settings/sites" />
      <OfflineBanner />
      <div class="site-layout">
        <form class="form" onSubmit={save} aria-label={t('admin.sites.settings')}>
          <fieldset class="group">
            <legend>{t('admin.sites.general')}</legend>
            <Field label={t('admin.sites.name')} error={fieldError('name')}>
              {(a) => <input {...a} value={name} required maxLength={100} onInput={(e) => (setSaved(false), setName(e.currentTarget.value))} />}
            </Field>
            <Field label={t('admin.sites.defaultTeam')} hint={t('admin.sites.defaultTeamHint')} error={fieldError('default_team_id')}>
              {(a) => (
                <select {...a} value={team ?? ''} onChange={(e) => (setSaved(false), setTeam(e.currentTarget.value || null))}>
                  <option value="">{t('admin.sites.everyone')}</option>
                  {team && !teamList.some((x) => x.id === team) && <option value={team}>{t('shell.loading')}</option>}
                  {teamList.map((x) => (
                    <option key={x.id} value={x.id}>
                      {x.name}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          </fieldset>

          <HoursEditor
            value={hours}
            onChange={(h) => (setSaved(false), setHours(h))}
            saveError={error}
            noneLabel={t('admin.hours.always')}
            hint={t('admin.hours.siteHint')}
          />

          <fieldset class="group">
            <legend>{t('admin.sites.appearance')}</legend>
            <div class="grid-2">
              <Field label={t('admin.sites.color')} error={fieldError('color')}>
                {(a) => (
                  <span class="color-pair">
                    <input type="color" value={appearance.color.length === 7 ? appearance.color : '#1f6feb'} aria-label={t('admin.sites.colorPicker')} onInput={(e) => look({ color: e.currentTarget.value })} />
                    <input {...a} value={appearance.color} dir="ltr" required pattern="#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})" onInput={(e) => look({ color: e.currentTarget.value })} />
                  </span>
                )}
              </Field>
              <Field label={t('admin.sites.position')} hint={t('admin.sites.positionHint')} error={fieldError('position')}>
                {(a) => (
                  <select {...a} value={appearance.position} onChange={(e) => look({ position: e.currentTarget.value as Schemas['LauncherPosition'] })}>
                    <option value="end">{t('admin.sites.positionEnd')}</option>
                    <option value="start">{t('admin.sites.positionStart')}</option>
                  </select>
                )}
              </Field>
              <Field label={t('admin.sites.teamName')} error={fieldError('team_name')}>
                {(a) => <input {...a} value={appearance.team_name} maxLength={100} onInput={(e) => look({ team_name: e.currentTarget.value })} />}
              </Field>
              <Field label={t('admin.sites.locale')} hint={t('admin.sites.localeHint')} error={fieldError('locale')}>
                {(a) => (
                  <select {...a} value={appearance.locale} onChange={(e) => look({ locale: e.currentTarget.value })}>
                    {!(LOCALES as readonly string[]).includes(appearance.locale) && <option value={appearance.locale}>{appearance.locale}</option>}
                    {LOCALES.map((l) => (
                      <option key={l} value={l} lang={l}>
                        {autonym(l)}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
            </div>
            <Field label={t('admin.sites.greeting')} hint={t('admin.sites.greetingHint')} error={fieldError('greeting')}>
              {(a) => <textarea {...a} rows={2} value={appearance.greeting} maxLength={500} dir="auto" onInput={(e) => look({ greeting: e.currentTarget.value })} />}
            </Field>
            <Field label={t('admin.sites.replyTime')} hint={t('admin.sites.replyTimeHint')} error={fieldError('reply_time')}>
              {(a) => (
                <select {...a} value={appearance.reply_time ?? 'hours'} onChange={(e) => look({ reply_time: e.currentTarget.value as Schemas['ReplyTime'] })}>
                  {REPLY_TIMES.map((r) => (
                    <option key={r} value={r}>
                      {t(`admin.replyTimes.${r}`)}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <label class="check">
              <input type="checkbox" checked={appearance.title_badge ?? false} onChange={(e) => look({ title_badge: e.currentTarget.checked })} />
              {t('admin.sites.titleBadge')}
            </label>
            <p class="hint">{t('admin.sites.titleBadgeHint')}</p>
          </fieldset>

          <fieldset class="group">
            <legend>{t('admin.abuse.title')}</legend>
            <label class="check">
              <input type="checkbox" checked={appearance.proof_of_work ?? false} onChange={(e) => look({ proof_of_work: e.currentTarget.checked })} />
              {t('admin.abuse.proofOfWork')}
            </label>
            <p class="hint">{t('admin.abuse.proofOfWorkHint')}</p>
          </fieldset>

          <fieldset class="group">
            <legend>{t('admin.identity.title')}</legend>
            <p class="hint">{t('admin.identity.hint')}</p>
            <label class="check">
              <input type="checkbox" checked={appearance.require_identity ?? false} onChange={(e) => look({ require_identity: e.currentTarget.checked })} />
              {t('admin.identity.require')}
            </label>
            <p class="hint">{t('admin.identity.requireHint')}</p>
            {site.identity_secret ? (
              <div class="secret-row">
                <code dir="ltr" class="secret" aria-label={t('admin.identity.secret')}>
                  {showSecret ? site.identity_secret : '•'.repeat(24)}
                </code>
                <button class="button" type="button" aria-pressed={showSecret} onClick={() => setShowSecret(!showSecret)}>
                  {showSecret ? t('admin.identity.hide') : t('admin.identity.show')}
                </button>
                {showSecret && <CopyButton text={site.identity_secret} label={t('admin.identity.copy')} />}
                <button class="button danger" type="button" onClick={() => setConfirming('rotate')}>
                  {t('admin.identity.rotate')}
                </button>
              </div>
            ) : (
              <p class="muted">{t('admin.identity.hidden')}</p>
            )}
          </fieldset>

          <fieldset class="group">
            <legend>{t('admin.sites.privacy')}</legend>
            <Field label={t('admin.sites.bannedBehaviour')} error={fieldError('banned_behaviour')}>
              {(a) => (
                <select {...a} value={banned} onChange={(e) => (setSaved(false), setBanned(e.currentTarget.value as Schemas['BannedBehaviour']))}>
                  <option value="hide">{t('admin.sites.bannedHide')}</option>
                  <option value="message">{t('admin.sites.bannedMessage')}</option>
                </select>
              )}
            </Field>
            <p class="field-title">{t('admin.sites.masking')}</p>
            <label class="check">
              <input type="checkbox" checked={masking.emails} onChange={(e) => (setSaved(false), setMasking({ ...masking, emails: e.currentTarget.checked }))} />
              {t('admin.sites.maskEmails')}
            </label>
            <label class="check">
              <input type="checkbox" checked={masking.phones} onChange={(e) => (setSaved(false), setMasking({ ...masking, phones: e.currentTarget.checked }))} />
              {t('admin.sites.maskPhones')}
            </label>
            <p class="hint">{t('admin.sites.maskingHint')}</p>
          </fieldset>

          <fieldset class="group">
            <legend>{t('admin.sites.origins')}</legend>
            <Field label={t('admin.sites.originsLabel')} hint={t('admin.sites.originsHint')} error={fieldError('allowed_origins')}>
              {(a) => (
                <textarea {...a} rows={3} dir="ltr" value={origins} placeholder="https://shop.example" onInput={(e) => (setSaved(false), setOrigins(e.currentTarget.value))} />
              )}
            </Field>
          </fieldset>

          <fieldset class="group">
            <legend>{t('admin.prechat.title')}</legend>
            <p class="hint">{t('admin.prechat.hint')}</p>
            <PrechatBuilder fields={form} teams={teamList} invalid={!!fieldError('prechat_form')} onChange={(f) => (setSaved(false), setForm(f))} />
            {fieldError('prechat_form') && <p class="field-error">{t('admin.fieldRefused')}</p>}
          </fieldset>

          <RetentionFields siteId={site.id} days={retention} onChange={(d) => (setSaved(false), setRetention(d))} error={fieldError('retention_days')} />

          <SaveBar error={error} busy={busy} saved={saved} sticky />
        </form>

        <aside class="site-side">
          <SitePreview site={site} appearance={appearance} form={form} />
        </aside>
      </div>

      <section class="group" aria-labelledby="install-title">
        <h3 id="install-title">{t('admin.install.title')}</h3>
        <p class="hint">{t('admin.install.snippetHint')}</p>
        <CodeBlock code={snippet} label={t('admin.install.snippet')} />
        <CopyButton text={snippet} label={t('admin.install.copySnippet')} />
        <p class="hint">{t('admin.install.loaderHint')}</p>
        <CodeBlock code={loader} label={t('admin.install.loader')} />
        <CopyButton text={loader} label={t('admin.install.copyLoader')} />
        <p class="hint">{t('admin.install.linkHint')}</p>
        <div class="link-row">
          <a href={chatLink} dir="ltr" target="_blank" rel="noopener">
            {chatLink}
          </a>
          <CopyButton text={chatLink} label={t('admin.install.copyLink')} />
        </div>
        <figure class="qr">
          <img src={qr} alt={t('admin.install.qrAlt')} width={160} height={160} />
          <figcaption>
            <a class="button" href={qr} download={`chat-${site.public_key}.svg`}>
              {t('admin.install.qrDownload')}
            </a>
          </figcaption>
        </figure>
      </section>

      <section class="group danger-zone" aria-labelledby="delete-site-title">
        <h3 id="delete-site-title">{t('admin.sites.deleteTitle')}</h3>
        <p class="hint">{t('admin.sites.deleteHint')}</p>
        <button class="button danger" type="button" onClick={() => setConfirming('delete')}>
          {t('admin.sites.delete')}
        </button>
      </section>

      {confirming === 'rotate' && (
        <Confirm
          title={t('admin.identity.rotateTitle')}
          text={t('admin.identity.rotateText')}
          confirm={t('admin.identity.rotate')}
          onClose={() => setConfirming(null)}
          onConfirm={async () => {
            onSaved(await call(client.PATCH('/api/v1/sites/{id}', { params: { path: { id: site.id } }, body: { rotate_identity_secret: true } })));
            setShowSecret(true);
          }}
        />
      )}
      {confirming === 'delete' && (
        <Confirm
          title={t('admin.sites.deleteConfirmTitle', { name: site.name })}
          text={t('admin.sites.deleteConfirmText')}
          confirm={t('admin.sites.delete')}
          onClose={() => setConfirming(null)}
          onConfirm={async () => {
            await call(client.DELETE('/api/v1/sites/{id}', { params: { path: { id: site.id } } }));
            route('/app/settings/sites');
          }}
        />
      )}
    </section>
  );
}

/** A language's own name for itself ("العربية", "Türkçe"). */
export function autonym(locale: string): string {
  try {
    const name = new Intl.DisplayNames([locale], { type: 'language' }).of(locale) ?? locale;
    return name.charAt(0).toLocaleUpperCase(locale) + name.slice(1);
  } catch {
    return locale;
  }
}
