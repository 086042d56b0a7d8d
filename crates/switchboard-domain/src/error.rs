//! Errors that pure rules can raise.

use std::fmt;

/// The kinds of things that can be looked up, so "not found" errors can say what.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Entity {
    Workspace,
    Agent,
    Team,
    Site,
    Contact,
    Conversation,
    Message,
    Attachment,
    CannedResponse,
    ApiToken,
    Label,
    Session,
    Ban,
    Invitation,
    Trigger,
    AgentInvitation,
}

impl Entity {
    /// snake_case name used to build stable error codes such as `conversation_not_found`.
    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Workspace => "workspace",
            Entity::Agent => "agent",
            Entity::Team => "team",
            Entity::Site => "site",
            Entity::Contact => "contact",
            Entity::Conversation => "conversation",
            Entity::Message => "message",
            Entity::Attachment => "attachment",
            Entity::CannedResponse => "canned_response",
            Entity::ApiToken => "api_token",
            Entity::Label => "label",
            Entity::Session => "session",
            Entity::Ban => "ban",
            Entity::Invitation => "invitation",
            Entity::Trigger => "trigger",
            Entity::AgentInvitation => "agent_invitation",
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str().replace('_', " "))
    }
}

/// A value that failed to parse, naming the field and saying why.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ValidationError {
    pub field: &'static str,
    pub reason: String,
}

impl ValidationError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self { field, reason: reason.into() }
    }
}
