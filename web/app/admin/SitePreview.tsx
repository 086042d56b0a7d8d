// A live preview of a site's widget: the real chat UI (the widget's own document at
// `/widget/preview`, framed only by the dashboard) drawing the settings being edited, not
// yet saved, beside a launcher in its corner. It follows the widget's language and
// direction, shows the site's real agents, and can show what visitors see when nobody is
// online. Nothing in it reaches the server: the frame opens no socket and takes no input.

import { useEffect, useRef, useState } from 'preact/hooks';
import type { PreviewSettings } from '../../widget/bridge';
import { type Schemas, call, client } from '../api';
import { t } from '../i18n';
import { dirOf } from '../../shared/i18n';

/** A readable text colour on `hex` (WCAG relative luminance). */
export function textOn(hex: string): string {
  const full = /^#([0-9a-f]{3})$/i.test(hex) ? `#${[...hex.slice(1)].map((c) => c + c).join('')}` : hex;
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(full);
  if (!m) return '#ffffff';
  const [r, g, b] = m.slice(1).map((h) => {
    const c = parseInt(h, 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  const lum = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return lum > 0.4 ? '#111111' : '#ffffff';
}

export function SitePreview({ site, appearance, form }: { site: Schemas['Site']; appearance: Schemas['Appearance']; form: Schemas['PrechatField'][] }) {
  const color = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(appearance.color) ? appearance.color : '#1f6feb';
  const dir = dirOf(appearance.locale || 'en');
  const frame = useRef<HTMLIFrameElement>(null);
  const [ready, setReady] = useState(false);
  const [online, setOnline] = useState(true);
  const [agents, setAgents] = useState<Schemas['PublicAgent'][]>([]);
  // The teams the saved pre-chat form offers, by name (the preview's `team` select).
  const [teams, setTeams] = useState<Schemas['PublicTeam'][]>([]);

  // The frame says `ready` once it listens; it may say it again after a reload.
  useEffect(() => {
    const onMessage = (e: MessageEvent) => {
      if (e.source === frame.current?.contentWindow && e.origin === location.origin && (e.data as { t?: string })?.t === 'ready') setReady(true);
    };
    window.addEventListener('message', onMessage);
    return () => window.removeEventListener('message', onMessage);
  }, []);
  // The agents visitors see (names and avatars in the header), as the widget gets them.
  useEffect(() => {
    call(client.GET('/api/v1/widget/{site_key}', { params: { path: { site_key: site.public_key } } })).then(
      (w) => {
        setAgents(w.agents);
        setTeams(w.teams);
      },
      () => setAgents([]),
    );
  }, [site.public_key]);
  useEffect(() => {
    if (!ready) return;
    const settings: PreviewSettings = {
      sb: 1,
      t: 'preview',
      site: { id: site.id, name: site.name, dir, appearance: { ...appearance, color }, prechat_form: form, open_now: true, opens_at: null, teams, tracking: site.tracking },
      agents,
      agentsOnline: online ? Math.max(agents.length, 1) : 0,
    };
    frame.current?.contentWindow?.postMessage(settings, location.origin);
  }, [ready, site.id, site.name, appearance, color, dir, form, agents, teams, online]);

  return (
    <figure class="preview" aria-label={t('admin.preview.title')}>
      <figcaption class="muted">{t('admin.preview.caption')}</figcaption>
      <div class="segmented" role="radiogroup" aria-label={t('admin.preview.state')}>
        <label class="check">
          <input type="radio" name="preview-state" checked={online} onChange={() => setOnline(true)} /> {t('admin.preview.online')}
        </label>
        <label class="check">
          <input type="radio" name="preview-state" checked={!online} onChange={() => setOnline(false)} /> {t('admin.preview.offline')}
        </label>
      </div>
      <div class={`preview-page preview-${appearance.position}`} dir={dir} style={{ '--brand': color, '--brand-text': textOn(color) }}>
        <iframe ref={frame} class="preview-frame" src="/widget/preview" title={t('admin.preview.title')} tabIndex={-1} />
        <div class="preview-launcher" aria-hidden="true">

          <svg viewBox="0 0 24 24" width="26" height="26">
            <path d="M4 5a3 3 0 0 1 3-3h10a3 3 0 0 1 3 3v9a3 3 0 0 1-3 3H9l-5 4z" fill="currentColor" />
          </svg>
        </div>
      </div>
    </figure>
  );
}
