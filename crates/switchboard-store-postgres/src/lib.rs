//! PostgreSQL implementation of the [`Store`] trait: for installs that outgrow one node.
//!
//! Same schema, semantics and contract suite as the SQLite store. Changes to the log go
//! through a group-commit writer per process (one transaction per batch); several
//! processes may share a database, and the batch writer keeps their sequence numbers
//! gapless (see `log.rs`). No `NOTIFY`: fan-out is the bus's job, not the database's.
//! Invariant: knows nothing of HTTP.

mod accounts;
mod backup;
mod directory;
mod import;
mod invitations;
mod jobs;
mod live;
mod log;
mod privacy;
mod proactive;
mod query;
mod routing;
mod rows;
mod visitors;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions as _, Connection as _};
use switchboard_domain::*;
use switchboard_store::*;

use directory as dir;
use rows::db;

/// No `Debug`: the URL may hold a password.
#[derive(Clone)]
pub struct PgOptions {
    /// `postgres://user:password@host:port/database`.
    pub url: String,
    /// Connections of this process, the writer's included.
    pub max_connections: u32,
    /// Most changes committed in one transaction.
    pub max_batch: usize,
    /// Told of every batch's events after it commits, in order. Only this process's
    /// batches: events written by other nodes reach this one through the bus.
    pub hook: Option<Arc<dyn CommitHook>>,
}

impl PgOptions {
    pub fn new(url: impl Into<String>) -> Self {
        Self { url: url.into(), max_connections: 10, max_batch: 512, hook: None }
    }
}

pub struct PgStore {
    pool: PgPool,
    writer: GroupCommit<(WorkspaceId, Change), Result<Committed>>,
    /// Kept for `pg_dump`, which opens a connection of its own.
    url: String,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Brings the schema up to date on a connection of its own that does not log statements:
/// a migration that rewrites a table takes seconds by design, and sqlx would print its
/// whole text as a slow-statement warning. sqlx takes an advisory lock, so nodes starting
/// together migrate once.
/// The URL may hold a password, so errors name the failure, never the URL.
fn unavailable(e: sqlx::Error) -> StoreError {
    StoreError::Unavailable(format!("connecting to PostgreSQL: {e}"))
}

async fn migrate_schema(options: &PgConnectOptions) -> Result<()> {
    let started = std::time::Instant::now();
    let mut conn = options.clone().disable_statement_logging().connect().await.map_err(unavailable)?;
    MIGRATOR.run(&mut conn).await.map_err(|e| StoreError::Unavailable(format!("migrating: {e}")))?;
    conn.close().await.map_err(unavailable)?;
    if started.elapsed() > std::time::Duration::from_secs(1) {
        tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "database schema brought up to date");
    }
    Ok(())
}

impl PgStore {
    /// Connects and migrates the database, then starts the writer.
    pub async fn connect(opts: &PgOptions) -> Result<Self> {
        let options: PgConnectOptions = opts.url.parse().map_err(unavailable)?;
        migrate_schema(&options).await?;
        let pool = PgPoolOptions::new().max_connections(opts.max_connections.max(2)).connect_with(options).await.map_err(unavailable)?;
        let writer_pool = pool.clone();
        let hook = opts.hook.clone();
        let writer = GroupCommit::spawn(opts.max_batch.max(1), move |jobs| {
            let pool = writer_pool.clone();
            let hook = hook.clone();
            async move {
                let results = log::apply_batch(&pool, &jobs).await;
                announce(hook.as_deref(), &results);
                results
            }
        });
        Ok(Self { pool, writer, url: opts.url.clone() })
    }

    /// Connects only to bring the schema up to date.
    pub async fn migrate(url: &str) -> Result<()> {
        let store = Self::connect(&PgOptions::new(url)).await?;
        store.close().await;
        Ok(())
    }
}

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(db)?;
        Ok(())
    }

    async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }

    async fn backup(&self, dest: &Path) -> Result<()> {
        backup::pg_dump(&self.url, dest).await
    }

    async fn secret(&self, name: &str, generate: String) -> Result<String> {
        dir::secret(&self.pool, name, generate).await
    }
}

#[async_trait]
impl Directory for PgStore {
    async fn create_workspace(&self, w: &Workspace) -> Result<()> {
        dir::create_workspace(&self.pool, w).await
    }

    async fn workspace(&self, id: WorkspaceId) -> Result<Workspace> {
        let row = sqlx::query("SELECT * FROM workspaces WHERE id = $1").bind(id.0).fetch_optional(&self.pool).await.map_err(db)?;
        rows::workspace(&row.ok_or(StoreError::NotFound(Entity::Workspace))?)
    }

    async fn workspaces(&self) -> Result<Vec<Workspace>> {
        let rows = sqlx::query("SELECT * FROM workspaces ORDER BY created_at, id").fetch_all(&self.pool).await.map_err(db)?;
        rows.iter().map(rows::workspace).collect()
    }

    async fn update_workspace(&self, w: &Workspace) -> Result<()> {
        dir::update_workspace(&self.pool, w).await
    }

    async fn create_agent(&self, a: &Agent, password_hash: &str) -> Result<()> {
        dir::write_agent(&self.pool, a, Some(password_hash)).await
    }

    async fn update_agent(&self, a: &Agent) -> Result<()> {
        dir::write_agent(&self.pool, a, None).await
    }

    async fn set_password(&self, ws: WorkspaceId, id: AgentId, password_hash: &str) -> Result<()> {
        dir::set_password(&self.pool, ws, id, password_hash).await
    }

    async fn agent(&self, ws: WorkspaceId, id: AgentId) -> Result<Agent> {
        dir::by_id(&self.pool, "agents", ws, id.0, Entity::Agent, rows::agent).await
    }

    async fn agents(&self, ws: WorkspaceId) -> Result<Vec<Agent>> {
        dir::all_of(&self.pool, "agents", ws, "name, id", rows::agent).await
    }

    async fn agent_credentials(&self, email: &Email) -> Result<Option<(Agent, String)>> {
        let row = sqlx::query("SELECT * FROM agents WHERE email = $1").bind(email.as_str()).fetch_optional(&self.pool).await.map_err(db)?;
        row.map(|r| Ok((rows::agent(&r)?, sqlx::Row::try_get(&r, "password_hash").map_err(db)?))).transpose()
    }

    async fn delete_agent(&self, ws: WorkspaceId, id: AgentId) -> Result<()> {
        dir::delete_where(&self.pool, "agents", ws, id.0, Entity::Agent).await
    }

    async fn record_agent_activity(&self, ws: WorkspaceId, id: AgentId, at: Timestamp) -> Result<()> {
        visitors::record_agent_activity(&self.pool, ws, id, at).await
    }

    async fn agent_activity(&self, ws: WorkspaceId) -> Result<Vec<(AgentId, Timestamp)>> {
        visitors::agent_activity(&self.pool, ws).await
    }

    async fn create_session(&self, x: &Session) -> Result<()> {
        dir::create_session(&self.pool, x).await
    }

    async fn session(&self, token_hash: &str, now: Timestamp) -> Result<Option<Session>> {
        let row = sqlx::query("SELECT * FROM sessions WHERE token_hash = $1 AND expires_at > $2")
            .bind(token_hash)
            .bind(now.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.as_ref().map(rows::session).transpose()
    }

    async fn agent_sessions(&self, ws: WorkspaceId, agent: AgentId, now: Timestamp) -> Result<Vec<Session>> {
        accounts::agent_sessions(&self.pool, ws, agent, now).await
    }

    async fn touch_session(&self, id: SessionId, at: Timestamp) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_used_at = $2 WHERE id = $1 AND last_used_at < $2")
            .bind(id.0)
            .bind(at.0)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&self.pool).await.map_err(db)?;
        Ok(())
    }

    async fn delete_session_by_id(&self, ws: WorkspaceId, agent: AgentId, id: SessionId) -> Result<()> {
        accounts::delete_session_by_id(&self.pool, ws, agent, id).await
    }

    async fn delete_agent_sessions(&self, agent: AgentId) -> Result<Vec<SessionId>> {
        let ids: Vec<uuid::Uuid> = sqlx::query_scalar("DELETE FROM sessions WHERE agent_id = $1 RETURNING id")
            .bind(agent.0)
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        Ok(ids.into_iter().map(SessionId).collect())
    }

    async fn delete_other_sessions(&self, agent: AgentId, keep: &str) -> Result<Vec<SessionId>> {
        let ids: Vec<uuid::Uuid> = sqlx::query_scalar("DELETE FROM sessions WHERE agent_id = $1 AND token_hash <> $2 RETURNING id")
            .bind(agent.0)
            .bind(keep)
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        Ok(ids.into_iter().map(SessionId).collect())
    }

    async fn two_factor(&self, ws: WorkspaceId, agent: AgentId) -> Result<Option<TwoFactor>> {
        accounts::two_factor(&self.pool, ws, agent).await
    }

    async fn set_two_factor(&self, ws: WorkspaceId, agent: AgentId, tf: Option<&TwoFactor>, recovery_hashes: &[String]) -> Result<()> {
        accounts::set_two_factor(&self.pool, ws, agent, tf, recovery_hashes).await
    }

    async fn use_totp_step(&self, ws: WorkspaceId, agent: AgentId, step: i64) -> Result<bool> {
        accounts::use_totp_step(&self.pool, ws, agent, step).await
    }

    async fn use_recovery_code(&self, ws: WorkspaceId, agent: AgentId, code_hash: &str, at: Timestamp) -> Result<bool> {
        accounts::use_recovery_code(&self.pool, ws, agent, code_hash, at).await
    }

    async fn recovery_codes_left(&self, ws: WorkspaceId, agent: AgentId) -> Result<u32> {
        accounts::recovery_codes_left(&self.pool, ws, agent).await
    }

    async fn create_api_token(&self, t: &ApiToken, secret_hash: &str) -> Result<()> {
        dir::create_api_token(&self.pool, t, secret_hash).await
    }

    async fn api_tokens(&self, ws: WorkspaceId) -> Result<Vec<ApiToken>> {
        dir::all_of(&self.pool, "api_tokens", ws, "created_at, id", rows::api_token).await
    }

    async fn use_api_token(&self, secret_hash: &str, now: Timestamp) -> Result<Option<ApiToken>> {
        accounts::use_api_token(&self.pool, secret_hash, now).await
    }

    async fn delete_api_token(&self, ws: WorkspaceId, id: ApiTokenId) -> Result<()> {
        dir::delete_where(&self.pool, "api_tokens", ws, id.0, Entity::ApiToken).await
    }

    async fn create_team(&self, team: &Team) -> Result<()> {
        dir::write_team(&self.pool, team, true).await
    }

    async fn update_team(&self, team: &Team) -> Result<()> {
        dir::write_team(&self.pool, team, false).await
    }

    async fn team(&self, ws: WorkspaceId, id: TeamId) -> Result<Team> {
        let team = dir::by_id(&self.pool, "teams", ws, id.0, Entity::Team, |r| rows::team(r, vec![])).await?;
        Ok(Team { agent_ids: dir::team_members(&self.pool, id).await?, ..team })
    }

    async fn teams(&self, ws: WorkspaceId) -> Result<Vec<Team>> {
        dir::teams(&self.pool, ws).await
    }

    async fn delete_team(&self, ws: WorkspaceId, id: TeamId) -> Result<()> {
        dir::delete_where(&self.pool, "teams", ws, id.0, Entity::Team).await
    }

    async fn create_site(&self, site: &Site) -> Result<()> {
        dir::write_site(&self.pool, site, true).await
    }

    async fn update_site(&self, site: &Site) -> Result<()> {
        dir::write_site(&self.pool, site, false).await
    }

    async fn site(&self, ws: WorkspaceId, id: SiteId) -> Result<Site> {
        dir::by_id(&self.pool, "sites", ws, id.0, Entity::Site, rows::site).await
    }

    async fn site_by_key(&self, public_key: &str) -> Result<Site> {
        let row = sqlx::query("SELECT * FROM sites WHERE public_key = $1").bind(public_key).fetch_optional(&self.pool).await.map_err(db)?;
        rows::site(&row.ok_or(StoreError::NotFound(Entity::Site))?)
    }

    async fn sites(&self, ws: WorkspaceId) -> Result<Vec<Site>> {
        dir::all_of(&self.pool, "sites", ws, "created_at, id", rows::site).await
    }

    async fn delete_site(&self, ws: WorkspaceId, id: SiteId) -> Result<()> {
        dir::delete_where(&self.pool, "sites", ws, id.0, Entity::Site).await
    }

    async fn inboxes(&self, ws: WorkspaceId) -> Result<Vec<Inbox>> {
        dir::all_of(&self.pool, "inboxes", ws, "created_at, id", rows::inbox).await
    }

    async fn create_canned(&self, c: &CannedResponse) -> Result<()> {
        dir::write_canned(&self.pool, c, true).await
    }

    async fn update_canned(&self, c: &CannedResponse) -> Result<()> {
        dir::write_canned(&self.pool, c, false).await
    }

    async fn canned(&self, ws: WorkspaceId, id: CannedResponseId) -> Result<CannedResponse> {
        let entity = Entity::CannedResponse;
        dir::by_id(&self.pool, "canned_responses", ws, id.0, entity, rows::canned).await
    }

    async fn canned_responses(&self, ws: WorkspaceId, owner: Option<AgentId>) -> Result<Vec<CannedResponse>> {
        dir::canned_responses(&self.pool, ws, owner).await
    }

    async fn delete_canned(&self, ws: WorkspaceId, id: CannedResponseId) -> Result<()> {
        dir::delete_where(&self.pool, "canned_responses", ws, id.0, Entity::CannedResponse).await
    }

    async fn create_attachment(&self, a: &Attachment) -> Result<()> {
        dir::create_attachment(&self.pool, a).await
    }

    async fn attachment(&self, ws: WorkspaceId, id: AttachmentId) -> Result<Attachment> {
        let entity = Entity::Attachment;
        dir::by_id(&self.pool, "attachments", ws, id.0, entity, rows::attachment).await
    }

    async fn create_label(&self, l: &ManagedLabel) -> Result<()> {
        dir::create_label(&self.pool, l).await
    }

    async fn update_label(&self, name: &Label, l: &ManagedLabel) -> Result<()> {
        dir::update_label(&self.pool, name, l).await
    }

    async fn label(&self, ws: WorkspaceId, name: &Label) -> Result<ManagedLabel> {
        dir::label(&self.pool, ws, name).await
    }

    async fn labels(&self, ws: WorkspaceId) -> Result<Vec<ManagedLabel>> {
        dir::all_of(&self.pool, "labels", ws, "name", rows::label).await
    }

    async fn delete_label(&self, ws: WorkspaceId, name: &Label) -> Result<()> {
        dir::delete_label(&self.pool, ws, name).await
    }
}

#[async_trait]
impl Contacts for PgStore {
    async fn create_contact(&self, c: &Contact) -> Result<()> {
        dir::write_contact(&self.pool, c, true).await
    }

    async fn update_contact(&self, c: &Contact) -> Result<()> {
        dir::write_contact(&self.pool, c, false).await
    }

    async fn contact(&self, ws: WorkspaceId, id: ContactId) -> Result<Contact> {
        // An erased contact's row stays for its conversations, but is nobody's to read.
        let row = sqlx::query("SELECT * FROM contacts WHERE id = $1 AND workspace_id = $2 AND erased_at IS NULL")
            .bind(id.0)
            .bind(ws.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        rows::contact(&row.ok_or(StoreError::NotFound(Entity::Contact))?)
    }

    async fn contact_by_external_id(&self, ws: WorkspaceId, external_id: &str) -> Result<Option<Contact>> {
        let row = sqlx::query("SELECT * FROM contacts WHERE workspace_id = $1 AND external_id = $2 AND erased_at IS NULL")
            .bind(ws.0)
            .bind(external_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.as_ref().map(rows::contact).transpose()
    }

    async fn contacts_by_id(&self, ws: WorkspaceId, ids: &[ContactId]) -> Result<Vec<Contact>> {
        let ids: Vec<uuid::Uuid> = ids.iter().map(|id| id.0).collect();
        let rows = sqlx::query("SELECT * FROM contacts WHERE workspace_id = $1 AND id = ANY($2)")
            .bind(ws.0)
            .bind(ids)
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter().map(rows::contact).collect()
    }

    async fn search_contacts(&self, ws: WorkspaceId, terms: &[String], limit: u32) -> Result<Vec<Contact>> {
        dir::search_contacts(&self.pool, ws, terms, limit).await
    }

    async fn page_views(&self, ws: WorkspaceId, contact: ContactId, limit: u32) -> Result<Vec<PageView>> {
        dir::page_views(&self.pool, ws, contact, limit).await
    }

    async fn add_contact_event(&self, event: &ContactEvent) -> Result<()> {
        visitors::add_contact_event(&self.pool, event).await
    }

    async fn contact_events(
        &self,
        ws: WorkspaceId,
        contact: ContactId,
        after: Option<ContactEventCursor>,
        limit: u32,
    ) -> Result<Vec<ContactEvent>> {
        visitors::contact_events(&self.pool, ws, contact, after, limit).await
    }

    async fn request_transcript(&self, request: &TranscriptRequest) -> Result<()> {
        visitors::request_transcript(&self.pool, request).await
    }

    async fn transcript_requests(&self, ws: WorkspaceId, conversation: ConversationId) -> Result<Vec<TranscriptRequest>> {
        visitors::transcript_requests(&self.pool, ws, conversation).await
    }
}

#[async_trait]
impl Log for PgStore {
    async fn commit(&self, ws: WorkspaceId, change: Change) -> Result<Committed> {
        self.writer.submit((ws, change)).await.unwrap_or_else(|| Err(StoreError::Unavailable("the store is shutting down".into())))
    }

    async fn conversation(&self, ws: WorkspaceId, id: ConversationId) -> Result<Conversation> {
        query::conversation(&self.pool, ws, id).await
    }

    async fn conversations(&self, ws: WorkspaceId, f: &ConversationFilter) -> Result<Vec<Conversation>> {
        query::conversations(&self.pool, ws, f).await
    }

    async fn conversation_counts(&self, ws: WorkspaceId, me: Option<AgentId>, scope: &ConversationScope) -> Result<ConversationCounts> {
        query::conversation_counts(&self.pool, ws, me, scope).await
    }

    async fn conversation_events(&self, ws: WorkspaceId, id: ConversationId, q: &EventQuery) -> Result<Vec<Event>> {
        query::conversation_events(&self.pool, ws, id, q).await
    }

    async fn last_event_of_kind(&self, ws: WorkspaceId, id: ConversationId, kind: &str) -> Result<Option<Event>> {
        query::last_event_of_kind(&self.pool, ws, id, kind).await
    }

    async fn feed_head(&self, ws: WorkspaceId) -> Result<i64> {
        // The counter row is updated in the transactions that append events, so its
        // committed value is the newest committed feed_seq.
        sqlx::query_scalar("SELECT feed_seq FROM workspaces WHERE id = $1")
            .bind(ws.0)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?
            .ok_or(StoreError::NotFound(Entity::Workspace))
    }

    async fn feed(&self, ws: WorkspaceId, after_feed_seq: i64, limit: u32) -> Result<Vec<Event>> {
        query::feed(&self.pool, ws, after_feed_seq, limit).await
    }

    async fn visitor_unread(&self, ws: WorkspaceId, contact: ContactId) -> Result<Vec<(ConversationId, i64)>> {
        visitors::visitor_unread(&self.pool, ws, contact).await
    }
}

#[async_trait]
impl Search for PgStore {
    async fn search_messages(&self, ws: WorkspaceId, terms: &[String], limit: u32) -> Result<Vec<MessageHit>> {
        query::search_messages(&self.pool, ws, terms, limit).await
    }
}

#[async_trait]
impl Jobs for PgStore {
    async fn enqueue_job(&self, job: &NewJob) -> Result<JobId> {
        jobs::enqueue_job(&self.pool, job).await
    }

    async fn claim_jobs(&self, now: Timestamp, lease_ms: i64, limit: u32) -> Result<Vec<Job>> {
        jobs::claim_jobs(&self.pool, now, lease_ms, limit).await
    }

    async fn complete_job(&self, job: &Job) -> Result<bool> {
        jobs::complete_job(&self.pool, job).await
    }

    async fn fail_job(&self, job: &Job, error: &str, now: Timestamp) -> Result<bool> {
        jobs::fail_job(&self.pool, job, error, now).await
    }

    async fn job(&self, id: JobId) -> Result<Option<Job>> {
        jobs::job(&self.pool, id).await
    }

    async fn next_job_at(&self) -> Result<Option<Timestamp>> {
        jobs::next_job_at(&self.pool).await
    }

    async fn job_queue(&self, now: Timestamp) -> Result<JobQueue> {
        jobs::job_queue(&self.pool, now).await
    }
}

#[async_trait]
impl Audit for PgStore {
    async fn record_audit(&self, entry: &AuditEntry) -> Result<()> {
        accounts::record_audit(&self.pool, entry).await
    }

    async fn record_read(&self, entry: &AuditEntry, since: Timestamp) -> Result<bool> {
        accounts::record_read(&self.pool, entry, since).await
    }

    async fn audit_log(&self, ws: WorkspaceId, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        accounts::audit_log(&self.pool, ws, filter).await
    }
}

#[async_trait]
impl AgentInvitations for PgStore {
    async fn create_agent_invitation(&self, invitation: &AgentInvitation, token_hash: &str) -> Result<()> {
        invitations::create_agent_invitation(&self.pool, invitation, token_hash).await
    }

    async fn agent_invitations(&self, ws: WorkspaceId) -> Result<Vec<AgentInvitation>> {
        invitations::agent_invitations(&self.pool, ws).await
    }

    async fn agent_invitation(&self, ws: WorkspaceId, id: AgentInvitationId) -> Result<AgentInvitation> {
        invitations::agent_invitation_by_id(&self.pool, ws, id).await
    }

    async fn agent_invitation_by_token(&self, token_hash: &str) -> Result<Option<AgentInvitation>> {
        invitations::agent_invitation_by_token(&self.pool, token_hash).await
    }

    async fn agent_invitation_token_is(&self, ws: WorkspaceId, id: AgentInvitationId, token_hash: &str) -> Result<bool> {
        invitations::agent_invitation_token_is(&self.pool, ws, id, token_hash).await
    }

    async fn revoke_agent_invitation(&self, ws: WorkspaceId, id: AgentInvitationId, at: Timestamp) -> Result<()> {
        invitations::revoke_agent_invitation(&self.pool, ws, id, at).await
    }

    async fn renew_agent_invitation(
        &self,
        ws: WorkspaceId,
        id: AgentInvitationId,
        token_hash: &str,
        expires_at: Timestamp,
        mail: InvitationMail,
    ) -> Result<AgentInvitation> {
        invitations::renew_agent_invitation(&self.pool, ws, id, token_hash, expires_at, mail).await
    }

    async fn set_agent_invitation_mail(
        &self,
        ws: WorkspaceId,
        id: AgentInvitationId,
        token_hash: &str,
        mail: InvitationMail,
        error: Option<&str>,
    ) -> Result<bool> {
        invitations::set_agent_invitation_mail(&self.pool, ws, id, token_hash, mail, error).await
    }

    async fn accept_agent_invitation(
        &self,
        token_hash: &str,
        agent: &Agent,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<AgentInvitation> {
        invitations::accept_agent_invitation(&self.pool, token_hash, agent, password_hash, now).await
    }
}

#[async_trait]
impl Bans for PgStore {
    async fn create_ban(&self, ban: &Ban) -> Result<()> {
        dir::create_ban(&self.pool, ban).await
    }

    async fn bans(&self, ws: WorkspaceId) -> Result<Vec<Ban>> {
        dir::bans(&self.pool, ws).await
    }

    async fn delete_ban(&self, ws: WorkspaceId, id: BanId) -> Result<()> {
        dir::delete_ban(&self.pool, ws, id).await
    }
}

#[async_trait]
impl Routing for PgStore {
    async fn agent_loads(&self, ws: WorkspaceId) -> Result<Vec<AgentLoad>> {
        routing::agent_loads(&self.pool, ws).await
    }

    async fn last_helper(&self, ws: WorkspaceId, contact: ContactId, except: ConversationId) -> Result<Option<AgentId>> {
        routing::last_helper(&self.pool, ws, contact, except).await
    }

    async fn queue(&self, ws: WorkspaceId, scope: QueueScope, limit: u32) -> Result<Vec<switchboard_domain::routing::QueueEntry>> {
        routing::queue(&self.pool, ws, scope, limit).await
    }

    async fn queue_summary(&self, ws: WorkspaceId) -> Result<Vec<QueueSummary>> {
        routing::queue_summary(&self.pool, ws).await
    }
}

#[async_trait]
impl Consumers for PgStore {
    async fn consumer_cursor(&self, name: &str, ws: WorkspaceId) -> Result<i64> {
        jobs::consumer_cursor(&self.pool, name, ws).await
    }

    async fn save_consumer_cursor(&self, name: &str, ws: WorkspaceId, feed_seq: i64) -> Result<()> {
        jobs::save_consumer_cursor(&self.pool, name, ws, feed_seq).await
    }
}

#[async_trait]
impl Live for PgStore {
    async fn record_live(&self, ws: WorkspaceId, batch: &LiveBatch) -> Result<()> {
        live::record_live(&self.pool, ws, batch).await
    }

    async fn visit_count(&self, ws: WorkspaceId, site: SiteId, contact: ContactId) -> Result<u32> {
        live::visit_count(&self.pool, ws, site, contact).await
    }

    async fn visits(&self, ws: WorkspaceId, contact: ContactId, before: Option<VisitCursor>, limit: u32) -> Result<Vec<VisitWithPages>> {
        live::visits(&self.pool, ws, contact, before, limit).await
    }

    async fn add_invitation(&self, invitation: &Invitation) -> Result<()> {
        live::add_invitation(&self.pool, invitation).await
    }

    async fn invitation(&self, ws: WorkspaceId, id: InvitationId) -> Result<StoredInvitation> {
        live::invitation(&self.pool, ws, id).await
    }

    async fn invitation_answered(&self, ws: WorkspaceId, id: InvitationId, conversation: ConversationId, at: Timestamp) -> Result<bool> {
        live::invitation_answered(&self.pool, ws, id, conversation, at).await
    }
}

#[async_trait]
impl Privacy for PgStore {
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
impl Proactive for PgStore {
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
