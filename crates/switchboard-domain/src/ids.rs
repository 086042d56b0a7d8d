//! Typed ids: a visitor id can never be passed where a conversation id is expected.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

macro_rules! id {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered id (UUIDv7), so ids sort roughly by creation.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }
    )*};
}

id! {
    /// A tenant: one business and everything it owns.
    WorkspaceId,
    /// A member of a workspace's team who answers chats.
    AgentId,
    /// A group of agents conversations can be routed to.
    TeamId,
    /// A website or chat link of a workspace.
    SiteId,
    /// Where conversations come in (a website's inbox has its site's id).
    InboxId,
    /// A visitor or customer.
    ContactId,
    /// One thread between a contact and the team.
    ConversationId,
    /// One message in a conversation.
    MessageId,
    /// An uploaded file.
    AttachmentId,
    /// A prepared reply.
    CannedResponseId,
    /// A bearer token for integrations.
    ApiTokenId,
    /// Something a visitor's page tracked (`Switchboard.track`).
    ContactEventId,
    /// A visitor's request for a transcript by e-mail.
    TranscriptRequestId,
    /// A signed-in dashboard session (not its secret token).
    SessionId,
    /// One entry of a workspace's audit log.
    AuditEntryId,
    /// A ban of an address, a contact or an e-mail.
    BanId,
    /// One visit of a contact to a site (pages until 30 minutes of silence).
    VisitId,
    /// A proactive message shown to a visitor (an agent's invite or a rule's message).
    InvitationId,
    /// An invitation for someone to join a workspace as an agent (by e-mail).
    AgentInvitationId,
    /// A site's proactive rule.
    TriggerId,
    /// A conversion event a visitor tracked.
    ConversionId,
}

impl From<SiteId> for InboxId {
    /// The inbox a site is: the same id.
    fn from(site: SiteId) -> Self {
        Self(site.0)
    }
}
