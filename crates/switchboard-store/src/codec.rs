//! How structured values are stored in text columns, identically on every backend:
//! event payloads, attachments, attributes, appearance and pre-chat forms as JSON,
//! actors as `kind` + id. Kept here so backends never disagree on a format.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use switchboard_domain::*;
use uuid::Uuid;

use crate::{Result, StoreError};

pub fn corrupt(what: &str) -> StoreError {
    StoreError::Internal(format!("stored {what} cannot be decoded").into())
}

fn parse_json(what: &str, raw: &str) -> Result<Value> {
    serde_json::from_str(raw).map_err(|_| corrupt(what))
}

/// A ban's `kind` and `value` columns, read back into its target.
pub fn ban_target(kind: &str, value: &str) -> Result<BanTarget> {
    BanTarget::parse(kind, value).map_err(|_| corrupt("ban"))
}

/// A site's `banned_behaviour` column.
pub fn banned_behaviour(raw: &str) -> Result<BannedBehaviour> {
    BannedBehaviour::parse(raw).ok_or_else(|| corrupt("banned behaviour"))
}

/// A site's `tracking` column.
pub fn tracking(raw: &str) -> Result<TrackingMode> {
    TrackingMode::parse(raw).ok_or_else(|| corrupt("tracking mode"))
}

/// A JSON array of names (a site's `conversion_events`).
pub fn encode_names(names: &[String]) -> String {
    serde_json::to_string(names).expect("names serialise")
}

pub fn decode_names(raw: &str) -> Result<Vec<String>> {
    serde_json::from_str(raw).map_err(|_| corrupt("names"))
}

/// A job's `state` column.
pub fn job_state(raw: &str) -> Result<crate::JobState> {
    crate::JobState::parse(raw).ok_or_else(|| corrupt("job state"))
}

/// `(kind, id)` columns for an actor.
pub fn actor_parts(actor: Actor) -> (&'static str, Option<Uuid>) {
    let id = match actor {
        Actor::Contact(id) => Some(id.0),
        Actor::Agent(id) => Some(id.0),
        Actor::Integration(id) => Some(id.0),
        Actor::System => None,
    };
    (actor.kind(), id)
}

pub fn actor_from_parts(kind: &str, id: Option<Uuid>) -> Result<Actor> {
    Ok(match (kind, id) {
        ("contact", Some(id)) => Actor::Contact(id.into()),
        ("agent", Some(id)) => Actor::Agent(id.into()),
        ("integration", Some(id)) => Actor::Integration(id.into()),
        ("system", _) => Actor::System,
        _ => return Err(corrupt("actor")),
    })
}

/// The key under which a message's client id is unique: one per author.
pub fn author_key(actor: Actor) -> String {
    match actor_parts(actor) {
        (kind, Some(id)) => format!("{kind}:{id}"),
        (kind, None) => kind.to_owned(),
    }
}

pub fn uuid(raw: &str) -> Result<Uuid> {
    Uuid::parse_str(raw).map_err(|_| corrupt("id"))
}

pub fn opt_uuid(raw: Option<String>) -> Result<Option<Uuid>> {
    raw.as_deref().map(uuid).transpose()
}

/// A site's `retention_days` column (NULL: keep forever); the column's CHECK keeps it in range.
pub fn retention_days(raw: Option<i64>) -> Result<Option<RetentionDays>> {
    raw.map(|d| RetentionDays::new(d).map_err(|_| corrupt("retention_days"))).transpose()
}

/// JSON payload of a non-message event (a message lives in its own columns of the event's row).
pub fn encode_event_data(data: &EventData) -> String {
    let v = match data {
        EventData::ConversationStarted | EventData::Message(_) | EventData::ContactErased => json!({}),
        EventData::StatusChanged { status } => {
            json!({"status": status.name(), "snoozed_until": status.snoozed_until().map(|t| t.0)})
        }
        EventData::Assigned { agent_id, team_id, reason, note } => {
            json!({"agent_id": agent_id.map(|a| a.0), "team_id": team_id.map(|t| t.0), "reason": reason.name(), "note": note})
        }
        EventData::Queued { team_id, priority } => json!({"team_id": team_id.map(|t| t.0), "priority": priority.as_str()}),
        EventData::Dequeued { team_id, reason } => json!({"team_id": team_id.map(|t| t.0), "reason": reason.name()}),
        EventData::LabelsChanged { labels } => json!({"labels": encode_label_list(labels)}),
        EventData::PriorityChanged { priority } => json!({"priority": priority.as_str()}),
        EventData::OutsideHours { reopens_at } => json!({"reopens_at": reopens_at.map(|t| t.0)}),
        EventData::Rated { score, comment } => json!({"score": score, "comment": comment}),
        EventData::Receipt { side, kind, up_to_seq } => json!({
            "side": match side { Side::Visitor => "visitor", Side::Agent => "agent" },
            "kind": match kind { ReceiptKind::Delivered => "delivered", ReceiptKind::Read => "read" },
            "up_to_seq": up_to_seq,
        }),
    };
    v.to_string()
}

pub fn decode_event_data(kind: &str, raw: &str, message: Option<Message>) -> Result<EventData> {
    let v = parse_json("event", raw)?;
    let str_field = |k: &str| v.get(k).and_then(Value::as_str).ok_or_else(|| corrupt("event"));
    let id_field = |k: &str| -> Result<Option<Uuid>> {
        match v.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => uuid(s).map(Some),
            _ => Err(corrupt("event")),
        }
    };
    Ok(match kind {
        "conversation_started" => EventData::ConversationStarted,
        "contact_erased" => EventData::ContactErased,
        "message" | "note" => EventData::Message(message.ok_or_else(|| corrupt("message event"))?),
        "status_changed" => {
            let until = v.get("snoozed_until").and_then(Value::as_i64).map(Timestamp);
            EventData::StatusChanged { status: Status::from_parts(str_field("status")?, until)? }
        }
        // Assignments stored before routing (migration 0011) have no reason: they were made by hand.
        "assigned" => EventData::Assigned {
            agent_id: id_field("agent_id")?.map(AgentId),
            team_id: id_field("team_id")?.map(TeamId),
            reason: match v.get("reason").and_then(Value::as_str) {
                None => AssignReason::Manual,
                Some(r) => AssignReason::parse(r).ok_or_else(|| corrupt("assignment reason"))?,
            },
            note: v.get("note").and_then(Value::as_str).map(str::to_owned),
        },
        "queued" => EventData::Queued { team_id: id_field("team_id")?.map(TeamId), priority: Priority::parse(str_field("priority")?)? },
        "dequeued" => EventData::Dequeued {
            team_id: id_field("team_id")?.map(TeamId),
            reason: DequeueReason::parse(str_field("reason")?).ok_or_else(|| corrupt("dequeue reason"))?,
        },
        "labels_changed" => {
            let labels = v.get("labels").map(Value::to_string).unwrap_or_default();
            EventData::LabelsChanged { labels: decode_label_list(&labels)? }
        }
        "priority_changed" => EventData::PriorityChanged { priority: Priority::parse(str_field("priority")?)? },
        "outside_hours" => EventData::OutsideHours { reopens_at: v.get("reopens_at").and_then(Value::as_i64).map(Timestamp) },
        "conversation_rated" => EventData::Rated {
            score: v.get("score").and_then(Value::as_u64).and_then(|s| u8::try_from(s).ok()).ok_or_else(|| corrupt("rating"))?,
            comment: v.get("comment").and_then(Value::as_str).map(str::to_owned),
        },
        "receipt" => EventData::Receipt {
            side: match str_field("side")? {
                "visitor" => Side::Visitor,
                "agent" => Side::Agent,
                _ => return Err(corrupt("receipt")),
            },
            kind: match str_field("kind")? {
                "delivered" => ReceiptKind::Delivered,
                "read" => ReceiptKind::Read,
                _ => return Err(corrupt("receipt")),
            },
            up_to_seq: v.get("up_to_seq").and_then(Value::as_i64).ok_or_else(|| corrupt("receipt"))?,
        },
        _ => return Err(corrupt("event kind")),
    })
}

/// The message of an event read back from a search of messages (which only finds
/// `message` and `note` events).
pub fn event_message(event: Event) -> Result<Message> {
    match event.data {
        EventData::Message(m) => Ok(m),
        _ => Err(corrupt("message event")),
    }
}

pub fn encode_label_list(labels: &[Label]) -> Value {
    Value::Array(labels.iter().map(|l| Value::String(l.as_str().to_owned())).collect())
}

pub fn encode_labels(labels: &[Label]) -> String {
    encode_label_list(labels).to_string()
}

pub fn decode_label_list(raw: &str) -> Result<Vec<Label>> {
    let names: Vec<String> = serde_json::from_str(raw).map_err(|_| corrupt("labels"))?;
    Ok(parse_labels(&names)?)
}

#[derive(Serialize, Deserialize)]
struct AttachmentJson {
    id: Uuid,
    uploader_kind: String,
    uploader_id: Option<Uuid>,
    filename: String,
    content_type: String,
    size: u64,
    width: Option<u32>,
    height: Option<u32>,
    blob_key: String,
    created_at: i64,
}

/// Attachments are copied into the message row, so reading a page of messages is one query.
pub fn encode_attachments(list: &[Attachment]) -> String {
    let rows: Vec<_> = list
        .iter()
        .map(|a| {
            let (kind, id) = actor_parts(a.uploader);
            AttachmentJson {
                id: a.id.0,
                uploader_kind: kind.into(),
                uploader_id: id,
                filename: a.filename.clone(),
                content_type: a.content_type.clone(),
                size: a.size,
                width: a.width,
                height: a.height,
                blob_key: a.blob_key.clone(),
                created_at: a.created_at.0,
            }
        })
        .collect();
    serde_json::to_string(&rows).expect("attachments serialise")
}

pub fn decode_attachments(ws: WorkspaceId, raw: &str) -> Result<Vec<Attachment>> {
    let rows: Vec<AttachmentJson> = serde_json::from_str(raw).map_err(|_| corrupt("attachments"))?;
    rows.into_iter()
        .map(|a| {
            Ok(Attachment {
                id: AttachmentId(a.id),
                workspace_id: ws,
                uploader: actor_from_parts(&a.uploader_kind, a.uploader_id)?,
                filename: a.filename,
                content_type: a.content_type,
                size: a.size,
                width: a.width,
                height: a.height,
                blob_key: a.blob_key,
                created_at: Timestamp(a.created_at),
            })
        })
        .collect()
}

pub fn encode_attributes(attrs: &Attributes) -> String {
    let map: Map<String, Value> = attrs
        .iter()
        .map(|(k, v)| {
            let v = match v {
                AttributeValue::Text(s) => Value::String(s.clone()),
                AttributeValue::Number(n) => json!(n),
                AttributeValue::Bool(b) => Value::Bool(*b),
            };
            (k.clone(), v)
        })
        .collect();
    Value::Object(map).to_string()
}

pub fn decode_attributes(raw: &str) -> Result<Attributes> {
    let Value::Object(map) = parse_json("attributes", raw)? else {
        return Err(corrupt("attributes"));
    };
    map.into_iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => AttributeValue::Text(s),
                Value::Bool(b) => AttributeValue::Bool(b),
                Value::Number(n) => AttributeValue::Number(n.as_f64().unwrap_or_default()),
                _ => return Err(corrupt("attribute")),
            };
            Ok((k, v))
        })
        .collect()
}

#[derive(Serialize, Deserialize)]
struct AppearanceJson {
    color: String,
    position: String,
    greeting: String,
    team_name: String,
    locale: String,
    // Added after the first sites were stored (migration-free: absent means the default).
    #[serde(default)]
    reply_time: Option<String>,
    #[serde(default)]
    title_badge: bool,
    #[serde(default)]
    require_identity: bool,
    #[serde(default)]
    proof_of_work: bool,
}

pub fn encode_appearance(a: &Appearance) -> String {
    serde_json::to_string(&AppearanceJson {
        color: a.color.as_str().into(),
        position: match a.position {
            LauncherPosition::End => "end".into(),
            LauncherPosition::Start => "start".into(),
        },
        greeting: a.greeting.clone(),
        team_name: a.team_name.clone(),
        locale: a.locale.as_str().into(),
        reply_time: Some(a.reply_time.name().into()),
        title_badge: a.title_badge,
        require_identity: a.require_identity,
        proof_of_work: a.proof_of_work,
    })
    .expect("appearance serialises")
}

pub fn decode_appearance(raw: &str) -> Result<Appearance> {
    let a: AppearanceJson = serde_json::from_str(raw).map_err(|_| corrupt("appearance"))?;
    Ok(Appearance {
        color: Color::parse(&a.color)?,
        position: if a.position == "start" { LauncherPosition::Start } else { LauncherPosition::End },
        greeting: a.greeting,
        team_name: a.team_name,
        locale: Locale::parse(&a.locale)?,
        reply_time: a.reply_time.as_deref().map(ReplyTime::parse).transpose()?.unwrap_or_default(),
        title_badge: a.title_badge,
        require_identity: a.require_identity,
        proof_of_work: a.proof_of_work,
    })
}

#[derive(Serialize, Deserialize)]
struct HoursJson {
    time_zone: String,
    weekly: Vec<RangeJson>,
    holidays: Vec<HolidayJson>,
}

#[derive(Serialize, Deserialize)]
struct RangeJson {
    day: u8,
    open: String,
    close: String,
}

#[derive(Serialize, Deserialize)]
struct HolidayJson {
    date: String,
    name: String,
}

/// Business hours as the JSON text of a `business_hours` column (NULL: always open).
pub fn encode_hours(h: Option<&BusinessHours>) -> Option<String> {
    let h = h?;
    let json = HoursJson {
        time_zone: h.time_zone().as_str().into(),
        weekly: h.weekly().iter().map(|r| RangeJson { day: r.day, open: format_minute(r.open), close: format_minute(r.close) }).collect(),
        holidays: h.holidays().iter().map(|d| HolidayJson { date: d.date.to_string(), name: d.name.clone() }).collect(),
    };
    Some(serde_json::to_string(&json).expect("business hours serialise"))
}

pub fn decode_hours(raw: Option<&str>) -> Result<Option<BusinessHours>> {
    let Some(raw) = raw else { return Ok(None) };
    let h: HoursJson = serde_json::from_str(raw).map_err(|_| corrupt("business_hours"))?;
    let weekly = h
        .weekly
        .iter()
        .map(|r| Ok(WeeklyRange { day: r.day, open: parse_minute(&r.open, "open")?, close: parse_minute(&r.close, "close")? }))
        .collect::<Result<Vec<_>>>()?;
    let holidays =
        h.holidays.into_iter().map(|d| Ok(Holiday { date: parse_date(&d.date, "date")?, name: d.name })).collect::<Result<Vec<_>>>()?;
    Ok(Some(BusinessHours::new(TimeZone::parse(&h.time_zone)?, weekly, holidays)?))
}

/// A conversation's rating as its three columns (`rating_score`, `rating_comment`,
/// `rated_at`), all NULL before the visitor rates.
pub fn rating_parts(r: Option<&Rating>) -> (Option<i64>, Option<&str>, Option<i64>) {
    match r {
        Some(r) => (Some(i64::from(r.score)), r.comment.as_deref(), Some(r.rated_at.0)),
        None => (None, None, None),
    }
}

pub fn rating_from_parts(score: Option<i64>, comment: Option<String>, rated_at: Option<i64>) -> Result<Option<Rating>> {
    match (score, rated_at) {
        (Some(score), Some(at)) => {
            let score = u8::try_from(score).ok().filter(|s| (1..=5).contains(s)).ok_or_else(|| corrupt("rating"))?;
            Ok(Some(Rating { score, comment, rated_at: Timestamp(at) }))
        }
        (None, None) => Ok(None),
        _ => Err(corrupt("rating")),
    }
}

#[derive(Serialize, Deserialize)]
struct PrechatFieldJson {
    key: String,
    label: String,
    kind: String,
    required: bool,
    options: Vec<String>,
}

pub fn encode_prechat(fields: &[PrechatField]) -> String {
    let rows: Vec<_> = fields
        .iter()
        .map(|f| PrechatFieldJson {
            key: f.key.clone(),
            label: f.label.clone(),
            kind: match f.kind {
                PrechatFieldKind::Text => "text",
                PrechatFieldKind::Email => "email",
                PrechatFieldKind::Phone => "phone",
                PrechatFieldKind::Select => "select",
                PrechatFieldKind::Team => "team",
            }
            .into(),
            required: f.required,
            options: f.options.clone(),
        })
        .collect();
    serde_json::to_string(&rows).expect("prechat serialises")
}

pub fn decode_prechat(raw: &str) -> Result<Vec<PrechatField>> {
    let rows: Vec<PrechatFieldJson> = serde_json::from_str(raw).map_err(|_| corrupt("prechat form"))?;
    rows.into_iter()
        .map(|f| {
            Ok(PrechatField {
                kind: match f.kind.as_str() {
                    "text" => PrechatFieldKind::Text,
                    "email" => PrechatFieldKind::Email,
                    "phone" => PrechatFieldKind::Phone,
                    "select" => PrechatFieldKind::Select,
                    "team" => PrechatFieldKind::Team,
                    _ => return Err(corrupt("prechat field")),
                },
                key: f.key,
                label: f.label,
                required: f.required,
                options: f.options,
            })
        })
        .collect()
}

pub fn encode_origins(origins: &[Origin]) -> String {
    serde_json::to_string(&origins.iter().map(Origin::as_str).collect::<Vec<_>>()).expect("origins serialise")
}

pub fn decode_origins(raw: &str) -> Result<Vec<Origin>> {
    let list: Vec<String> = serde_json::from_str(raw).map_err(|_| corrupt("origins"))?;
    Ok(list.iter().map(|o| Origin::parse(o)).collect::<Result<_, _>>()?)
}

pub fn encode_ids(ids: &[AgentId]) -> String {
    serde_json::to_string(&ids.iter().map(|a| a.0).collect::<Vec<_>>()).expect("ids serialise")
}

/// The text a contact is found by: name, e-mail, phone, external id, normalised.
pub fn contact_search_text(c: &Contact) -> String {
    let parts = [c.name.as_deref(), c.email.as_ref().map(Email::as_str), c.phone.as_deref(), c.external_id.as_deref()];
    search::normalize(&parts.into_iter().flatten().collect::<Vec<_>>().join(" "))
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub fn like_pattern(term: &str) -> String {
    let mut out = String::from("%");
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// An invitation's teams, as a JSON array of ids (both backends store it as text).
pub fn encode_team_ids(ids: &[TeamId]) -> String {
    Value::from(ids.iter().map(|id| Value::from(id.to_string())).collect::<Vec<_>>()).to_string()
}

pub fn decode_team_ids(raw: &str) -> Result<Vec<TeamId>> {
    decode_names(raw)?.iter().map(|s| uuid(s).map(TeamId)).collect()
}

/// An invitation's mail state as stored.
pub fn invitation_mail(raw: &str) -> Result<InvitationMail> {
    InvitationMail::parse(raw).ok_or_else(|| corrupt("agent_invitations.mail_state"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_payload_round_trips() {
        let cases = [
            EventData::StatusChanged { status: Status::Snoozed { until: Timestamp(42) } },
            EventData::StatusChanged { status: Status::Resolved },
            EventData::Assigned {
                agent_id: Some(AgentId::new()),
                team_id: None,
                reason: AssignReason::Transferred,
                note: Some("VIP".into()),
            },
            EventData::Queued { team_id: Some(TeamId::new()), priority: Priority::High },
            EventData::Dequeued { team_id: None, reason: DequeueReason::MaxWait },
            EventData::LabelsChanged { labels: parse_labels(&["vip", "فوری"]).unwrap() },
            EventData::PriorityChanged { priority: Priority::Urgent },
            EventData::Receipt { side: Side::Agent, kind: ReceiptKind::Read, up_to_seq: 9 },
            EventData::ConversationStarted,
            EventData::Rated { score: 4, comment: Some("سریع و خوب".into()) },
            EventData::Rated { score: 1, comment: None },
            EventData::ContactErased,
            EventData::OutsideHours { reopens_at: Some(Timestamp(1_797_001_200_000)) },
            EventData::OutsideHours { reopens_at: None },
        ];
        for data in cases {
            let back = decode_event_data(data.kind(), &encode_event_data(&data), None).unwrap();
            assert_eq!(back, data);
        }
    }

    #[test]
    fn attributes_keep_their_types() {
        let mut attrs = Attributes::new();
        attrs.insert("plan".into(), AttributeValue::Text("pro".into()));
        attrs.insert("seats".into(), AttributeValue::Number(5.0));
        attrs.insert("trial".into(), AttributeValue::Bool(false));
        assert_eq!(decode_attributes(&encode_attributes(&attrs)).unwrap(), attrs);
    }

    #[test]
    fn appearance_stored_before_the_widget_settings_reads_back_with_their_defaults() {
        let old = r##"{"color":"#1f6feb","position":"end","greeting":"Hi","team_name":"Support","locale":"en"}"##;
        let a = decode_appearance(old).unwrap();
        assert_eq!((a.reply_time, a.title_badge, a.require_identity), (ReplyTime::Hours, false, false));
        assert!(!a.proof_of_work, "sites stored before it have it off");
        let changed = Appearance { reply_time: ReplyTime::Minutes, title_badge: true, require_identity: true, proof_of_work: true, ..a };
        assert_eq!(decode_appearance(&encode_appearance(&changed)).unwrap(), changed);
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("50%_off"), "%50\\%\\_off%");
    }

    #[test]
    fn corrupt_rows_are_errors_not_panics() {
        assert!(decode_event_data("status_changed", "{", None).is_err());
        assert!(decode_event_data("nonsense", "{}", None).is_err());
        assert!(decode_attributes("[1]").is_err());
    }
}
