// The frame around every signed-in screen: a rail of areas at the inline start (the right
// in Arabic, Persian and Hebrew), the agent's menu at its end, the area's screen beside it.

import type { ComponentChildren } from 'preact';
import { useEffect } from 'preact/hooks';
import { useLocation } from 'preact-iso';
import { i18n, t } from './i18n';
import { isAdmin, me } from './session';
import { followVisitorCount, onSite } from './visitors/count';

interface Area {
  href: string;
  label: string;
  icon: string;
  active: (path: string) => boolean;
  /** A number beside the label (visitors on the sites now), when known. */
  count?: number | null;
}

export function Shell({ children }: { children: ComponentChildren }) {
  const { path } = useLocation();
  const agent = me.value?.agent;
  useEffect(followVisitorCount, []);
  const areas: Area[] = [
    { href: '/app', label: t('shell.inbox'), icon: 'inbox', active: (p) => !/^\/app\/(settings|profile|visitors)/.test(p) },
    { href: '/app/visitors', label: t('shell.visitors'), icon: 'visitors', active: (p) => p.startsWith('/app/visitors'), count: onSite.value },
    ...(isAdmin.value
      ? [{ href: '/app/settings', label: t('shell.settings'), icon: 'settings', active: (p: string) => p.startsWith('/app/settings') }]
      : []),
  ];
  return (
    <div class="shell">
      <nav class="rail" aria-label={t('shell.areas')}>
        <a class="rail-brand" href="/app" aria-label={t('shell.brand')}>
          <Icon name="logo" />
        </a>
        {areas.map((a) => (
          <a key={a.href} href={a.href} class="rail-item" aria-current={a.active(path) ? 'page' : undefined} title={a.label}>
            <Icon name={a.icon} />
            <span class="rail-label">{a.label}</span>
            {!!a.count && (
              <span class="rail-count" title={t('shell.onSite', { count: a.count })}>
                <span aria-hidden="true">{i18n.value?.number(a.count)}</span>
                <span class="visually-hidden">{t('shell.onSite', { count: a.count })}</span>
              </span>
            )}
          </a>
        ))}
        <a class="rail-item rail-me" href="/app/profile" aria-current={path.startsWith('/app/profile') ? 'page' : undefined} title={t('shell.profile')}>
          <Avatar name={agent?.name ?? ''} url={agent?.avatar_url ?? null} />
          <span class="rail-label">{t('shell.profile')}</span>
        </a>
      </nav>
      <main class="area" id="main">
        {children}
      </main>
    </div>
  );
}

/** A person's picture, or their initials on a colour derived from the name. */
export function Avatar({ name, url, size = 32 }: { name: string; url: string | null; size?: number }) {
  const initials = name.trim().split(/\s+/).slice(0, 2).map((w) => [...w][0] ?? '').join('').toLocaleUpperCase();
  let hue = 0;
  for (const ch of name) hue = (hue * 31 + (ch.codePointAt(0) ?? 0)) % 360;
  return url ? (
    <img class="avatar" src={url} alt="" width={size} height={size} />
  ) : (
    <span class="avatar" aria-hidden="true" style={{ '--avatar-hue': hue, inlineSize: `${size}px`, blockSize: `${size}px` }}>
      {initials}
    </span>
  );
}

const PATHS: Record<string, string> = {
  logo: 'M4 5a3 3 0 0 1 3-3h10a3 3 0 0 1 3 3v9a3 3 0 0 1-3 3H9l-5 4z',
  visitors: 'M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM2 21v-1a7 7 0 0 1 14 0v1M16 3.5a4 4 0 0 1 0 7M18 14a6 6 0 0 1 4 6v1',
  inbox: 'M3 13h5l1.5 3h5L16 13h5M5 4h14l2 9v6a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1v-6z',
  settings:
    'M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zm7.4-3a7.4 7.4 0 0 0-.1-1.2l2-1.6-2-3.4-2.4 1a7 7 0 0 0-2-1.2L14.5 3h-4l-.4 2.6a7 7 0 0 0-2 1.2l-2.4-1-2 3.4 2 1.6a7.4 7.4 0 0 0 0 2.4l-2 1.6 2 3.4 2.4-1a7 7 0 0 0 2 1.2l.4 2.6h4l.4-2.6a7 7 0 0 0 2-1.2l2.4 1 2-3.4-2-1.6c.1-.4.1-.8.1-1.2z',
};

/** A line icon. Directional icons must also get the `mirror` class (flipped in RTL). */
export function Icon({ name, class: cls }: { name: string; class?: string }) {
  return (
    <svg class={`icon ${cls ?? ''}`} viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d={PATHS[name] ?? ''} />
    </svg>
  );
}

/** Adds icon paths (areas register theirs so the shell stays small). */
export function registerIcons(more: Record<string, string>) {
  Object.assign(PATHS, more);
}
