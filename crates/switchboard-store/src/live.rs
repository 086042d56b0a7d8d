//! Live tracking in the store (issue 15): visits and their pages, written in batches
//! by core's page buffer, read back as a contact's browsing history; and the
//! invitations shown to live visitors, kept so a reply can start its conversation.

use async_trait::async_trait;
use switchboard_domain::*;

use crate::Result;

/// One page opened during a visit.
#[derive(Clone, PartialEq, Debug)]
pub struct VisitPageRow {
    pub visit_id: VisitId,
    pub contact_id: ContactId,
    pub page: PageView,
}

/// What the page buffer flushes at once: new visits first (their pages refer to them),
/// then pages, then how far each visit has gone.
#[derive(Clone, PartialEq, Debug, Default)]
pub struct LiveBatch {
    pub visits: Vec<Visit>,
    pub pages: Vec<VisitPageRow>,
    /// A visit's `last_seen_at` moves to this (never back).
    pub seen: Vec<(VisitId, Timestamp)>,
}

/// Position in a contact's visits, newest first: `(started_at DESC, id DESC)`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct VisitCursor {
    pub started_at: Timestamp,
    pub id: VisitId,
}

#[async_trait]
pub trait Live: Send + Sync {
    /// Writes a batch in one transaction. Pages and visits of contacts that are gone
    /// (deleted or erased) are skipped, not an error: the visitor left meanwhile.
    async fn record_live(&self, ws: WorkspaceId, batch: &LiveBatch) -> Result<()>;
    /// How many visits the contact has made to the site (stored ones).
    async fn visit_count(&self, ws: WorkspaceId, site: SiteId, contact: ContactId) -> Result<u32>;
    /// The contact's visits to any of the workspace's sites, newest first, after
    /// `before`, at most `limit`, each with its pages oldest first.
    async fn visits(&self, ws: WorkspaceId, contact: ContactId, before: Option<VisitCursor>, limit: u32) -> Result<Vec<VisitWithPages>>;
    /// Fails with `NotFound(Contact)` when the contact is not the workspace's.
    async fn add_invitation(&self, invitation: &Invitation) -> Result<()>;
    /// `NotFound(Invitation)` when the workspace has none with this id.
    async fn invitation(&self, ws: WorkspaceId, id: InvitationId) -> Result<StoredInvitation>;
    /// Records the reply that started `conversation`: `false` when the invitation was
    /// already answered (the first answer stays).
    async fn invitation_answered(&self, ws: WorkspaceId, id: InvitationId, conversation: ConversationId, at: Timestamp) -> Result<bool>;
}
