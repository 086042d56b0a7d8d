//! Privacy: how long a site keeps its conversations (retention, a daily durable job per
//! site), erasing one contact on request, and exporting everything held about one.
//! Owners and admins only.
//!
//! What an erasure removes and what it keeps (docs/protocol.md, "Erasure"): everything
//! the person wrote or that describes them (their messages and attachments, page views,
//! tracked events, transcript requests, rating comments, every attribute of the contact)
//! goes; the conversations stay as the business's record, with the team's messages and
//! notes, and a `contact_erased` event as their tombstone. The contact row stays, empty,
//! because the conversations name it; the store answers "not found" for it from then on,
//! so the visitor's token opens no session.

use std::sync::Arc;

use switchboard_domain::*;
use switchboard_store::{
    Audience, ContactEventCursor, ConversationCursor, ConversationFilter, ConversationSort, Erasure, EventQuery, RetentionCounts,
};

use crate::auth::Principal;
use crate::jobs::JobKind;
use crate::{Core, Result};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// Blob deletions taken per round trip.
const BLOB_BATCH: u32 = 100;
/// Pages read while gathering an export.
const EXPORT_PAGE: u32 = 500;

/// What the next retention run of a site removes, with the setting it was computed for.
#[derive(Clone, Debug, PartialEq)]
pub struct RetentionPreview {
    /// `None`: the site keeps everything, and the counts are zero.
    pub retention_days: Option<RetentionDays>,
    /// What is older than this goes (`None` without retention).
    pub cutoff: Option<Timestamp>,
    pub counts: RetentionCounts,
}

/// What [`Core::erase_contact`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Erased {
    /// Conversations that got a `contact_erased` tombstone.
    pub conversations: u64,
    pub removed: Erasure,
}

/// Everything held about one contact, as [`Core::export_contact`] gathers it.
#[derive(Clone, Debug)]
pub struct ContactExport {
    pub contact: Contact,
    /// Each conversation with its whole log as agents see it, oldest event first.
    pub conversations: Vec<(Conversation, Vec<Event>)>,
    /// Newest first.
    pub page_views: Vec<PageView>,
    /// Newest first.
    pub events: Vec<ContactEvent>,
    /// Every time a proactive rule fired for the contact, newest first.
    pub firings: Vec<triggers::ContactFiring>,
    /// The contact's conversions on every site, newest first.
    pub conversions: Vec<triggers::Conversion>,
    pub exported_at: Timestamp,
}

impl Core {
    /// What the next run removes at the clock's `now`, for the site's setting or, with
    /// `days`, for a setting not saved yet (the settings screen previews as one types).
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, site.id = %id), err(level = "info"))]
    pub async fn retention_preview(&self, who: &Principal, id: SiteId, days: Option<RetentionDays>) -> Result<RetentionPreview> {
        who.require_admin()?;
        let site = self.store.site(who.workspace_id, id).await?;
        let retention_days = days.or(site.retention_days);
        let cutoff = retention_days.map(|d| d.cutoff(self.now()));
        // Without retention nothing is older than the cutoff: the counts are zero, and the
        // oldest conversation kept is still reported.
        // Page views still in this node's buffer count (and go) too.
        self.flush_live().await;
        let counts = self.store.retention_preview(who.workspace_id, id, cutoff.unwrap_or(Timestamp(i64::MIN))).await?;
        Ok(RetentionPreview { retention_days, cutoff, counts })
    }

    /// The retention job of one site: deletes what is past its retention at `now`, the
    /// files of the attachments it deleted, and comes back in a day. A site without
    /// retention (or deleted) ends its job.
    pub(crate) async fn run_retention(&self, ws: WorkspaceId, id: SiteId) -> Result<()> {
        let site = match self.store.site(ws, id).await {
            Ok(site) => site,
            Err(switchboard_store::StoreError::NotFound(_)) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let Some(days) = site.retention_days else { return Ok(()) };
        let now = self.now();
        // Page views still in this node's buffer count (and go) too.
        self.flush_live().await;
        let removed = self.store.purge_site(ws, id, days.cutoff(now)).await?;
        tracing::info!(
            workspace.id = %ws,
            site.id = %id,
            conversations = removed.conversations,
            messages = removed.messages,
            attachments = removed.attachments,
            page_views = removed.page_views,
            contacts = removed.contacts,
            "retention run"
        );
        self.delete_queued_blobs().await?;
        self.schedule(JobKind::Retention { workspace_id: ws, site_id: id }, now.plus_millis(DAY_MS)).await?;
        Ok(())
    }

    /// Starts (or moves) a site's daily retention job: its first run is a day after the
    /// setting is saved, a day's grace to take a mistaken setting back.
    pub(crate) async fn schedule_retention(&self, site: &Site) -> Result<()> {
        if site.retention_days.is_some() {
            let job = JobKind::Retention { workspace_id: site.workspace_id, site_id: site.id };
            self.schedule(job, self.now().plus_millis(DAY_MS)).await?;
        }
        Ok(())
    }

    /// Removes the files of deleted attachments, then forgets them: a file is forgotten
    /// only once it is gone, so a crash or a failure leaves it queued for the next try.
    pub(crate) async fn delete_queued_blobs(&self) -> Result<()> {
        loop {
            let keys = self.store.queued_blob_deletions(BLOB_BATCH).await?;
            for key in &keys {
                self.blobs.delete(key).await?;
            }
            self.store.blobs_deleted(&keys).await?;
            if (keys.len() as u32) < BLOB_BATCH {
                return Ok(());
            }
        }
    }

    /// Erases a contact's personal data on their request: the tombstone first, in each of
    /// their conversations (so a conversation never lacks its tombstone), then the data,
    /// then the files. Owners and admins only.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, contact.id = %id), err(level = "info"))]
    pub async fn erase_contact(&self, who: &Principal, id: ContactId) -> Result<Erased> {
        who.require_admin()?;
        let ws = who.workspace_id;
        self.store.contact(ws, id).await?;
        let conversations = self.contact_conversations(ws, id).await?;
        for conversation in &conversations {
            let change = switchboard_store::Change::Record {
                conversation_id: conversation.id,
                actor: who.actor,
                data: EventData::ContactErased,
                at: self.now(),
            };
            self.commit(ws, change).await?;
        }
        // Page views still in this node's buffer count (and go) too.
        self.flush_live().await;
        let removed = self.store.erase_contact(ws, id, self.now()).await?;
        // Their open sockets, on every node, are told and closed; the contact is gone, so
        // their token no longer opens another.
        self.bus.publish(switchboard_bus::Topic::Visitors(ws), Arc::new(switchboard_bus::BusMessage::ContactErased { contact_id: id }));
        if let Err(e) = self.delete_queued_blobs().await {
            // The rows are gone and the files queued: a job finishes the work.
            tracing::warn!(error = %e, "deleting an erased contact's files failed; retrying in the background");
            self.schedule(JobKind::DeleteBlobs, self.now()).await?;
        }
        Ok(Erased { conversations: conversations.len() as u64, removed })
    }

    /// Everything held about a contact. Owners and admins only.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, contact.id = %id), err(level = "info"))]
    pub async fn export_contact(&self, who: &Principal, id: ContactId) -> Result<ContactExport> {
        who.require_admin()?;
        let ws = who.workspace_id;
        // The lead score as it stands now (scores decay), as the contact's page shows it.
        let contact = self.fresh_score(self.store.contact(ws, id).await?);
        let mut conversations = vec![];
        for conversation in self.contact_conversations(ws, id).await? {
            let mut events: Vec<Event> = vec![];
            loop {
                let after = events.last().map_or(0, |e| e.seq);
                let page =
                    self.store.conversation_events(ws, conversation.id, &EventQuery::replay(after, EXPORT_PAGE, Audience::Agents)).await?;
                let last = (page.len() as u32) < EXPORT_PAGE;
                events.extend(page);
                if last {
                    break;
                }
            }
            conversations.push((conversation, events));
        }
        self.flush_live().await;
        let page_views = self.store.page_views(ws, id, u32::MAX).await?;
        let mut tracked: Vec<ContactEvent> = vec![];
        loop {
            let after = tracked.last().map(|e| ContactEventCursor { at: e.at, id: e.id });
            let page = self.store.contact_events(ws, id, after, EXPORT_PAGE).await?;
            let last = (page.len() as u32) < EXPORT_PAGE;
            tracked.extend(page);
            if last {
                break;
            }
        }
        let firings = self.store.contact_firings(ws, id).await?;
        let conversions = self.store.contact_conversions(ws, id).await?;
        Ok(ContactExport { contact, conversations, page_views, events: tracked, firings, conversions, exported_at: self.now() })
    }

    /// Every conversation of the contact, oldest activity last.
    async fn contact_conversations(&self, ws: WorkspaceId, id: ContactId) -> Result<Vec<Conversation>> {
        let mut all: Vec<Conversation> = vec![];
        loop {
            let filter = ConversationFilter {
                contact_id: Some(id),
                after: all.last().map(|c| ConversationCursor::after(c, ConversationSort::LastActivity)),
                limit: EXPORT_PAGE,
                ..ConversationFilter::default()
            };
            let page = self.store.conversations(ws, &filter).await?;
            let last = (page.len() as u32) < EXPORT_PAGE;
            all.extend(page);
            if last {
                return Ok(all);
            }
        }
    }
}
