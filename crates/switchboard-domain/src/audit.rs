//! The audit log's vocabulary: what an owner can later ask "who did this, and who read
//! that?" about. Entries are written by core's use cases as they act; this file only
//! names the actions and what they act on.
//!
//! Invariant: an entry never carries message text, e-mails, tokens or secrets; `detail`
//! holds only short machine values (a role, a flag).

use uuid::Uuid;

use crate::{Actor, AuditEntryId, Timestamp, WorkspaceId};

macro_rules! names {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $wire:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored and wire name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($wire => Some($name::$variant),)+ _ => None }
            }
        }
    };
}

names! {
    /// What happened. Other areas extend this list with their own actions (bans,
    /// retention, erasure): a variant and its stored name here, nothing else.
    AuditAction {
        AgentInvited = "agent_invited",
        AgentChanged = "agent_changed",
        AgentRoleChanged = "agent_role_changed",
        AgentDeactivated = "agent_deactivated",
        AgentReactivated = "agent_reactivated",
        AgentDeleted = "agent_deleted",
        PasswordReset = "password_reset",
        TeamCreated = "team_created",
        TeamChanged = "team_changed",
        TeamDeleted = "team_deleted",
        SiteCreated = "site_created",
        SiteChanged = "site_changed",
        SiteDeleted = "site_deleted",
        WorkspaceChanged = "workspace_changed",
        TokenCreated = "token_created",
        TokenRevoked = "token_revoked",
        BanCreated = "ban_created",
        BanRemoved = "ban_removed",
        TwoFactorEnabled = "two_factor_enabled",
        TwoFactorDisabled = "two_factor_disabled",
        TwoFactorRequired = "two_factor_required",
        TwoFactorNotRequired = "two_factor_not_required",
        SessionRevoked = "session_revoked",
        ConversationRead = "conversation_read",
        ContactRead = "contact_read",
        /// An invitation by e-mail was made again: a new link, the old one dead.
        InvitationResent = "invitation_resent",
        InvitationRevoked = "invitation_revoked",
        /// Someone followed an invitation's link and became an agent (the actor is the new agent).
        InvitationAccepted = "invitation_accepted",
    }
}

names! {
    /// The kind of thing an entry is about.
    AuditTargetKind {
        Agent = "agent",
        Team = "team",
        Site = "site",
        Workspace = "workspace",
        ApiToken = "api_token",
        Session = "session",
        Conversation = "conversation",
        Contact = "contact",
        Ban = "ban",
        Invitation = "invitation",
    }
}

impl AuditAction {
    /// Reads of transcripts and contacts, which are coalesced (one entry per reader
    /// and target per [`READ_COALESCE_MS`]); everything else is an administrative act.
    pub fn is_read(self) -> bool {
        matches!(self, AuditAction::ConversationRead | AuditAction::ContactRead)
    }
}

/// A reader's repeated reads of one conversation or contact within this window make
/// one entry.
pub const READ_COALESCE_MS: i64 = 10 * 60 * 1000;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct AuditTarget {
    pub kind: AuditTargetKind,
    pub id: Uuid,
}

impl AuditTarget {
    pub fn new(kind: AuditTargetKind, id: impl Into<Uuid>) -> Self {
        Self { kind, id: id.into() }
    }
}

/// One line of the audit log.
#[derive(Clone, PartialEq, Debug)]
pub struct AuditEntry {
    pub id: AuditEntryId,
    pub workspace_id: WorkspaceId,
    pub at: Timestamp,
    /// Who acted: an agent, an API token, or the system (the CLI).
    pub actor: Actor,
    pub action: AuditAction,
    pub target: Option<AuditTarget>,
    /// A short machine value, such as the new role; never personal data.
    pub detail: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_and_target_name_reads_back() {
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(*a));
        }
        for k in AuditTargetKind::ALL {
            assert_eq!(AuditTargetKind::parse(k.as_str()), Some(*k));
        }
        assert_eq!(AuditAction::parse("agent_teleported"), None);
    }

    #[test]
    fn only_reads_are_coalesced() {
        let reads: Vec<_> = AuditAction::ALL.iter().filter(|a| a.is_read()).collect();
        assert_eq!(reads, [&AuditAction::ConversationRead, &AuditAction::ContactRead]);
    }
}
