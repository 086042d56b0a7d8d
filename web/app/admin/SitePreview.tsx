// A live preview of a site's widget, drawn from the settings being edited (not yet
// saved): the launcher in its corner, the panel with the team name in the brand colour,
// the greeting, and the pre-chat form. It follows the direction of the widget's
// language, so an Arabic site shows its launcher mirrored, as visitors will see it.
// (The real widget was not on a branch this one could use; see ARCHITECTURE.md.)

import type { Schemas } from '../api';
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

export function SitePreview({ appearance, form }: { appearance: Schemas['Appearance']; form: Schemas['PrechatField'][] }) {
  const color = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(appearance.color) ? appearance.color : '#1f6feb';
  const dir = dirOf(appearance.locale || 'en');
  return (
    <figure class="preview" aria-label={t('admin.preview.title')}>
      <figcaption class="muted">{t('admin.preview.caption')}</figcaption>
      <div
        class={`preview-page preview-${appearance.position}`}
        dir={dir}
        lang={appearance.locale || 'en'}
        style={{ '--brand': color, '--brand-text': textOn(color) }}
        aria-hidden="true"
      >
        <div class="preview-panel">
          <div class="preview-head">
            <span>
              <strong>{appearance.team_name || t('admin.preview.team')}</strong>
              <br />
              <small>{t(`admin.replyTimes.${appearance.reply_time ?? 'hours'}`)}</small>
            </span>
            <span>×</span>
          </div>
          <div class="preview-body">
            {appearance.greeting && <p class="preview-bubble">{appearance.greeting}</p>}
            {form.length > 0 && (
              <div class="preview-form">
                {form.map((f, i) => (
                  <div key={i} class="preview-input">
                    <span>
                      {f.label}
                      {f.required ? ' *' : ''}
                    </span>
                    <span class="preview-box">{f.kind === 'select' ? (f.options?.[0] ?? '') + ' ▾' : f.kind === 'team' ? '▾' : ''}</span>
                  </div>
                ))}
                <span class="preview-button">{t('admin.preview.start')}</span>
              </div>
            )}
          </div>
          <div class="preview-composer">
            <span class="preview-box">{t('admin.preview.placeholder')}</span>
            <span class="preview-send">➤</span>
          </div>
        </div>
        <div class="preview-launcher">
          <svg viewBox="0 0 24 24" width="26" height="26">
            <path d="M4 5a3 3 0 0 1 3-3h10a3 3 0 0 1 3 3v9a3 3 0 0 1-3 3H9l-5 4z" fill="currentColor" />
          </svg>
        </div>
      </div>
    </figure>
  );
}
