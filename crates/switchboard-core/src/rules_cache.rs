//! What every visitor moment reads about its site and workspace (issue 16): the site
//! (its conversion events and business hours), the workspace's scoring rules and the
//! site's enabled proactive rules, kept in memory on each node, so a page view costs no
//! read of them. Entries are per site and per workspace, never per socket.
//!
//! Invariants:
//! - an entry goes when what it copies changes: at once on the node that changed it
//!   (the use case calls [`Core::rules_changed`]), and on every node through
//!   `BusMessage::RulesChanged` on the workspace's `Topic::Visitors`, heard by one task
//!   per workspace and node, subscribed before the first read it guards;
//! - a read that began before a change is not kept (each workspace has an epoch that a
//!   change bumps), so a slow read can never put back what a change dropped;
//! - a receiver that lagged may have missed a change: it drops the whole workspace, as
//!   it does on `BusMessage::Resync` (the node's link to the others was down a while).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, Weak};

use switchboard_bus::{BusMessage, Topic};
use switchboard_domain::scoring::Scoring;
use switchboard_domain::triggers::Trigger;
use switchboard_domain::*;
use tokio::sync::broadcast::error::RecvError;

use crate::{Core, Result};

#[derive(Default)]
pub(crate) struct RulesCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    sites: HashMap<(WorkspaceId, SiteId), Arc<Site>>,
    /// Enabled rules only: what evaluation reads.
    triggers: HashMap<(WorkspaceId, SiteId), Arc<[Trigger]>>,
    scoring: HashMap<WorkspaceId, Arc<Scoring>>,
    epochs: HashMap<WorkspaceId, u64>,
    /// Workspaces whose changes this node listens for.
    watched: HashSet<WorkspaceId>,
}

impl RulesCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Drops everything of the workspace's and bumps its epoch.
    fn forget(&self, ws: WorkspaceId) {
        let mut inner = self.lock();
        inner.sites.retain(|(w, _), _| *w != ws);
        inner.triggers.retain(|(w, _), _| *w != ws);
        inner.scoring.remove(&ws);
        *inner.epochs.entry(ws).or_default() += 1;
    }

    /// Keeps what a read found, unless the workspace changed since it began.
    fn keep(&self, ws: WorkspaceId, began: u64, put: impl FnOnce(&mut Inner)) {
        let mut inner = self.lock();
        if inner.epochs.get(&ws).copied().unwrap_or(0) == began {
            put(&mut inner);
        }
    }
}

/// Drops the workspace's entries when any node says its rules changed; ends with the cache.
async fn listen(cache: Weak<RulesCache>, ws: WorkspaceId, mut rx: switchboard_bus::Receiver) {
    loop {
        let forget = match rx.recv().await {
            // A resync: a change may have been lost while the nodes were apart.
            Ok(delivery) => matches!(*delivery.message, BusMessage::RulesChanged | BusMessage::Resync),
            Err(RecvError::Lagged(_)) => true,
            Err(RecvError::Closed) => return,
        };
        let Some(cache) = cache.upgrade() else { return };
        if forget {
            cache.forget(ws);
        }
    }
}

impl Core {
    /// The site, scoring rules or proactive rules of the workspace changed: this node
    /// forgets its copies now, the others when the bus tells them.
    pub(crate) fn rules_changed(&self, ws: WorkspaceId) {
        self.rules_cache.forget(ws);
        self.bus.publish(Topic::Visitors(ws), Arc::new(BusMessage::RulesChanged));
    }

    /// Starts listening for the workspace's changes (once per node), before any read.
    fn watch_rules(&self, ws: WorkspaceId) {
        if !self.rules_cache.lock().watched.insert(ws) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // Outside a runtime nothing can listen; nothing read now is kept either.
            self.rules_cache.lock().watched.remove(&ws);
            return;
        };
        let rx = self.bus.subscribe(Topic::Visitors(ws));
        runtime.spawn(listen(Arc::downgrade(&self.rules_cache), ws, rx));
    }

    /// The epoch a read starts at, with the workspace's changes listened for.
    fn begin_read(&self, ws: WorkspaceId) -> Option<u64> {
        self.watch_rules(ws);
        let inner = self.rules_cache.lock();
        inner.watched.contains(&ws).then(|| inner.epochs.get(&ws).copied().unwrap_or(0))
    }

    /// The site as a moment reads it.
    pub(crate) async fn moment_site(&self, ws: WorkspaceId, site: SiteId) -> Result<Arc<Site>> {
        if let Some(s) = self.rules_cache.lock().sites.get(&(ws, site)) {
            return Ok(s.clone());
        }
        let began = self.begin_read(ws);
        let read = Arc::new(self.store.site(ws, site).await?);
        if let Some(began) = began {
            self.rules_cache.keep(ws, began, |i| {
                i.sites.insert((ws, site), read.clone());
            });
        }
        Ok(read)
    }

    /// The workspace's scoring rules as a moment reads them.
    pub(crate) async fn moment_scoring(&self, ws: WorkspaceId) -> Result<Arc<Scoring>> {
        if let Some(s) = self.rules_cache.lock().scoring.get(&ws) {
            return Ok(s.clone());
        }
        let began = self.begin_read(ws);
        let read = Arc::new(self.store.scoring(ws).await?);
        if let Some(began) = began {
            self.rules_cache.keep(ws, began, |i| {
                i.scoring.insert(ws, read.clone());
            });
        }
        Ok(read)
    }

    /// The site's enabled proactive rules as a moment reads them.
    pub(crate) async fn moment_triggers(&self, ws: WorkspaceId, site: SiteId) -> Result<Arc<[Trigger]>> {
        if let Some(t) = self.rules_cache.lock().triggers.get(&(ws, site)) {
            return Ok(t.clone());
        }
        let began = self.begin_read(ws);
        let read: Arc<[Trigger]> = self.store.triggers(ws, site).await?.into_iter().filter(|t| t.enabled).collect();
        if let Some(began) = began {
            self.rules_cache.keep(ws, began, |i| {
                i.triggers.insert((ws, site), read.clone());
            });
        }
        Ok(read)
    }
}
