//! The signed-in agent's own account: profile, language, notification preferences,
//! the status the team sees, password, and signing out everywhere. Each use case acts
//! on the caller only, so it needs no role; an API token is nobody and gets
//! `agent_not_found`.

use switchboard_domain::*;

use crate::admin::renamed;
use crate::auth::{self, Principal, sha256_hex};
use crate::{AuthFailure, Core, Error, Result};

/// The languages the dashboard is translated into.
pub const UI_LOCALES: [&str; 5] = ["en", "ar", "fa", "he", "tr"];

/// Fields of one's own account to change; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct MePatch {
    pub name: Option<String>,
    /// `Some(None)` removes the avatar.
    pub avatar_url: Option<Option<String>>,
    /// One of [`UI_LOCALES`].
    pub locale: Option<Locale>,
    pub notifications: Option<NotificationPrefs>,
    pub status: Option<AgentStatus>,
}

fn caller(who: &Principal) -> Result<AgentId> {
    who.agent_id().ok_or(Error::NotFound(Entity::Agent))
}

impl Core {
    /// Changes the caller's own profile and preferences. A new status is broadcast to
    /// the team at once if the agent is connected.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id), err(level = "info"))]
    pub async fn update_me(&self, who: &Principal, patch: MePatch) -> Result<Agent> {
        let id = caller(who)?;
        if let Some(locale) = &patch.locale
            && !UI_LOCALES.contains(&locale.as_str())
        {
            return Err(ValidationError::new("locale", "must be one of en, ar, fa, he, tr").into());
        }
        let status = patch.status;
        let profile = crate::AgentPatch { name: patch.name, avatar_url: patch.avatar_url, locale: patch.locale, ..Default::default() };
        let mut agent = self.update_agent_as(who, id, profile, false).await?;
        let before = agent.status;
        if let Some(n) = patch.notifications {
            agent.notifications = n;
        }
        if let Some(s) = status {
            agent.status = s;
        }
        self.store.update_agent(&agent).await?;
        if agent.status != before {
            self.status_chosen(who.workspace_id, id, agent.status);
        }
        Ok(agent)
    }

    /// Changes the caller's password after checking the current one, and ends every
    /// other session of theirs (`session_token`, the cookie of this request, stays).
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id), err(level = "info"))]
    pub async fn change_password(&self, who: &Principal, session_token: Option<&str>, current: &str, new: &str) -> Result<()> {
        let id = caller(who)?;
        let agent = self.store.agent(who.workspace_id, id).await?;
        let (_, hash) = self.store.agent_credentials(&agent.email).await?.ok_or(Error::NotFound(Entity::Agent))?;
        if !auth::verify_password(current, &hash).await {
            return Err(Error::Unauthenticated(AuthFailure::BadCredentials));
        }
        auth::validate_password(new).map_err(|e| renamed(e, "new_password"))?;
        let hash = auth::hash_password(new).await?;
        self.store.set_password(who.workspace_id, id, &hash).await?;
        let ended = match session_token {
            Some(token) => self.store.delete_other_sessions(id, &sha256_hex(token)).await?,
            None => self.store.delete_agent_sessions(id).await?,
        };
        self.sessions_ended(who.workspace_id, id, ended);
        tracing::info!(agent.id = %id, "password changed");
        Ok(())
    }

    /// "Sign out everywhere": ends every session of the caller, this one included.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id), err(level = "info"))]
    pub async fn revoke_sessions(&self, who: &Principal) -> Result<()> {
        let id = caller(who)?;
        let ended = self.store.delete_agent_sessions(id).await?;
        self.sessions_ended(who.workspace_id, id, ended);
        tracing::info!(agent.id = %id, "signed out everywhere");
        Ok(())
    }
}
