//! Invitations to join a workspace as an agent, by e-mail: what an admin asked for (the
//! role, teams and limit the new agent will have), how long the link works, and whether
//! its mail went out. The link's token is never here: the store keeps only its hash.
//!
//! Invariant: an invitation is usable only while it is pending — neither used, nor
//! revoked, nor past `expires_at` — and [`AgentInvitation::refusal`] is the one rule
//! that says so.

use crate::{AgentId, AgentInvitationId, Email, Locale, Role, TeamId, Timestamp, WorkspaceId};

/// How long an invitation's link works: seven days.
pub const INVITATION_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

/// Whether the invitation's mail went out.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum InvitationMail {
    /// No mail is configured: the admin hands the link on themselves.
    NotSent,
    /// Waiting for the job that sends it.
    Queued,
    Sent,
    /// The last try failed; the job retries transient failures.
    Failed,
}

impl InvitationMail {
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationMail::NotSent => "not_sent",
            InvitationMail::Queued => "queued",
            InvitationMail::Sent => "sent",
            InvitationMail::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "not_sent" => Some(InvitationMail::NotSent),
            "queued" => Some(InvitationMail::Queued),
            "sent" => Some(InvitationMail::Sent),
            "failed" => Some(InvitationMail::Failed),
            _ => None,
        }
    }
}

/// Why a link no longer works. Unknown and revoked links are told apart from nobody.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum InvitationRefusal {
    /// No such link, or the invitation was revoked or replaced by a resend.
    Invalid,
    /// Past its seven days: ask for a new one.
    Expired,
    /// Already accepted: sign in instead.
    Used,
}

#[derive(Clone, PartialEq, Debug)]
pub struct AgentInvitation {
    pub id: AgentInvitationId,
    pub workspace_id: WorkspaceId,
    pub email: Email,
    /// The name the admin typed, offered to the invitee (who may change it).
    pub name: Option<String>,
    pub role: Role,
    /// Teams the new agent joins (those still existing when they accept).
    pub team_ids: Vec<TeamId>,
    pub max_chats: Option<u32>,
    /// The invitee's dashboard language, and the mail's.
    pub locale: Locale,
    /// The agent who invited; `None` for an API token (or an inviter since deleted).
    pub invited_by: Option<AgentId>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub mail: InvitationMail,
    /// Why the last try to send failed (the SMTP server's answer), never the address.
    pub mail_error: Option<String>,
}

impl AgentInvitation {
    /// `None` while the link may be used at `now`.
    pub fn refusal(&self, now: Timestamp) -> Option<InvitationRefusal> {
        if self.revoked_at.is_some() {
            Some(InvitationRefusal::Invalid)
        } else if self.used_at.is_some() {
            Some(InvitationRefusal::Used)
        } else if self.expires_at <= now {
            Some(InvitationRefusal::Expired)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invitation() -> AgentInvitation {
        AgentInvitation {
            id: AgentInvitationId::new(),
            workspace_id: WorkspaceId::new(),
            email: Email::parse("new@example.com").unwrap(),
            name: None,
            role: Role::Agent,
            team_ids: vec![],
            max_chats: None,
            locale: Locale::default(),
            invited_by: None,
            created_at: Timestamp(1_000),
            expires_at: Timestamp(1_000 + INVITATION_TTL_MS),
            used_at: None,
            revoked_at: None,
            mail: InvitationMail::Queued,
            mail_error: None,
        }
    }

    #[test]
    fn a_link_works_until_it_expires_is_used_or_revoked() {
        let inv = invitation();
        assert_eq!(inv.refusal(Timestamp(2_000)), None);
        assert_eq!(inv.refusal(inv.expires_at), Some(InvitationRefusal::Expired), "the expiry instant is already too late");
        let used = AgentInvitation { used_at: Some(Timestamp(2_000)), ..inv.clone() };
        assert_eq!(used.refusal(Timestamp(3_000)), Some(InvitationRefusal::Used));
        let revoked = AgentInvitation { revoked_at: Some(Timestamp(2_000)), ..inv };
        assert_eq!(revoked.refusal(Timestamp(3_000)), Some(InvitationRefusal::Invalid), "a revoked link says no more than an unknown one");
    }

    #[test]
    fn mail_states_read_back() {
        for m in [InvitationMail::NotSent, InvitationMail::Queued, InvitationMail::Sent, InvitationMail::Failed] {
            assert_eq!(InvitationMail::parse(m.as_str()), Some(m));
        }
        assert_eq!(InvitationMail::parse("lost"), None);
    }
}
