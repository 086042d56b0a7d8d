//! SQLite implementation of the [`Store`] traits: the zero-configuration default.
//!
//! WAL mode, foreign keys on, one writer connection driven by a group-commit task,
//! reads from a separate pool. Invariant: knows nothing of HTTP.
//!
//! Layout: `open.rs` (options, connecting, migrating), `writer.rs` (the log's writer
//! thread, the write turn, syncing the WAL), `maintenance.rs` (search indexing and
//! checkpoints in the background), `directory.rs` (everything outside the log),
//! `log.rs` and `query.rs` (the log), `privacy.rs` (retention and erasure),
//! `invitations.rs` (invitations by e-mail), `rows.rs`
//! (decoding). This file delegates.

mod accounts;
mod directory;
mod export;
mod invitations;
mod jobs;
mod live;
mod log;
mod maintenance;
mod open;
mod privacy;
mod proactive;
mod query;
mod routing;
mod rows;
mod visitors;
mod writer;

use std::path::Path;

use async_trait::async_trait;
use sqlx::SqlitePool;
use switchboard_domain::*;
use switchboard_store::*;
use writer::Turn;

pub use export::SqliteSource;
pub use open::{Durability, SqliteOptions};

pub struct SqliteStore {
    read: SqlitePool,
    /// One connection, for every write but the log's; used with a turn (`writing`).
    write: SqlitePool,
    turn: Turn,
    writer: GroupCommit<(WorkspaceId, Change), Result<Committed>>,
    /// The log writer's own connection; search indexing borrows it between batches.
    log: log::LogConnection,
    /// Search indexing and checkpoints (`maintain_in_background`).
    maintenance: tokio::task::JoinHandle<()>,
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> Result<()> {
        open::ping(self).await
    }

    async fn close(&self) {
        self.writer.close().await;
        self.maintenance.abort();
        self.write.close().await;
        self.read.close().await;
    }

    async fn backup(&self, dest: &Path) -> Result<()> {
        open::backup(self, dest).await
    }

    async fn secret(&self, name: &str, generate: String) -> Result<String> {
        directory::secret(self, name, generate).await
    }
}

#[async_trait]
impl Directory for SqliteStore {
    async fn create_workspace(&self, w: &Workspace) -> Result<()> {
        directory::create_workspace(self, w).await
    }

    async fn workspace(&self, id: WorkspaceId) -> Result<Workspace> {
        directory::workspace(self, id).await
    }

    async fn workspaces(&self) -> Result<Vec<Workspace>> {
        directory::workspaces(self).await
    }

    async fn update_workspace(&self, w: &Workspace) -> Result<()> {
        directory::update_workspace(self, w).await
    }

    async fn create_agent(&self, a: &Agent, password_hash: &str) -> Result<()> {
        directory::create_agent(self, a, password_hash).await
    }

    async fn update_agent(&self, a: &Agent) -> Result<()> {
        directory::update_agent(self, a).await
    }

    async fn set_password(&self, ws: WorkspaceId, id: AgentId, password_hash: &str) -> Result<()> {
        directory::set_password(self, ws, id, password_hash).await
    }

    async fn agent(&self, ws: WorkspaceId, id: AgentId) -> Result<Agent> {
        directory::agent(self, ws, id).await
    }

    async fn agents(&self, ws: WorkspaceId) -> Result<Vec<Agent>> {
        directory::agents(self, ws).await
    }

    async fn agent_credentials(&self, email: &Email) -> Result<Option<(Agent, String)>> {
        directory::agent_credentials(self, email).await
    }

    async fn delete_agent(&self, ws: WorkspaceId, id: AgentId) -> Result<()> {
        directory::delete_agent(self, ws, id).await
    }

    async fn record_agent_activity(&self, ws: WorkspaceId, id: AgentId, at: Timestamp) -> Result<()> {
        visitors::record_agent_activity(self, ws, id, at).await
    }

    async fn agent_activity(&self, ws: WorkspaceId) -> Result<Vec<(AgentId, Timestamp)>> {
        visitors::agent_activity(self, ws).await
    }

    async fn create_session(&self, x: &Session) -> Result<()> {
        directory::create_session(self, x).await
    }

    async fn session(&self, token_hash: &str, now: Timestamp) -> Result<Option<Session>> {
        directory::session(self, token_hash, now).await
    }

    async fn agent_sessions(&self, ws: WorkspaceId, agent: AgentId, now: Timestamp) -> Result<Vec<Session>> {
        directory::agent_sessions(self, ws, agent, now).await
    }

    async fn touch_session(&self, id: SessionId, at: Timestamp) -> Result<()> {
        directory::touch_session(self, id, at).await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        directory::delete_session(self, token_hash).await
    }

    async fn delete_session_by_id(&self, ws: WorkspaceId, agent: AgentId, id: SessionId) -> Result<()> {
        directory::delete_session_by_id(self, ws, agent, id).await
    }

    async fn delete_agent_sessions(&self, agent: AgentId) -> Result<Vec<SessionId>> {
        directory::delete_agent_sessions(self, agent).await
    }

    async fn delete_other_sessions(&self, agent: AgentId, keep: &str) -> Result<Vec<SessionId>> {
        directory::delete_other_sessions(self, agent, keep).await
    }

    async fn two_factor(&self, ws: WorkspaceId, agent: AgentId) -> Result<Option<TwoFactor>> {
        accounts::two_factor(self, ws, agent).await
    }

    async fn set_two_factor(&self, ws: WorkspaceId, agent: AgentId, tf: Option<&TwoFactor>, recovery_hashes: &[String]) -> Result<()> {
        accounts::set_two_factor(self, ws, agent, tf, recovery_hashes).await
    }

    async fn use_totp_step(&self, ws: WorkspaceId, agent: AgentId, step: i64) -> Result<bool> {
        accounts::use_totp_step(self, ws, agent, step).await
    }

    async fn use_recovery_code(&self, ws: WorkspaceId, agent: AgentId, code_hash: &str, at: Timestamp) -> Result<bool> {
        accounts::use_recovery_code(self, ws, agent, code_hash, at).await
    }

    async fn recovery_codes_left(&self, ws: WorkspaceId, agent: AgentId) -> Result<u32> {
        accounts::recovery_codes_left(self, ws, agent).await
    }

    async fn create_api_token(&self, t: &ApiToken, secret_hash: &str) -> Result<()> {
        directory::create_api_token(self, t, secret_hash).await
    }

    async fn api_tokens(&self, ws: WorkspaceId) -> Result<Vec<ApiToken>> {
        directory::api_tokens(self, ws).await
    }

    async fn use_api_token(&self, secret_hash: &str, now: Timestamp) -> Result<Option<ApiToken>> {
        directory::use_api_token(self, secret_hash, now).await
    }

    async fn delete_api_token(&self, ws: WorkspaceId, id: ApiTokenId) -> Result<()> {
        directory::delete_api_token(self, ws, id).await
    }

    async fn create_team(&self, team: &Team) -> Result<()> {
        directory::create_team(self, team).await
    }

    async fn update_team(&self, team: &Team) -> Result<()> {
        directory::update_team(self, team).await
    }

    async fn team(&self, ws: WorkspaceId, id: TeamId) -> Result<Team> {
        directory::team(self, ws, id).await
    }

    async fn teams(&self, ws: WorkspaceId) -> Result<Vec<Team>> {
        directory::teams(self, ws).await
    }

    async fn delete_team(&self, ws: WorkspaceId, id: TeamId) -> Result<()> {
        directory::delete_team(self, ws, id).await
    }

    async fn create_site(&self, site: &Site) -> Result<()> {
        directory::create_site(self, site).await
    }

    async fn update_site(&self, site: &Site) -> Result<()> {
        directory::update_site(self, site).await
    }

    async fn site(&self, ws: WorkspaceId, id: SiteId) -> Result<Site> {
        directory::site(self, ws, id).await
    }

    async fn site_by_key(&self, public_key: &str) -> Result<Site> {
        directory::site_by_key(self, public_key).await
    }

    async fn sites(&self, ws: WorkspaceId) -> Result<Vec<Site>> {
        directory::sites(self, ws).await
    }

    async fn delete_site(&self, ws: WorkspaceId, id: SiteId) -> Result<()> {
        directory::delete_site(self, ws, id).await
    }

    async fn inboxes(&self, ws: WorkspaceId) -> Result<Vec<Inbox>> {
        directory::inboxes(self, ws).await
    }

    async fn create_canned(&self, c: &CannedResponse) -> Result<()> {
        directory::create_canned(self, c).await
    }

    async fn update_canned(&self, c: &CannedResponse) -> Result<()> {
        directory::update_canned(self, c).await
    }

    async fn canned(&self, ws: WorkspaceId, id: CannedResponseId) -> Result<CannedResponse> {
        directory::canned(self, ws, id).await
    }

    async fn canned_responses(&self, ws: WorkspaceId, owner: Option<AgentId>) -> Result<Vec<CannedResponse>> {
        directory::canned_responses(self, ws, owner).await
    }

    async fn delete_canned(&self, ws: WorkspaceId, id: CannedResponseId) -> Result<()> {
        directory::delete_canned(self, ws, id).await
    }

    async fn create_attachment(&self, a: &Attachment) -> Result<()> {
        directory::create_attachment(self, a).await
    }

    async fn attachment(&self, ws: WorkspaceId, id: AttachmentId) -> Result<Attachment> {
        directory::attachment(self, ws, id).await
    }

    async fn create_label(&self, l: &ManagedLabel) -> Result<()> {
        directory::create_label(self, l).await
    }

    async fn update_label(&self, name: &Label, l: &ManagedLabel) -> Result<()> {
        directory::update_label(self, name, l).await
    }

    async fn label(&self, ws: WorkspaceId, name: &Label) -> Result<ManagedLabel> {
        directory::label(self, ws, name).await
    }

    async fn labels(&self, ws: WorkspaceId) -> Result<Vec<ManagedLabel>> {
        directory::labels(self, ws).await
    }

    async fn delete_label(&self, ws: WorkspaceId, name: &Label) -> Result<()> {
        directory::delete_label(self, ws, name).await
    }
}

#[async_trait]
impl Contacts for SqliteStore {
    async fn create_contact(&self, c: &Contact) -> Result<()> {
        directory::create_contact(self, c).await
    }

    async fn update_contact(&self, c: &Contact) -> Result<()> {
        directory::update_contact(self, c).await
    }

    async fn contact(&self, ws: WorkspaceId, id: ContactId) -> Result<Contact> {
        directory::contact(self, ws, id).await
    }

    async fn contact_by_external_id(&self, ws: WorkspaceId, external_id: &str) -> Result<Option<Contact>> {
        directory::contact_by_external_id(self, ws, external_id).await
    }

    async fn search_contacts(&self, ws: WorkspaceId, terms: &[String], limit: u32) -> Result<Vec<Contact>> {
        directory::search_contacts(self, ws, terms, limit).await
    }

    async fn contacts_by_id(&self, ws: WorkspaceId, ids: &[ContactId]) -> Result<Vec<Contact>> {
        directory::contacts_by_id(self, ws, ids).await
    }

    async fn page_views(&self, ws: WorkspaceId, contact: ContactId, limit: u32) -> Result<Vec<PageView>> {
        directory::page_views(self, ws, contact, limit).await
    }

    async fn add_contact_event(&self, event: &ContactEvent) -> Result<()> {
        visitors::add_contact_event(self, event).await
    }

    async fn contact_events(
        &self,
        ws: WorkspaceId,
        contact: ContactId,
        after: Option<ContactEventCursor>,
        limit: u32,
    ) -> Result<Vec<ContactEvent>> {
        visitors::contact_events(self, ws, contact, after, limit).await
    }

    async fn request_transcript(&self, request: &TranscriptRequest) -> Result<()> {
        visitors::request_transcript(self, request).await
    }

    async fn transcript_requests(&self, ws: WorkspaceId, conversation: ConversationId) -> Result<Vec<TranscriptRequest>> {
        visitors::transcript_requests(self, ws, conversation).await
    }
}

#[async_trait]
impl Log for SqliteStore {
    async fn commit(&self, ws: WorkspaceId, change: Change) -> Result<Committed> {
        self.writer.submit((ws, change)).await.unwrap_or_else(|| Err(StoreError::Unavailable("the store is shutting down".into())))
    }

    async fn conversation(&self, ws: WorkspaceId, id: ConversationId) -> Result<Conversation> {
        query::conversation(&self.read, ws, id).await
    }

    async fn conversations(&self, ws: WorkspaceId, f: &ConversationFilter) -> Result<Vec<Conversation>> {
        query::conversations(&self.read, ws, f).await
    }

    async fn conversation_counts(&self, ws: WorkspaceId, me: Option<AgentId>, scope: &ConversationScope) -> Result<ConversationCounts> {
        query::conversation_counts(&self.read, ws, me, scope).await
    }

    async fn conversation_events(&self, ws: WorkspaceId, id: ConversationId, query: &EventQuery) -> Result<Vec<Event>> {
        query::conversation_events(&self.read, ws, id, query).await
    }

    async fn last_event_of_kind(&self, ws: WorkspaceId, id: ConversationId, kind: &str) -> Result<Option<Event>> {
        query::last_event_of_kind(&self.read, ws, id, kind).await
    }

    async fn feed_head(&self, ws: WorkspaceId) -> Result<i64> {
        query::feed_head(&self.read, ws).await
    }

    async fn feed(&self, ws: WorkspaceId, after_feed_seq: i64, limit: u32) -> Result<Vec<Event>> {
        query::feed(&self.read, ws, after_feed_seq, limit).await
    }

    async fn visitor_unread(&self, ws: WorkspaceId, contact: ContactId) -> Result<Vec<(ConversationId, i64)>> {
        visitors::visitor_unread(self, ws, contact).await
    }
}

#[async_trait]
impl Search for SqliteStore {
    async fn search_messages(&self, ws: WorkspaceId, terms: &[String], limit: u32) -> Result<Vec<MessageHit>> {
        // Every message committed before the search is found by it.
        maintenance::index_search(&self.turn, &self.log).await?;
        query::search_messages(&self.read, ws, terms, limit).await
    }
}

#[async_trait]
impl Jobs for SqliteStore {
    async fn enqueue_job(&self, job: &NewJob) -> Result<JobId> {
        jobs::enqueue_job(self, job).await
    }

    async fn claim_jobs(&self, now: Timestamp, lease_ms: i64, limit: u32) -> Result<Vec<Job>> {
        jobs::claim_jobs(self, now, lease_ms, limit).await
    }

    async fn complete_job(&self, job: &Job) -> Result<bool> {
        jobs::complete_job(self, job).await
    }

    async fn fail_job(&self, job: &Job, error: &str, now: Timestamp) -> Result<bool> {
        jobs::fail_job(self, job, error, now).await
    }

    async fn job(&self, id: JobId) -> Result<Option<Job>> {
        jobs::job(self, id).await
    }

    async fn next_job_at(&self) -> Result<Option<Timestamp>> {
        jobs::next_job_at(self).await
    }

    async fn job_queue(&self, now: Timestamp) -> Result<JobQueue> {
        jobs::job_queue(self, now).await
    }
}

#[async_trait]
impl Audit for SqliteStore {
    async fn record_audit(&self, entry: &AuditEntry) -> Result<()> {
        accounts::record_audit(self, entry).await
    }

    async fn record_read(&self, entry: &AuditEntry, since: Timestamp) -> Result<bool> {
        accounts::record_read(self, entry, since).await
    }

    async fn audit_log(&self, ws: WorkspaceId, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        accounts::audit_log(self, ws, filter).await
    }
}

#[async_trait]
impl AgentInvitations for SqliteStore {
    async fn create_agent_invitation(&self, invitation: &AgentInvitation, token_hash: &str) -> Result<()> {
        invitations::create_agent_invitation(self, invitation, token_hash).await
    }

    async fn agent_invitations(&self, ws: WorkspaceId) -> Result<Vec<AgentInvitation>> {
        invitations::agent_invitations(self, ws).await
    }

    async fn agent_invitation(&self, ws: WorkspaceId, id: AgentInvitationId) -> Result<AgentInvitation> {
        invitations::agent_invitation_by_id(self, ws, id).await
    }

    async fn agent_invitation_by_token(&self, token_hash: &str) -> Result<Option<AgentInvitation>> {
        invitations::agent_invitation_by_token(self, token_hash).await
    }

    async fn agent_invitation_token_is(&self, ws: WorkspaceId, id: AgentInvitationId, token_hash: &str) -> Result<bool> {
        invitations::agent_invitation_token_is(self, ws, id, token_hash).await
    }

    async fn revoke_agent_invitation(&self, ws: WorkspaceId, id: AgentInvitationId, at: Timestamp) -> Result<()> {
        invitations::revoke_agent_invitation(self, ws, id, at).await
    }

    async fn renew_agent_invitation(
        &self,
        ws: WorkspaceId,
        id: AgentInvitationId,
        token_hash: &str,
        expires_at: Timestamp,
        mail: InvitationMail,
    ) -> Result<AgentInvitation> {
        invitations::renew_agent_invitation(self, ws, id, token_hash, expires_at, mail).await
    }

    async fn set_agent_invitation_mail(
        &self,
        ws: WorkspaceId,
        id: AgentInvitationId,
        token_hash: &str,
        mail: InvitationMail,
        error: Option<&str>,
    ) -> Result<bool> {
        invitations::set_agent_invitation_mail(self, ws, id, token_hash, mail, error).await
    }

    async fn accept_agent_invitation(
        &self,
        token_hash: &str,
        agent: &Agent,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<AgentInvitation> {
        invitations::accept_agent_invitation(self, token_hash, agent, password_hash, now).await
    }
}

#[async_trait]
impl Bans for SqliteStore {
    async fn create_ban(&self, ban: &Ban) -> Result<()> {
        directory::create_ban(self, ban).await
    }

    async fn bans(&self, ws: WorkspaceId) -> Result<Vec<Ban>> {
        directory::bans(self, ws).await
    }

    async fn delete_ban(&self, ws: WorkspaceId, id: BanId) -> Result<()> {
        directory::delete_ban(self, ws, id).await
    }
}

#[async_trait]
impl Routing for SqliteStore {
    async fn agent_loads(&self, ws: WorkspaceId) -> Result<Vec<AgentLoad>> {
        routing::agent_loads(self, ws).await
    }

    async fn last_helper(&self, ws: WorkspaceId, contact: ContactId, except: ConversationId) -> Result<Option<AgentId>> {
        routing::last_helper(self, ws, contact, except).await
    }

    async fn queue(&self, ws: WorkspaceId, scope: QueueScope, limit: u32) -> Result<Vec<switchboard_domain::routing::QueueEntry>> {
        routing::queue(self, ws, scope, limit).await
    }

    async fn queue_summary(&self, ws: WorkspaceId) -> Result<Vec<QueueSummary>> {
        routing::queue_summary(self, ws).await
    }
}

#[async_trait]
impl Consumers for SqliteStore {
    async fn consumer_cursor(&self, name: &str, ws: WorkspaceId) -> Result<i64> {
        jobs::consumer_cursor(self, name, ws).await
    }

    async fn save_consumer_cursor(&self, name: &str, ws: WorkspaceId, feed_seq: i64) -> Result<()> {
        jobs::save_consumer_cursor(self, name, ws, feed_seq).await
    }
}

#[async_trait]
impl Live for SqliteStore {
    async fn record_live(&self, ws: WorkspaceId, batch: &LiveBatch) -> Result<()> {
        live::record_live(self, ws, batch).await
    }

    async fn visit_count(&self, ws: WorkspaceId, site: SiteId, contact: ContactId) -> Result<u32> {
        live::visit_count(self, ws, site, contact).await
    }

    async fn visits(&self, ws: WorkspaceId, contact: ContactId, before: Option<VisitCursor>, limit: u32) -> Result<Vec<VisitWithPages>> {
        live::visits(self, ws, contact, before, limit).await
    }

    async fn add_invitation(&self, invitation: &Invitation) -> Result<()> {
        live::add_invitation(self, invitation).await
    }

    async fn invitation(&self, ws: WorkspaceId, id: InvitationId) -> Result<StoredInvitation> {
        live::invitation(self, ws, id).await
    }

    async fn invitation_answered(&self, ws: WorkspaceId, id: InvitationId, conversation: ConversationId, at: Timestamp) -> Result<bool> {
        live::invitation_answered(self, ws, id, conversation, at).await
    }
}

#[async_trait]
impl Privacy for SqliteStore {
    async fn retention_preview(&self, ws: WorkspaceId, site: SiteId, before: Timestamp) -> Result<RetentionCounts> {
        privacy::retention_preview(self, ws, site, before).await
    }

    async fn purge_site(&self, ws: WorkspaceId, site: SiteId, before: Timestamp) -> Result<RetentionCounts> {
        privacy::purge_site(self, ws, site, before).await
    }

    async fn erase_contact(&self, ws: WorkspaceId, contact: ContactId, at: Timestamp) -> Result<Erasure> {
        privacy::erase_contact(self, ws, contact, at).await
    }

    async fn gone_contacts(&self, ws: WorkspaceId, ids: &[ContactId]) -> Result<Vec<ContactId>> {
        privacy::gone_contacts(self, ws, ids).await
    }

    async fn queued_blob_deletions(&self, limit: u32) -> Result<Vec<String>> {
        privacy::queued_blob_deletions(self, limit).await
    }

    async fn blobs_deleted(&self, keys: &[String]) -> Result<()> {
        privacy::blobs_deleted(self, keys).await
    }
}

#[async_trait]
impl Proactive for SqliteStore {
    async fn create_trigger(&self, trigger: &triggers::Trigger) -> Result<()> {
        proactive::create_trigger(self, trigger).await
    }

    async fn triggers(&self, ws: WorkspaceId, site: SiteId) -> Result<Vec<triggers::Trigger>> {
        proactive::triggers(self, ws, site).await
    }

    async fn trigger(&self, ws: WorkspaceId, id: TriggerId) -> Result<triggers::Trigger> {
        proactive::get_trigger(self, ws, id).await
    }

    async fn update_trigger(
        &self,
        ws: WorkspaceId,
        id: TriggerId,
        draft: &triggers::TriggerDraft,
        at: Timestamp,
    ) -> Result<triggers::Trigger> {
        proactive::update_trigger(self, ws, id, draft, at).await
    }

    async fn delete_trigger(&self, ws: WorkspaceId, id: TriggerId) -> Result<()> {
        proactive::delete_trigger(self, ws, id).await
    }

    async fn last_firings(&self, ws: WorkspaceId, contact: ContactId) -> Result<Vec<(TriggerId, triggers::Firing)>> {
        proactive::last_firings(self, ws, contact).await
    }

    async fn contact_firings(&self, ws: WorkspaceId, contact: ContactId) -> Result<Vec<triggers::ContactFiring>> {
        proactive::contact_firings(self, ws, contact).await
    }

    async fn contact_conversions(&self, ws: WorkspaceId, contact: ContactId) -> Result<Vec<triggers::Conversion>> {
        proactive::contact_conversions(self, ws, contact).await
    }

    async fn record_firing(&self, ws: WorkspaceId, firing: &FiringRecord) -> Result<()> {
        proactive::record_firing(self, ws, firing).await
    }

    async fn count_invitation(&self, ws: WorkspaceId, invitation: InvitationId, outcome: InvitationOutcome, at: Timestamp) -> Result<bool> {
        proactive::count_invitation(self, ws, invitation, outcome, at).await
    }

    async fn latest_shown_rule(
        &self,
        ws: WorkspaceId,
        site: SiteId,
        contact: ContactId,
        at: Timestamp,
    ) -> Result<Option<(TriggerId, Timestamp)>> {
        proactive::latest_shown_rule(self, ws, site, contact, at).await
    }

    async fn latest_conversation(
        &self,
        ws: WorkspaceId,
        site: SiteId,
        contact: ContactId,
        at: Timestamp,
    ) -> Result<Option<(ConversationId, Timestamp)>> {
        proactive::latest_conversation(self, ws, site, contact, at).await
    }

    async fn record_conversion(&self, conversion: &triggers::Conversion) -> Result<()> {
        proactive::record_conversion(self, conversion).await
    }

    async fn conversions(
        &self,
        ws: WorkspaceId,
        site: SiteId,
        before: Option<ConversionCursor>,
        limit: u32,
    ) -> Result<Vec<triggers::Conversion>> {
        proactive::conversions(self, ws, site, before, limit).await
    }

    async fn scoring(&self, ws: WorkspaceId) -> Result<scoring::Scoring> {
        proactive::scoring(self, ws).await
    }

    async fn set_scoring(&self, ws: WorkspaceId, scoring: &scoring::Scoring) -> Result<()> {
        proactive::set_scoring(self, ws, scoring).await
    }

    async fn earn_points(
        &self,
        ws: WorkspaceId,
        contact: ContactId,
        earnings: &[scoring::Earning],
        half_life_days: Option<u16>,
        at: Timestamp,
    ) -> Result<scoring::LeadScore> {
        proactive::earn_points(self, ws, contact, earnings, half_life_days, at).await
    }

    async fn add_pending(&self, ws: WorkspaceId, contact: ContactId, actions: &triggers::PendingActions) -> Result<()> {
        proactive::add_pending(self, ws, contact, actions).await
    }

    async fn take_pending(&self, ws: WorkspaceId, contact: ContactId) -> Result<triggers::PendingActions> {
        proactive::take_pending(self, ws, contact).await
    }
}
