//! Business hours in use (issue 14): which calendar a conversation follows (its team's
//! when the team has hours of its own, else its site's), what the widget is told of a
//! site (its default team's calendar, the teams its pre-chat form offers), and the
//! automatic reply a visitor gets, once per closed period, when they write while the
//! team is closed. The calendar arithmetic is pure domain code (`hours.rs` there).

use switchboard_domain::*;
use switchboard_store::{Change, Committed, StoreError};

use crate::{Core, Principal, Result};

/// What the widget is shown of a site beyond the site itself.
#[derive(Clone, Debug, Default)]
pub struct SiteOutlook {
    /// The calendar the widget's open/closed state follows: the default team's when it
    /// has hours of its own, else the site's (`None`: always open).
    pub hours: Option<BusinessHours>,
    /// The teams the site's pre-chat `team` field offers, in the field's order (only
    /// those; a removed team is left out).
    pub teams: Vec<Team>,
}

impl Core {
    /// Whether `hours` (checked, not saved) are open now and, when closed, when they open
    /// next: the admin console's live line while hours are edited. Owners and admins.
    pub fn hours_preview(&self, who: &Principal, hours: &BusinessHours) -> Result<(bool, Option<Timestamp>)> {
        who.require_admin()?;
        let now = self.now();
        Ok((hours.is_open(now), hours.opens_at(now)))
    }

    /// The calendar a conversation of `site` in `team` follows: the team's when it has
    /// hours of its own, else the site's. A team that no longer exists has none.
    pub async fn calendar(&self, site: &Site, team: Option<TeamId>) -> Result<Option<BusinessHours>> {
        let team_hours = match team {
            Some(id) => match self.store.team(site.workspace_id, id).await {
                Ok(team) => team.business_hours,
                Err(StoreError::NotFound(_)) => None,
                Err(e) => return Err(e.into()),
            },
            None => None,
        };
        Ok(calendar(site.business_hours.as_ref(), team_hours.as_ref()).cloned())
    }

    /// [`SiteOutlook`] of a site: reads the teams only when the site has a default team
    /// or offers a choice of teams.
    pub async fn site_outlook(&self, site: &Site) -> Result<SiteOutlook> {
        let offered: Vec<&str> = site
            .prechat_form
            .iter()
            .filter(|f| f.kind == PrechatFieldKind::Team)
            .flat_map(|f| f.options.iter().map(String::as_str))
            .collect();
        if site.default_team_id.is_none() && offered.is_empty() {
            return Ok(SiteOutlook { hours: site.business_hours.clone(), teams: vec![] });
        }
        let all = self.store.teams(site.workspace_id).await?;
        let default_team = all.iter().find(|t| Some(t.id) == site.default_team_id);
        let hours = calendar(site.business_hours.as_ref(), default_team.and_then(|t| t.business_hours.as_ref())).cloned();
        let mut teams: Vec<Team> = vec![];
        for id in offered {
            let Ok(id) = id.parse::<TeamId>() else { continue };
            if let Some(team) = all.iter().find(|t| t.id == id)
                && !teams.iter().any(|t| t.id == id)
            {
                teams.push(team.clone());
            }
        }
        Ok(SiteOutlook { hours, teams })
    }

    /// The automatic reply outside business hours, after a visitor's message committed
    /// in `conversation`: when the conversation's calendar is closed now and it was not
    /// told about this closed period yet, an `outside_hours` event (actor system) saying
    /// when the team is back. `None` when nothing was owed.
    pub(crate) async fn reply_outside_hours(&self, site: &Site, conversation: &Conversation) -> Result<Option<Committed>> {
        let Some(hours) = self.calendar(site, conversation.team_id).await? else { return Ok(None) };
        let now = self.now();
        if hours.is_open(now) {
            return Ok(None);
        }
        let ws = conversation.workspace_id;
        // Closed periods follow one another, so the newest reply is the only one that can
        // be about this one (however many messages came after it).
        let kind = EventData::OutsideHours { reopens_at: None }.kind();
        let last = self.store.last_event_of_kind(ws, conversation.id, kind).await?;
        let told = last.into_iter().filter_map(|e| match e.data {
            EventData::OutsideHours { reopens_at } => Some(reopens_at),
            _ => None,
        });
        let Some(data) = reply_outside_hours(Some(&hours), now, told) else { return Ok(None) };
        let change = Change::Record { conversation_id: conversation.id, actor: Actor::System, data, at: now };
        Ok(Some(self.commit(ws, change).await?))
    }
}
