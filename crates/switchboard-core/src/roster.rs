//! The workspace's agents as visitors are shown them (`welcome.agents`, assignees),
//! kept for a few seconds: a reconnect storm reads each workspace's agents once per
//! [`ROSTER_TTL_MS`] instead of once per visitor.
//!
//! Invariant: this process's own changes to agents clear its copy at once. Changes made
//! elsewhere (another node sharing PostgreSQL, the `admin` command line) show within
//! [`ROSTER_TTL_MS`]. A visitor socket keeps the list it was welcomed with for its
//! whole life anyway, so a few seconds more change nothing it was promised.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use switchboard_domain::*;

use crate::{Core, Result};

/// How long a workspace's roster is reused before it is read again.
pub const ROSTER_TTL_MS: i64 = 5_000;

#[derive(Default)]
pub(crate) struct Roster {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Bumped by every change of an agent: a read that started before a change must not
    /// be kept after it.
    generation: u64,
    entries: HashMap<WorkspaceId, (Timestamp, Arc<[Agent]>)>,
}

impl Roster {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The kept roster if it is fresh, and the generation to pass to [`Roster::keep`].
    fn fresh(&self, ws: WorkspaceId, now: Timestamp) -> (Option<Arc<[Agent]>>, u64) {
        let state = self.lock();
        let agents = state.entries.get(&ws).filter(|(read_at, _)| (0..ROSTER_TTL_MS).contains(&(now.0 - read_at.0)));
        (agents.map(|(_, agents)| agents.clone()), state.generation)
    }

    fn keep(&self, ws: WorkspaceId, now: Timestamp, generation: u64, agents: Arc<[Agent]>) {
        let mut state = self.lock();
        if state.generation != generation {
            return;
        }
        // Expired entries go when a new one comes, so workspaces nobody visits are not kept.
        state.entries.retain(|_, (read_at, _)| now.0 - read_at.0 < ROSTER_TTL_MS);
        state.entries.insert(ws, (now, agents));
    }

    /// An agent of `ws` changed on this node.
    pub(crate) fn forget(&self, ws: WorkspaceId) {
        let mut state = self.lock();
        state.generation += 1;
        state.entries.remove(&ws);
    }
}

impl Core {
    /// The workspace's agents for visitors to see, at most [`ROSTER_TTL_MS`] old.
    /// Not for administration, which reads [`Core::agents`] fresh.
    pub async fn roster(&self, ws: WorkspaceId) -> Result<Arc<[Agent]>> {
        let now = self.now();
        let (kept, generation) = self.roster.fresh(ws, now);
        if let Some(agents) = kept {
            return Ok(agents);
        }
        let agents: Arc<[Agent]> = self.store.agents(ws).await?.into();
        self.roster.keep(ws, now, generation, agents.clone());
        Ok(agents)
    }
}
