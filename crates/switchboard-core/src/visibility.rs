//! Restricted inboxes: the caller's [`ConversationScope`] (the rule itself is the
//! domain's), and its use on every read path that is not a store list: single
//! conversations and contacts, search hits, and the workspace feed the agent socket
//! replays and follows ([`FeedScope`]).
//!
//! A conversation or contact the caller may not see is "not found", as one of another
//! workspace is.

use std::collections::HashMap;

use switchboard_domain::*;
use switchboard_store::{ConversationFilter, StoreError};

use crate::auth::Principal;
use crate::{Core, Error, Result};

/// The conversations an agent socket's feed delivers, remembering what it decided per
/// conversation so a live event costs no read.
pub struct FeedScope {
    scope: ConversationScope,
    seen: HashMap<ConversationId, bool>,
}

/// Conversations a socket remembers before starting over (one read each again).
const FEED_SCOPE_MEMORY: usize = 20_000;

impl FeedScope {
    /// Every event reaches the socket.
    pub fn all() -> Self {
        Self { scope: ConversationScope::All, seen: HashMap::new() }
    }

    /// Whether an event of `conversation` reaches the caller. `assigned`: the event set
    /// the conversation's agent and team; it reaches a caller who saw the conversation
    /// before (so their dashboard learns it left) or sees it now.
    pub async fn sees(
        &mut self,
        core: &Core,
        ws: WorkspaceId,
        conversation: ConversationId,
        assigned: Option<(Option<AgentId>, Option<TeamId>)>,
    ) -> Result<bool> {
        if self.scope.is_all() {
            return Ok(true);
        }
        let before = match self.seen.get(&conversation) {
            Some(seen) => *seen,
            None => match core.store.conversation(ws, conversation).await {
                Ok(c) => self.scope.sees(&c),
                Err(StoreError::NotFound(_)) => false,
                Err(e) => return Err(e.into()),
            },
        };
        if self.seen.len() >= FEED_SCOPE_MEMORY {
            self.seen.clear();
        }
        let now = match assigned {
            Some((agent, team)) => self.scope.sees_parts(team, agent),
            None => before,
        };
        self.seen.insert(conversation, now);
        Ok(before || now)
    }
}

impl Core {
    /// What the caller may see of the workspace's conversations: everything, unless the
    /// workspace restricts inboxes (`inbox_visibility: teams`) and the caller has the
    /// `agent` role.
    pub async fn conversation_scope(&self, who: &Principal) -> Result<ConversationScope> {
        let ws = self.store.workspace(who.workspace_id).await?;
        if ws.inbox_visibility == InboxVisibility::All || who.role != Role::Agent {
            return Ok(ConversationScope::All);
        }
        let agent = who.agent_id();
        let teams = match agent {
            Some(a) => self.store.teams(ws.id).await?.into_iter().filter(|t| t.agent_ids.contains(&a)).map(|t| t.id).collect(),
            None => vec![],
        };
        Ok(ConversationScope::new(ws.inbox_visibility, who.role, agent, teams))
    }

    /// Whether a live event of `conversation` reaches a socket with `scope` (see
    /// [`FeedScope::sees`]).
    pub async fn scope_sees(
        &self,
        scope: &mut FeedScope,
        ws: WorkspaceId,
        conversation: ConversationId,
        assigned: Option<(Option<AgentId>, Option<TeamId>)>,
    ) -> Result<bool> {
        scope.sees(self, ws, conversation, assigned).await
    }

    /// The scope of an agent socket's feed, taken when it says hello.
    pub async fn feed_scope(&self, who: &Principal) -> Result<FeedScope> {
        Ok(FeedScope { scope: self.conversation_scope(who).await?, seen: HashMap::new() })
    }

    /// The conversation, if the caller may see it; else not found.
    pub(crate) async fn visible_conversation(&self, who: &Principal, id: ConversationId) -> Result<Conversation> {
        let conversation = self.store.conversation(who.workspace_id, id).await?;
        if !self.conversation_scope(who).await?.sees(&conversation) {
            return Err(Error::NotFound(Entity::Conversation));
        }
        Ok(conversation)
    }

    /// Fails with not found unless the caller may see the conversation. Reads the
    /// conversation only when the caller's inbox is restricted.
    pub(crate) async fn check_visible(&self, who: &Principal, id: ConversationId) -> Result<()> {
        let scope = self.conversation_scope(who).await?;
        if !scope.is_all() && !scope.sees(&self.store.conversation(who.workspace_id, id).await?) {
            return Err(Error::NotFound(Entity::Conversation));
        }
        Ok(())
    }

    /// Whether a restricted caller may see a contact: one with no conversation yet, or
    /// with at least one conversation the caller sees.
    pub(crate) async fn sees_contact(&self, ws: WorkspaceId, scope: &ConversationScope, contact: ContactId) -> Result<bool> {
        if scope.is_all() {
            return Ok(true);
        }
        let of = |scope: ConversationScope| ConversationFilter { contact_id: Some(contact), limit: 1, scope, ..Default::default() };
        if !self.store.conversations(ws, &of(scope.clone())).await?.is_empty() {
            return Ok(true);
        }
        Ok(self.store.conversations(ws, &of(ConversationScope::All)).await?.is_empty())
    }

    /// Fails with not found unless the caller may see the contact.
    pub(crate) async fn check_contact_visible(&self, who: &Principal, contact: ContactId) -> Result<()> {
        let scope = self.conversation_scope(who).await?;
        if !self.sees_contact(who.workspace_id, &scope, contact).await? {
            return Err(Error::NotFound(Entity::Contact));
        }
        Ok(())
    }
}
