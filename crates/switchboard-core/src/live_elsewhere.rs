//! The live list across the nodes of a cluster (issue 16). Each node's registry holds
//! its own visitors (`live.rs`); their arrivals, changes and departures cross as bus
//! messages, but a snapshot (an agent's `visitors` watch, `GET /visitors/live`) must
//! also show the visitors connected to the other nodes. [`LiveElsewhere`] is where they
//! come from: the cluster crate's Redis implementation stores each node's rows under a
//! TTL and reads the others'; one node has none, and its list is its registry.
//!
//! A node that dies sends no `VisitorLeft` for its visitors: the other nodes notice its
//! rows expiring and tell their own watching sockets. So that this costs Redis reads
//! only where someone looks, an agent socket holds a [`LiveWatch`] while it watches the
//! list, and [`LiveSource::watched`] names the workspaces with one.
//!
//! Invariant: a row of this node always wins over another node's copy of the same
//! contact on the same site (this node's is current; the other may be a heartbeat old).

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use switchboard_domain::*;

use crate::Core;
use crate::live::Registry;

/// The other nodes' live visitors (cluster mode).
#[async_trait::async_trait]
pub trait LiveElsewhere: Send + Sync + 'static {
    /// A visitor arrived on this node or left it: write this node's rows soon.
    fn changed(&self);
    /// The other nodes' live visitors of the workspace, as they last wrote them. Never
    /// fails: what cannot be read is left out (or the last read is used).
    async fn others(&self, ws: WorkspaceId) -> Vec<LiveVisitor>;
}

/// This node's live rows, for a [`LiveElsewhere`] to write. Holds the registry weakly,
/// so a writer task never keeps a core alive.
#[derive(Clone)]
pub struct LiveSource(pub(crate) Weak<Registry>);

impl LiveSource {
    /// Every live row on this node, by workspace (empty once the core is gone).
    pub fn rows(&self) -> HashMap<WorkspaceId, Vec<LiveVisitor>> {
        self.0.upgrade().map(|r| r.rows_by_workspace()).unwrap_or_default()
    }

    /// The workspaces where a socket on this node watches the live list (`Core::watch_live`).
    pub fn watched(&self) -> Vec<WorkspaceId> {
        self.0.upgrade().map(|r| r.watched()).unwrap_or_default()
    }
}

/// A socket watching a workspace's live list, counted while it is held.
pub struct LiveWatch {
    registry: Weak<Registry>,
    ws: WorkspaceId,
}

impl Drop for LiveWatch {
    fn drop(&mut self) {
        if let Some(r) = self.registry.upgrade() {
            r.watch(self.ws, -1);
        }
    }
}

impl Core {
    /// Counts a socket watching the workspace's live list until the guard is dropped.
    pub fn watch_live(&self, ws: WorkspaceId) -> LiveWatch {
        self.live.watch(ws, 1);
        LiveWatch { registry: Arc::downgrade(&self.live), ws }
    }

    /// What a [`LiveElsewhere`] writes for this node.
    pub fn live_source(&self) -> LiveSource {
        LiveSource(Arc::downgrade(&self.live))
    }

    /// Shows the other nodes' visitors in this node's live list.
    pub fn with_live_elsewhere(mut self, elsewhere: Arc<dyn LiveElsewhere>) -> Self {
        self.elsewhere = Some(elsewhere);
        self
    }

    /// Tells the other nodes (soon) that this node's visitors changed.
    pub(crate) fn live_arrived_or_left(&self) {
        if let Some(e) = &self.elsewhere {
            e.changed();
        }
    }

    /// The site where another node last saw the contact (on `site`, if given), when
    /// the contact is live there: how an agent on this node invites a visitor on another.
    pub(crate) async fn live_elsewhere_site(&self, ws: WorkspaceId, contact: ContactId, site: Option<SiteId>) -> Option<SiteId> {
        let e = self.elsewhere.as_ref()?;
        e.others(ws)
            .await
            .into_iter()
            .filter(|row| row.workspace_id == ws && row.contact_id == contact && site.is_none_or(|s| row.site_id == s))
            .max_by_key(|row| row.page_since)
            .map(|row| row.site_id)
    }

    /// Adds the other nodes' rows of the workspace (on `site`, if given) to `rows`,
    /// leaving out those this node holds itself.
    pub(crate) async fn with_other_nodes(&self, ws: WorkspaceId, site: Option<SiteId>, rows: &mut Vec<LiveVisitor>) {
        let Some(e) = &self.elsewhere else { return };
        let mut theirs: HashMap<(SiteId, ContactId), LiveVisitor> = HashMap::new();
        for row in e.others(ws).await {
            if row.workspace_id != ws || site.is_some_and(|s| row.site_id != s) {
                continue;
            }
            // A contact on two other nodes (two tabs, two nodes): the latest page wins.
            let key = (row.site_id, row.contact_id);
            if theirs.get(&key).is_none_or(|t| t.page_since < row.page_since) {
                theirs.insert(key, row);
            }
        }
        for row in rows.iter() {
            theirs.remove(&(row.site_id, row.contact_id));
        }
        rows.extend(theirs.into_values());
    }
}
