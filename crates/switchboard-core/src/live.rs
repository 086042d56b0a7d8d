//! Live visitors (issue 15): who is on a site now. Being built: until then no visitor
//! is live.

use switchboard_domain::{ContactId, VisitorFacts, WorkspaceId};

use crate::Core;

impl Core {
    /// The visitor's visit as it stands now, when they are on a site (a tab open and
    /// tracking allowed); `None` otherwise. What proactive rules and scores read.
    pub async fn live_facts(&self, ws: WorkspaceId, contact: ContactId) -> Option<VisitorFacts> {
        let _ = (ws, contact);
        None
    }
}
