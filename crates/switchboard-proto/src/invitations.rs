//! Wire types of inviting agents by e-mail: the admin's request and list, the link
//! shown once, and what the public invitation page reads and sends.

use serde::{Deserialize, Serialize};
use switchboard_domain as d;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::Role;

/// Invite someone to join the workspace as an agent.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct InviteAgent {
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// Offered to the invitee, who may change it.
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    pub role: Role,
    /// Teams the new agent joins.
    #[serde(default)]
    pub team_ids: Vec<Uuid>,
    /// Concurrent chats routing may give the agent (absent: the workspace's default).
    #[schema(minimum = 1, maximum = 100)]
    pub max_chats: Option<u32>,
    /// The invitee's dashboard language and the mail's: `en`, `ar`, `fa`, `he` or `tr`
    /// (absent: the inviter's).
    #[schema(min_length = 1, max_length = 35)]
    pub locale: Option<String>,
}

/// Whether the invitation's mail went out.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, ToSchema, strum::VariantArray)]
#[serde(rename_all = "snake_case")]
pub enum InvitationMailState {
    /// No mail is configured on the server: hand the link on yourself.
    NotSent,
    /// Waiting to be sent.
    Queued,
    Sent,
    /// The last try failed (`mail_error` says why); temporary failures are retried.
    Failed,
}

/// A pending invitation (neither accepted nor revoked; perhaps expired).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AgentInvitation {
    pub id: Uuid,
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
    pub team_ids: Vec<Uuid>,
    pub max_chats: Option<u32>,
    pub locale: String,
    /// The inviting agent; absent for an API token or a deleted agent.
    pub inviter_id: Option<Uuid>,
    pub inviter_name: Option<String>,
    pub created_at: i64,
    /// The link stops working then (seven days after it was made).
    pub expires_at: i64,
    pub mail: InvitationMailState,
    /// The mail server's answer to the last failed try.
    pub mail_error: Option<String>,
}

impl AgentInvitation {
    pub fn new(i: &d::AgentInvitation, inviter_name: Option<String>) -> Self {
        Self {
            id: i.id.0,
            email: i.email.as_str().to_owned(),
            name: i.name.clone(),
            role: i.role.into(),
            team_ids: i.team_ids.iter().map(|t| t.0).collect(),
            max_chats: i.max_chats,
            locale: i.locale.as_str().to_owned(),
            inviter_id: i.invited_by.map(|a| a.0),
            inviter_name,
            created_at: i.created_at.0,
            expires_at: i.expires_at.0,
            mail: match i.mail {
                d::InvitationMail::NotSent => InvitationMailState::NotSent,
                d::InvitationMail::Queued => InvitationMailState::Queued,
                d::InvitationMail::Sent => InvitationMailState::Sent,
                d::InvitationMail::Failed => InvitationMailState::Failed,
            },
            mail_error: i.mail_error.clone(),
        }
    }
}

/// A new or resent invitation with its link. Only the link's hash is stored: this is
/// the only time it can be read.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CreatedAgentInvitation {
    pub invitation: AgentInvitation,
    /// `…/app/invite/{token}`.
    pub link: String,
}

/// What the invitation page shows before the invitee accepts.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct InvitationPreview {
    pub workspace_name: String,
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
    pub inviter_name: Option<String>,
    /// The workspace requires two-factor sign-in: it is set up right after accepting.
    pub two_factor_required: bool,
    /// The language the admin chose for the invitee.
    pub locale: String,
    pub expires_at: i64,
}

/// Accept an invitation: the new agent's name, password and language.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AcceptInvitation {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[schema(min_length = 8, max_length = 256)]
    pub password: String,
    /// `en`, `ar`, `fa`, `he` or `tr` (absent: the one the admin chose).
    #[schema(min_length = 1, max_length = 35)]
    pub locale: Option<String>,
}
