//! An agent's sessions: listed (for "where am I signed in?") and ended one by one,
//! by the agent or by an admin. Whenever sessions end, their sockets are told on the
//! bus and close at once.
//!
//! | what                                        | agent | admin | owner |
//! |---------------------------------------------|-------|-------|-------|
//! | list and end one's own sessions             | yes   | yes   | yes   |
//! | list and end another agent's sessions       | no    | yes   | yes   |
//! | list and end an owner's sessions            | no    | no    | yes   |

use std::sync::Arc;

use switchboard_bus::{BusMessage, Topic};
use switchboard_domain::*;
use switchboard_store::Session;

use crate::auth::{Principal, sha256_hex};
use crate::{Core, Error, Result};

/// A session as its agent sees it in a list.
pub struct SessionView {
    pub session: Session,
    /// The session of the request that asked.
    pub current: bool,
}

impl Core {
    /// Tells every socket opened with one of `ids` to close. The sessions are already
    /// gone from the store, so a socket that missed this hint fails its next check.
    pub(crate) fn sessions_ended(&self, ws: WorkspaceId, agent: AgentId, ids: Vec<SessionId>) {
        if !ids.is_empty() {
            self.bus.publish(Topic::Workspace(ws), Arc::new(BusMessage::SessionsEnded { agent_id: agent, session_ids: ids }));
        }
    }

    /// Whether `who` may see and end `agent`'s sessions (see the table above).
    async fn may_manage_sessions(&self, who: &Principal, agent: AgentId) -> Result<()> {
        if who.agent_id() == Some(agent) {
            return Ok(());
        }
        who.require_admin()?;
        let target = self.store.agent(who.workspace_id, agent).await?;
        if target.role == Role::Owner && who.role != Role::Owner {
            return Err(Error::Forbidden);
        }
        Ok(())
    }

    /// The agent's live sessions, newest first; `current_token` (the cookie of this
    /// request) marks the caller's own.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, agent.id = %agent), err(level = "info"))]
    pub async fn sessions(&self, who: &Principal, agent: AgentId, current_token: Option<&str>) -> Result<Vec<SessionView>> {
        self.may_manage_sessions(who, agent).await?;
        let current = current_token.map(sha256_hex);
        let sessions = self.store.agent_sessions(who.workspace_id, agent, self.now()).await?;
        Ok(sessions.into_iter().map(|s| SessionView { current: current.as_deref() == Some(s.token_hash.as_str()), session: s }).collect())
    }

    /// Ends one of the agent's sessions and closes its sockets.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, agent.id = %agent, session.id = %id), err(level = "info"))]
    pub async fn revoke_session(&self, who: &Principal, agent: AgentId, id: SessionId) -> Result<()> {
        self.may_manage_sessions(who, agent).await?;
        self.store.delete_session_by_id(who.workspace_id, agent, id).await?;
        self.sessions_ended(who.workspace_id, agent, vec![id]);
        let target = AuditTarget::new(AuditTargetKind::Agent, agent);
        self.audit(who, AuditAction::SessionRevoked, Some(target), Some(&id.to_string())).await
    }
}
