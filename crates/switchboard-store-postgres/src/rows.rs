//! Row ↔ domain conversions for PostgreSQL, and how its errors map to [`StoreError`].
//! Ids are native `UUID` columns; everything else matches the SQLite rows.

use sqlx::Row;
use sqlx::postgres::PgRow;
use switchboard_domain::*;
use switchboard_store::codec::{self, actor_from_parts};
use switchboard_store::{Result, StoreError};
use uuid::Uuid;

/// SQLSTATEs meaning "the server or the connection went away", as opposed to a bad query.
fn connection_lost(code: &str) -> bool {
    // Class 08: connection exception; 57P01-03: shutdown or not accepting yet;
    // 53300: too many connections.
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
}

pub(crate) fn db(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::WorkerCrashed => {
            StoreError::Unavailable(e.to_string())
        }
        sqlx::Error::Database(d) if d.code().is_some_and(|c| connection_lost(&c)) => StoreError::Unavailable(e.to_string()),
        _ => StoreError::internal(e),
    }
}

/// Maps a uniqueness violation to `Conflict(field)` and anything else as [`db`] does.
pub(crate) fn unique(field: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(field),
        _ => db(e),
    }
}

/// Maps a foreign-key violation (a row still referenced) to `InUse(entity)`.
pub(crate) fn in_use(entity: Entity) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => StoreError::InUse(entity),
        _ => db(e),
    }
}

/// Postgres-only: a deadlock (40P01) or serialization failure (40001) between writers
/// on different nodes. The transaction is lost, but running it again is safe.
pub(crate) fn retryable(e: &StoreError) -> bool {
    let StoreError::Internal(e) = e else {
        return false;
    };
    match e.downcast_ref::<sqlx::Error>() {
        Some(sqlx::Error::Database(d)) => matches!(d.code().as_deref(), Some("40P01" | "40001")),
        _ => false,
    }
}

pub(crate) fn get<'r, T>(row: &'r PgRow, col: &str) -> Result<T>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    row.try_get(col).map_err(db)
}

pub(crate) fn ts(row: &PgRow, col: &str) -> Result<Timestamp> {
    Ok(Timestamp(get(row, col)?))
}

pub(crate) fn opt_ts(row: &PgRow, col: &str) -> Result<Option<Timestamp>> {
    Ok(get::<Option<i64>>(row, col)?.map(Timestamp))
}

pub(crate) fn id(row: &PgRow, col: &str) -> Result<Uuid> {
    get(row, col)
}

pub(crate) fn opt_id(row: &PgRow, col: &str) -> Result<Option<Uuid>> {
    get(row, col)
}

fn text(row: &PgRow, col: &str) -> Result<String> {
    get(row, col)
}

fn small(row: &PgRow, col: &str) -> Result<Option<u32>> {
    Ok(get::<Option<i64>>(row, col)?.map(|n| n as u32))
}

pub(crate) fn workspace(row: &PgRow) -> Result<Workspace> {
    Ok(Workspace {
        id: WorkspaceId(id(row, "id")?),
        name: get(row, "name")?,
        time_zone: TimeZone::parse(&text(row, "time_zone")?)?,
        require_two_factor: get(row, "require_two_factor")?,
        auto_away_minutes: get::<Option<i32>>(row, "auto_away_minutes")?.map(|m| m as u32),
        inbox_visibility: InboxVisibility::parse(&text(row, "inbox_visibility")?)?,
        default_max_chats: get::<i64>(row, "default_max_chats")? as u32,
        created_at: ts(row, "created_at")?,
    })
}

pub(crate) fn inbox(row: &PgRow) -> Result<Inbox> {
    Ok(Inbox {
        id: InboxId(id(row, "id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        name: get(row, "name")?,
        kind: InboxKind::parse(&text(row, "kind")?)?,
        created_at: ts(row, "created_at")?,
    })
}

pub(crate) fn agent(row: &PgRow) -> Result<Agent> {
    Ok(Agent {
        id: AgentId(id(row, "id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        email: Email::parse(&text(row, "email")?)?,
        name: get(row, "name")?,
        role: Role::parse(&text(row, "role")?)?,
        avatar_url: get(row, "avatar_url")?,
        locale: Locale::parse(&text(row, "locale")?)?,
        max_chats: get::<Option<i64>>(row, "chat_limit")?.map(|n| n as u32),
        status: AgentStatus::parse(&text(row, "status")?)?,
        notifications: NotificationPrefs {
            sound: get(row, "notify_sound")?,
            desktop: get(row, "notify_desktop")?,
            new_conversation: get(row, "notify_new_conversation")?,
            new_message: get(row, "notify_new_message")?,
        },
        active: get(row, "active")?,
        created_at: ts(row, "created_at")?,
    })
}

pub(crate) fn session(row: &PgRow) -> Result<switchboard_store::Session> {
    Ok(switchboard_store::Session {
        id: SessionId(id(row, "id")?),
        token_hash: get(row, "token_hash")?,
        agent_id: AgentId(id(row, "agent_id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        csrf_token: get(row, "csrf_token")?,
        created_at: ts(row, "created_at")?,
        expires_at: ts(row, "expires_at")?,
        last_used_at: ts(row, "last_used_at")?,
        user_agent: get(row, "user_agent")?,
        ip: get(row, "ip")?,
        must_enrol: get(row, "must_enrol")?,
    })
}

pub(crate) fn api_token(row: &PgRow) -> Result<ApiToken> {
    Ok(ApiToken {
        id: ApiTokenId(id(row, "id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        name: get(row, "name")?,
        role: Role::parse(&text(row, "role")?)?,
        prefix: get(row, "prefix")?,
        created_at: ts(row, "created_at")?,
        last_used_at: opt_ts(row, "last_used_at")?,
        expires_at: opt_ts(row, "expires_at")?,
    })
}

pub(crate) fn audit_entry(row: &PgRow) -> Result<AuditEntry> {
    let target = match (get::<Option<String>>(row, "target_kind")?, opt_id(row, "target_id")?) {
        (Some(kind), Some(target)) => {
            Some(AuditTarget { kind: AuditTargetKind::parse(&kind).ok_or_else(|| codec::corrupt("audit target"))?, id: target })
        }
        _ => None,
    };
    Ok(AuditEntry {
        id: AuditEntryId(id(row, "id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        at: ts(row, "at")?,
        actor: actor_from_parts(&text(row, "actor_kind")?, opt_id(row, "actor_id")?)?,
        action: AuditAction::parse(&text(row, "action")?).ok_or_else(|| codec::corrupt("audit action"))?,
        target,
        detail: get(row, "detail")?,
    })
}

pub(crate) fn team(row: &PgRow, agent_ids: Vec<AgentId>) -> Result<Team> {
    Ok(Team {
        id: TeamId(id(row, "id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        name: get(row, "name")?,
        agent_ids,
        business_hours: codec::decode_hours(get::<Option<String>>(row, "business_hours")?.as_deref())?,
        routing: TeamRouting {
            strategy: Strategy::parse(&text(row, "strategy")?)?,
            sticky: get(row, "sticky")?,
            reroute_after_seconds: get::<Option<i64>>(row, "reroute_after_seconds")?.map(|n| n as u32),
            reroute_when_offline: get(row, "reroute_when_offline")?,
            max_wait_seconds: get::<Option<i64>>(row, "max_wait_seconds")?.map(|n| n as u32),
        },
        created_at: ts(row, "created_at")?,
    })
}

pub(crate) fn site(row: &PgRow) -> Result<Site> {
    Ok(Site {
        id: SiteId(id(row, "id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        name: get(row, "name")?,
        public_key: get(row, "public_key")?,
        allowed_origins: codec::decode_origins(&text(row, "allowed_origins")?)?,
        appearance: codec::decode_appearance(&text(row, "appearance")?)?,
        prechat_form: codec::decode_prechat(&text(row, "prechat_form")?)?,
        identity_secret: get(row, "identity_secret")?,
        retention_days: codec::retention_days(get::<Option<i32>>(row, "retention_days")?.map(i64::from))?,
        banned_behaviour: codec::banned_behaviour(&text(row, "banned_behaviour")?)?,
        masking: masking::Masking { emails: get(row, "mask_emails")?, phones: get(row, "mask_phones")? },
        business_hours: codec::decode_hours(get::<Option<String>>(row, "business_hours")?.as_deref())?,
        default_team_id: get::<Option<uuid::Uuid>>(row, "default_team_id")?.map(TeamId),
        tracking: codec::tracking(&get::<String>(row, "tracking")?)?,
        conversion_events: codec::decode_names(&get::<String>(row, "conversion_events")?)?,
        created_at: ts(row, "created_at")?,
    })
}

pub(crate) fn ban(row: &PgRow) -> Result<Ban> {
    Ok(Ban {
        id: BanId(id(row, "id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        target: codec::ban_target(&text(row, "kind")?, &text(row, "value")?)?,
        reason: get(row, "reason")?,
        expires_at: opt_ts(row, "expires_at")?,
        created_by: actor_from_parts(&text(row, "created_by_kind")?, opt_id(row, "created_by_id")?)?,
        created_at: ts(row, "created_at")?,
    })
}

pub(crate) fn canned(row: &PgRow) -> Result<CannedResponse> {
    Ok(CannedResponse {
        id: CannedResponseId(id(row, "id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        shortcut: get(row, "shortcut")?,
        body: get(row, "body")?,
        owner_id: opt_id(row, "owner_id")?.map(AgentId),
        created_at: ts(row, "created_at")?,
    })
}

pub(crate) fn label(row: &PgRow) -> Result<ManagedLabel> {
    Ok(ManagedLabel {
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        name: Label::parse(&text(row, "name")?)?,
        color: Color::parse(&text(row, "color")?)?,
        description: get(row, "description")?,
        created_at: ts(row, "created_at")?,
    })
}

pub(crate) fn contact(row: &PgRow) -> Result<Contact> {
    Ok(Contact {
        id: ContactId(id(row, "id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        site_id: opt_id(row, "site_id")?.map(SiteId),
        external_id: get(row, "external_id")?,
        name: get(row, "name")?,
        email: get::<Option<String>>(row, "email")?.map(|e| Email::parse(&e)).transpose()?,
        phone: get(row, "phone")?,
        attributes: codec::decode_attributes(&text(row, "attributes")?)?,
        device: DeviceInfo {
            browser: get(row, "browser")?,
            os: get(row, "os")?,
            device: get(row, "device")?,
            language: get(row, "language")?,
        },
        country: get(row, "country")?,
        first_seen: ts(row, "first_seen")?,
        last_seen: ts(row, "last_seen")?,
        lead_score: switchboard_domain::scoring::LeadScore {
            value: get(row, "lead_score")?,
            at: ts(row, "lead_score_at")?,
            half_life_days: get::<Option<i64>>(row, "lead_score_half_life")?.map(|d| d as u16),
        },
    })
}

pub(crate) fn page_view(row: &PgRow) -> Result<PageView> {
    Ok(PageView { url: get(row, "url")?, title: get(row, "title")?, referrer: get(row, "referrer")?, at: ts(row, "at")? })
}

pub(crate) fn attachment(row: &PgRow) -> Result<Attachment> {
    Ok(Attachment {
        id: AttachmentId(id(row, "id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        uploader: actor_from_parts(&text(row, "uploader_kind")?, opt_id(row, "uploader_id")?)?,
        filename: get(row, "filename")?,
        content_type: get(row, "content_type")?,
        size: get::<i64>(row, "size")? as u64,
        width: small(row, "width")?,
        height: small(row, "height")?,
        blob_key: get(row, "blob_key")?,
        created_at: ts(row, "created_at")?,
    })
}

pub(crate) fn conversation(row: &PgRow) -> Result<Conversation> {
    Ok(Conversation {
        id: ConversationId(id(row, "id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        site_id: SiteId(id(row, "site_id")?),
        inbox_id: InboxId(id(row, "inbox_id")?),
        inbox_kind: InboxKind::parse(&text(row, "inbox_kind")?)?,
        contact_id: ContactId(id(row, "contact_id")?),
        status: Status::from_parts(&text(row, "status")?, opt_ts(row, "snoozed_until")?)?,
        assignee_id: opt_id(row, "assignee_id")?.map(AgentId),
        team_id: opt_id(row, "team_id")?.map(TeamId),
        priority: Priority::parse(&text(row, "priority")?)?,
        labels: codec::decode_label_list(&text(row, "labels")?)?,
        last_seq: get(row, "last_seq")?,
        created_at: ts(row, "created_at")?,
        first_reply_at: opt_ts(row, "first_reply_at")?,
        assigned_at: opt_ts(row, "assigned_at")?,
        resolved_at: opt_ts(row, "resolved_at")?,
        waiting_since: opt_ts(row, "waiting_since")?,
        last_message_at: opt_ts(row, "last_message_at")?,
        queued_at: opt_ts(row, "queued_at")?,
        last_message_seq: get(row, "last_message_seq")?,
        updated_at: ts(row, "updated_at")?,
        visitor: Receipts { delivered_seq: get(row, "visitor_delivered_seq")?, read_seq: get(row, "visitor_read_seq")? },
        agent: Receipts { delivered_seq: get(row, "agent_delivered_seq")?, read_seq: get(row, "agent_read_seq")? },
        rating: codec::rating_from_parts(get(row, "rating_score")?, get(row, "rating_comment")?, get(row, "rated_at")?)?,
        unread: None,
    })
}

pub(crate) fn contact_event(row: &PgRow) -> Result<ContactEvent> {
    Ok(ContactEvent {
        id: ContactEventId(id(row, "id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        contact_id: ContactId(id(row, "contact_id")?),
        name: text(row, "name")?,
        data: codec::decode_attributes(&text(row, "data")?)?,
        at: ts(row, "at")?,
    })
}

pub(crate) fn transcript_request(row: &PgRow) -> Result<TranscriptRequest> {
    Ok(TranscriptRequest {
        id: TranscriptRequestId(id(row, "id")?),
        workspace_id: WorkspaceId(id(row, "workspace_id")?),
        conversation_id: ConversationId(id(row, "conversation_id")?),
        email: Email::parse(&text(row, "email")?)?,
        requested_at: ts(row, "requested_at")?,
        sent_at: opt_ts(row, "sent_at")?,
    })
}

/// Columns of an event and of its message (stored in the same row), as read by [`event`].
pub(crate) const EVENT_COLUMNS: &str = "e.workspace_id, e.feed_seq, e.conversation_id, e.seq, \
    e.kind, e.actor_kind, e.actor_id, e.data, e.at, e.message_id, e.client_id, e.body, e.format, e.attachments";

pub(crate) fn event(row: &PgRow) -> Result<Event> {
    let ws = WorkspaceId(id(row, "workspace_id")?);
    let conversation_id = ConversationId(id(row, "conversation_id")?);
    let seq: i64 = get(row, "seq")?;
    let at = ts(row, "at")?;
    let actor = actor_from_parts(&text(row, "actor_kind")?, opt_id(row, "actor_id")?)?;
    let kind = text(row, "kind")?;
    let message = match opt_id(row, "message_id")? {
        Some(mid) => Some(Message {
            id: MessageId(mid),
            workspace_id: ws,
            conversation_id,
            seq,
            client_id: get(row, "client_id")?,
            author: actor,
            kind: if kind == "note" { MessageKind::Note } else { MessageKind::Text },
            body: get(row, "body")?,
            format: MessageFormat::parse(&text(row, "format")?)?,
            attachments: codec::decode_attachments(ws, &text(row, "attachments")?)?,
            created_at: at,
        }),
        None => None,
    };
    Ok(Event {
        workspace_id: ws,
        conversation_id,
        seq,
        feed_seq: get(row, "feed_seq")?,
        actor,
        at,
        data: codec::decode_event_data(&kind, &text(row, "data")?, message)?,
    })
}

pub(crate) fn job(row: &PgRow) -> Result<switchboard_store::Job> {
    Ok(switchboard_store::Job {
        id: switchboard_store::JobId(id(row, "id")?),
        kind: text(row, "kind")?,
        payload: text(row, "payload")?,
        due_at: ts(row, "due_at")?,
        dedupe_key: get(row, "dedupe_key")?,
        state: codec::job_state(&text(row, "state")?)?,
        attempts: get::<i32>(row, "attempts")? as u32,
        max_attempts: get::<i32>(row, "max_attempts")? as u32,
        leased_until: opt_ts(row, "leased_until")?,
        last_error: get(row, "last_error")?,
    })
}
