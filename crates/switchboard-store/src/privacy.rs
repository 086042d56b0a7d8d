//! Privacy in the store: retention (what a site keeps, and for how long) and erasure of
//! one contact on request. Both delete rows the log wrote, so both must also remove
//! the rows' search entries and queue the blobs of the attachments they drop.

use async_trait::async_trait;
use switchboard_domain::*;

use crate::Result;

/// What a retention run removes from one site (or, from a preview, would remove now).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RetentionCounts {
    /// Conversations not open nor snoozed whose last activity is before the cutoff.
    pub conversations: u64,
    /// Their messages and notes.
    pub messages: u64,
    /// Attachments their messages carry.
    pub attachments: u64,
    /// Page views of the site's contacts before the cutoff.
    pub page_views: u64,
    /// Tracked events of the site's contacts before the cutoff.
    pub contact_events: u64,
    /// Contacts of the site last seen before the cutoff and left with no conversation.
    pub contacts: u64,
    /// The oldest last activity among the site's conversations that stay.
    pub oldest_kept: Option<Timestamp>,
}

/// What an erasure removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Erasure {
    pub messages: u64,
    pub attachments: u64,
    pub page_views: u64,
    pub contact_events: u64,
}

/// Deletions on request or by age. Blob keys of the attachments these delete are queued
/// (`blob_deletions`) in the same transaction; core removes the files and then the keys.
#[async_trait]
pub trait Privacy: Send + Sync {
    /// What [`Privacy::purge_site`] with the same arguments would remove now.
    async fn retention_preview(&self, ws: WorkspaceId, site: SiteId, before: Timestamp) -> Result<RetentionCounts>;
    /// Deletes, in one transaction, the site's conversations that are neither open nor
    /// snoozed and whose last activity (`updated_at`) is before `before`, with their events,
    /// search entries and the attachments their messages carry; page views and tracked
    /// events of the site's contacts before `before`; and the site's contacts last seen
    /// before `before` that have no conversation left. `NotFound(Site)` for another
    /// workspace's site.
    async fn purge_site(&self, ws: WorkspaceId, site: SiteId, before: Timestamp) -> Result<RetentionCounts>;
    /// Removes the contact's personal data, in one transaction: the messages they wrote
    /// (and their search entries), every attachment they uploaded or their messages
    /// carry, their page views, tracked events and transcript requests, and every
    /// attribute of the contact row, which stays (their conversations name it) marked
    /// erased at `at`: reads of contacts leave it out from then on. `NotFound(Contact)`
    /// for an unknown, erased or other workspace's contact. The tombstone events are
    /// core's to commit, before this runs.
    async fn erase_contact(&self, ws: WorkspaceId, contact: ContactId, at: Timestamp) -> Result<Erasure>;
    /// The ids among `ids` that name no current contact of the workspace: erased,
    /// removed, another workspace's or unknown; in no particular order (one read for the
    /// open sockets of a node that missed `ContactErased` messages).
    async fn gone_contacts(&self, ws: WorkspaceId, ids: &[ContactId]) -> Result<Vec<ContactId>>;
    /// Up to `limit` blob keys queued for deletion, oldest first.
    async fn queued_blob_deletions(&self, limit: u32) -> Result<Vec<String>>;
    /// Forgets queued keys whose files are gone.
    async fn blobs_deleted(&self, keys: &[String]) -> Result<()>;
}
