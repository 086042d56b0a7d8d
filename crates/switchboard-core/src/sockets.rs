//! The visitor sockets open on this node, held once per node, so that a ban or an
//! erasure closes the sockets it concerns at once while an idle socket follows nothing
//! of its own: no bus receiver per socket, only an entry here and a one-shot channel.
//!
//! Invariant: one task per workspace (the watcher, started when this node first reads
//! the workspace's bans) follows the workspace's `Topic::Visitors`. A `BansChanged` —
//! from this node or, over the Redis bus, another — drops this node's copy of the bans,
//! reads them again and tells every registered socket they now refuse (by contact and
//! address from the entry; an entry keeps no e-mail, so while an e-mail ban is in force
//! the registered contacts are read in one batch per change to find whose it is); a
//! `ContactErased` tells that contact's sockets (after missed messages — a `Resync` or a
//! lagging receiver — the registered contacts are read in batches, and those gone are
//! told as erased); a `WorkspaceChanged` drops this node's
//! copy of the workspace's inbox visibility (`visibility.rs`); an `Invitation` (issue 15) reaches
//! the invited contact's sockets on its site. All are told through the socket's
//! one-shot channel (armed again after each notice, what arrives meanwhile waits in the
//! entry), never by a store read per socket.
//!
//! An entry is kept small (`a_registry_entry_is_small`): every idle visitor socket of the
//! node has one. The node's visitor sockets also share one copy of each site
//! ([`Core::share_site`]) rather than one each.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use switchboard_bus::{BusMessage, Topic};
use switchboard_domain::*;
use switchboard_store::Store;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::oneshot;

use crate::bans::{Guard, WorkspaceGuard};
use crate::visibility::Visibilities;

/// Contacts read at once when a ban change needs their e-mails.
const CONTACTS_PER_READ: usize = 500;
use crate::{Clock, Core, Visitor};

/// Why this node ends a visitor's session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kick {
    /// A ban now refuses the visitor (their contact, e-mail or address).
    Banned,
    /// The contact was erased: their token no longer works either.
    Erased,
}

/// What this node tells a visitor socket.
#[derive(Clone, Debug)]
pub enum Notice {
    /// The session ends.
    Kick(Kick),
    /// A message for this visitor (an invitation), to write on the socket.
    Message(Arc<BusMessage>),
}

/// How many distinct sites [`Core::share_site`] remembers before it forgets the ones
/// no socket holds any more.
const SHARED_SITES: usize = 1024;

/// What the watcher checks a socket against: who is on it. No e-mail: a ban change
/// reads the e-mails it needs (see the module's invariant).
struct Entry {
    contact: ContactId,
    site: SiteId,
    ip: Option<IpAddr>,
    /// `None` between a notice and the socket arming its channel again.
    tell: Option<oneshot::Sender<Notice>>,
    /// What came while `tell` was `None` (rare: boxed, allocated only then).
    #[expect(clippy::box_collection, reason = "one pointer in every entry instead of an empty Vec's three words")]
    waiting: Option<Box<Vec<Notice>>>,
}

impl Entry {
    /// Tells the socket now, or when it arms its channel again. Whether it was told now.
    fn tell(&mut self, notice: Notice) {
        match self.tell.take() {
            // The socket may have closed meanwhile; nothing to tell then.
            Some(tx) => {
                let _ = tx.send(notice);
            }
            None => self.waiting.get_or_insert_default().push(notice),
        }
    }
}

/// The registry: every open visitor socket of this node, by workspace.
#[derive(Default)]
pub(crate) struct VisitorSockets {
    next: AtomicU64,
    open: Mutex<HashMap<WorkspaceId, HashMap<u64, Entry>>>,
    /// Workspaces whose `Topic::Visitors` a watcher follows.
    watched: Mutex<HashSet<WorkspaceId>>,
    /// The copy of each site the node's visitor sockets share ([`Core::share_site`]).
    sites: Mutex<HashMap<SiteId, Weak<Site>>>,
}

impl VisitorSockets {
    /// Tells the sockets of `ws` that `refused` picks and forgets them. How many were told.
    fn kick(&self, ws: WorkspaceId, why: Kick, refused: impl Fn(&Entry) -> bool) -> usize {
        let mut open = self.open.lock().expect("sockets lock");
        let Some(sockets) = open.get_mut(&ws) else { return 0 };
        let mut n = 0;
        for e in sockets.values_mut().filter(|e| refused(e)) {
            tracing::info!(workspace.id = %ws, contact.id = %e.contact, reason = ?why, "closing a visitor socket");
            e.tell(Notice::Kick(why));
            n += 1;
        }
        n
    }

    /// Hands `message` to the sockets of `ws` that `to` picks.
    fn tell(&self, ws: WorkspaceId, message: &Arc<BusMessage>, to: impl Fn(&Entry) -> bool) {
        let mut open = self.open.lock().expect("sockets lock");
        let Some(sockets) = open.get_mut(&ws) else { return };
        for e in sockets.values_mut().filter(|e| to(e)) {
            e.tell(Notice::Message(message.clone()));
        }
    }

    /// The contacts with a socket open in `ws`, each once.
    fn contacts(&self, ws: WorkspaceId) -> Vec<ContactId> {
        let open = self.open.lock().expect("sockets lock");
        let Some(sockets) = open.get(&ws) else { return vec![] };
        let set: HashSet<ContactId> = sockets.values().map(|e| e.contact).collect();
        set.into_iter().collect()
    }

    /// How many visitor sockets this node holds (for tests and metrics).
    fn len(&self) -> usize {
        self.open.lock().expect("sockets lock").values().map(HashMap::len).sum()
    }
}

/// One registered visitor socket. Dropping it takes the socket out of the registry.
pub struct VisitorSocket {
    sockets: Weak<VisitorSockets>,
    workspace: WorkspaceId,
    id: u64,
    /// `None` once kicked (or once the registry is gone): nothing more will come.
    notices: Option<oneshot::Receiver<Notice>>,
}

impl VisitorSocket {
    /// Whether anything may still come to this socket.
    pub fn is_live(&self) -> bool {
        self.notices.is_some()
    }

    /// Waits for what this node tells the socket; never resolves when nothing will.
    pub async fn notice(&mut self) -> Notice {
        let Some(rx) = self.notices.as_mut() else { return std::future::pending().await };
        let told = rx.await;
        self.notices = None;
        match told {
            Ok(notice) => self.rearm(notice),
            // The registry is gone (the core was dropped): nothing will ever come.
            Err(_) => std::future::pending().await,
        }
    }

    /// What the socket was already told, without waiting.
    pub fn try_notice(&mut self) -> Option<Notice> {
        let notice = self.notices.as_mut()?.try_recv().ok()?;
        self.notices = None;
        Some(self.rearm(notice))
    }

    /// After a notice: a kick ends the socket's entry; anything else arms the channel
    /// again (at once with what waited meanwhile).
    fn rearm(&mut self, notice: Notice) -> Notice {
        let Some(sockets) = self.sockets.upgrade() else { return notice };
        let mut open = sockets.open.lock().expect("sockets lock");
        if matches!(notice, Notice::Kick(_)) {
            // Told to end: forgotten now, not only when the socket closes.
            if let Some(sockets) = open.get_mut(&self.workspace) {
                sockets.remove(&self.id);
                if sockets.is_empty() {
                    open.remove(&self.workspace);
                }
            }
            return notice;
        }
        let Some(entry) = open.get_mut(&self.workspace).and_then(|s| s.get_mut(&self.id)) else { return notice };
        let (tx, rx) = oneshot::channel();
        self.notices = Some(rx);
        entry.tell = Some(tx);
        if let Some(waiting) = entry.waiting.as_mut() {
            let next = waiting.remove(0);
            if waiting.is_empty() {
                entry.waiting = None;
            }
            entry.tell(next);
        }
        notice
    }

    /// The visitor on this socket changed (identified as another contact). An e-mail
    /// they give is not kept here: a ban change reads it.
    pub fn update(&self, v: &Visitor) {
        let Some(sockets) = self.sockets.upgrade() else { return };
        let mut open = sockets.open.lock().expect("sockets lock");
        if let Some(e) = open.get_mut(&self.workspace).and_then(|s| s.get_mut(&self.id)) {
            e.contact = v.contact.id;
            e.ip = v.ip;
        }
    }
}

impl Drop for VisitorSocket {
    fn drop(&mut self) {
        let Some(sockets) = self.sockets.upgrade() else { return };
        let mut open = sockets.open.lock().expect("sockets lock");
        if let Some(s) = open.get_mut(&self.workspace) {
            s.remove(&self.id);
            if s.is_empty() {
                open.remove(&self.workspace);
            }
        }
    }
}

impl std::fmt::Debug for VisitorSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VisitorSocket").field("workspace", &self.workspace).field("id", &self.id).finish_non_exhaustive()
    }
}

impl Core {
    /// Registers a visitor's open socket on this node: a ban that refuses them or the
    /// erasure of their contact ends it, an invitation reaches it ([`VisitorSocket::notice`]). The caller checks
    /// the bans once more after this, for a ban made since its `hello` was checked.
    pub fn visitor_connected(&self, v: &Visitor) -> VisitorSocket {
        let ws = v.workspace_id();
        self.watch_visitors(ws);
        let (tell, notices) = oneshot::channel();
        let id = self.sockets.next.fetch_add(1, Ordering::Relaxed);
        let entry = Entry { contact: v.contact.id, site: v.site.id, ip: v.ip, tell: Some(tell), waiting: None };
        self.sockets.open.lock().expect("sockets lock").entry(ws).or_default().insert(id, entry);
        VisitorSocket { sockets: Arc::downgrade(&self.sockets), workspace: ws, id, notices: Some(notices) }
    }

    /// How many visitor sockets are registered on this node.
    pub fn visitor_sockets(&self) -> usize {
        self.sockets.len()
    }

    /// The node's shared copy of `site` when one is held and equal to it, otherwise
    /// `site` itself, shared from now on. Every visitor socket keeps its site for its
    /// whole life; a thousand sockets on one site then hold one copy, not a thousand.
    /// The site is still read at every connection (an edit takes effect at the next),
    /// only identical copies are shared.
    pub(crate) fn share_site(&self, site: Site) -> Arc<Site> {
        let mut sites = self.sockets.sites.lock().expect("sites lock");
        if let Some(shared) = sites.get(&site.id).and_then(Weak::upgrade)
            && *shared == site
        {
            return shared;
        }
        if sites.len() >= SHARED_SITES {
            sites.retain(|_, s| s.strong_count() > 0);
        }
        let shared = Arc::new(site);
        sites.insert(shared.id, Arc::downgrade(&shared));
        shared
    }

    /// Starts the workspace's watcher once per node (see the module's invariant). It
    /// subscribes before returning, so a change published from now on reaches it.
    pub(crate) fn watch_visitors(&self, ws: WorkspaceId) {
        if !self.sockets.watched.lock().expect("watched lock").insert(ws) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // Outside a runtime nothing can watch; the next caller inside one starts it.
            self.sockets.watched.lock().expect("watched lock").remove(&ws);
            return;
        };
        let rx = self.bus.subscribe(Topic::Visitors(ws));
        let watcher = Watcher {
            ws,
            sockets: Arc::downgrade(&self.sockets),
            guard: Arc::downgrade(&self.guard),
            visibilities: Arc::downgrade(&self.visibilities),
            store: Arc::downgrade(&self.store),
            clock: self.clock.clone(),
        };
        runtime.spawn(watcher.run(rx));
    }
}

/// What a watcher holds: weak references, so it never keeps a core alive (it ends when
/// its core is gone).
struct Watcher {
    ws: WorkspaceId,
    sockets: Weak<VisitorSockets>,
    guard: Weak<Guard>,
    visibilities: Weak<Visibilities>,
    store: Weak<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl Watcher {
    /// The contacts with a socket open here whose e-mail a ban refuses: their e-mails
    /// are read (a batch per [`CONTACTS_PER_READ`]) only now, when a ban changed, so an
    /// entry keeps none. A read that fails leaves those sockets open; their next request
    /// is checked against the ban and refused.
    async fn banned_by_email(&self, sockets: &VisitorSockets, g: &WorkspaceGuard, store: &dyn Store, now: Timestamp) -> HashSet<ContactId> {
        let mut refused = HashSet::new();
        for ids in sockets.contacts(self.ws).chunks(CONTACTS_PER_READ) {
            match store.contacts_by_id(self.ws, ids).await {
                Ok(contacts) => refused.extend(
                    contacts
                        .iter()
                        .filter(|c| g.refuses(&BanSubject { contact: None, email: c.email.as_ref(), ip: None }, now))
                        .map(|c| c.id),
                ),
                Err(e) => {
                    tracing::warn!(workspace.id = %self.ws, error = %e, "could not read the e-mails of open visitor sockets after a ban change")
                }
            }
        }
        refused
    }

    /// The contacts with a socket open here who no longer exist (erased), read in
    /// batches of [`CONTACTS_PER_READ`]: after messages were missed, a `ContactErased`
    /// may be among them. A read that fails leaves those sockets open; their next
    /// request finds the contact gone.
    async fn erased(&self, sockets: &VisitorSockets, store: &dyn Store) -> HashSet<ContactId> {
        let mut gone = HashSet::new();
        for ids in sockets.contacts(self.ws).chunks(CONTACTS_PER_READ) {
            match store.gone_contacts(self.ws, ids).await {
                Ok(ids) => gone.extend(ids),
                Err(e) => {
                    tracing::warn!(workspace.id = %self.ws, error = %e, "could not check open visitor sockets for erasures after missed messages")
                }
            }
        }
        gone
    }

    async fn run(self, mut rx: switchboard_bus::Receiver) {
        loop {
            let (message, missed) = match rx.recv().await {
                Ok(delivery) if !matches!(*delivery.message, BusMessage::Resync) => (delivery.message.clone(), false),
                // Missed some (here, or between the nodes): a ban, an erasure or a
                // settings change may be among them, so check everything again.
                Ok(_) | Err(RecvError::Lagged(_)) => {
                    if let Some(visibilities) = self.visibilities.upgrade() {
                        visibilities.forget(self.ws);
                    }
                    (Arc::new(BusMessage::BansChanged), true)
                }
                Err(RecvError::Closed) => return,
            };
            let (Some(sockets), Some(guard), Some(store)) = (self.sockets.upgrade(), self.guard.upgrade(), self.store.upgrade()) else {
                return;
            };
            if missed {
                let gone = self.erased(&sockets, &*store).await;
                if !gone.is_empty() {
                    sockets.kick(self.ws, Kick::Erased, |e| gone.contains(&e.contact));
                }
            }
            match &*message {
                BusMessage::BansChanged => {
                    guard.forget(self.ws);
                    let g = match guard.load(&*store, self.ws).await {
                        Ok(g) => g,
                        Err(e) => {
                            // The next visitor request reads them again and is refused then.
                            tracing::warn!(workspace.id = %self.ws, error = %e, "could not read the bans after a change");
                            continue;
                        }
                    };
                    let now = self.clock.now();
                    let by_email =
                        if g.has_email_bans(now) { self.banned_by_email(&sockets, &g, &*store, now).await } else { HashSet::new() };
                    sockets.kick(self.ws, Kick::Banned, |e| {
                        by_email.contains(&e.contact) || g.refuses(&BanSubject { contact: Some(e.contact), email: None, ip: e.ip }, now)
                    });
                }
                BusMessage::WorkspaceChanged => {
                    if let Some(visibilities) = self.visibilities.upgrade() {
                        visibilities.forget(self.ws);
                    }
                }
                BusMessage::ContactErased { contact_id } => {
                    sockets.kick(self.ws, Kick::Erased, |e| e.contact == *contact_id);
                }
                BusMessage::Invitation { invitation } => {
                    let (contact, site) = (ContactId(invitation.contact_id), SiteId(invitation.site_id));
                    sockets.tell(self.ws, &message, |e| e.contact == contact && e.site == site);
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    /// Every open visitor socket of the node has an entry, idle or not: no e-mail copy,
    /// and what waits for a busy socket is boxed (allocated only then): 80 bytes, from 120.
    #[test]
    fn a_registry_entry_is_small() {
        let size = std::mem::size_of::<super::Entry>();
        assert!(size <= 80, "a registry entry takes {size} bytes");
    }
}
