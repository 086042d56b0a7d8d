//! Conversions from the domain's live-tracking values (issue 15) to their wire bodies,
//! kept beside `convert.rs` so the two halves of issue 15 touch different files.

use switchboard_domain as d;

use crate::{ChatState, Device, Invitation, LiveChat, LiveVisitor, PageView, PublicAgent, Utm, Visit};

impl From<&d::Utm> for Utm {
    fn from(u: &d::Utm) -> Self {
        Self {
            source: u.source.clone(),
            medium: u.medium.clone(),
            campaign: u.campaign.clone(),
            term: u.term.clone(),
            content: u.content.clone(),
        }
    }
}

impl From<&d::DeviceInfo> for Device {
    fn from(d: &d::DeviceInfo) -> Self {
        Self { browser: d.browser.clone(), os: d.os.clone(), device: d.device.clone(), language: d.language.clone() }
    }
}

impl From<d::ChatState> for ChatState {
    fn from(s: d::ChatState) -> Self {
        match s {
            d::ChatState::None => Self::None,
            d::ChatState::Waiting => Self::Waiting,
            d::ChatState::Chatting => Self::Chatting,
        }
    }
}

impl From<&d::LiveVisitor> for LiveVisitor {
    fn from(v: &d::LiveVisitor) -> Self {
        Self {
            contact_id: v.contact_id.0,
            site_id: v.site_id.0,
            visit_id: v.visit_id.0,
            url: v.url.clone(),
            title: v.title.clone(),
            page_since: v.page_since.0,
            visit_started_at: v.visit_started_at.0,
            pages_this_visit: v.pages_this_visit,
            referrer: v.referrer.clone(),
            utm: (&v.utm).into(),
            visit_number: v.visit_number,
            device: (&v.device).into(),
            country: v.country.clone(),
            name: v.name.clone(),
            email: v.email.clone(),
            lead_score: v.lead_score,
            chat: LiveChat {
                state: v.chat.state.into(),
                conversation_id: v.chat.conversation_id.map(|c| c.0),
                agent_id: v.chat.agent_id.map(|a| a.0),
            },
            tabs: v.tabs,
        }
    }
}

impl LiveVisitor {
    /// The domain's row again, in workspace `ws` (the wire row does not say it): how a
    /// cluster's node reads the rows another node stored (`switchboard-cluster`).
    pub fn into_domain(self, ws: d::WorkspaceId) -> d::LiveVisitor {
        d::LiveVisitor {
            workspace_id: ws,
            site_id: d::SiteId(self.site_id),
            contact_id: d::ContactId(self.contact_id),
            visit_id: d::VisitId(self.visit_id),
            url: self.url,
            title: self.title,
            page_since: d::Timestamp(self.page_since),
            visit_started_at: d::Timestamp(self.visit_started_at),
            pages_this_visit: self.pages_this_visit,
            referrer: self.referrer,
            utm: d::Utm {
                source: self.utm.source,
                medium: self.utm.medium,
                campaign: self.utm.campaign,
                term: self.utm.term,
                content: self.utm.content,
            },
            visit_number: self.visit_number,
            device: d::DeviceInfo {
                browser: self.device.browser,
                os: self.device.os,
                device: self.device.device,
                language: self.device.language,
            },
            country: self.country,
            name: self.name,
            email: self.email,
            lead_score: self.lead_score,
            chat: d::LiveChat {
                state: match self.chat.state {
                    ChatState::None => d::ChatState::None,
                    ChatState::Waiting => d::ChatState::Waiting,
                    ChatState::Chatting => d::ChatState::Chatting,
                },
                conversation_id: self.chat.conversation_id.map(d::ConversationId),
                agent_id: self.chat.agent_id.map(d::AgentId),
            },
            tabs: self.tabs,
        }
    }
}

impl From<&d::VisitWithPages> for Visit {
    fn from(v: &d::VisitWithPages) -> Self {
        let visit = &v.visit;
        Self {
            id: visit.id.0,
            site_id: visit.site_id.0,
            contact_id: visit.contact_id.0,
            number: visit.number,
            started_at: visit.started_at.0,
            last_seen_at: visit.last_seen_at.0,
            referrer: visit.referrer.clone(),
            utm: (&visit.utm).into(),
            device: (&visit.device).into(),
            country: visit.country.clone(),
            pages: v.pages.iter().map(PageView::from).collect(),
        }
    }
}

impl Invitation {
    /// The invitation as the widget shows it, with its agent (`None`: from the team).
    pub fn new(i: &d::Invitation, agent: Option<&d::Agent>) -> Self {
        Self {
            id: i.id.0,
            site_id: i.site_id.0,
            contact_id: i.contact_id.0,
            body: i.body.clone(),
            agent: agent.map(PublicAgent::from),
            trigger_id: i.trigger_id.map(|t| t.0),
            open: i.open,
            typing_ms: i.typing_ms,
            created_at: i.created_at.0,
        }
    }
}
