//! Restricted inboxes: the caller's [`ConversationScope`] (the rule itself is the
//! domain's), and its use on every read path that is not a store list: single
//! conversations and contacts, search hits, and the workspace feed the agent socket
//! replays and follows ([`FeedScope`]).
//!
//! A conversation or contact the caller may not see is "not found", as one of another
//! workspace is.
//!
//! Invariant: the workspace's inbox visibility is read from the store once per node and
//! kept in [`Visibilities`], since every conversation read asks for it. A change through
//! `update_workspace` drops this node's copy and publishes `WorkspaceChanged` on the
//! workspace's `Topic::Visitors`, whose watcher (`sockets.rs`) drops every other node's.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::RwLock;

use switchboard_bus::{BusMessage, Topic};

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

/// Each workspace's inbox visibility as this node last read it. `forgotten` counts the
/// copies dropped, so a read that raced with a change does not keep the older value.
#[derive(Default)]
pub(crate) struct Visibilities {
    known: RwLock<(u64, HashMap<WorkspaceId, InboxVisibility>)>,
}

impl Visibilities {
    fn get(&self, ws: WorkspaceId) -> (u64, Option<InboxVisibility>) {
        let known = self.known.read().expect("visibilities lock");
        (known.0, known.1.get(&ws).copied())
    }

    /// Keeps what was read, unless a copy was dropped since the read began.
    fn keep(&self, ws: WorkspaceId, read_at: u64, visibility: InboxVisibility) {
        let mut known = self.known.write().expect("visibilities lock");
        if known.0 == read_at {
            known.1.insert(ws, visibility);
        }
    }

    /// Drops this node's copy of the workspace's visibility.
    pub(crate) fn forget(&self, ws: WorkspaceId) {
        let mut known = self.known.write().expect("visibilities lock");
        known.0 += 1;
        known.1.remove(&ws);
    }
}

impl Core {
    /// The workspace's inbox visibility, read from the store the first time. Reading it
    /// starts the workspace's watcher first, so a change made by another node from then
    /// on drops this copy.
    async fn inbox_visibility(&self, ws: WorkspaceId) -> Result<InboxVisibility> {
        let (read_at, known) = self.visibilities.get(ws);
        if let Some(visibility) = known {
            return Ok(visibility);
        }
        self.watch_visitors(ws);
        let visibility = self.store.workspace(ws).await?.inbox_visibility;
        self.visibilities.keep(ws, read_at, visibility);
        Ok(visibility)
    }

    /// Drops every node's copies of the workspace's settings, after a change.
    pub(crate) fn workspace_changed(&self, ws: WorkspaceId) {
        self.visibilities.forget(ws);
        self.bus.publish(Topic::Visitors(ws), Arc::new(BusMessage::WorkspaceChanged));
    }

    /// What the caller may see of the workspace's conversations: everything, unless the
    /// workspace restricts inboxes (`inbox_visibility: teams`) and the caller has the
    /// `agent` role.
    pub async fn conversation_scope(&self, who: &Principal) -> Result<ConversationScope> {
        if who.role != Role::Agent {
            return Ok(ConversationScope::All);
        }
        let visibility = self.inbox_visibility(who.workspace_id).await?;
        if visibility == InboxVisibility::All {
            return Ok(ConversationScope::All);
        }
        let agent = who.agent_id();
        let teams = match agent {
            Some(a) => self.store.teams(who.workspace_id).await?.into_iter().filter(|t| t.agent_ids.contains(&a)).map(|t| t.id).collect(),
            None => vec![],
        };
        Ok(ConversationScope::new(visibility, who.role, agent, teams))
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
