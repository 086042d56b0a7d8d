//! Live visitors (issue 15): who is on a site now (the live registry, per node), their
//! visits and pages (written in batches off the visitor's path), and the proactive
//! messages ("invitations") shown to them.
//!
//! Invariants:
//! - the registry holds one row per contact per site; a row exists while at least one
//!   of the contact's tracked sockets is open (plus `live_leave_grace_ms`);
//! - a page view costs no database write of its own: pages go to a buffer flushed every
//!   second (or at [`FLUSH_ROWS`] rows), so a crash loses at most the last second of
//!   page views (never a message);
//! - every moment is handed to [`Core::visitor_moment`] in a task of its own, never
//!   awaited on the socket's answer to a frame.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use switchboard_bus::{BusMessage, Topic};
use switchboard_domain::*;
use switchboard_store::{Change, Committed, LiveBatch, Store, VisitCursor, VisitPageRow};

use crate::auth::Principal;
use crate::conversations::Draft;
use crate::limiter::{LimitKey, LimitKind};
use crate::visitors::{NewPageView, Visitor};
use crate::{Core, Error, Result};

/// Page views buffered before the flusher is woken early.
pub const FLUSH_ROWS: usize = 512;
/// How often the buffer is flushed.
const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// Tracked event names a row keeps for rules (the visit's latest).
const EVENTS_KEPT: usize = 32;

/// One contact on one site now. Kept small: an idle tracked visitor costs this row
/// (a few hundred bytes with its strings), shared by all of their tabs.
struct Entry {
    visit: Visit,
    url: String,
    title: Option<String>,
    page_since: Timestamp,
    /// The last page or frame: a page after [`VISIT_IDLE_MS`] without one starts a visit.
    last_active: Timestamp,
    pages: u32,
    tabs: u32,
    name: Option<String>,
    email: Option<String>,
    events: Vec<String>,
    exit_intent: bool,
    chat: LiveChat,
    /// The contact's lead score as last shown (proactive rules move it).
    score: i32,
    /// Bumped by every new tab, so a departure scheduled before it is cancelled.
    generation: u64,
}

impl Entry {
    fn row(&self) -> LiveVisitor {
        LiveVisitor {
            workspace_id: self.visit.workspace_id,
            site_id: self.visit.site_id,
            contact_id: self.visit.contact_id,
            visit_id: self.visit.id,
            url: self.url.clone(),
            title: self.title.clone(),
            page_since: self.page_since,
            visit_started_at: self.visit.started_at,
            pages_this_visit: self.pages,
            referrer: self.visit.referrer.clone(),
            utm: self.visit.utm.clone(),
            visit_number: self.visit.number,
            device: self.visit.device.clone(),
            country: self.visit.country.clone(),
            name: self.name.clone(),
            email: self.email.clone(),
            lead_score: self.score,
            chat: self.chat,
            tabs: self.tabs,
        }
    }

    /// The facts rules read, without the contact's attributes (read afresh later).
    fn facts(&self) -> VisitorFacts {
        VisitorFacts {
            workspace_id: self.visit.workspace_id,
            site_id: self.visit.site_id,
            contact_id: self.visit.contact_id,
            visit_id: self.visit.id,
            url: self.url.clone(),
            page_since: self.page_since,
            visit_started_at: self.visit.started_at,
            pages_this_visit: self.pages,
            referrer: self.visit.referrer.clone(),
            utm: self.visit.utm.clone(),
            visit_number: self.visit.number,
            language: self.visit.device.language.clone(),
            country: self.visit.country.clone(),
            identified: self.email.is_some(),
            attributes: Attributes::new(),
            events_this_visit: self.events.clone(),
            exit_intent: self.exit_intent,
            lead_score: self.score,
            chatting: self.chat.state != ChatState::None,
        }
    }
}

/// This node's live visitors and the page views waiting to be written.
pub(crate) struct Registry {
    store: Arc<dyn Store>,
    visitors: Mutex<HashMap<(SiteId, ContactId), Entry>>,
    pending: Mutex<HashMap<WorkspaceId, LiveBatch>>,
    pending_rows: AtomicUsize,
    /// Held while a flush takes the buffer and writes it, so batches commit in the order
    /// they were taken (a visit's row before its later pages).
    flushing: tokio::sync::Mutex<()>,
    flusher: AtomicBool,
    /// Shared with the flusher, which holds no strong reference to the registry.
    wake: Arc<tokio::sync::Notify>,
    /// Agent sockets watching the live list, by workspace (`Core::watch_live`).
    watchers: Mutex<HashMap<WorkspaceId, usize>>,
}

impl Registry {
    pub(crate) fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            visitors: Mutex::default(),
            pending: Mutex::default(),
            pending_rows: AtomicUsize::new(0),
            flushing: tokio::sync::Mutex::new(()),
            flusher: AtomicBool::new(false),
            wake: Arc::new(tokio::sync::Notify::new()),
            watchers: Mutex::default(),
        }
    }

    /// Counts one more (`+1`) or one fewer (`-1`) watching socket in the workspace.
    pub(crate) fn watch(&self, ws: WorkspaceId, by: isize) {
        let mut watchers = self.watchers.lock().unwrap_or_else(|p| p.into_inner());
        let n = watchers.entry(ws).or_default();
        *n = n.saturating_add_signed(by);
        if *n == 0 {
            watchers.remove(&ws);
        }
    }

    /// The workspaces with at least one socket watching the live list on this node.
    pub(crate) fn watched(&self) -> Vec<WorkspaceId> {
        self.watchers.lock().unwrap_or_else(|p| p.into_inner()).keys().copied().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(SiteId, ContactId), Entry>> {
        self.visitors.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every row, by workspace: what a cluster's other nodes read of this one.
    pub(crate) fn rows_by_workspace(&self) -> HashMap<WorkspaceId, Vec<LiveVisitor>> {
        let mut rows: HashMap<WorkspaceId, Vec<LiveVisitor>> = HashMap::new();
        for e in self.lock().values() {
            rows.entry(e.visit.workspace_id).or_default().push(e.row());
        }
        rows
    }

    /// Queues rows for the next flush, starting the flusher on first use.
    fn queue(self: &Arc<Self>, ws: WorkspaceId, visit: Option<Visit>, page: Option<VisitPageRow>, seen: Option<(VisitId, Timestamp)>) {
        {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            let batch = pending.entry(ws).or_default();
            batch.visits.extend(visit);
            if let Some(page) = page {
                batch.pages.push(page);
            }
            batch.seen.extend(seen);
        }
        if self.pending_rows.fetch_add(1, Ordering::Relaxed) + 1 >= FLUSH_ROWS {
            self.wake.notify_one();
        }
        if !self.flusher.swap(true, Ordering::AcqRel) {
            tokio::spawn(flusher(Arc::downgrade(self), self.wake.clone()));
        }
    }

    /// Writes everything buffered, one transaction per workspace. A failed write is
    /// logged and dropped: page views are history, not messages, and a database that is
    /// down must not grow the buffer without bound.
    async fn flush(&self) {
        let _turn = self.flushing.lock().await;
        let batches = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        self.pending_rows.store(0, Ordering::Relaxed);
        for (ws, batch) in batches {
            if let Err(e) = self.store.record_live(ws, &batch).await {
                tracing::warn!(workspace.id = %ws, pages = batch.pages.len(), error = %e, "could not write page views");
            }
        }
    }
}

/// Flushes the buffer every second, or sooner when it fills; ends with the registry.
async fn flusher(registry: Weak<Registry>, wake: Arc<tokio::sync::Notify>) {
    loop {
        let _ = tokio::time::timeout(FLUSH_EVERY, wake.notified()).await;
        let Some(r) = registry.upgrade() else { return };
        r.flush().await;
    }
}

fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// What a page frame says, checked: an http(s) URL of at most 2,000 characters.
fn page_view(view: NewPageView, at: Timestamp) -> Result<PageView> {
    let url = view.url.trim();
    if url.is_empty() || url.chars().count() > 2000 || !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(ValidationError::new("url", "must be an http(s) URL of at most 2000 characters").into());
    }
    Ok(PageView {
        url: url.to_owned(),
        title: view.title.map(|t| clip(&t, 300)),
        referrer: view.referrer.filter(|r| !r.is_empty()).map(|r| clip(&r, 2000)),
        at,
    })
}

/// Where a contact stands with the team, from their conversations (newest first).
fn chat_of(conversations: &[Conversation]) -> LiveChat {
    match conversations.iter().find(|c| !matches!(c.status, Status::Resolved)) {
        None => LiveChat::default(),
        Some(c) => LiveChat {
            state: if c.assignee_id.is_some() { ChatState::Chatting } else { ChatState::Waiting },
            conversation_id: Some(c.id),
            agent_id: c.assignee_id,
        },
    }
}

impl Core {
    /// Whether the site records this visitor's pages now.
    pub fn tracks(&self, v: &Visitor, consented: bool) -> bool {
        match v.site.tracking {
            TrackingMode::On => true,
            TrackingMode::Consent => consented,
            TrackingMode::Off => false,
        }
    }

    /// A tracked tab opened a page (`new_tab`: this socket's first). The row is created
    /// or moved, agents watching are told, the page is queued for the history, and rules
    /// hear of it. A new socket's first page at the URL the visit is on (the widget's chat
    /// frame taking over from the launcher's socket, a reconnect within the grace period)
    /// is the same view: the tab is counted, but no page is recorded and rules hear nothing
    /// new. So is a new socket's first page the client says it reported before
    /// (`NewPageView::again`: a reconnect of the same page load, after the grace period
    /// too, when the row is gone and on any node); it is only believed within a visit that
    /// already has pages, and a visitor who was taken for gone is heard arriving again.
    /// `false` when the site does not track this visitor (nothing is recorded): the socket
    /// is then not counted as a tab.
    #[tracing::instrument(level = "debug", skip_all, fields(site.id = %v.site.id, contact.id = %v.contact.id), err(level = "debug"))]
    pub async fn live_page(&self, v: &Visitor, consented: bool, new_tab: bool, view: NewPageView) -> Result<bool> {
        if !self.tracks(v, consented) {
            return Ok(false);
        }
        self.refuse_visitor(v).await?;
        self.limit(LimitKind::PageViewPerVisitor, LimitKey::Contact(v.contact.id)).await?;
        let now = self.now();
        let again = view.again;
        let page = page_view(view, now)?;
        let ws = v.workspace_id();
        let key = (v.site.id, v.contact.id);
        let known = self.live.lock().contains_key(&key);
        // A first tab (or one after a restart): where the visit stands and the chat, read
        // once per arrival, not per page.
        let arrival = if known { None } else { Some(self.arrival(v, &page).await?) };
        let (row, facts, moment, visit, seen, same_view) = {
            let mut map = self.live.lock();
            let entry = match (map.contains_key(&key), arrival) {
                (false, Some((visit, pages, chat))) => {
                    map.insert(
                        key,
                        Entry {
                            visit,
                            url: String::new(),
                            title: None,
                            page_since: now,
                            last_active: now,
                            pages,
                            tabs: 0,
                            name: v.contact.name.clone(),
                            email: v.contact.email.as_ref().map(|e| e.as_str().to_owned()),
                            events: vec![],
                            exit_intent: false,
                            chat,
                            score: v.contact.lead_score.shown_at(now),
                            generation: 0,
                        },
                    );
                    map.get_mut(&key).expect("just inserted")
                }
                _ => map.get_mut(&key).expect("present"),
            };
            let mut new_visit = None;
            let mut moment = if entry.tabs == 0 { Moment::Arrived } else { Moment::Page };
            if now.0 - entry.last_active.0 > VISIT_IDLE_MS {
                // 30 minutes without a page or a frame: this page starts the next visit.
                entry.visit = Visit {
                    id: VisitId::new(),
                    number: entry.visit.number + 1,
                    started_at: now,
                    last_seen_at: now,
                    referrer: page.referrer.clone(),
                    utm: Utm::from_url(&page.url),
                    ..entry.visit.clone()
                };
                entry.pages = 0;
                entry.events.clear();
                entry.exit_intent = false;
                new_visit = Some(entry.visit.clone());
                moment = Moment::Arrived;
            } else if entry.pages == 0 && entry.visit.started_at == now {
                new_visit = Some(entry.visit.clone());
            }
            let same_view = new_tab && new_visit.is_none() && entry.pages > 0 && (again || entry.url == page.url);
            if new_tab {
                entry.tabs += 1;
                entry.generation += 1;
            }
            entry.last_active = now;
            if !same_view || entry.url != page.url {
                entry.url = page.url.clone();
                entry.title = page.title.clone();
                entry.page_since = now;
            }
            if !same_view {
                entry.pages += 1;
            }
            (entry.row(), entry.facts(), moment, new_visit, (entry.visit.id, now), same_view)
        };
        let row_page = (!same_view).then_some(VisitPageRow { visit_id: seen.0, contact_id: v.contact.id, page });
        self.live.queue(ws, visit, row_page, Some(seen));
        self.bus.publish(Topic::Workspace(ws), Arc::new(BusMessage::live_visitor(&row)));
        if !known {
            self.live_arrived_or_left();
        }
        // Rules heard a visitor who was taken for gone leave: they hear them arrive again.
        if !same_view || !known {
            self.moment_soon(facts, moment);
        }
        Ok(true)
    }

    /// Where an arriving visitor's visit stands: their last visit to the site goes on
    /// when it saw a page or frame in the last 30 minutes; otherwise a new one starts
    /// (visit 1 for a new visitor). Also their chat. Reads the history after writing
    /// what this node buffered, so a quick return finds the visit it left.
    async fn arrival(&self, v: &Visitor, page: &PageView) -> Result<(Visit, u32, LiveChat)> {
        let ws = v.workspace_id();
        self.live.flush().await;
        let last = self.store.visits(ws, v.contact.id, None, 1).await?.into_iter().next();
        let going_on = last.filter(|l| l.visit.site_id == v.site.id && page.at.0 - l.visit.last_seen_at.0 <= VISIT_IDLE_MS);
        let (visit, pages) = match going_on {
            Some(l) => {
                let pages = l.pages.len() as u32;
                (l.visit, pages)
            }
            None => {
                let number = self.store.visit_count(ws, v.site.id, v.contact.id).await? + 1;
                let visit = Visit {
                    id: VisitId::new(),
                    workspace_id: ws,
                    site_id: v.site.id,
                    contact_id: v.contact.id,
                    number,
                    started_at: page.at,
                    last_seen_at: page.at,
                    referrer: page.referrer.clone(),
                    utm: Utm::from_url(&page.url),
                    device: v.contact.device.clone(),
                    // From the address the visitor connected from (`geoip.database`).
                    country: self.country_of(v.ip),
                };
                (visit, 0)
            }
        };
        let chat = chat_of(&self.visitor_conversations(v).await?);
        Ok((visit, pages, chat))
    }

    /// A tracked socket of the visitor closed (or consent was withdrawn). When it was
    /// their last, they leave after the grace period unless a tab opens meanwhile.
    pub fn live_tab_closed(&self, v: &Visitor) {
        let key = (v.site.id, v.contact.id);
        let generation = {
            let mut map = self.live.lock();
            let Some(entry) = map.get_mut(&key) else { return };
            entry.tabs = entry.tabs.saturating_sub(1);
            if entry.tabs > 0 {
                let row = entry.row();
                drop(map);
                self.bus.publish(Topic::Workspace(v.workspace_id()), Arc::new(BusMessage::live_visitor(&row)));
                return;
            }
            entry.generation
        };
        let grace = self.limits.live_leave_grace_ms;
        if grace <= 0 {
            self.leave(key, generation);
        } else {
            let core = self.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(grace as u64)).await;
                core.leave(key, generation);
            });
        }
    }

    /// Removes the row if no tab opened since `generation`, and tells agents and rules.
    fn leave(&self, key: (SiteId, ContactId), generation: u64) {
        let gone = {
            let mut map = self.live.lock();
            match map.get(&key) {
                Some(e) if e.tabs == 0 && e.generation == generation => map.remove(&key),
                _ => None,
            }
        };
        let Some(entry) = gone else { return };
        let ws = entry.visit.workspace_id;
        self.live.queue(ws, None, None, Some((entry.visit.id, entry.last_active)));
        self.live_arrived_or_left();
        self.moment_soon(entry.facts(), Moment::Left);
        let left = BusMessage::VisitorLeft { contact_id: key.1, site_id: key.0 };
        if self.elsewhere.is_none() {
            self.bus.publish(Topic::Workspace(ws), Arc::new(left));
            return;
        }
        // In a cluster the visitor may have reconnected to another node within the grace
        // period (a load balancer need not send them back here): that is no departure,
        // and the agents already heard them arrive there.
        let core = self.clone();
        tokio::spawn(async move {
            if core.live_elsewhere_site(ws, key.1, Some(key.0)).await.is_some() {
                return;
            }
            // Checked and published under the registry's lock, so a return to this node
            // meanwhile is heard after the departure, never before it.
            let map = core.live.lock();
            if !map.contains_key(&key) {
                core.bus.publish(Topic::Workspace(ws), Arc::new(left));
            }
        });
    }

    /// The page tracked an event: kept on the row for rules (the contact event itself
    /// is stored by [`Core::visitor_track`]). Nothing when the visitor is not live.
    pub fn live_event(&self, v: &Visitor, name: &str, data: Attributes) {
        let facts = self.touch(v, |e| {
            if e.events.len() == EVENTS_KEPT {
                e.events.remove(0);
            }
            e.events.push(name.to_owned());
        });
        if let Some(facts) = facts {
            self.moment_soon(facts, Moment::Event { name: name.to_owned(), data });
        }
    }

    /// The pointer left towards the browser's tabs.
    pub fn live_exit_intent(&self, v: &Visitor) {
        if let Some(facts) = self.touch(v, |e| e.exit_intent = true) {
            self.moment_soon(facts, Moment::ExitIntent);
        }
    }

    /// The visitor's name or e-mail may have changed: agents watching see it.
    pub fn live_profile(&self, v: &Visitor) {
        let email = v.contact.email.as_ref().map(|e| e.as_str().to_owned());
        let name = v.contact.name.clone();
        let Some((row, facts)) = self.change(v, |e| {
            e.name = name;
            e.email = email;
        }) else {
            return;
        };
        self.bus.publish(Topic::Workspace(v.workspace_id()), Arc::new(BusMessage::live_visitor(&row)));
        self.moment_soon(facts, Moment::Profile);
    }

    /// The visitor's conversation changed hands: agents watching see the chat state.
    pub fn live_chat(&self, v: &Visitor, chat: LiveChat) {
        let mut changed = false;
        let Some((row, _)) = self.change(v, |e| {
            changed = e.chat != chat;
            e.chat = chat;
        }) else {
            return;
        };
        if changed {
            self.bus.publish(Topic::Workspace(v.workspace_id()), Arc::new(BusMessage::live_visitor(&row)));
        }
    }

    /// Applies `f` to the visitor's row and counts it as activity; their facts after.
    fn touch(&self, v: &Visitor, f: impl FnOnce(&mut Entry)) -> Option<VisitorFacts> {
        let now = self.now();
        self.change(v, |e| {
            e.last_active = now;
            f(e)
        })
        .map(|(_, facts)| facts)
    }

    fn change(&self, v: &Visitor, f: impl FnOnce(&mut Entry)) -> Option<(LiveVisitor, VisitorFacts)> {
        let mut map = self.live.lock();
        let entry = map.get_mut(&(v.site.id, v.contact.id))?;
        f(entry);
        Some((entry.row(), entry.facts()))
    }

    /// The contact's lead score moved: their rows show it, and agents watching see it.
    pub(crate) fn live_scored(&self, ws: WorkspaceId, contact: ContactId, score: i32) {
        let rows: Vec<LiveVisitor> = {
            let mut map = self.live.lock();
            map.iter_mut()
                .filter(|((_, c), e)| *c == contact && e.visit.workspace_id == ws && e.score != score)
                .map(|(_, e)| {
                    e.score = score;
                    e.row()
                })
                .collect()
        };
        for row in rows {
            self.bus.publish(Topic::Workspace(ws), Arc::new(BusMessage::live_visitor(&row)));
        }
    }

    /// Hands a moment to rules and scores in a task of its own, with the contact's
    /// attributes read afresh.
    fn moment_soon(&self, mut facts: VisitorFacts, moment: Moment) {
        let core = self.clone();
        tokio::spawn(async move {
            if let Ok(contact) = core.store.contact(facts.workspace_id, facts.contact_id).await {
                facts.identified |= contact.external_id.is_some();
                facts.lead_score = contact.lead_score.shown_at(core.now());
                facts.attributes = contact.attributes;
            }
            core.visitor_moment(&facts, &moment).await;
        });
    }

    /// The visitor's visit as it stands now, when they are on a site (a tab open and
    /// tracking allowed); `None` otherwise. What proactive rules and scores read. On
    /// several sites at once, the site they opened a page on last.
    pub async fn live_facts(&self, ws: WorkspaceId, contact: ContactId) -> Option<VisitorFacts> {
        let mut facts = {
            let map = self.live.lock();
            map.iter()
                .filter(|((_, c), e)| *c == contact && e.visit.workspace_id == ws)
                .max_by_key(|(_, e)| e.page_since)
                .map(|(_, e)| e.facts())?
        };
        if let Ok(contact) = self.store.contact(ws, contact).await {
            facts.identified |= contact.external_id.is_some();
            facts.attributes = contact.attributes;
        }
        Some(facts)
    }

    /// The live list: the visitors on the workspace's sites now (or on `site`), longest
    /// on the site first: this node's, and in a cluster the other nodes' as they last
    /// wrote them (`live_elsewhere.rs`).
    #[tracing::instrument(level = "debug", skip_all, fields(workspace.id = %who.workspace_id), err(level = "debug"))]
    pub async fn live_visitors(&self, who: &Principal, site: Option<SiteId>) -> Result<Vec<LiveVisitor>> {
        if let Some(site) = site {
            self.store.site(who.workspace_id, site).await?;
        }
        let mut rows: Vec<LiveVisitor> = {
            let map = self.live.lock();
            map.values()
                .filter(|e| e.visit.workspace_id == who.workspace_id && site.is_none_or(|s| e.visit.site_id == s))
                .map(Entry::row)
                .collect()
        };
        self.with_other_nodes(who.workspace_id, site, &mut rows).await;
        rows.sort_by_key(|r| (r.visit_started_at, r.contact_id));
        Ok(rows)
    }

    /// A contact's visits, newest first, with their pages (what this node buffered is
    /// written first, so the history is complete up to now).
    #[tracing::instrument(level = "debug", skip_all, fields(workspace.id = %who.workspace_id, contact.id = %contact), err(level = "debug"))]
    pub async fn contact_visits(
        &self,
        who: &Principal,
        contact: ContactId,
        before: Option<VisitCursor>,
        limit: Option<u32>,
    ) -> Result<(Vec<VisitWithPages>, Option<VisitCursor>)> {
        self.store.contact(who.workspace_id, contact).await?;
        self.live.flush().await;
        let limit = self.page(limit, 20);
        let visits = self.store.visits(who.workspace_id, contact, before, limit).await?;
        let next = if visits.len() as u32 == limit {
            visits.last().map(|v| VisitCursor { started_at: v.visit.started_at, id: v.visit.id })
        } else {
            None
        };
        Ok((visits, next))
    }

    /// Writes the buffered page views now (shutdown calls it before closing the store).
    pub async fn flush_live(&self) {
        self.live.flush().await;
    }

    /// An agent invites a visitor on a site now to chat, with their own message.
    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, contact.id = %contact), err(level = "info"))]
    pub async fn invite(&self, who: &Principal, contact: ContactId, body: &str) -> Result<Invitation> {
        let Some(agent) = who.agent_id() else {
            return Err(ValidationError::new("agent", "only an agent can invite a visitor").into());
        };
        let body = switchboard_domain::body::message_body(body, 2000, false)?;
        self.store.contact(who.workspace_id, contact).await?;
        let here = {
            let map = self.live.lock();
            map.iter()
                .filter(|((_, c), e)| *c == contact && e.visit.workspace_id == who.workspace_id && e.tabs > 0)
                .max_by_key(|(_, e)| e.page_since)
                .map(|((s, _), _)| *s)
        };
        // Not on this node: the visitor may be on another one (cluster mode).
        let site = match here {
            Some(site) => site,
            None => self.live_elsewhere_site(who.workspace_id, contact, None).await.ok_or(Error::VisitorNotLive)?,
        };
        let invitation = NewInvitation {
            site_id: site,
            contact_id: contact,
            body: Some(body),
            agent_id: Some(agent),
            trigger_id: None,
            open: false,
            typing_ms: 0,
        };
        self.show_invitation(who.workspace_id, invitation).await
    }

    /// Shows a proactive message to a live visitor (their open tabs get `invitation`)
    /// and keeps it, so a reply starts its conversation. `VisitorNotLive` when the
    /// visitor is not on the site now. Agents' invites and rules' messages both come here.
    #[tracing::instrument(skip_all, fields(workspace.id = %ws, contact.id = %new.contact_id), err(level = "info"))]
    pub async fn show_invitation(&self, ws: WorkspaceId, new: NewInvitation) -> Result<Invitation> {
        let here = self.live.lock().get(&(new.site_id, new.contact_id)).is_some_and(|e| e.tabs > 0 && e.visit.workspace_id == ws);
        // A visitor on another node gets it there: the bus message reaches every node's sockets.
        if !here && self.live_elsewhere_site(ws, new.contact_id, Some(new.site_id)).await.is_none() {
            return Err(Error::VisitorNotLive);
        }
        let invitation = Invitation {
            id: InvitationId::new(),
            workspace_id: ws,
            site_id: new.site_id,
            contact_id: new.contact_id,
            body: new.body,
            agent_id: new.agent_id,
            trigger_id: new.trigger_id,
            open: new.open,
            typing_ms: new.typing_ms.min(10_000),
            created_at: self.now(),
        };
        self.store.add_invitation(&invitation).await?;
        let agents = self.roster(ws).await?;
        let agent = invitation.agent_id.and_then(|a| agents.iter().find(|x| x.id == a));
        self.bus.publish(Topic::Visitors(ws), Arc::new(BusMessage::invitation(&invitation, agent)));
        Ok(invitation)
    }

    /// A visitor answers an invitation: the conversation it starts opens with the
    /// invitation's message (by its agent, or the team), then the visitor's; it is
    /// assigned to the inviting agent (guarded: still unassigned) or routed as usual.
    /// An invitation already answered takes the message into its conversation.
    /// Retried with the same `client_id`, nothing is stored twice.
    #[tracing::instrument(level = "debug", skip_all, fields(site.id = %v.site.id, contact.id = %v.contact.id, invitation.id = %id), err(level = "debug"))]
    pub async fn visitor_answer(&self, v: &Visitor, id: InvitationId, draft: Draft) -> Result<Committed> {
        self.refuse_visitor(v).await?;
        let ws = v.workspace_id();
        let stored = self.store.invitation(ws, id).await.map_err(|e| match e {
            switchboard_store::StoreError::NotFound(_) => Error::NotFound(Entity::Invitation),
            e => e.into(),
        })?;
        let inv = &stored.invitation;
        if inv.contact_id != v.contact.id || inv.site_id != v.site.id {
            return Err(Error::NotFound(Entity::Invitation));
        }
        if let Some(conversation) = stored.conversation_id {
            return self.visitor_send(v, Some(conversation), draft).await;
        }
        // The visitor's message is checked before anything is written.
        self.limit(LimitKind::MessagePerVisitor, LimitKey::Contact(v.contact.id)).await?;
        let reply = self.message(ws, v.actor(), MessageKind::Text, draft, v.site.masking).await?;
        let author = inv.agent_id.map(Actor::Agent).unwrap_or(Actor::System);
        // Keyed by the invitation, so a retry finds the conversation it started.
        let opening = inv.body.as_ref().map(|body| NewMessage {
            author,
            client_id: Some(format!("invitation:{}", inv.id)),
            kind: MessageKind::Text,
            body: body.clone(),
            format: MessageFormat::Text,
            attachments: vec![],
        });
        let mut conversation = Conversation::new(ws, v.site.id, v.contact.id, self.now());
        conversation.team_id = self.team_for(&v.site, &v.contact);
        // What proactive rules left for it, and the lead score's priority.
        let pending = self.pending_for_new_conversation(ws, v.contact.id).await?;
        conversation.labels = pending.labels;
        conversation.priority = pending.priority.unwrap_or(conversation.priority);
        let started = self.commit(ws, Change::Start { conversation, first_message: opening }).await?;
        let conversation = started.conversation.clone();
        let mut done = self.commit(ws, Change::Post { conversation_id: conversation.id, message: reply, at: self.now() }).await?;
        self.store.invitation_answered(ws, inv.id, conversation.id, self.now()).await?;
        if !started.replayed {
            self.invitation_answered(ws, inv, conversation.id).await?;
        }
        match inv.agent_id {
            Some(agent) if !started.replayed => {
                let guard = switchboard_store::AssignGuard { unassigned: true, capacity: None };
                match self.assign_guarded(&done.conversation, agent, AssignReason::Manual, None, guard).await {
                    // The caller sees the conversation as it is now: assigned.
                    Ok(assigned) => done.conversation = assigned.conversation,
                    // Someone took it meanwhile: theirs it stays.
                    Err(Error::Conflict(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            None if !started.replayed && conversation.team_id.is_some() => self.route_soon(ws, conversation.id),
            _ => {}
        }
        Ok(done)
    }
}
