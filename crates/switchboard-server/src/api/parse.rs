//! Wire → domain parsing, done once at the edge.

use switchboard_core::{AgentPatch, ContactPatch, LabelInput, MePatch, NewAgent, RoutingPatch, SiteInput, TransferTarget, WorkspacePatch};
use switchboard_domain::*;
use switchboard_proto as p;

use crate::error::ApiResult;
use crate::parse::attributes;
pub use crate::parse::draft;

pub fn opt<T>(v: Option<&str>, f: impl Fn(&str) -> Result<T, ValidationError>) -> ApiResult<Option<T>> {
    Ok(v.map(f).transpose()?)
}

/// A page size as asked in a query string, which may be any number from 0: the use
/// cases cut it to their cap.
pub fn limit(asked: Option<i64>) -> Result<Option<u32>, ValidationError> {
    match asked {
        Some(l) if l < 0 => Err(ValidationError::new("limit", "must not be negative")),
        _ => Ok(asked.map(|l| u32::try_from(l).unwrap_or(u32::MAX))),
    }
}

/// `ids=a,b,c` of a query string: contact ids, each a UUID.
pub fn contact_ids(raw: &str) -> Result<Vec<ContactId>, ValidationError> {
    raw.split(',')
        .filter(|id| !id.trim().is_empty())
        .map(|id| {
            id.trim().parse::<uuid::Uuid>().map(ContactId).map_err(|_| ValidationError::new("ids", "must be comma-separated contact ids"))
        })
        .collect()
}

/// A time zone the IANA database knows, spelled as the database spells it. The
/// database is bundled with the binary (jiff's `tzdb-bundle-always`), so a name is
/// accepted or refused the same on every host.
pub fn time_zone(raw: &str) -> Result<TimeZone, ValidationError> {
    let unknown = || ValidationError::new("time_zone", "is not a time zone of the IANA database, such as Europe/Istanbul");
    let name = TimeZone::parse(raw)?;
    let zone = jiff::tz::db().get(name.as_str()).map_err(|_| unknown())?;
    TimeZone::parse(zone.iana_name().ok_or_else(unknown)?)
}

pub fn workspace_patch(r: p::UpdateWorkspace) -> Result<WorkspacePatch, ValidationError> {
    Ok(WorkspacePatch {
        name: r.name,
        time_zone: r.time_zone.as_deref().map(time_zone).transpose()?,
        require_two_factor: r.require_two_factor,
        auto_away_minutes: r.auto_away_minutes,
        inbox_visibility: r.inbox_visibility.map(Into::into),
        default_max_chats: r.default_max_chats,
    })
}

pub fn new_agent(r: p::CreateAgent) -> ApiResult<NewAgent> {
    Ok(NewAgent {
        email: Email::parse(&r.email)?,
        name: r.name,
        role: r.role.into(),
        password: r.password,
        locale: opt(r.locale.as_deref(), Locale::parse)?,
        max_chats: r.max_chats,
        avatar_url: r.avatar_url,
    })
}

pub fn new_invitation(r: p::InviteAgent) -> ApiResult<switchboard_core::NewInvitation> {
    Ok(switchboard_core::NewInvitation {
        email: Email::parse(&r.email)?,
        name: r.name,
        role: r.role.into(),
        team_ids: r.team_ids.into_iter().map(TeamId).collect(),
        max_chats: r.max_chats,
        locale: opt(r.locale.as_deref(), Locale::parse)?,
    })
}

pub fn accept_invitation(r: p::AcceptInvitation) -> ApiResult<switchboard_core::AcceptInvitation> {
    Ok(switchboard_core::AcceptInvitation { name: r.name, password: r.password, locale: opt(r.locale.as_deref(), Locale::parse)? })
}

pub fn agent_patch(r: p::UpdateAgent) -> ApiResult<AgentPatch> {
    Ok(AgentPatch {
        email: opt(r.email.as_deref(), Email::parse)?,
        name: r.name,
        role: r.role.map(Into::into),
        locale: opt(r.locale.as_deref(), Locale::parse)?,
        max_chats: r.max_chats,
        avatar_url: r.avatar_url,
        password: r.password,
        active: r.active,
    })
}

pub fn me_patch(r: p::UpdateMe) -> ApiResult<MePatch> {
    Ok(MePatch {
        name: r.name,
        avatar_url: r.avatar_url,
        locale: r.locale.map(|l| Locale::parse(l.as_str())).transpose()?,
        notifications: r.notifications.map(Into::into),
        status: r.status.map(Into::into),
    })
}

pub fn label_input(r: p::LabelRequest) -> ApiResult<LabelInput> {
    Ok(LabelInput {
        name: opt(r.name.as_deref(), |n| Label::parse(n).map_err(|e| ValidationError::new("name", e.reason)))?,
        color: opt(r.color.as_deref(), Color::parse)?,
        description: r.description,
    })
}

fn appearance(a: &p::Appearance) -> ApiResult<Appearance> {
    Ok(Appearance {
        color: Color::parse(&a.color)?,
        position: a.position.into(),
        greeting: non_empty("greeting", &a.greeting, 500)?,
        team_name: non_empty("team_name", &a.team_name, 100)?,
        locale: Locale::parse(&a.locale)?,
        reply_time: a.reply_time.into(),
        title_badge: a.title_badge,
        proof_of_work: a.proof_of_work,
        require_identity: a.require_identity,
    })
}

fn prechat_field(f: &p::PrechatField) -> ApiResult<PrechatField> {
    let kind = PrechatFieldKind::from(f.kind);
    if matches!(kind, PrechatFieldKind::Select | PrechatFieldKind::Team) && f.options.is_empty() {
        return Err(ValidationError::new("prechat_form", "a select or team field needs options").into());
    }
    Ok(PrechatField {
        key: non_empty("prechat_form", &f.key, 64)?,
        label: non_empty("prechat_form", &f.label, 200)?,
        kind,
        required: f.required,
        options: f.options.clone(),
    })
}

pub fn site_input(r: p::SiteRequest) -> ApiResult<SiteInput> {
    Ok(SiteInput {
        name: r.name,
        allowed_origins: r.allowed_origins.map(|list| list.iter().map(|o| Origin::parse(o)).collect::<Result<_, _>>()).transpose()?,
        appearance: r.appearance.as_ref().map(appearance).transpose()?,
        prechat_form: r.prechat_form.map(|f| f.iter().map(prechat_field).collect::<ApiResult<_>>()).transpose()?,
        rotate_identity_secret: r.rotate_identity_secret,
        retention_days: r.retention_days.map(|days| days.map(RetentionDays::new).transpose()).transpose()?,
        banned_behaviour: r.banned_behaviour.map(Into::into),
        masking: r.masking.map(Into::into),
        business_hours: r.business_hours.map(|h| h.as_ref().map(business_hours).transpose()).transpose()?,
        default_team_id: r.default_team_id.map(|t| t.map(TeamId)),
        tracking: r.tracking.map(Into::into),
        conversion_events: r.conversion_events,
    })
}

/// Business hours from the wire, checked (the time zone against the IANA database).
pub fn business_hours(r: &p::BusinessHours) -> Result<BusinessHours, ValidationError> {
    let weekly = r
        .weekly
        .iter()
        .map(|w| {
            Ok(WeeklyRange { day: w.day, open: parse_minute(&w.open, "weekly.open")?, close: parse_minute(&w.close, "weekly.close")? })
        })
        .collect::<Result<Vec<_>, ValidationError>>()?;
    let holidays = r
        .holidays
        .iter()
        .map(|h| Ok(Holiday { date: parse_date(&h.date, "holidays.date")?, name: h.name.trim().to_owned() }))
        .collect::<Result<Vec<_>, ValidationError>>()?;
    BusinessHours::new(time_zone(&r.time_zone)?, weekly, holidays)
}

pub fn routing_patch(r: &p::TeamRequest) -> RoutingPatch {
    RoutingPatch {
        strategy: r.strategy.map(Into::into),
        sticky: r.sticky,
        reroute_after_seconds: r.reroute_after_seconds,
        reroute_when_offline: r.reroute_when_offline,
        max_wait_seconds: r.max_wait_seconds,
    }
}

/// Exactly one of an agent and a team.
pub fn transfer_target(r: &p::TransferRequest) -> Result<TransferTarget, ValidationError> {
    match (r.agent_id, r.team_id) {
        (Some(a), None) => Ok(TransferTarget::Agent(AgentId(a))),
        (None, Some(t)) => Ok(TransferTarget::Team(TeamId(t))),
        _ => Err(ValidationError::new("agent_id", "give exactly one of agent_id and team_id")),
    }
}

pub fn contact_patch(r: p::UpdateContact) -> ApiResult<ContactPatch> {
    Ok(ContactPatch {
        name: r.name,
        email: r.email.map(|e| e.map(|e| Email::parse(&e)).transpose()).transpose()?,
        phone: r.phone,
        external_id: r.external_id,
        attributes: attributes(&r.attributes)?,
    })
}

pub fn status(r: &p::StatusRequest) -> ApiResult<Status> {
    let until = r.snoozed_until.map(Timestamp);
    Ok(match r.status {
        p::ConversationStatus::Open => Status::Open,
        p::ConversationStatus::Pending => Status::Pending,
        p::ConversationStatus::Resolved => Status::Resolved,
        p::ConversationStatus::Snoozed => {
            Status::Snoozed { until: until.ok_or_else(|| ValidationError::new("snoozed_until", "is required when snoozing"))? }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zones_are_checked_against_the_iana_database() {
        for name in ["UTC", "Europe/Istanbul", "Asia/Tehran", "America/Argentina/Buenos_Aires"] {
            assert_eq!(time_zone(name).unwrap().as_str(), name);
        }
        assert_eq!(time_zone("europe/istanbul").unwrap().as_str(), "Europe/Istanbul", "stored as the database spells it");
        for unknown in ["Mars/Olympus_Mons", "Europe/Atlantis", "EST5EDT/Nowhere", "", "Asia/Tehran/"] {
            let err = time_zone(unknown).unwrap_err();
            assert_eq!(err.field, "time_zone", "{unknown:?}");
        }
    }
}
