//! The storage traits, one per area, and [`Store`], the supertrait of them all that the
//! app holds as `Arc<dyn Store>`. Every method is one unit of work, named for its use case.

use std::path::Path;

use async_trait::async_trait;
use switchboard_domain::*;

use crate::Result;

/// A logged-in dashboard session. The cookie holds the token; only its hash is stored.
#[derive(Clone, PartialEq, Debug)]
pub struct Session {
    pub id: SessionId,
    pub token_hash: String,
    pub agent_id: AgentId,
    pub workspace_id: WorkspaceId,
    /// Sent back in `X-CSRF-Token` on every state-changing request.
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// Recorded at most once a minute (see [`Directory::touch_session`]).
    pub last_used_at: Timestamp,
    /// The browser's `User-Agent` at sign-in (cut to 512 bytes), to name the device.
    pub user_agent: Option<String>,
    /// The address the sign-in came from.
    pub ip: Option<String>,
    /// Signed in while the workspace required a second factor the agent lacked: the
    /// session may only enrol one (enabling it lifts this from all their sessions).
    pub must_enrol: bool,
}

/// An agent's second factor: a TOTP secret (RFC 6238) and the last time step used.
#[derive(Clone, PartialEq, Debug)]
pub struct TwoFactor {
    /// Base32; never returned after enrolment.
    pub secret: String,
    /// `None` while enrolment waits for its first code; sign-in asks for a code only
    /// once it is set.
    pub enabled_at: Option<Timestamp>,
    /// The time step of the last code accepted: a code is good once.
    pub last_step: i64,
}

/// Which audit entries to list, newest first, `before` the previous page.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub actor: Option<Actor>,
    pub action: Option<AuditAction>,
    pub target: Option<AuditTarget>,
    /// At or after.
    pub from: Option<Timestamp>,
    /// Before.
    pub to: Option<Timestamp>,
    pub before: Option<AuditCursor>,
    pub limit: u32,
}

/// Position in the audit log's order `(at DESC, id DESC)`: the last entry of a page.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct AuditCursor {
    pub at: Timestamp,
    pub id: AuditEntryId,
}

/// A change to the conversation log. Applied atomically, in order, by the store's writer.
// Changes are built one at a time and consumed at once; boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Change {
    /// Creates `conversation` (fresh from [`Conversation::new`]) and records
    /// `conversation_started`, then posts `first_message` if given. If `first_message`'s
    /// client id was already used by its author, nothing is created and the earlier
    /// message is returned with `replayed = true`.
    Start { conversation: Conversation, first_message: Option<NewMessage> },
    /// Posts a message (or a note) by its author as the conversation's next event: the
    /// log gives it its id, `seq` and time (`at`). A message whose `(author, client_id)`
    /// was already stored is not stored again; the earlier event is returned with
    /// `replayed = true`. A contact posting into a conversation that is not theirs gets
    /// `NotFound`.
    Post { conversation_id: ConversationId, message: NewMessage, at: Timestamp },
    /// Records one event other than a message (messages are posted, so that the log
    /// numbers them): an `EventData::Message` is refused. A contact acting on a
    /// conversation that is not theirs gets `NotFound`.
    Record { conversation_id: ConversationId, actor: Actor, data: EventData, at: Timestamp },
    /// Records an `assigned` event only if `guard` holds, checked inside the write
    /// transaction against the committed state and the batch's earlier changes: this is
    /// how routing never over-assigns and a claim is a compare-and-set, across processes
    /// (PostgreSQL locks the agent's row for the count). A guard that fails is
    /// `Conflict("assignee")` (someone else has it) or `Conflict("capacity")` (the agent
    /// holds `max_chats` open or pending conversations), and nothing is written.
    Assign { conversation_id: ConversationId, actor: Actor, data: EventData, at: Timestamp, guard: AssignGuard },
}

/// What must hold for a [`Change::Assign`] to be written.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct AssignGuard {
    /// The conversation must have no assignee (a claim, or routing from the queue).
    pub unassigned: bool,
    /// The new assignee must hold fewer than this many open or pending conversations.
    pub capacity: Option<u32>,
}

/// What a [`Change`] did: the conversation after it and the events it appended.
#[derive(Clone, Debug)]
pub struct Committed {
    pub conversation: Conversation,
    /// Empty when the change was a no-op (see [`Conversation::apply`]).
    pub events: Vec<Event>,
    pub replayed: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Audience {
    /// The visitor: private notes and internal triage are left out.
    Contact,
    Agents,
}

/// A window of one conversation's log.
#[derive(Clone, Debug)]
pub struct EventQuery {
    pub after_seq: Option<i64>,
    pub before_seq: Option<i64>,
    pub limit: u32,
    /// Newest first (for paging back through history) instead of oldest first (for replay).
    pub newest_first: bool,
    pub audience: Audience,
}

impl EventQuery {
    /// Everything after `seq`, oldest first: what a reconnecting client missed.
    pub fn replay(after_seq: i64, limit: u32, audience: Audience) -> Self {
        Self { after_seq: Some(after_seq), before_seq: None, limit, newest_first: false, audience }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AssigneeFilter {
    Agent(AgentId),
    Unassigned,
}

/// The order of a conversation list.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum ConversationSort {
    /// Newest activity first: `(updated_at DESC, id DESC)`.
    #[default]
    LastActivity,
    /// Longest-waiting first: conversations whose contact is waiting for an answer by
    /// `waiting_since` (oldest first), then those not waiting, oldest id first:
    /// `(COALESCE(waiting_since, i64::MAX) ASC, id ASC)`.
    Waiting,
}

/// Which conversations to list, in `sort` order, `after` from the previous page.
#[derive(Clone, Debug, Default)]
pub struct ConversationFilter {
    pub sort: ConversationSort,
    /// `open`, `pending`, `snoozed` or `resolved`.
    pub status: Option<&'static str>,
    pub assignee: Option<AssigneeFilter>,
    pub team_id: Option<TeamId>,
    pub site_id: Option<SiteId>,
    pub inbox_id: Option<InboxId>,
    pub contact_id: Option<ContactId>,
    pub label: Option<Label>,
    pub after: Option<ConversationCursor>,
    pub limit: u32,
    /// Only what the caller may see (restricted inboxes).
    pub scope: ConversationScope,
}

/// Position in a list's order: the sort key of the last conversation of the previous
/// page (`updated_at` for [`ConversationSort::LastActivity`], the waiting key for
/// [`ConversationSort::Waiting`]) and its id.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ConversationCursor {
    pub key: i64,
    pub id: ConversationId,
}

impl ConversationCursor {
    /// The cursor just after `c` in `sort` order.
    pub fn after(c: &Conversation, sort: ConversationSort) -> Self {
        let key = match sort {
            ConversationSort::LastActivity => c.updated_at.0,
            ConversationSort::Waiting => c.waiting_since.map_or(i64::MAX, |t| t.0),
        };
        Self { key, id: c.id }
    }
}

/// How many conversations each inbox view holds, for one agent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConversationCounts {
    /// Open conversations assigned to the agent.
    pub mine: u64,
    /// Open conversations assigned to nobody.
    pub unassigned: u64,
    /// Open conversations.
    pub all: u64,
    /// Every conversation, by status.
    pub open: u64,
    pub pending: u64,
    pub snoozed: u64,
    pub resolved: u64,
    /// Open conversations by team (teams with none are left out), by team id.
    pub by_team: Vec<(TeamId, u64)>,
    /// Open conversations by label (labels on none are left out), by label.
    pub by_label: Vec<(Label, u64)>,
}

/// A message found by search.
#[derive(Clone, Debug)]
pub struct MessageHit {
    pub message: Message,
}

/// Called by a store's writer right after each batch commits, with the batch's new
/// events in commit order. This is where events are handed to the bus: publishing
/// from the writer (not from each caller) keeps the bus in the log's order.
pub trait CommitHook: Send + Sync + 'static {
    fn committed(&self, events: &[Event]);
}

/// Tells `hook` of the events a batch appended (not those a retry only replayed).
pub fn announce(hook: Option<&dyn CommitHook>, results: &[Result<Committed>]) {
    let Some(hook) = hook else { return };
    let events: Vec<Event> =
        results.iter().filter_map(|r| r.as_ref().ok()).filter(|c| !c.replayed).flat_map(|c| c.events.iter().cloned()).collect();
    if !events.is_empty() {
        hook.committed(&events);
    }
}

/// A token's `last_used_at` is written when the recorded use is at least this old.
pub const TOKEN_USE_GRANULARITY_MS: i64 = 60_000;

/// Everything a backend provides. Code holds an `Arc<dyn Store>` and calls any area's
/// methods on it; a backend implements each area's trait and this one.
#[async_trait]
pub trait Store:
    Directory
    + Contacts
    + Log
    + Search
    + crate::Jobs
    + Consumers
    + Audit
    + crate::Privacy
    + Bans
    + Routing
    + crate::Live
    + crate::Proactive
    + crate::AgentInvitations
    + Send
    + Sync
    + 'static
{
    /// Cheap round trip to the database, for `/readyz`.
    async fn ping(&self) -> Result<()>;
    /// Stops the writer after everything queued has been committed.
    async fn close(&self);
    /// Writes a consistent copy of the whole database to `dest` while serving.
    async fn backup(&self, dest: &Path) -> Result<()>;
    /// The named server secret, created with `generate` on first use.
    async fn secret(&self, name: &str, generate: String) -> Result<String>;
}

/// Who works in a workspace and how it is set up: workspaces, agents, sessions, API
/// tokens, teams, sites, canned responses, and uploaded attachments.
#[async_trait]
pub trait Directory: Send + Sync {
    async fn create_workspace(&self, workspace: &Workspace) -> Result<()>;
    async fn workspace(&self, id: WorkspaceId) -> Result<Workspace>;
    async fn workspaces(&self) -> Result<Vec<Workspace>>;
    /// Writes the workspace's name and time zone.
    async fn update_workspace(&self, workspace: &Workspace) -> Result<()>;

    /// Fails with `Conflict("email")` when the e-mail is used by any agent.
    async fn create_agent(&self, agent: &Agent, password_hash: &str) -> Result<()>;
    async fn update_agent(&self, agent: &Agent) -> Result<()>;
    async fn set_password(&self, ws: WorkspaceId, id: AgentId, password_hash: &str) -> Result<()>;
    async fn agent(&self, ws: WorkspaceId, id: AgentId) -> Result<Agent>;
    async fn agents(&self, ws: WorkspaceId) -> Result<Vec<Agent>>;
    /// The agent with this e-mail and its password hash, for login.
    async fn agent_credentials(&self, email: &Email) -> Result<Option<(Agent, String)>>;
    async fn delete_agent(&self, ws: WorkspaceId, id: AgentId) -> Result<()>;
    /// Records that the agent was active (online) at `at`; an earlier time is ignored.
    async fn record_agent_activity(&self, ws: WorkspaceId, id: AgentId, at: Timestamp) -> Result<()>;
    /// When each of the workspace's agents was last active, most recent first; agents
    /// never active are absent.
    async fn agent_activity(&self, ws: WorkspaceId) -> Result<Vec<(AgentId, Timestamp)>>;

    async fn create_session(&self, session: &Session) -> Result<()>;
    /// The session if it exists and has not expired at `now`.
    async fn session(&self, token_hash: &str, now: Timestamp) -> Result<Option<Session>>;
    /// The agent's sessions that have not expired at `now`, newest first.
    async fn agent_sessions(&self, ws: WorkspaceId, agent: AgentId, now: Timestamp) -> Result<Vec<Session>>;
    /// Records that the session was used at `at` (callers do it at most once a minute).
    async fn touch_session(&self, id: SessionId, at: Timestamp) -> Result<()>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;
    /// Ends one session of the agent; `NotFound(Session)` when it has no such session.
    async fn delete_session_by_id(&self, ws: WorkspaceId, agent: AgentId, id: SessionId) -> Result<()>;
    /// Ends every session of the agent; returns the ids ended.
    async fn delete_agent_sessions(&self, agent: AgentId) -> Result<Vec<SessionId>>;
    /// Ends every session of the agent but the one whose token hashes to `keep`;
    /// returns the ids ended.
    async fn delete_other_sessions(&self, agent: AgentId, keep: &str) -> Result<Vec<SessionId>>;

    /// The agent's second factor, enrolled or waiting for its first code.
    async fn two_factor(&self, ws: WorkspaceId, agent: AgentId) -> Result<Option<TwoFactor>>;
    /// Writes the agent's second factor (or removes it with `None`) and replaces their
    /// recovery codes by `recovery_hashes` (hashes only), in one transaction. An
    /// enabled factor also lifts `must_enrol` from the agent's sessions.
    async fn set_two_factor(&self, ws: WorkspaceId, agent: AgentId, tf: Option<&TwoFactor>, recovery_hashes: &[String]) -> Result<()>;
    /// Takes the TOTP time step `step` if it is later than the last one used: `false`
    /// when a code of that step (or a later one) was already accepted, so a code is
    /// accepted once even when two requests race.
    async fn use_totp_step(&self, ws: WorkspaceId, agent: AgentId, step: i64) -> Result<bool>;
    /// Spends an unused recovery code (by its hash) at `at`: `false` when it is unknown
    /// or already spent.
    async fn use_recovery_code(&self, ws: WorkspaceId, agent: AgentId, code_hash: &str, at: Timestamp) -> Result<bool>;
    /// How many of the agent's recovery codes are still unused.
    async fn recovery_codes_left(&self, ws: WorkspaceId, agent: AgentId) -> Result<u32>;

    async fn create_api_token(&self, token: &ApiToken, secret_hash: &str) -> Result<()>;
    async fn api_tokens(&self, ws: WorkspaceId) -> Result<Vec<ApiToken>>;
    /// Looks a token up by the hash of its secret and records its use at `now` when the
    /// recorded use is a minute or more older (or none): one write a minute per token at
    /// most, not one per request. The token is returned even when it has expired.
    async fn use_api_token(&self, secret_hash: &str, now: Timestamp) -> Result<Option<ApiToken>>;
    async fn delete_api_token(&self, ws: WorkspaceId, id: ApiTokenId) -> Result<()>;

    /// Fails with `Conflict("name")` when the workspace already has a team of that name.
    async fn create_team(&self, team: &Team) -> Result<()>;
    async fn update_team(&self, team: &Team) -> Result<()>;
    async fn team(&self, ws: WorkspaceId, id: TeamId) -> Result<Team>;
    async fn teams(&self, ws: WorkspaceId) -> Result<Vec<Team>>;
    async fn delete_team(&self, ws: WorkspaceId, id: TeamId) -> Result<()>;

    async fn create_site(&self, site: &Site) -> Result<()>;
    async fn update_site(&self, site: &Site) -> Result<()>;
    async fn site(&self, ws: WorkspaceId, id: SiteId) -> Result<Site>;
    /// The site a widget names by its public key (any workspace).
    async fn site_by_key(&self, public_key: &str) -> Result<Site>;
    async fn sites(&self, ws: WorkspaceId) -> Result<Vec<Site>>;
    /// Fails with `InUse(Site)` while the site has conversations.
    async fn delete_site(&self, ws: WorkspaceId, id: SiteId) -> Result<()>;
    /// The workspace's inboxes, oldest first. Every site is a website inbox with its
    /// id and name: creating, renaming or deleting a site does the same to its inbox.
    async fn inboxes(&self, ws: WorkspaceId) -> Result<Vec<Inbox>>;

    /// Fails with `Conflict("shortcut")` when the shortcut is taken among the
    /// workspace's own responses (`owner_id` `None`) or among that agent's personal ones.
    async fn create_canned(&self, canned: &CannedResponse) -> Result<()>;
    /// Writes the shortcut and body (never the owner).
    async fn update_canned(&self, canned: &CannedResponse) -> Result<()>;
    async fn canned(&self, ws: WorkspaceId, id: CannedResponseId) -> Result<CannedResponse>;
    /// The workspace's responses and, with `owner`, that agent's personal ones, by shortcut.
    async fn canned_responses(&self, ws: WorkspaceId, owner: Option<AgentId>) -> Result<Vec<CannedResponse>>;
    async fn delete_canned(&self, ws: WorkspaceId, id: CannedResponseId) -> Result<()>;

    async fn create_attachment(&self, attachment: &Attachment) -> Result<()>;
    async fn attachment(&self, ws: WorkspaceId, id: AttachmentId) -> Result<Attachment>;

    /// Fails with `Conflict("label")` when the workspace already manages that name.
    async fn create_label(&self, label: &ManagedLabel) -> Result<()>;
    /// Replaces the label named `name` with `label` (which may rename it); `NotFound`
    /// when there is none, `Conflict("label")` when the new name is taken.
    async fn update_label(&self, name: &Label, label: &ManagedLabel) -> Result<()>;
    async fn label(&self, ws: WorkspaceId, name: &Label) -> Result<ManagedLabel>;
    /// By name.
    async fn labels(&self, ws: WorkspaceId) -> Result<Vec<ManagedLabel>>;
    async fn delete_label(&self, ws: WorkspaceId, name: &Label) -> Result<()>;
}

/// Position in a contact's tracked events, newest first: `(at DESC, id DESC)`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ContactEventCursor {
    pub at: Timestamp,
    pub id: ContactEventId,
}

/// The people who chat with a workspace, the pages they viewed, what their pages
/// tracked, and the transcripts they asked for.
#[async_trait]
pub trait Contacts: Send + Sync {
    async fn create_contact(&self, contact: &Contact) -> Result<()>;
    /// Fails with `Conflict("external_id")` when another contact has the external id.
    async fn update_contact(&self, contact: &Contact) -> Result<()>;
    async fn contact(&self, ws: WorkspaceId, id: ContactId) -> Result<Contact>;
    async fn contact_by_external_id(&self, ws: WorkspaceId, external_id: &str) -> Result<Option<Contact>>;
    /// Contacts whose name, e-mail, phone or external id contain every term (normalised
    /// with [`search::normalize`]), most recently seen first.
    async fn search_contacts(&self, ws: WorkspaceId, terms: &[String], limit: u32) -> Result<Vec<Contact>>;
    /// The workspace's contacts among `ids`, in no particular order: ids that name no
    /// contact of this workspace are left out (one read for a page of inbox rows).
    async fn contacts_by_id(&self, ws: WorkspaceId, ids: &[ContactId]) -> Result<Vec<Contact>>;
    /// Newest first.
    async fn page_views(&self, ws: WorkspaceId, contact: ContactId, limit: u32) -> Result<Vec<PageView>>;
    /// Fails with `NotFound(Contact)` when the contact is not the workspace's.
    async fn add_contact_event(&self, event: &ContactEvent) -> Result<()>;
    /// The contact's tracked events after `after` (newest first), at most `limit`.
    async fn contact_events(
        &self,
        ws: WorkspaceId,
        contact: ContactId,
        after: Option<ContactEventCursor>,
        limit: u32,
    ) -> Result<Vec<ContactEvent>>;
    /// Fails with `NotFound(Conversation)` when the conversation is not the workspace's.
    async fn request_transcript(&self, request: &TranscriptRequest) -> Result<()>;
    /// The conversation's transcript requests, oldest first.
    async fn transcript_requests(&self, ws: WorkspaceId, conversation: ConversationId) -> Result<Vec<TranscriptRequest>>;
}

/// The conversation event log: changes go in through [`Log::commit`], and come out by
/// conversation or by workspace feed.
#[async_trait]
pub trait Log: Send + Sync {
    /// Applies a change to the log durably; returns only after commit.
    async fn commit(&self, ws: WorkspaceId, change: Change) -> Result<Committed>;
    /// One conversation (with `unread` counted).
    async fn conversation(&self, ws: WorkspaceId, id: ConversationId) -> Result<Conversation>;
    /// A page of conversations (with `unread` counted).
    async fn conversations(&self, ws: WorkspaceId, filter: &ConversationFilter) -> Result<Vec<Conversation>>;
    /// The counts of the inbox views; `mine` counts `me`'s (0 without one).
    async fn conversation_counts(&self, ws: WorkspaceId, me: Option<AgentId>, scope: &ConversationScope) -> Result<ConversationCounts>;
    async fn conversation_events(&self, ws: WorkspaceId, id: ConversationId, query: &EventQuery) -> Result<Vec<Event>>;
    /// The conversation's newest event of `kind` (an [`EventData::kind`] name, such as
    /// `outside_hours`), however long ago: an exact answer where a window of recent
    /// events is not. `None` when it has none; an unknown conversation is not found.
    async fn last_event_of_kind(&self, ws: WorkspaceId, id: ConversationId, kind: &str) -> Result<Option<Event>>;
    /// The newest `feed_seq` of the workspace (0 before any event).
    async fn feed_head(&self, ws: WorkspaceId) -> Result<i64>;
    /// The workspace feed after `after_feed_seq`, oldest first.
    async fn feed(&self, ws: WorkspaceId, after_feed_seq: i64, limit: u32) -> Result<Vec<Event>>;
    /// For each of the contact's conversations with any, how many messages the team
    /// (agents and integrations) wrote after the visitor's read mark (`visitor_read_seq`).
    async fn visitor_unread(&self, ws: WorkspaceId, contact: ContactId) -> Result<Vec<(ConversationId, i64)>>;
}

pub use switchboard_domain::routing::QueueSummary;

/// What an agent holds, for routing.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct AgentLoad {
    pub agent_id: AgentId,
    /// Conversations assigned to them that are open or pending.
    pub open_chats: u32,
    /// The newest `assigned_at` of the conversations assigned to them.
    pub last_assigned_at: Option<Timestamp>,
}

/// Which queue to read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum QueueScope {
    /// Every queue of the workspace.
    All,
    /// One team's, or with `None` the workspace-wide one.
    Team(Option<TeamId>),
}

/// What routing reads to decide (issue 14). The decision itself is committed with
/// [`Change::Assign`], whose guard re-checks it inside the write transaction.
#[async_trait]
pub trait Routing: Send + Sync {
    /// Every agent of the workspace that holds a conversation (whatever its status):
    /// how many are open or pending, and when the newest was assigned. Agents holding
    /// none are absent.
    async fn agent_loads(&self, ws: WorkspaceId) -> Result<Vec<AgentLoad>>;
    /// The assignee of the contact's most recently active other conversation that had one.
    async fn last_helper(&self, ws: WorkspaceId, contact: ContactId, except: ConversationId) -> Result<Option<AgentId>>;
    /// Queued conversations in serving order (priority, then `queued_at`, then id), at most `limit`.
    async fn queue(&self, ws: WorkspaceId, scope: QueueScope, limit: u32) -> Result<Vec<routing::QueueEntry>>;
    /// Every queue that holds a conversation (those with none are absent), by team id.
    async fn queue_summary(&self, ws: WorkspaceId) -> Result<Vec<QueueSummary>>;
}

/// Full-text search over the log's messages.
#[async_trait]
pub trait Search: Send + Sync {
    /// Messages and notes containing every term (each a word prefix), newest first.
    async fn search_messages(&self, ws: WorkspaceId, terms: &[String], limit: u32) -> Result<Vec<MessageHit>>;
}

/// The audit log: administrative actions and who read which transcript or contact.
#[async_trait]
pub trait Audit: Send + Sync {
    async fn record_audit(&self, entry: &AuditEntry) -> Result<()>;
    /// Records a read unless the same actor already has an entry of the same action
    /// and target at or after `since`: `false` when it was coalesced into that one.
    async fn record_read(&self, entry: &AuditEntry, since: Timestamp) -> Result<bool>;
    /// A page of the workspace's entries matching `filter`, newest first.
    async fn audit_log(&self, ws: WorkspaceId, filter: &AuditFilter) -> Result<Vec<AuditEntry>>;
}

/// Who a workspace refuses to chat with (see [`Ban`]).
#[async_trait]
pub trait Bans: Send + Sync {
    async fn create_ban(&self, ban: &Ban) -> Result<()>;
    /// Every ban of the workspace, expired ones included, newest first.
    async fn bans(&self, ws: WorkspaceId) -> Result<Vec<Ban>>;
    /// `NotFound(Ban)` when the workspace has no such ban.
    async fn delete_ban(&self, ws: WorkspaceId, id: BanId) -> Result<()>;
}

/// Where each log consumer (a component that follows a workspace feed: webhooks,
/// channels, reports) has got to, so it resumes there after a restart.
#[async_trait]
pub trait Consumers: Send + Sync {
    /// The last `feed_seq` the consumer `name` handled in the workspace (0 before any).
    async fn consumer_cursor(&self, name: &str, ws: WorkspaceId) -> Result<i64>;
    /// Records that `name` has handled the workspace feed up to `feed_seq`.
    async fn save_consumer_cursor(&self, name: &str, ws: WorkspaceId, feed_seq: i64) -> Result<()>;
}
