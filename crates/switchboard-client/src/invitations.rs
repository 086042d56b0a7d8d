//! Inviting agents by e-mail over REST: an admin's invitations, and the two calls of
//! the public invitation page (the token is the link's last segment).

use switchboard_proto::*;
use uuid::Uuid;

use crate::{Client, ClientError};

type Result<T> = std::result::Result<T, ClientError>;

impl Client {
    /// Invites someone; the answer holds the link, shown only once.
    pub async fn invite_agent(&self, invite: &InviteAgent) -> Result<CreatedAgentInvitation> {
        self.post("/agents/invitations", invite).await
    }

    /// Pending invitations, newest first.
    pub async fn agent_invitations(&self) -> Result<Vec<AgentInvitation>> {
        self.get("/agents/invitations").await
    }

    /// A new link for seven more days; the old one stops working.
    pub async fn resend_agent_invitation(&self, id: Uuid) -> Result<CreatedAgentInvitation> {
        self.post(&format!("/agents/invitations/{id}/resend"), &()).await
    }

    pub async fn revoke_agent_invitation(&self, id: Uuid) -> Result<()> {
        self.delete(&format!("/agents/invitations/{id}")).await
    }

    /// What the invitation page shows.
    pub async fn invitation(&self, token: &str) -> Result<InvitationPreview> {
        self.get(&format!("/invitations/{token}")).await
    }

    /// Accepts: the new agent is signed in on this client (the cookie and CSRF token).
    pub async fn accept_invitation(&mut self, token: &str, accept: &AcceptInvitation) -> Result<Me> {
        let me: Me = self.post(&format!("/invitations/{token}"), accept).await?;
        self.csrf = me.csrf_token.clone();
        Ok(me)
    }
}
