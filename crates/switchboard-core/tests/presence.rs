//! Presence over time, on a clock the tests move: a reload within the grace period
//! changes nothing, a dashboard closed for longer takes the agent offline once (also
//! across a restart, the timer being a stored job), and an idle agent goes away until
//! their next activity. Routing's view (`agent_available`, `presence_changes`) follows.

mod support;

use std::path::Path;
use std::sync::Arc;

use switchboard_bus::{AgentStatus, BusMessage, Receiver};
use switchboard_core::*;
use switchboard_domain::*;
use switchboard_store::Store;

const GRACE_MS: i64 = 60_000;
const MINUTE: i64 = 60_000;

struct Desk {
    _dir: Option<tempfile::TempDir>,
    store: Arc<dyn Store>,
    core: Core,
    clock: Arc<ManualClock>,
    owner: Principal,
    feed: Receiver,
}

/// A core over the store in `dir` whose clock stands at `now`, following the feed.
async fn open_at(dir: &Path, now: Timestamp) -> (Arc<dyn Store>, Core, Arc<ManualClock>) {
    let (store, _, core) = support::open(dir).await;
    let clock = Arc::new(ManualClock::new(now));
    (store, core.with_clock(clock.clone()), clock)
}

async fn desk() -> Desk {
    let dir = tempfile::tempdir().unwrap();
    let (store, core, clock) = open_at(dir.path(), Timestamp(10_000_000)).await;
    let (owner, _) = support::shop(&core).await;
    let (feed, _) = core.follow_feed(&owner).await.unwrap();
    Desk { _dir: Some(dir), store, core, clock, owner, feed }
}

impl Desk {
    fn agent(&self) -> AgentId {
        self.owner.agent_id().unwrap()
    }

    /// The presence messages published so far, in order.
    fn published(&mut self) -> Vec<AgentStatus> {
        let mut seen = vec![];
        while let Ok(delivery) = self.feed.try_recv() {
            if let BusMessage::Presence { agent_id, status } = &*delivery.message {
                assert_eq!(*agent_id, self.agent());
                seen.push(*status);
            }
        }
        seen
    }

    /// Moves the clock and runs the jobs then due, as the worker would.
    async fn at_plus(&self, ms: i64) -> Vec<JobKind> {
        self.clock.advance(ms);
        self.core.run_pending_jobs().await.unwrap().into_iter().filter_map(|j| j.kind).collect()
    }
}

#[tokio::test]
async fn a_reload_within_the_grace_period_publishes_nothing() {
    let mut d = desk().await;
    let ws = d.owner.workspace_id;
    let tab = d.core.agent_connected(&d.owner).await;
    assert_eq!(d.published(), [AgentStatus::Online]);

    d.core.agent_disconnected(&d.owner, tab).await;
    assert_eq!(d.core.agents_online(ws), [d.agent()], "still shown online while the page reloads");
    assert!(d.core.agent_available(ws, d.agent()), "routing may still count on them");
    d.at_plus(2_000).await;
    let _reloaded = d.core.agent_connected(&d.owner).await;
    let ran = d.at_plus(GRACE_MS).await;
    assert!(ran.iter().any(|j| matches!(j, JobKind::AgentOffline { .. })), "the timer ran: {ran:?}");
    assert_eq!(d.published(), [], "the team saw nothing of the reload");
    assert!(d.core.agent_available(ws, d.agent()));
}

#[tokio::test]
async fn a_dashboard_closed_past_the_grace_period_publishes_offline_once() {
    let mut d = desk().await;
    let ws = d.owner.workspace_id;
    let mut changes = d.core.presence_changes();
    let first = d.core.agent_connected(&d.owner).await;
    let second = d.core.agent_connected(&d.owner).await; // a second tab
    assert_ne!(first, second, "each socket has its own id");
    d.core.agent_disconnected(&d.owner, first).await;
    d.core.agent_disconnected(&d.owner, second).await;
    assert_eq!(d.published(), [AgentStatus::Online], "a second tab and closing both changed nothing yet");

    d.at_plus(GRACE_MS - 1).await;
    assert_eq!(d.published(), [], "one millisecond early");
    assert_eq!(d.core.agents_online(ws), [d.agent()]);
    d.at_plus(1).await;
    assert_eq!(d.published(), [AgentStatus::Offline]);
    assert!(d.core.agents_online(ws).is_empty());
    assert!(!d.core.agent_available(ws, d.agent()));
    let team = d.core.team_presence(&d.owner).await.unwrap();
    assert_eq!(team, [(d.agent(), AgentStatus::Offline)]);
    assert_eq!(d.at_plus(GRACE_MS).await, [], "the timer ran once");
    assert_eq!(d.published(), []);

    // Routing heard the same story: available, then not.
    let heard: Vec<_> = std::iter::from_fn(|| changes.try_recv().ok()).map(|c| (c.agent_id, c.status, c.available())).collect();
    assert_eq!(heard, [(d.agent(), AgentStatus::Online, true), (d.agent(), AgentStatus::Offline, false)]);
}

#[tokio::test]
async fn an_idle_agent_goes_away_and_their_next_activity_brings_them_back() {
    let mut d = desk().await;
    let ws = d.owner.workspace_id;
    d.core.agent_connected(&d.owner).await;
    assert_eq!(d.published(), [AgentStatus::Online]);

    // Used the page ten minutes in: fifteen minutes after opening is not idle.
    d.at_plus(10 * MINUTE).await;
    d.core.agent_activity(&d.owner).await.unwrap();
    d.at_plus(5 * MINUTE).await;
    assert_eq!(d.published(), [], "active five minutes ago");
    assert!(d.core.agent_available(ws, d.agent()));

    d.at_plus(10 * MINUTE).await;
    assert_eq!(d.published(), [AgentStatus::Away], "fifteen minutes without activity");
    assert!(!d.core.agent_available(ws, d.agent()), "away agents get no chats");
    assert_eq!(d.core.team_presence(&d.owner).await.unwrap(), [(d.agent(), AgentStatus::Away)]);
    let me = d.store.agent(ws, d.agent()).await.unwrap();
    assert_eq!(me.status, switchboard_domain::AgentStatus::Online, "the chosen status stays online");

    d.core.agent_activity(&d.owner).await.unwrap();
    assert_eq!(d.published(), [AgentStatus::Online]);
    assert!(d.core.agent_available(ws, d.agent()));
    d.core.agent_activity(&d.owner).await.unwrap();
    assert_eq!(d.published(), [], "activity while online changes nothing");
    d.at_plus(15 * MINUTE).await;
    assert_eq!(d.published(), [AgentStatus::Away], "and idle again");
}

#[tokio::test]
async fn a_workspace_without_auto_away_never_sends_anyone_away() {
    let mut d = desk().await;
    let patch = WorkspacePatch { auto_away_minutes: Some(None), ..Default::default() };
    d.core.update_workspace(&d.owner, patch).await.unwrap();
    d.core.agent_connected(&d.owner).await;
    d.at_plus(24 * 60 * MINUTE).await;
    assert_eq!(d.published(), [AgentStatus::Online]);
    assert!(d.core.agent_available(d.owner.workspace_id, d.agent()));

    let refused = d.core.update_workspace(&d.owner, WorkspacePatch { auto_away_minutes: Some(Some(0)), ..Default::default() }).await;
    assert!(matches!(refused, Err(Error::Invalid(e)) if e.field == "auto_away_minutes"), "0 minutes is not a setting");
}

#[tokio::test]
async fn the_offline_timer_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let start = Timestamp(10_000_000);
    let (store, core, _) = open_at(dir.path(), start).await;
    let (owner, _) = support::shop(&core).await;
    let tab = core.agent_connected(&owner).await;
    core.agent_disconnected(&owner, tab).await;
    store.close().await;
    drop(core);

    // A new process, past the grace period: its worker finds the stored timer.
    let (store, core, clock) = open_at(dir.path(), start.plus_millis(GRACE_MS)).await;
    let (feed, _) = core.follow_feed(&owner).await.unwrap();
    let mut d = Desk { _dir: None, store, core, clock, owner, feed };
    let ran = d.core.run_pending_jobs().await.unwrap();
    assert!(ran.iter().any(|j| matches!(j.kind, Some(JobKind::AgentOffline { .. }))), "{ran:?}");
    assert_eq!(d.published(), [AgentStatus::Offline]);
    assert!(d.core.run_pending_jobs().await.unwrap().is_empty(), "and only once");
    d.store.close().await;
    drop(dir);
}

#[tokio::test]
async fn choosing_away_is_unavailable_and_an_integration_has_no_presence() {
    let mut d = desk().await;
    let ws = d.owner.workspace_id;
    d.core.agent_connected(&d.owner).await;
    let away = MePatch { status: Some(switchboard_domain::AgentStatus::Away), ..Default::default() };
    d.core.update_me(&d.owner, away).await.unwrap();
    assert_eq!(d.published(), [AgentStatus::Online, AgentStatus::Away]);
    assert!(!d.core.agent_available(ws, d.agent()));
    assert!(d.core.agents_available(ws).is_empty());

    let token = Principal { actor: Actor::Integration(ApiTokenId::new()), ..d.owner };
    d.core.agent_connected(&token).await;
    d.core.agent_activity(&token).await.unwrap();
    assert_eq!(d.core.agents_online(ws), [d.agent()], "the integration is nobody");
    assert_eq!(d.published(), []);
}
