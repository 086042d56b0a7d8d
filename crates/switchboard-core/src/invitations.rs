//! Inviting agents by e-mail: an admin invites (role, teams, limit, language), lists,
//! resends (a new link; the old one dies) and revokes; the invitee opens the link, sees
//! who invited them, sets a name and a password, and is signed in as a login would sign
//! them in (a session that may only enrol a second factor when the workspace requires
//! one). The mail goes out from a durable job (`JobKind::SendInvitation`) through the
//! [`Mailer`](crate::Mailer) port, never in the request.
//!
//! A link carries a 256-bit random token; only its SHA-256 is stored, so the link is
//! shown once (after inviting or resending) and the job that mails it holds it sealed.
//! The same rules as [`Core::create_agent`]: admins and owners invite, only an owner
//! invites (or resends, or revokes the invitation of) an owner.
//!
//! Invariant: neither an e-mail address nor a token is ever logged; an SMTP error is
//! stored and logged with any address in it blanked out.

use switchboard_domain::*;

use crate::auth::{self, Principal, SignInFrom, random_token, sha256_hex};
use crate::invitation_mail::{InvitationLetter, compose};
use crate::mail::{MailError, OutgoingMail};
use crate::{Core, Error, JobKind, LimitKey, LimitKind, LoginSession, NewAgent, Result, UI_LOCALES};

/// What an admin asks for.
#[derive(Clone, Debug)]
pub struct NewInvitation {
    pub email: Email,
    pub name: Option<String>,
    pub role: Role,
    pub team_ids: Vec<TeamId>,
    pub max_chats: Option<u32>,
    /// The invitee's dashboard language and the mail's; `None`: the inviter's.
    pub locale: Option<Locale>,
}

/// A new or renewed invitation and its link, which only this answer ever shows.
#[derive(Clone, Debug)]
pub struct CreatedInvitation {
    pub invitation: AgentInvitation,
    pub link: String,
}

/// A pending invitation as the admin console lists it.
#[derive(Clone, Debug)]
pub struct InvitationView {
    pub invitation: AgentInvitation,
    /// The inviting agent's name; `None` for an API token or a deleted agent.
    pub inviter_name: Option<String>,
}

/// What the page behind a link shows before the invitee accepts; no secret in it.
#[derive(Clone, Debug)]
pub struct InvitationPreview {
    pub workspace_name: String,
    pub email: Email,
    pub name: Option<String>,
    pub role: Role,
    pub inviter_name: Option<String>,
    /// The workspace requires two-factor sign-in: the new agent sets it up first.
    pub two_factor_required: bool,
    pub locale: Locale,
    pub expires_at: Timestamp,
}

/// The invitee's answer.
#[derive(Clone, Debug)]
pub struct AcceptInvitation {
    pub name: String,
    pub password: String,
    /// `None`: the language the admin chose.
    pub locale: Option<Locale>,
}

/// The page a link opens: `{base}/app/invite/{token}`.
pub fn invitation_link(base: &str, token: &str) -> String {
    format!("{}/app/invite/{token}", base.trim_end_matches('/'))
}

/// An SMTP answer without the addresses it may quote, cut to 300 characters, so it can
/// be logged and shown to admins.
fn scrub(error: &str) -> String {
    let words: Vec<&str> = error.split_whitespace().map(|w| if w.contains('@') { "[address]" } else { w }).collect();
    words.join(" ").chars().take(300).collect()
}

fn invitation_target(id: AgentInvitationId) -> AuditTarget {
    AuditTarget::new(AuditTargetKind::Invitation, id)
}

fn dashboard_locale(locale: Locale) -> Result<Locale> {
    if UI_LOCALES.contains(&locale.as_str()) {
        Ok(locale)
    } else {
        Err(ValidationError::new("locale", "must be one of en, ar, fa, he, tr").into())
    }
}

impl Core {
    /// Admins and owners invite; only an owner invites an owner. The e-mail must not
    /// sign in already (`email_taken`) nor have a pending invitation in the workspace
    /// (`invitation_pending`). With mail configured, the mail is queued at once.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, role = new.role.as_str()), err(level = "info"))]
    pub async fn invite_agent(&self, who: &Principal, new: NewInvitation, base_url: &str) -> Result<CreatedInvitation> {
        who.require_admin()?;
        if new.role == Role::Owner && who.role != Role::Owner {
            return Err(Error::Forbidden);
        }
        let ws = who.workspace_id;
        let name = new.name.map(|n| non_empty("name", &n, 100)).transpose()?;
        let max_chats = new.max_chats.map(|n| crate::admin::check_max_chats_in("max_chats", n)).transpose()?;
        let locale = match new.locale {
            Some(l) => dashboard_locale(l)?,
            None => match who.agent_id() {
                Some(id) => self.store.agent(ws, id).await?.locale,
                None => Locale::default(),
            },
        };
        let teams = self.store.teams(ws).await?;
        let mut team_ids = new.team_ids;
        team_ids.sort_by_key(|t| t.0);
        team_ids.dedup();
        if team_ids.iter().any(|t| !teams.iter().any(|team| team.id == *t)) {
            return Err(ValidationError::new("team_ids", "must be teams of this workspace").into());
        }
        if self.store.agent_credentials(&new.email).await?.is_some() {
            return Err(Error::Conflict("email"));
        }
        let token = random_token(32);
        let now = self.now();
        let invitation = AgentInvitation {
            id: AgentInvitationId::new(),
            workspace_id: ws,
            email: new.email,
            name,
            role: new.role,
            team_ids,
            max_chats,
            locale,
            invited_by: who.agent_id(),
            created_at: now,
            expires_at: now.plus_millis(INVITATION_TTL_MS),
            used_at: None,
            revoked_at: None,
            mail: if self.mailer.is_some() { InvitationMail::Queued } else { InvitationMail::NotSent },
            mail_error: None,
        };
        self.store.create_agent_invitation(&invitation, &sha256_hex(&token)).await?;
        let link = invitation_link(base_url, &token);
        self.queue_invitation_mail(&invitation, &link).await?;
        self.audit(who, AuditAction::AgentInvited, Some(invitation_target(invitation.id)), Some(invitation.role.as_str())).await?;
        tracing::info!(invitation.id = %invitation.id, "agent invited");
        Ok(CreatedInvitation { invitation, link })
    }

    async fn queue_invitation_mail(&self, invitation: &AgentInvitation, link: &str) -> Result<()> {
        if self.mailer.is_none() {
            return Ok(());
        }
        let link = self.keys.mail.seal(link, invitation.id.0.as_bytes())?;
        let job = JobKind::SendInvitation { workspace_id: invitation.workspace_id, invitation_id: invitation.id, link };
        self.schedule(job, self.now()).await.map(drop)
    }

    /// The workspace's invitations neither used nor revoked (expired ones too, to
    /// resend), newest first, with their inviters' names. Admins and owners only.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id), err(level = "info"))]
    pub async fn agent_invitations(&self, who: &Principal) -> Result<Vec<InvitationView>> {
        who.require_admin()?;
        let invitations = self.store.agent_invitations(who.workspace_id).await?;
        let agents = self.store.agents(who.workspace_id).await?;
        let name_of = |id: Option<AgentId>| id.and_then(|id| agents.iter().find(|a| a.id == id)).map(|a| a.name.clone());
        Ok(invitations.into_iter().map(|i| InvitationView { inviter_name: name_of(i.invited_by), invitation: i }).collect())
    }

    /// A pending invitation an admin may act on: an owner's only for an owner.
    async fn invitation_for(&self, who: &Principal, id: AgentInvitationId) -> Result<AgentInvitation> {
        who.require_admin()?;
        let invitation = self.store.agent_invitation(who.workspace_id, id).await?;
        if invitation.role == Role::Owner && who.role != Role::Owner {
            return Err(Error::Forbidden);
        }
        if invitation.used_at.is_some() || invitation.revoked_at.is_some() {
            return Err(Error::NotFound(Entity::AgentInvitation));
        }
        Ok(invitation)
    }

    /// The link stops working at once. Admins and owners; an owner's only by an owner.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, invitation.id = %id), err(level = "info"))]
    pub async fn revoke_agent_invitation(&self, who: &Principal, id: AgentInvitationId) -> Result<()> {
        self.invitation_for(who, id).await?;
        self.store.revoke_agent_invitation(who.workspace_id, id, self.now()).await?;
        self.audit(who, AuditAction::InvitationRevoked, Some(invitation_target(id)), None).await
    }

    /// A new link, good for another seven days; the old link stops working and its
    /// unsent mail is replaced by the new one's.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, invitation.id = %id), err(level = "info"))]
    pub async fn resend_agent_invitation(&self, who: &Principal, id: AgentInvitationId, base_url: &str) -> Result<CreatedInvitation> {
        let invitation = self.invitation_for(who, id).await?;
        if self.store.agent_credentials(&invitation.email).await?.is_some() {
            return Err(Error::Conflict("email"));
        }
        let token = random_token(32);
        let mail = if self.mailer.is_some() { InvitationMail::Queued } else { InvitationMail::NotSent };
        let expires_at = self.now().plus_millis(INVITATION_TTL_MS);
        let invitation = self.store.renew_agent_invitation(who.workspace_id, id, &sha256_hex(&token), expires_at, mail).await?;
        let link = invitation_link(base_url, &token);
        self.queue_invitation_mail(&invitation, &link).await?;
        self.audit(who, AuditAction::InvitationResent, Some(invitation_target(id)), None).await?;
        Ok(CreatedInvitation { invitation, link })
    }

    /// The invitation behind a link while it is usable; otherwise why not. Tried per
    /// client address in the sign-in bucket, though a 256-bit token is not guessed.
    async fn usable_invitation(&self, token: &str, from: &SignInFrom) -> Result<AgentInvitation> {
        if let Some(ip) = from.ip.as_deref().and_then(|ip| ip.parse::<std::net::IpAddr>().ok()) {
            self.limit(LimitKind::SignInPerIp, LimitKey::Ip(ip)).await?;
        }
        let invitation =
            self.store.agent_invitation_by_token(&sha256_hex(token)).await?.ok_or(Error::InvitationRefused(InvitationRefusal::Invalid))?;
        match invitation.refusal(self.now()) {
            Some(why) => Err(Error::InvitationRefused(why)),
            None => Ok(invitation),
        }
    }

    /// What the invitation page shows. Anyone holding the link may read it.
    #[tracing::instrument(skip_all, err(level = "info"))]
    pub async fn invitation_preview(&self, token: &str, from: &SignInFrom) -> Result<InvitationPreview> {
        let invitation = self.usable_invitation(token, from).await?;
        let workspace = self.store.workspace(invitation.workspace_id).await?;
        let inviter_name = match invitation.invited_by {
            Some(id) => self.store.agent(invitation.workspace_id, id).await.ok().map(|a| a.name),
            None => None,
        };
        Ok(InvitationPreview {
            workspace_name: workspace.name,
            email: invitation.email,
            name: invitation.name,
            role: invitation.role,
            inviter_name,
            two_factor_required: workspace.require_two_factor,
            locale: invitation.locale,
            expires_at: invitation.expires_at,
        })
    }

    /// Creates the agent the invitation describes (its role, teams and limit; the name,
    /// password and language the invitee chose), uses the invitation up, and signs the
    /// new agent in as [`Core::login`] would: a fresh agent has no second factor, so a
    /// workspace that requires one gets a session that may only enrol it.
    #[tracing::instrument(skip_all, err(level = "info"))]
    pub async fn accept_agent_invitation(&self, token: &str, answer: AcceptInvitation, from: &SignInFrom) -> Result<LoginSession> {
        let invitation = self.usable_invitation(token, from).await?;
        let locale = answer.locale.map(dashboard_locale).transpose()?.unwrap_or_else(|| invitation.locale.clone());
        let new = NewAgent {
            email: invitation.email.clone(),
            name: answer.name,
            role: invitation.role,
            password: answer.password,
            locale: Some(locale),
            max_chats: invitation.max_chats,
            avatar_url: None,
        };
        let ws = invitation.workspace_id;
        let agent = self.build_agent(ws, new.clone())?;
        let hash = auth::hash_password(&new.password).await?;
        let token_hash = sha256_hex(token);
        match self.store.accept_agent_invitation(&token_hash, &agent, &hash, self.now()).await {
            Ok(_) => {}
            // Taken, revoked or expired since it was read (a double click): say which.
            Err(switchboard_store::StoreError::NotFound(Entity::AgentInvitation)) => {
                let now = self.now();
                let why = self.store.agent_invitation_by_token(&token_hash).await?.and_then(|i| i.refusal(now));
                return Err(Error::InvitationRefused(why.unwrap_or(InvitationRefusal::Invalid)));
            }
            Err(e) => return Err(e.into()),
        }
        self.roster.forget(ws);
        let target = Some(AuditTarget::new(AuditTargetKind::Agent, agent.id));
        self.audit_as(ws, Actor::Agent(agent.id), AuditAction::InvitationAccepted, target, Some(agent.role.as_str())).await?;
        tracing::info!(invitation.id = %invitation.id, agent.id = %agent.id, "invitation accepted");
        let must_enrol = self.store.workspace(ws).await?.require_two_factor;
        self.start_session(agent, from, must_enrol).await
    }

    /// The job behind `JobKind::SendInvitation`: mails the link if it is still the
    /// invitation's and the invitation is still pending, and records how it went. A
    /// transient failure fails the job (retried with backoff); a refusal is recorded and
    /// not retried (the admin can resend, or copy the link).
    pub(crate) async fn send_invitation(&self, ws: WorkspaceId, id: AgentInvitationId, sealed: &str) -> Result<()> {
        let Some(mailer) = self.mailer.clone() else {
            tracing::info!(invitation.id = %id, "no mail is configured; the invitation's mail is dropped");
            return Ok(());
        };
        let link = self.keys.mail.open(sealed, id.0.as_bytes())?;
        let token = link.rsplit('/').next().unwrap_or_default();
        let hash = sha256_hex(token);
        let invitation = match self.store.agent_invitation(ws, id).await {
            Ok(i) => i,
            Err(switchboard_store::StoreError::NotFound(_)) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        if invitation.refusal(self.now()).is_some() || !self.store.agent_invitation_token_is(ws, id, &hash).await? {
            return Ok(());
        }
        let workspace = self.store.workspace(ws).await?;
        let inviter = match invitation.invited_by {
            Some(agent) => self.store.agent(ws, agent).await.ok().map(|a| a.name),
            None => None,
        };
        let (subject, text, html) = compose(&InvitationLetter {
            locale: &invitation.locale,
            invitee: invitation.name.as_deref(),
            inviter: inviter.as_deref().unwrap_or(&workspace.name),
            workspace: &workspace.name,
            role: invitation.role,
            link: &link,
            expires_at: invitation.expires_at,
        });
        let mail =
            OutgoingMail { to: invitation.email.clone(), to_name: invitation.name.clone(), subject, text, html, locale: invitation.locale };
        match mailer.send(&mail).await {
            Ok(()) => {
                self.store.set_agent_invitation_mail(ws, id, &hash, InvitationMail::Sent, None).await?;
                tracing::info!(invitation.id = %id, "invitation mail sent");
                Ok(())
            }
            Err(MailError::Transient(e)) => {
                let e = scrub(&e);
                self.store.set_agent_invitation_mail(ws, id, &hash, InvitationMail::Failed, Some(&e)).await?;
                Err(Error::Unavailable(format!("the mail server did not take the invitation: {e}")))
            }
            Err(MailError::Permanent(e)) => {
                let e = scrub(&e);
                tracing::warn!(invitation.id = %id, error = %e, "the mail server refused the invitation");
                self.store.set_agent_invitation_mail(ws, id, &hash, InvitationMail::Failed, Some(&e)).await?;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_errors_lose_their_addresses() {
        assert_eq!(scrub("550 5.1.1 <dilan@example.com>: Recipient address rejected"), "550 5.1.1 [address] Recipient address rejected");
        assert_eq!(scrub(&"x".repeat(400)).len(), 300);
    }

    #[test]
    fn links_open_the_dashboards_invitation_page() {
        assert_eq!(invitation_link("https://chat.example/", "abc"), "https://chat.example/app/invite/abc");
    }
}
