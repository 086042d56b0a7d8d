//! Invitations to join a workspace as an agent ([`AgentInvitation`]): the [`Invitations`]
//! trait. Only the SHA-256 of a link's token is stored; a lookup by it is global (like
//! a session's), everything else is scoped to its workspace.
//!
//! Invariant: at most one pending invitation (neither used nor revoked) per workspace
//! and e-mail, held by a unique index; an expired one gives way to a new one. Accepting
//! is one transaction: the invitation is taken (used) only if it is still usable, and
//! the agent and their team memberships are written with it, or nothing is.

use async_trait::async_trait;
use switchboard_domain::*;

use crate::Result;

/// Invitations by e-mail, from asking to accepting.
#[async_trait]
pub trait AgentInvitations: Send + Sync {
    /// Stores a new invitation under the hash of its link's token. An earlier
    /// invitation of the same e-mail that expired by `invitation.created_at` is revoked
    /// first; one still pending is `Conflict("invitation")`.
    async fn create_agent_invitation(&self, invitation: &AgentInvitation, token_hash: &str) -> Result<()>;
    /// The workspace's invitations neither used nor revoked (expired ones included),
    /// newest first.
    async fn agent_invitations(&self, ws: WorkspaceId) -> Result<Vec<AgentInvitation>>;
    /// `NotFound(AgentInvitation)` when the workspace has no such invitation.
    async fn agent_invitation(&self, ws: WorkspaceId, id: AgentInvitationId) -> Result<AgentInvitation>;
    /// The invitation whose current link has this hash, whatever its state.
    async fn agent_invitation_by_token(&self, token_hash: &str) -> Result<Option<AgentInvitation>>;
    /// Whether `token_hash` is the invitation's current link (a resend replaces it).
    async fn agent_invitation_token_is(&self, ws: WorkspaceId, id: AgentInvitationId, token_hash: &str) -> Result<bool>;
    /// Marks a pending invitation revoked at `at`; `NotFound` unless it is pending.
    async fn revoke_agent_invitation(&self, ws: WorkspaceId, id: AgentInvitationId, at: Timestamp) -> Result<()>;
    /// Gives a pending invitation a new link (the old one stops working), a new expiry
    /// and a new mail state; `NotFound` unless it is pending.
    async fn renew_agent_invitation(
        &self,
        ws: WorkspaceId,
        id: AgentInvitationId,
        token_hash: &str,
        expires_at: Timestamp,
        mail: InvitationMail,
    ) -> Result<AgentInvitation>;
    /// Records how sending went, only while `token_hash` is still the invitation's link
    /// (a mail for a replaced link changes nothing); says whether it was recorded.
    async fn set_agent_invitation_mail(
        &self,
        ws: WorkspaceId,
        id: AgentInvitationId,
        token_hash: &str,
        mail: InvitationMail,
        error: Option<&str>,
    ) -> Result<bool>;
    /// In one transaction: takes the invitation of this link if it is usable at `now`
    /// (else `NotFound(AgentInvitation)` and nothing is written), creates `agent` with
    /// `password_hash` (`Conflict("email")` if the e-mail signs in already: nothing is
    /// written) and adds them to the invitation's teams that still exist. Returns the
    /// invitation as used.
    async fn accept_agent_invitation(
        &self,
        token_hash: &str,
        agent: &Agent,
        password_hash: &str,
        now: Timestamp,
    ) -> Result<AgentInvitation>;
}
