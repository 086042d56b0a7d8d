// The admin console (owners and admins; the server refuses the calls to anyone else):
// sites, agents, teams, labels, canned responses, API tokens, bans, the workspace and, for
// owners, the audit log;
// a section nav beside the section's screen. Routes are `/app/settings/<section>/<id>`.
// At phone width `/app/settings` is the list of sections and each section is a screen
// of its own with a way back (list → detail).

import type { FunctionComponent } from 'preact';
import { useLocation } from 'preact-iso';
import { t } from '../i18n';
import { me } from '../session';
import { Agents } from './Agents';
import { Audit } from './Audit';
import { Bans } from './Bans';
import { Canned } from './Canned';
import { Labels } from './Labels';
import { Sites } from './Sites';
import { Teams } from './Teams';
import { Tokens } from './Tokens';
import { Workspace } from './Workspace';
import { Rules } from '../rules/Rules';
import { ScoringScreen } from '../rules/Scoring';
import './admin.css';

/** What a section screen receives: the rest of the path after its name. */
export interface SectionProps {
  id: string | undefined;
}

interface Section {
  slug: string;
  label: () => string;
  screen: FunctionComponent<SectionProps>;
  /** Shown to owners only (the server refuses everyone else). */
  ownersOnly?: boolean;
}

const SECTIONS: Section[] = [
  { slug: 'sites', label: () => t('admin.nav.sites'), screen: Sites },
  { slug: 'agents', label: () => t('admin.nav.agents'), screen: Agents },
  { slug: 'teams', label: () => t('admin.nav.teams'), screen: Teams },
  { slug: 'labels', label: () => t('admin.nav.labels'), screen: Labels },
  { slug: 'canned', label: () => t('admin.nav.canned'), screen: Canned },
  { slug: 'tokens', label: () => t('admin.nav.tokens'), screen: Tokens },
  { slug: 'bans', label: () => t('admin.nav.bans'), screen: Bans },
  { slug: 'rules', label: () => t('rules.nav.rules'), screen: Rules },
  { slug: 'scoring', label: () => t('rules.nav.scoring'), screen: ScoringScreen },
  { slug: 'workspace', label: () => t('admin.nav.workspace'), screen: Workspace },
  { slug: 'audit', label: () => t('admin.nav.audit'), screen: Audit, ownersOnly: true },
];

export function Settings() {
  const { path } = useLocation();
  const [, , , slug, id] = path.split('/');
  const owner = me.value?.agent.role === 'owner';
  const sections = SECTIONS.filter((s) => owner || !s.ownersOnly);
  const chosen = sections.find((s) => s.slug === slug);
  // Desktop shows the first section beside the nav at `/app/settings`; phones show the nav.
  const Screen = (chosen ?? SECTIONS[0]!).screen;
  return (
    <div class={`settings ${chosen ? 'settings-detail' : 'settings-index'}`}>
      <nav class="settings-nav" aria-labelledby="settings-title">
        <h1 id="settings-title">{t('admin.title')}</h1>
        <ul>
          {sections.map((s) => (
            <li key={s.slug}>
              <a
                href={`/app/settings/${s.slug}`}
                aria-current={(chosen ?? (slug ? undefined : SECTIONS[0])) === s ? 'page' : undefined}
              >
                <span>{s.label()}</span>
                <span class="chevron mirror-text" aria-hidden="true">
                  ›
                </span>
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <div class="settings-body">
        {chosen || !slug ? <Screen key={chosen?.slug ?? 'first'} id={id || undefined} /> : <NoSuchSection />}
      </div>
    </div>
  );
}

function NoSuchSection() {
  return (
    <section class="problem">
      <h2>{t('shell.notFound.title')}</h2>
      <p>{t('shell.notFound.text')}</p>
    </section>
  );
}
