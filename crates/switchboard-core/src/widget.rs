//! What the visitor widget needs beyond chatting: the launcher's agents before any
//! socket opens, the visitor's unread counts from their read marks, satisfaction
//! ratings, transcript requests, events the page tracks, and agents' last activity.

use std::collections::HashMap;

use switchboard_domain::*;
use switchboard_store::{Change, Committed, ContactEventCursor};

use crate::{Core, Error, PageOrigin, Principal, Result, Visitor};

/// How many agents the launcher shows.
pub const LAUNCHER_AGENTS: usize = 3;

/// What the launcher draws before any socket opens.
#[derive(Clone, Debug)]
pub struct WidgetInfo {
    pub site: Site,
    /// The calendar the launcher's open/closed state follows and the teams offered.
    pub outlook: crate::SiteOutlook,
    pub agents_online: u32,
    /// At most [`LAUNCHER_AGENTS`]: online agents first, then the most recently active.
    pub agents: Vec<Agent>,
}

/// Something the visitor's page tracked, as the page reports it; core checks and stamps it.
#[derive(Clone, Debug, Default)]
pub struct NewContactEvent {
    pub name: String,
    pub data: Attributes,
}

/// Picks the launcher's agents: online ones first, then by most recent activity
/// (agents never active last), then by name so the choice is stable.
pub fn launcher_agents(roster: &[Agent], online: &[AgentId], activity: &[(AgentId, Timestamp)]) -> Vec<Agent> {
    let last_active: HashMap<AgentId, Timestamp> = activity.iter().copied().collect();
    let mut agents = roster.to_vec();
    agents.sort_by(|a, b| {
        let key = |x: &Agent| (!online.contains(&x.id), std::cmp::Reverse(last_active.get(&x.id).copied()));
        key(a).cmp(&key(b)).then_with(|| a.name.cmp(&b.name))
    });
    agents.truncate(LAUNCHER_AGENTS);
    agents
}

impl Core {
    /// The launcher's view of a site: the site (if the page's origin may use it), how
    /// many agents are online, and up to three of them to show.
    #[tracing::instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn widget_info(&self, site_key: &str, origin: &PageOrigin, ip: Option<std::net::IpAddr>) -> Result<WidgetInfo> {
        let site = self.visitor_site(site_key, origin).await?;
        self.refuse_banned_page(&site, ip).await?;
        let ws = site.workspace_id;
        // The widget's online/offline follows presence: agents away or offline
        // (after the grace period) do not count.
        let online = self.agents_available(ws);
        let roster = self.roster(ws).await?;
        let activity = self.store.agent_activity(ws).await?;
        let outlook = self.site_outlook(&site).await?;
        Ok(WidgetInfo { agents_online: online.len() as u32, agents: launcher_agents(&roster, &online, &activity), outlook, site })
    }

    /// Records that a signed-in agent is active now (their socket opened or closed), so
    /// the launcher can show the most recently active when nobody is online.
    #[tracing::instrument(level = "debug", skip_all, fields(workspace.id = %who.workspace_id), err(level = "debug"))]
    pub async fn agent_active(&self, who: &Principal) -> Result<()> {
        match who.agent_id() {
            Some(agent) => Ok(self.store.record_agent_activity(who.workspace_id, agent, self.now()).await?),
            None => Ok(()),
        }
    }

    /// The team's messages after the visitor's read mark, per conversation of theirs
    /// (conversations with none are absent).
    #[tracing::instrument(level = "debug", skip_all, fields(contact.id = %v.contact.id), err(level = "debug"))]
    pub async fn visitor_unread(&self, v: &Visitor) -> Result<HashMap<ConversationId, i64>> {
        Ok(self.store.visitor_unread(v.workspace_id(), v.contact.id).await?.into_iter().collect())
    }

    /// Where the visitor's read mark of one of their conversations stands, and how many
    /// of the team's messages are after it: `(visitor_read_seq, unread)`.
    #[tracing::instrument(level = "debug", skip_all, fields(contact.id = %v.contact.id, conversation.id = %id), err(level = "debug"))]
    pub async fn visitor_read_mark(&self, v: &Visitor, id: ConversationId) -> Result<(i64, i64)> {
        let conversation = self.visitor_conversation(v, id).await?;
        let unread = self.visitor_unread(v).await?.get(&id).copied().unwrap_or(0);
        Ok((conversation.visitor.read_seq, unread))
    }

    /// The visitor rates one of their resolved conversations (1 to 5, an optional
    /// comment of at most 2,000 characters); rating again replaces the rating. Recorded
    /// as a `conversation_rated` event, which the visitor and the agents receive.
    #[tracing::instrument(skip_all, fields(contact.id = %v.contact.id, conversation.id = %id), err(level = "info"))]
    pub async fn visitor_rate(&self, v: &Visitor, id: ConversationId, score: i64, comment: Option<&str>) -> Result<Committed> {
        self.refuse_visitor(v).await?;
        let (score, comment) = Rating::check(score, comment)?;
        let conversation = self.visitor_conversation(v, id).await?;
        if conversation.status != Status::Resolved {
            return Err(Error::NotResolved);
        }
        let change = Change::Record { conversation_id: id, actor: v.actor(), data: EventData::Rated { score, comment }, at: self.now() };
        self.commit(v.workspace_id(), change).await
    }

    /// Stores the visitor's request for a transcript of one of their conversations; the
    /// e-mail channel sends it later.
    #[tracing::instrument(skip_all, fields(contact.id = %v.contact.id, conversation.id = %id), err(level = "info"))]
    pub async fn visitor_transcript(&self, v: &Visitor, id: ConversationId, email: Email) -> Result<TranscriptRequest> {
        self.refuse_visitor(v).await?;
        self.visitor_conversation(v, id).await?;
        let request = TranscriptRequest {
            id: TranscriptRequestId::new(),
            workspace_id: v.workspace_id(),
            conversation_id: id,
            email,
            requested_at: self.now(),
            sent_at: None,
        };
        self.store.request_transcript(&request).await?;
        Ok(request)
    }

    /// Keeps something the visitor's page tracked on their contact: a name of 1 to 100
    /// characters and at most 20 keys of data.
    #[tracing::instrument(level = "debug", skip_all, fields(contact.id = %v.contact.id), err(level = "debug"))]
    pub async fn visitor_track(&self, v: &Visitor, event: NewContactEvent) -> Result<ContactEvent> {
        self.refuse_visitor(v).await?;
        self.limit(crate::LimitKind::TrackPerVisitor, crate::LimitKey::Contact(v.contact.id)).await?;
        let name = non_empty("name", &event.name, ContactEvent::MAX_NAME_CHARS)?;
        if event.data.len() > ContactEvent::MAX_KEYS {
            return Err(ValidationError::new("data", format!("at most {} keys", ContactEvent::MAX_KEYS)).into());
        }
        let event = ContactEvent {
            id: ContactEventId::new(),
            workspace_id: v.workspace_id(),
            contact_id: v.contact.id,
            name,
            data: event.data,
            at: self.now(),
        };
        self.store.add_contact_event(&event).await?;
        Ok(event)
    }

    /// A contact's tracked events, newest first, after `after` (the previous page's last).
    #[tracing::instrument(level = "debug", skip_all, fields(workspace.id = %who.workspace_id, contact.id = %id), err(level = "debug"))]
    pub async fn contact_events(
        &self,
        who: &Principal,
        id: ContactId,
        after: Option<ContactEventCursor>,
        limit: Option<u32>,
    ) -> Result<Vec<ContactEvent>> {
        self.store.contact(who.workspace_id, id).await?;
        self.check_contact_visible(who, id).await?;
        Ok(self.store.contact_events(who.workspace_id, id, after, self.page(limit, 50)).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(name: &str) -> Agent {
        Agent {
            id: AgentId::new(),
            workspace_id: WorkspaceId::new(),
            email: Email::parse(&format!("{name}@shop.example")).unwrap(),
            name: name.into(),
            role: Role::Agent,
            avatar_url: None,
            locale: Locale::default(),
            max_chats: None,
            status: AgentStatus::Online,
            notifications: NotificationPrefs::default(),
            active: true,
            created_at: Timestamp(0),
        }
    }

    #[test]
    fn the_launcher_shows_online_agents_first_then_the_most_recently_active() {
        let [ana, bo, cem, dina] = ["ana", "bo", "cem", "dina"].map(agent);
        let roster = [ana.clone(), bo.clone(), cem.clone(), dina.clone()];
        let activity = [(cem.id, Timestamp(30)), (bo.id, Timestamp(20)), (dina.id, Timestamp(10))];
        let names = |list: Vec<Agent>| list.into_iter().map(|a| a.name).collect::<Vec<_>>();
        assert_eq!(names(launcher_agents(&roster, &[dina.id], &activity)), ["dina", "cem", "bo"]);
        assert_eq!(names(launcher_agents(&roster, &[], &[])), ["ana", "bo", "cem"], "nobody active: by name");
        assert_eq!(names(launcher_agents(&roster[..1], &[], &activity)), ["ana"]);
    }
}
