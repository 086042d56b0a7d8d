// The dashboard's entry: loads the session and the agent's language, then routes.
// Areas are separate chunks: the inbox loads with the shell, the visitors screens and the
// admin console on demand.

import { render } from 'preact';
import { ErrorBoundary, LocationProvider, Route, Router, lazy, useLocation } from 'preact-iso';
import { useEffect } from 'preact/hooks';
import { i18n, t, useLanguage } from './i18n';
import { Login } from './pages/Login';
import { NotAllowed, NotFound, Unreachable } from './pages/Problems';
import { Shell } from './Shell';
import { isAdmin, me, restore, unreachable } from './session';
import './styles/base.css';

const Inbox = lazy(() => import('./inbox/Inbox').then((m) => m.Inbox));
const Settings = lazy(() => import('./admin/Settings').then((m) => m.Settings));
const Profile = lazy(() => import('./admin/Profile').then((m) => m.Profile));
const Visitors = lazy(() => import('./visitors/Visitors').then((m) => m.Visitors));
const VisitorPage = lazy(() => import('./visitors/Visitor').then((m) => m.VisitorPage));
const Invite = lazy(() => import('./pages/Invite').then((m) => m.Invite));
const EnrolFirst = lazy(() => import('./admin/Security').then((m) => m.EnrolFirst));

/**
 * Sends anyone not signed in to the login page, keeping where they wanted to go. A
 * session the workspace asks to set up two-factor sign-in first sees only that.
 */
function SignedIn({ children }: { children: preact.ComponentChildren }) {
  const { url, route } = useLocation();
  const signedIn = me.value;
  useEffect(() => {
    if (signedIn === null) route(`/app/login?next=${encodeURIComponent(url)}`, true);
  }, [signedIn, url]);
  if (signedIn?.two_factor_setup_required) return <EnrolFirst />;
  return signedIn ? <Shell>{children}</Shell> : <Loading />;
}

/** The admin console, or a clear "not allowed" for agents (the server enforces it too). */
function AdminOnly() {
  return <SignedIn>{isAdmin.value ? <Settings /> : <NotAllowed />}</SignedIn>;
}

export function Loading() {
  return (
    <div class="page-loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      <span class="visually-hidden">{t('shell.loading')}</span>
    </div>
  );
}

function App() {
  if (!i18n.value) return <Loading />;
  if (me.value === undefined) return unreachable.value ? <Unreachable /> : <Loading />;
  return (
    <LocationProvider>
      <ErrorBoundary>
        <Router>
          <Route path="/app/login" component={Login} />
          <Route path="/app/invite/:token" component={({ params }: { params: { token: string } }) => <Invite token={params.token} />} />
          <Route path="/app/settings" component={AdminOnly} />
          <Route path="/app/settings/*" component={AdminOnly} />
          <Route path="/app/profile" component={() => <SignedIn><Profile /></SignedIn>} />
          <Route path="/app/visitors" component={() => <SignedIn><Visitors /></SignedIn>} />
          <Route path="/app/visitors/:id" component={({ params }: { params: { id: string } }) => <SignedIn><VisitorPage contactId={params.id} /></SignedIn>} />
          <Route path="/app/*" component={() => <SignedIn><Inbox /></SignedIn>} />
          <Route path="/app" component={() => <SignedIn><Inbox /></SignedIn>} />
          <Route default component={NotFound} />
        </Router>
      </ErrorBoundary>
    </LocationProvider>
  );
}

async function start() {
  await Promise.all([restore(), useLanguage(null)]);
  // The agent's own language wins over the browser's once we know who signed in.
  me.subscribe((who) => {
    if (who && who.agent.locale !== i18n.value?.locale) void useLanguage(who.agent.locale);
  });
  render(<App />, document.getElementById('app')!);
}

void start();
