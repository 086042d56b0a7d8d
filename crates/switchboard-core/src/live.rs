//! Live visitors (issue 15): who is on a site now, and the proactive messages shown to
//! them. Being built: until then no visitor is live.

use switchboard_domain::{ContactId, Invitation, NewInvitation, VisitorFacts, WorkspaceId};

use crate::{Core, Error, Result};

impl Core {
    /// The visitor's visit as it stands now, when they are on a site (a tab open and
    /// tracking allowed); `None` otherwise. What proactive rules and scores read.
    pub async fn live_facts(&self, ws: WorkspaceId, contact: ContactId) -> Option<VisitorFacts> {
        let _ = (ws, contact);
        None
    }

    /// Shows a proactive message to a live visitor (their open tabs get `invitation`)
    /// and keeps it, so a reply starts its conversation. `VisitorNotLive` when the
    /// visitor is not on the site now. Agents' invites and rules' messages both come here.
    pub async fn show_invitation(&self, ws: WorkspaceId, invitation: NewInvitation) -> Result<Invitation> {
        let _ = (ws, invitation);
        Err(Error::VisitorNotLive)
    }
}
