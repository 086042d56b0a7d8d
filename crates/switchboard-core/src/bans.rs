//! Bans and masking settings as the hot path needs them. Owners and admins list, add and
//! lift bans; any agent blocks the visitor of a conversation ("block this visitor":
//! their contact and, optionally, the address they last came from).
//!
//! Invariant: a visitor's request is checked against its workspace's bans in memory. Each
//! workspace's bans (and its sites' masking settings) are read from the store once, kept
//! in a [`Guard`], and replaced when this process changes them; a check never reads the
//! store, so a flood of messages costs no reads. A change publishes `BansChanged` on the
//! workspace's `Topic::Visitors`; each node's watcher (`sockets.rs`) drops its copy and
//! closes the sockets now refused, so with the Redis bus a ban made on one node holds on
//! every node at once.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, RwLock};

use switchboard_bus::{BusMessage, Topic};
use switchboard_domain::masking::Masking;
use switchboard_domain::*;

use crate::auth::Principal;
use crate::{Core, Error, Result, Visitor};

/// How many visitors' latest addresses are remembered for "also block their address".
/// Past it the memory starts over; only addresses are kept, and only in memory.
const RECENT_ADDRESSES: usize = 100_000;

/// A workspace's bans and its sites' masking settings, as read from the store.
#[derive(Debug, Default)]
pub(crate) struct WorkspaceGuard {
    bans: Vec<Ban>,
    masking: HashMap<SiteId, Masking>,
}

/// The per-workspace copies, and the addresses visitors last came from.
#[derive(Default)]
pub(crate) struct Guard {
    workspaces: RwLock<HashMap<WorkspaceId, Arc<WorkspaceGuard>>>,
    addresses: Mutex<HashMap<ContactId, IpAddr>>,
}

/// A ban as an admin or an integration asks for it.
#[derive(Clone, Debug)]
pub struct NewBan {
    pub target: BanTarget,
    pub reason: String,
    pub expires_at: Option<Timestamp>,
}

/// "Block this visitor", from one of their conversations.
#[derive(Clone, Debug, Default)]
pub struct BlockVisitor {
    pub reason: String,
    pub expires_at: Option<Timestamp>,
    /// Also ban the address the visitor last came from (when this server saw one).
    pub ip: bool,
}

impl WorkspaceGuard {
    /// Whether a ban in force at `now` refuses this visitor.
    pub(crate) fn refuses(&self, who: &BanSubject<'_>, now: Timestamp) -> bool {
        self.bans.iter().any(|b| b.refuses(who, now))
    }

    /// Whether an e-mail ban is in force at `now` (a change must then read the e-mails
    /// of the visitors whose sockets are open).
    pub(crate) fn has_email_bans(&self, now: Timestamp) -> bool {
        self.bans.iter().any(|b| b.active_at(now) && matches!(b.target, BanTarget::Email(_)))
    }
}

impl Guard {
    /// The workspace's guard, read from the store when this process holds none.
    pub(crate) async fn load(&self, store: &dyn switchboard_store::Store, ws: WorkspaceId) -> Result<Arc<WorkspaceGuard>> {
        if let Some(g) = self.workspaces.read().expect("guard lock").get(&ws) {
            return Ok(g.clone());
        }
        let bans = store.bans(ws).await?;
        let masking = store.sites(ws).await?.into_iter().map(|s| (s.id, s.masking)).collect();
        let g = Arc::new(WorkspaceGuard { bans, masking });
        self.workspaces.write().expect("guard lock").insert(ws, g.clone());
        Ok(g)
    }

    /// Drops this process's copy of the workspace's bans and settings.
    pub(crate) fn forget(&self, ws: WorkspaceId) {
        self.workspaces.write().expect("guard lock").remove(&ws);
    }
}

impl Core {
    /// The workspace's guard, read from the store the first time. Reading it starts the
    /// workspace's watcher first (`sockets.rs`), so a change made by another node from
    /// then on drops this copy.
    async fn guard(&self, ws: WorkspaceId) -> Result<Arc<WorkspaceGuard>> {
        if let Some(g) = self.guard.workspaces.read().expect("guard lock").get(&ws) {
            return Ok(g.clone());
        }
        self.watch_visitors(ws);
        self.guard.load(&*self.store, ws).await
    }

    /// Drops this process's copy of the workspace's bans and settings (after a change),
    /// and tells the workspace's watcher on every node, which reads them again and closes
    /// the visitor sockets they now refuse.
    pub(crate) fn guard_changed(&self, ws: WorkspaceId) {
        self.guard.forget(ws);
        self.bus.publish(Topic::Visitors(ws), Arc::new(BusMessage::BansChanged));
    }

    /// Refuses a banned visitor with [`Error::Banned`], from memory.
    pub(crate) async fn refuse_banned(&self, ws: WorkspaceId, who: &BanSubject<'_>) -> Result<()> {
        let g = self.guard(ws).await?;
        if g.refuses(who, self.now()) { Err(Error::Banned) } else { Ok(()) }
    }

    /// Whether the visitor is banned now: a socket asks once it is registered.
    pub async fn visitor_banned(&self, v: &Visitor) -> Result<bool> {
        match self.refuse_visitor(v).await {
            Ok(()) => Ok(false),
            Err(Error::Banned) => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// [`Core::refuse_banned`] for an authenticated visitor: their contact, e-mail and address.
    pub(crate) async fn refuse_visitor(&self, v: &Visitor) -> Result<()> {
        let who = BanSubject { contact: Some(v.contact.id), email: v.contact.email.as_ref(), ip: v.ip };
        self.refuse_banned(v.workspace_id(), &who).await
    }

    /// Refuses a page whose address is banned: the widget's site info and the chat frame,
    /// before anyone is known. Only sites whose banned visitors see nothing are refused
    /// here; on the others the chat opens and says so politely.
    pub async fn refuse_banned_page(&self, site: &Site, ip: Option<IpAddr>) -> Result<()> {
        if site.banned_behaviour == BannedBehaviour::Message {
            return Ok(());
        }
        self.refuse_banned(site.workspace_id, &BanSubject { ip, ..BanSubject::default() }).await
    }

    /// Remembers where a visitor came from, for "also block their address".
    pub(crate) fn saw_address(&self, contact: ContactId, ip: Option<IpAddr>) {
        let Some(ip) = ip else { return };
        let mut seen = self.guard.addresses.lock().expect("addresses lock");
        if seen.len() >= RECENT_ADDRESSES && !seen.contains_key(&contact) {
            seen.clear();
        }
        seen.insert(contact, ip);
    }

    /// What a site masks, for a write whose site is known only by id (an agent's reply,
    /// an edit of a contact). Card numbers are masked whatever this says.
    pub(crate) async fn site_masking(&self, ws: WorkspaceId, site: Option<SiteId>) -> Result<Masking> {
        let g = self.guard(ws).await?;
        Ok(site.and_then(|id| g.masking.get(&id).copied()).unwrap_or_default())
    }

    /// What the workspace's sites mask when they all agree (so an agent's reply needs no
    /// read of its conversation), or `None` when they differ.
    pub(crate) async fn workspace_masking(&self, ws: WorkspaceId) -> Result<Option<Masking>> {
        let g = self.guard(ws).await?;
        let mut all = g.masking.values();
        let first = all.next().copied().unwrap_or_default();
        Ok(all.all(|m| *m == first).then_some(first))
    }

    /// Owners and admins only: every ban of the workspace, expired ones included.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id), err(level = "info"))]
    pub async fn bans(&self, who: &Principal) -> Result<Vec<Ban>> {
        who.require_admin()?;
        Ok(self.store.bans(who.workspace_id).await?)
    }

    /// Owners and admins only. Open sockets of visitors it refuses are closed.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id), err(level = "info"))]
    pub async fn create_ban(&self, who: &Principal, input: NewBan) -> Result<Ban> {
        who.require_admin()?;
        let ban = self.new_ban(who, input.target, &input.reason, input.expires_at)?;
        self.store.create_ban(&ban).await?;
        self.guard_changed(who.workspace_id);
        Ok(ban)
    }

    /// Any role: bans the conversation's contact and, when asked and known, the address
    /// they last came from. Their open sockets are closed.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, conversation.id = %id), err(level = "info"))]
    pub async fn block_visitor(&self, who: &Principal, id: ConversationId, input: BlockVisitor) -> Result<Vec<Ban>> {
        let conversation = self.store.conversation(who.workspace_id, id).await?;
        let contact = conversation.contact_id;
        let mut bans = vec![self.new_ban(who, BanTarget::Contact(contact), &input.reason, input.expires_at)?];
        if input.ip {
            let seen = self.guard.addresses.lock().expect("addresses lock").get(&contact).copied();
            if let Some(ip) = seen {
                let full = if ip.is_ipv4() { 32 } else { 128 };
                bans.push(self.new_ban(who, BanTarget::Ip(IpRange::new(ip, full)), &input.reason, input.expires_at)?);
            }
        }
        for ban in &bans {
            self.store.create_ban(ban).await?;
        }
        self.guard_changed(who.workspace_id);
        Ok(bans)
    }

    /// Owners and admins only.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, ban.id = %id), err(level = "info"))]
    pub async fn lift_ban(&self, who: &Principal, id: BanId) -> Result<()> {
        who.require_admin()?;
        self.store.delete_ban(who.workspace_id, id).await?;
        self.guard_changed(who.workspace_id);
        Ok(())
    }

    fn new_ban(&self, who: &Principal, target: BanTarget, reason: &str, expires_at: Option<Timestamp>) -> Result<Ban> {
        let now = self.now();
        if reason.chars().count() > 500 {
            return Err(ValidationError::new("reason", "must be at most 500 characters").into());
        }
        if expires_at.is_some_and(|t| t <= now) {
            return Err(ValidationError::new("expires_at", "must be in the future").into());
        }
        Ok(Ban {
            id: BanId::new(),
            workspace_id: who.workspace_id,
            target,
            reason: reason.trim().to_owned(),
            expires_at,
            created_by: who.actor,
            created_at: now,
        })
    }
}
