//! Row ↔ domain conversions for SQLite. Ids are stored as UUID text.
//!
//! The decoders read through [`Columns`], so the same code decodes sqlx's rows (every
//! read) and rusqlite's (the log writer's reads, on its own connection).

use sqlx::Sqlite;
use sqlx::sqlite::SqliteRow;
use switchboard_domain::*;
use switchboard_store::codec::{self, actor_from_parts, opt_uuid, uuid};
use switchboard_store::{Result, StoreError};

/// An id as the text SQLite stores it.
pub(crate) fn s<T: ToString>(id: T) -> String {
    id.to_string()
}

pub(crate) fn db(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => StoreError::Unavailable(e.to_string()),
        e => StoreError::internal(e),
    }
}

/// Maps a uniqueness violation to `Conflict(field)` and anything else as [`db`] does.
pub(crate) fn unique(field: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(field),
        _ => db(e),
    }
}

/// A column value both drivers can decode: text, integers, and their `NULL`able forms.
pub(crate) trait Value: for<'r> sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite> + rusqlite::types::FromSql {}

impl<T: for<'r> sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite> + rusqlite::types::FromSql> Value for T {}

/// A result row whose columns are read by name.
pub(crate) trait Columns {
    fn column<T: Value>(&self, name: &str) -> Result<T>;
}

impl Columns for SqliteRow {
    fn column<T: Value>(&self, name: &str) -> Result<T> {
        sqlx::Row::try_get(self, name).map_err(db)
    }
}

impl Columns for rusqlite::Row<'_> {
    fn column<T: Value>(&self, name: &str) -> Result<T> {
        self.get(name).map_err(crate::log::sqlite)
    }
}

pub(crate) fn ts(row: &impl Columns, col: &str) -> Result<Timestamp> {
    Ok(Timestamp(row.column(col)?))
}

pub(crate) fn opt_ts(row: &impl Columns, col: &str) -> Result<Option<Timestamp>> {
    Ok(row.column::<Option<i64>>(col)?.map(Timestamp))
}

pub(crate) fn id(row: &impl Columns, col: &str) -> Result<uuid::Uuid> {
    uuid(&row.column::<String>(col)?)
}

pub(crate) fn workspace(row: &impl Columns) -> Result<Workspace> {
    Ok(Workspace {
        id: WorkspaceId(id(row, "id")?),
        name: row.column("name")?,
        time_zone: TimeZone::parse(&row.column::<String>("time_zone")?)?,
        require_two_factor: row.column::<i64>("require_two_factor")? != 0,
        auto_away_minutes: row.column::<Option<i64>>("auto_away_minutes")?.map(|m| m as u32),
        inbox_visibility: InboxVisibility::parse(&row.column::<String>("inbox_visibility")?)?,
        default_max_chats: row.column::<i64>("default_max_chats")? as u32,
        created_at: ts(row, "created_at")?,
    })
}

pub(crate) fn inbox(row: &impl Columns) -> Result<Inbox> {
    Ok(Inbox {
        id: InboxId(id(row, "id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        name: row.column("name")?,
        kind: InboxKind::parse(&row.column::<String>("kind")?)?,
        created_at: ts(row, "created_at")?,
    })
}

pub(crate) fn agent(row: &impl Columns) -> Result<Agent> {
    Ok(Agent {
        id: AgentId(id(row, "id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        email: Email::parse(&row.column::<String>("email")?)?,
        name: row.column("name")?,
        role: Role::parse(&row.column::<String>("role")?)?,
        avatar_url: row.column("avatar_url")?,
        locale: Locale::parse(&row.column::<String>("locale")?)?,
        max_chats: row.column::<Option<i64>>("chat_limit")?.map(|n| n as u32),
        status: AgentStatus::parse(&row.column::<String>("status")?)?,
        notifications: NotificationPrefs {
            sound: row.column::<i64>("notify_sound")? != 0,
            desktop: row.column::<i64>("notify_desktop")? != 0,
            new_conversation: row.column::<i64>("notify_new_conversation")? != 0,
            new_message: row.column::<i64>("notify_new_message")? != 0,
        },
        active: row.column::<i64>("active")? != 0,
        created_at: ts(row, "created_at")?,
    })
}

pub(crate) fn session(row: &impl Columns) -> Result<switchboard_store::Session> {
    Ok(switchboard_store::Session {
        id: SessionId(id(row, "id")?),
        token_hash: row.column("token_hash")?,
        agent_id: AgentId(id(row, "agent_id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        csrf_token: row.column("csrf_token")?,
        created_at: ts(row, "created_at")?,
        expires_at: ts(row, "expires_at")?,
        last_used_at: ts(row, "last_used_at")?,
        user_agent: row.column("user_agent")?,
        ip: row.column("ip")?,
        must_enrol: row.column::<i64>("must_enrol")? != 0,
    })
}

pub(crate) fn api_token(row: &impl Columns) -> Result<ApiToken> {
    Ok(ApiToken {
        id: ApiTokenId(id(row, "id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        name: row.column("name")?,
        role: Role::parse(&row.column::<String>("role")?)?,
        prefix: row.column("prefix")?,
        created_at: ts(row, "created_at")?,
        last_used_at: opt_ts(row, "last_used_at")?,
        expires_at: opt_ts(row, "expires_at")?,
    })
}

pub(crate) fn audit_entry(row: &impl Columns) -> Result<AuditEntry> {
    let actor_id = row.column::<Option<String>>("actor_id")?.map(|i| uuid(&i)).transpose()?;
    let target = match (row.column::<Option<String>>("target_kind")?, row.column::<Option<String>>("target_id")?) {
        (Some(kind), Some(target)) => {
            Some(AuditTarget { kind: AuditTargetKind::parse(&kind).ok_or_else(|| codec::corrupt("audit target"))?, id: uuid(&target)? })
        }
        _ => None,
    };
    Ok(AuditEntry {
        id: AuditEntryId(id(row, "id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        at: ts(row, "at")?,
        actor: actor_from_parts(&row.column::<String>("actor_kind")?, actor_id)?,
        action: AuditAction::parse(&row.column::<String>("action")?).ok_or_else(|| codec::corrupt("audit action"))?,
        target,
        detail: row.column("detail")?,
    })
}

pub(crate) fn team(row: &impl Columns, agent_ids: Vec<AgentId>) -> Result<Team> {
    Ok(Team {
        id: TeamId(id(row, "id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        name: row.column("name")?,
        agent_ids,
        business_hours: codec::decode_hours(row.column::<Option<String>>("business_hours")?.as_deref())?,
        routing: TeamRouting {
            strategy: Strategy::parse(&row.column::<String>("strategy")?)?,
            sticky: row.column::<i64>("sticky")? != 0,
            reroute_after_seconds: row.column::<Option<i64>>("reroute_after_seconds")?.map(|n| n as u32),
            reroute_when_offline: row.column::<i64>("reroute_when_offline")? != 0,
            max_wait_seconds: row.column::<Option<i64>>("max_wait_seconds")?.map(|n| n as u32),
        },
        created_at: ts(row, "created_at")?,
    })
}

pub(crate) fn site(row: &impl Columns) -> Result<Site> {
    Ok(Site {
        id: SiteId(id(row, "id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        name: row.column("name")?,
        public_key: row.column("public_key")?,
        allowed_origins: codec::decode_origins(&row.column::<String>("allowed_origins")?)?,
        appearance: codec::decode_appearance(&row.column::<String>("appearance")?)?,
        prechat_form: codec::decode_prechat(&row.column::<String>("prechat_form")?)?,
        identity_secret: row.column("identity_secret")?,
        retention_days: codec::retention_days(row.column::<Option<i64>>("retention_days")?)?,
        banned_behaviour: codec::banned_behaviour(&row.column::<String>("banned_behaviour")?)?,
        masking: masking::Masking { emails: row.column::<i64>("mask_emails")? != 0, phones: row.column::<i64>("mask_phones")? != 0 },
        business_hours: codec::decode_hours(row.column::<Option<String>>("business_hours")?.as_deref())?,
        default_team_id: opt_uuid(row.column("default_team_id")?)?.map(TeamId),
        tracking: codec::tracking(&row.column::<String>("tracking")?)?,
        conversion_events: codec::decode_names(&row.column::<String>("conversion_events")?)?,
        created_at: ts(row, "created_at")?,
    })
}

pub(crate) fn ban(row: &impl Columns) -> Result<Ban> {
    Ok(Ban {
        id: BanId(id(row, "id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        target: codec::ban_target(&row.column::<String>("kind")?, &row.column::<String>("value")?)?,
        reason: row.column("reason")?,
        expires_at: opt_ts(row, "expires_at")?,
        created_by: actor_from_parts(&row.column::<String>("created_by_kind")?, opt_uuid(row.column("created_by_id")?)?)?,
        created_at: ts(row, "created_at")?,
    })
}

pub(crate) fn canned(row: &impl Columns) -> Result<CannedResponse> {
    Ok(CannedResponse {
        id: CannedResponseId(id(row, "id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        shortcut: row.column("shortcut")?,
        body: row.column("body")?,
        owner_id: opt_uuid(row.column("owner_id")?)?.map(AgentId),
        created_at: ts(row, "created_at")?,
    })
}

pub(crate) fn label(row: &impl Columns) -> Result<ManagedLabel> {
    Ok(ManagedLabel {
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        name: Label::parse(&row.column::<String>("name")?)?,
        color: Color::parse(&row.column::<String>("color")?)?,
        description: row.column("description")?,
        created_at: ts(row, "created_at")?,
    })
}

pub(crate) fn contact(row: &impl Columns) -> Result<Contact> {
    Ok(Contact {
        id: ContactId(id(row, "id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        site_id: opt_uuid(row.column("site_id")?)?.map(SiteId),
        external_id: row.column("external_id")?,
        name: row.column("name")?,
        email: row.column::<Option<String>>("email")?.map(|e| Email::parse(&e)).transpose()?,
        phone: row.column("phone")?,
        attributes: codec::decode_attributes(&row.column::<String>("attributes")?)?,
        device: DeviceInfo {
            browser: row.column("browser")?,
            os: row.column("os")?,
            device: row.column("device")?,
            language: row.column("language")?,
        },
        country: row.column("country")?,
        first_seen: ts(row, "first_seen")?,
        last_seen: ts(row, "last_seen")?,
        lead_score: switchboard_domain::scoring::LeadScore {
            value: row.column("lead_score")?,
            at: ts(row, "lead_score_at")?,
            half_life_days: row.column::<Option<i64>>("lead_score_half_life")?.map(|d| d as u16),
        },
    })
}

pub(crate) fn page_view(row: &impl Columns) -> Result<PageView> {
    Ok(PageView { url: row.column("url")?, title: row.column("title")?, referrer: row.column("referrer")?, at: ts(row, "at")? })
}

pub(crate) fn contact_event(row: &impl Columns) -> Result<ContactEvent> {
    Ok(ContactEvent {
        id: ContactEventId(id(row, "id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        contact_id: ContactId(id(row, "contact_id")?),
        name: row.column("name")?,
        data: codec::decode_attributes(&row.column::<String>("data")?)?,
        at: ts(row, "at")?,
    })
}

pub(crate) fn transcript_request(row: &impl Columns) -> Result<TranscriptRequest> {
    Ok(TranscriptRequest {
        id: TranscriptRequestId(id(row, "id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        conversation_id: ConversationId(id(row, "conversation_id")?),
        email: Email::parse(&row.column::<String>("email")?)?,
        requested_at: ts(row, "requested_at")?,
        sent_at: opt_ts(row, "sent_at")?,
    })
}

pub(crate) fn attachment(row: &impl Columns) -> Result<Attachment> {
    Ok(Attachment {
        id: AttachmentId(id(row, "id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        uploader: actor_from_parts(&row.column::<String>("uploader_kind")?, opt_uuid(row.column("uploader_id")?)?)?,
        filename: row.column("filename")?,
        content_type: row.column("content_type")?,
        size: row.column::<i64>("size")? as u64,
        width: row.column::<Option<i64>>("width")?.map(|w| w as u32),
        height: row.column::<Option<i64>>("height")?.map(|h| h as u32),
        blob_key: row.column("blob_key")?,
        created_at: ts(row, "created_at")?,
    })
}

pub(crate) fn conversation(row: &impl Columns) -> Result<Conversation> {
    Ok(Conversation {
        id: ConversationId(id(row, "id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        site_id: SiteId(id(row, "site_id")?),
        inbox_id: InboxId(id(row, "inbox_id")?),
        inbox_kind: InboxKind::parse(&row.column::<String>("inbox_kind")?)?,
        contact_id: ContactId(id(row, "contact_id")?),
        status: Status::from_parts(&row.column::<String>("status")?, opt_ts(row, "snoozed_until")?)?,
        assignee_id: opt_uuid(row.column("assignee_id")?)?.map(AgentId),
        team_id: opt_uuid(row.column("team_id")?)?.map(TeamId),
        priority: Priority::parse(&row.column::<String>("priority")?)?,
        labels: codec::decode_label_list(&row.column::<String>("labels")?)?,
        last_seq: row.column("last_seq")?,
        created_at: ts(row, "created_at")?,
        first_reply_at: opt_ts(row, "first_reply_at")?,
        assigned_at: opt_ts(row, "assigned_at")?,
        resolved_at: opt_ts(row, "resolved_at")?,
        waiting_since: opt_ts(row, "waiting_since")?,
        last_message_at: opt_ts(row, "last_message_at")?,
        queued_at: opt_ts(row, "queued_at")?,
        last_message_seq: row.column("last_message_seq")?,
        updated_at: ts(row, "updated_at")?,
        visitor: Receipts { delivered_seq: row.column("visitor_delivered_seq")?, read_seq: row.column("visitor_read_seq")? },
        agent: Receipts { delivered_seq: row.column("agent_delivered_seq")?, read_seq: row.column("agent_read_seq")? },
        rating: codec::rating_from_parts(row.column("rating_score")?, row.column("rating_comment")?, row.column("rated_at")?)?,
        unread: None,
    })
}

/// Columns of an event and of its message (stored in the same row), as read by [`event`].
pub(crate) const EVENT_COLUMNS: &str = "e.workspace_id, e.feed_seq, e.conversation_id, e.seq, e.kind, \
    e.actor_kind, e.actor_id, e.data, e.at, e.message_id, e.client_id, e.body, e.format, e.attachments";

pub(crate) fn event(row: &impl Columns) -> Result<Event> {
    let ws = WorkspaceId(id(row, "workspace_id")?);
    let conversation_id = ConversationId(id(row, "conversation_id")?);
    let seq: i64 = row.column("seq")?;
    let at = ts(row, "at")?;
    let actor = actor_from_parts(&row.column::<String>("actor_kind")?, opt_uuid(row.column("actor_id")?)?)?;
    let kind: String = row.column("kind")?;
    let message = match row.column::<Option<String>>("message_id")? {
        Some(mid) => Some(Message {
            id: MessageId(uuid(&mid)?),
            workspace_id: ws,
            conversation_id,
            seq,
            client_id: row.column("client_id")?,
            author: actor,
            kind: if kind == "note" { MessageKind::Note } else { MessageKind::Text },
            body: row.column("body")?,
            format: MessageFormat::parse(&row.column::<String>("format")?)?,
            attachments: codec::decode_attachments(ws, &row.column::<String>("attachments")?)?,
            created_at: at,
        }),
        None => None,
    };
    Ok(Event {
        workspace_id: ws,
        conversation_id,
        seq,
        feed_seq: row.column("feed_seq")?,
        actor,
        at,
        data: codec::decode_event_data(&kind, &row.column::<String>("data")?, message)?,
    })
}

pub(crate) fn job(row: &impl Columns) -> Result<switchboard_store::Job> {
    Ok(switchboard_store::Job {
        id: switchboard_store::JobId(id(row, "id")?),
        kind: row.column("kind")?,
        payload: row.column("payload")?,
        due_at: ts(row, "due_at")?,
        dedupe_key: row.column("dedupe_key")?,
        state: codec::job_state(&row.column::<String>("state")?)?,
        attempts: row.column::<i64>("attempts")? as u32,
        max_attempts: row.column::<i64>("max_attempts")? as u32,
        leased_until: opt_ts(row, "leased_until")?,
        last_error: row.column("last_error")?,
    })
}
