//! How a batch of [`Change`]s is applied to the log, once for every backend: the retry
//! check on client ids, the domain rules of [`Conversation::apply`], follow-up events,
//! sequence numbers (a posted [`NewMessage`] becomes a [`Message`] here, with its id,
//! conversation and `seq`), and which rows a batch writes.
//!
//! A batch costs a backend a fixed number of statements, however many changes it holds:
//! [`apply_batch`] asks the backend ([`LogTx`]) for everything the batch reads at once,
//! applies every change in memory ([`plan`], pure), then hands the backend all the rows
//! to write at once ([`Writes`]). Each change is all or nothing: a rejected change
//! (unknown conversation, invalid event) leaves no trace and the others go on.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use switchboard_domain::*;

use crate::codec::author_key;
use crate::{AssignGuard, Change, Committed, Result, StoreError};

/// A message's retry key: its author may use a client id once.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct ClientKey {
    pub workspace_id: WorkspaceId,
    /// [`author_key`] of the author.
    pub author_key: String,
    pub client_id: String,
}

impl ClientKey {
    /// The key of a message by `author`, if it has a client id.
    fn of(ws: WorkspaceId, author: Actor, client_id: Option<&str>) -> Option<Self> {
        Some(Self { workspace_id: ws, author_key: author_key(author), client_id: client_id?.to_owned() })
    }
}

/// The workspace each existing site and contact belongs to.
#[derive(Default, Debug)]
pub struct Owners {
    pub sites: HashMap<SiteId, WorkspaceId>,
    pub contacts: HashMap<ContactId, WorkspaceId>,
}

/// The reads and writes a backend performs inside the transaction of a batch. Every
/// method is one statement (or a few), whatever the number of ids it is given.
#[async_trait]
pub trait LogTx: Send {
    /// Each workspace's last handed-out `feed_seq` (locked against other writers until
    /// commit where the backend needs that). Called first, with ids in ascending order.
    async fn feed_seqs(&mut self, workspaces: &[WorkspaceId]) -> Result<Vec<(WorkspaceId, i64)>>;
    /// The events of messages already stored under these keys; keys never used are absent.
    async fn prior_messages(&mut self, keys: &[ClientKey]) -> Result<Vec<Event>>;
    /// The conversations with these ids (ascending), whatever their workspace; ids that
    /// do not exist are absent. Locked against other writers where the backend needs that.
    async fn conversations(&mut self, ids: &[ConversationId]) -> Result<Vec<Conversation>>;
    async fn owners(&mut self, sites: &[SiteId], contacts: &[ContactId]) -> Result<Owners>;
    /// How many open or pending conversations each of these agents (ascending) holds,
    /// for the capacity guards of [`Change::Assign`]; agents holding none may be absent.
    /// Where several processes write, the agents' rows are locked until commit first,
    /// so two batches assigning to one agent count one after the other.
    async fn open_chats(&mut self, agents: &[AgentId]) -> Result<Vec<(AgentId, i64)>>;
    async fn write(&mut self, writes: Writes) -> Result<()>;
}

/// Everything a batch writes, in the order it must be written.
#[derive(Default, Debug)]
pub struct Writes {
    /// Conversations the batch started, in their state after the batch.
    pub new_conversations: Vec<Conversation>,
    /// Conversations that existed before the batch and changed, in their state after it.
    pub changed_conversations: Vec<Conversation>,
    /// Appended events in log order; a message event carries its message.
    pub events: Vec<Event>,
    /// The last `feed_seq` handed out, per workspace whose feed moved.
    pub feed_seqs: Vec<(WorkspaceId, i64)>,
}

impl Writes {
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

/// What a batch read, handed to [`plan`].
#[derive(Default, Debug)]
pub struct Snapshot {
    pub feed_seqs: Vec<(WorkspaceId, i64)>,
    pub prior_messages: Vec<Event>,
    pub conversations: Vec<Conversation>,
    pub owners: Owners,
    /// Open or pending conversations held by the agents that capacity guards name.
    pub open_chats: Vec<(AgentId, i64)>,
}

/// Reads what `jobs` need, applies them, writes the outcome. `Ok` holds one result per
/// job; `Err` means the transaction failed and must be rolled back (nothing of it holds).
pub async fn apply_batch<T: LogTx + ?Sized>(tx: &mut T, jobs: &[(WorkspaceId, Change)]) -> Result<Vec<Result<Committed>>> {
    let workspaces = sorted(jobs.iter().map(|(ws, _)| *ws));
    let feed_seqs = tx.feed_seqs(&workspaces).await?;

    let keys: Vec<ClientKey> =
        jobs.iter().filter_map(|(ws, change)| posted(change).and_then(|m| ClientKey::of(*ws, m.author, m.client_id.as_deref()))).collect();
    let prior_messages = if keys.is_empty() { vec![] } else { tx.prior_messages(&keys).await? };

    let recorded = jobs.iter().filter_map(|(_, change)| match change {
        Change::Post { conversation_id, .. } | Change::Record { conversation_id, .. } | Change::Assign { conversation_id, .. } => {
            Some(*conversation_id)
        }
        Change::Start { .. } => None,
    });
    let ids = sorted(recorded.chain(prior_messages.iter().map(|e| e.conversation_id)));
    let conversations = if ids.is_empty() { vec![] } else { tx.conversations(&ids).await? };

    let starts = jobs.iter().filter_map(|(_, change)| match change {
        Change::Start { conversation, .. } => Some(conversation),
        Change::Post { .. } | Change::Record { .. } | Change::Assign { .. } => None,
    });
    let (sites, contacts): (Vec<SiteId>, Vec<ContactId>) = starts.map(|c| (c.site_id, c.contact_id)).unzip();
    let owners = if sites.is_empty() { Owners::default() } else { tx.owners(&sorted(sites), &sorted(contacts)).await? };

    let agents = sorted(jobs.iter().filter_map(|(_, change)| match change {
        Change::Assign {
            data: EventData::Assigned { agent_id: Some(agent), .. }, guard: AssignGuard { capacity: Some(_), .. }, ..
        } => Some(*agent),
        _ => None,
    }));
    let open_chats = if agents.is_empty() { vec![] } else { tx.open_chats(&agents).await? };

    let (writes, results) = plan(jobs, Snapshot { feed_seqs, prior_messages, conversations, owners, open_chats });
    if !writes.is_empty() {
        tx.write(writes).await?;
    }
    Ok(results)
}

/// How a backend runs one batch in a transaction of its own: read, [`plan`], write, commit.
#[async_trait]
pub trait Transactions: Send {
    /// `Err` means the transaction failed and nothing of it holds.
    async fn run(&mut self, jobs: &[(WorkspaceId, Change)]) -> Result<Vec<Result<Committed>>>;
}

/// Runs `jobs` as one transaction. If the database refuses it for another reason than
/// being unreachable (an id taken, a `client_id` raced in by another node), each change
/// is run again in a transaction of its own, so only the refused one fails.
pub async fn apply_isolated<T: Transactions + ?Sized>(tx: &mut T, jobs: &[(WorkspaceId, Change)]) -> Vec<Result<Committed>> {
    match tx.run(jobs).await {
        Ok(results) => results,
        Err(e) if jobs.len() > 1 && !matches!(e, StoreError::Unavailable(_)) => {
            tracing::warn!(error = %e, batch = jobs.len(), "batch refused; applying its changes one by one");
            let mut results = Vec::with_capacity(jobs.len());
            for job in jobs {
                let one = tx.run(std::slice::from_ref(job)).await;
                results.push(one.and_then(|mut r| r.pop().expect("one result per job")));
            }
            results
        }
        Err(e) if jobs.len() == 1 => vec![Err(e)],
        Err(e) => {
            tracing::error!(error = %e, batch = jobs.len(), "commit of a batch failed");
            jobs.iter().map(|_| Err(StoreError::Unavailable(e.to_string()))).collect()
        }
    }
}

fn sorted<T: Ord>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut v: Vec<T> = items.into_iter().collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The message a change posts, which may be a retry.
fn posted(change: &Change) -> Option<&NewMessage> {
    match change {
        Change::Start { first_message, .. } => first_message.as_ref(),
        Change::Post { message, .. } => Some(message),
        Change::Record { .. } | Change::Assign { .. } => None,
    }
}

/// Applies `jobs` in order to what the batch read: pure, so it is the same on every
/// backend and tested without one. Returns the rows to write and one result per job.
pub fn plan(jobs: &[(WorkspaceId, Change)], snapshot: Snapshot) -> (Writes, Vec<Result<Committed>>) {
    let mut batch = Batch {
        feed: snapshot.feed_seqs.iter().copied().collect(),
        priors: HashMap::new(),
        conversations: snapshot.conversations.into_iter().map(|c| (c.id, c)).collect(),
        started: HashSet::new(),
        changed: vec![],
        changed_set: HashSet::new(),
        events: vec![],
        owners: snapshot.owners,
        places: snapshot.open_chats.iter().copied().collect(),
    };
    for event in snapshot.prior_messages {
        if let EventData::Message(m) = &event.data
            && let Some(key) = ClientKey::of(event.workspace_id, m.author, m.client_id.as_deref())
        {
            batch.priors.insert(key, event);
        }
    }
    let results = jobs.iter().map(|(ws, change)| batch.apply(*ws, change)).collect();
    let read: HashMap<WorkspaceId, i64> = snapshot.feed_seqs.into_iter().collect();
    let mut feed_seqs: Vec<(WorkspaceId, i64)> = batch.feed.into_iter().filter(|(ws, seq)| read.get(ws) != Some(seq)).collect();
    feed_seqs.sort_unstable();
    let (mut new_conversations, mut changed_conversations) = (vec![], vec![]);
    for id in batch.changed {
        let conversation = batch.conversations.remove(&id).expect("a changed conversation is in the batch");
        if batch.started.contains(&id) { new_conversations.push(conversation) } else { changed_conversations.push(conversation) }
    }
    (Writes { new_conversations, changed_conversations, events: batch.events, feed_seqs }, results)
}

/// The state of the log as a batch sees it while it applies its changes.
struct Batch {
    feed: HashMap<WorkspaceId, i64>,
    /// Messages stored before the batch or earlier in it, by retry key.
    priors: HashMap<ClientKey, Event>,
    conversations: HashMap<ConversationId, Conversation>,
    /// Conversations the batch created.
    started: HashSet<ConversationId>,
    /// Conversations the batch changed, in the order it first changed them.
    changed: Vec<ConversationId>,
    changed_set: HashSet<ConversationId>,
    events: Vec<Event>,
    owners: Owners,
    /// Open or pending conversations held by the agents capacity guards name, as of
    /// the batch's changes so far.
    places: HashMap<AgentId, i64>,
}

impl Batch {
    fn apply(&mut self, ws: WorkspaceId, change: &Change) -> Result<Committed> {
        if let Some(done) = posted(change).and_then(|m| self.replay(ws, m)) {
            return done;
        }
        let mut feed = *self.feed.get(&ws).ok_or(StoreError::NotFound(Entity::Workspace))?;
        let mut events = vec![];
        let conversation = match change {
            Change::Start { conversation, first_message } => {
                if conversation.workspace_id != ws || conversation.last_seq != 0 {
                    return Err(ValidationError::new("conversation", "must be new and belong to the workspace").into());
                }
                // Only website inboxes take conversations today, and a website inbox is its
                // site: checking the site's owner below checks the inbox's too.
                if conversation.inbox_kind != InboxKind::Website || conversation.inbox_id != InboxId::from(conversation.site_id) {
                    return Err(ValidationError::new("inbox_id", "must be the website inbox of the conversation's site").into());
                }
                let owned = self.owners.sites.get(&conversation.site_id) == Some(&ws)
                    && self.owners.contacts.get(&conversation.contact_id) == Some(&ws);
                if !owned {
                    return Err(StoreError::NotFound(Entity::Contact));
                }
                if self.conversations.contains_key(&conversation.id) {
                    return Err(StoreError::Conflict("id"));
                }
                let mut conv = conversation.clone();
                let at = conv.created_at;
                events.extend(record(&mut conv, &mut feed, Actor::System, EventData::ConversationStarted, at)?);
                if let Some(m) = first_message {
                    let message = m.clone().posted(MessageId::new(), &conv, at);
                    events.extend(record(&mut conv, &mut feed, m.author, EventData::Message(message), at)?);
                }
                self.started.insert(conv.id);
                conv
            }
            Change::Post { conversation_id, message, at } => {
                let mut conv = self.existing(ws, *conversation_id, message.author)?;
                let data = EventData::Message(message.clone().posted(MessageId::new(), &conv, *at));
                events = append(&mut conv, &mut feed, message.author, data, *at)?;
                conv
            }
            Change::Record { data: EventData::Message(_), .. } => {
                return Err(ValidationError::new("event", "a message is posted (Change::Post), not recorded").into());
            }
            Change::Record { conversation_id, actor, data, at } => {
                let mut conv = self.existing(ws, *conversation_id, *actor)?;
                events = append(&mut conv, &mut feed, *actor, data.clone(), *at)?;
                conv
            }
            Change::Assign { conversation_id, actor, data, at, guard } => {
                let EventData::Assigned { agent_id, .. } = data else {
                    return Err(ValidationError::new("event", "only an assignment is guarded").into());
                };
                let mut conv = self.existing(ws, *conversation_id, *actor)?;
                if guard.unassigned && conv.assignee_id.is_some() {
                    return Err(StoreError::Conflict("assignee"));
                }
                if let (Some(cap), Some(agent)) = (guard.capacity, agent_id)
                    && conv.assignee_id != Some(*agent)
                    && self.places.get(agent).copied().unwrap_or(0) >= i64::from(cap)
                {
                    return Err(StoreError::Conflict("capacity"));
                }
                events = append(&mut conv, &mut feed, *actor, data.clone(), *at)?;
                conv
            }
        };
        // The change succeeded: from here on it is part of the batch.
        if !events.is_empty() {
            self.feed.insert(ws, feed);
            if self.changed_set.insert(conversation.id) {
                self.changed.push(conversation.id);
            }
            let before = self.conversations.insert(conversation.id, conversation.clone());
            self.count_places(before.as_ref(), &conversation);
            for e in &events {
                if let EventData::Message(m) = &e.data
                    && let Some(key) = ClientKey::of(ws, m.author, m.client_id.as_deref())
                {
                    self.priors.insert(key, e.clone());
                }
            }
            self.events.extend(events.iter().cloned());
        }
        Ok(Committed { conversation, events, replayed: false })
    }

    /// Keeps the guarded agents' counts true as a change moves a conversation into or
    /// out of their open places.
    fn count_places(&mut self, before: Option<&Conversation>, after: &Conversation) {
        let held = |c: Option<&Conversation>| c.filter(|c| c.holds_a_place()).and_then(|c| c.assignee_id);
        let (was, is) = (held(before), held(Some(after)));
        if was == is {
            return;
        }
        if let Some(n) = was.and_then(|a| self.places.get_mut(&a)) {
            *n -= 1;
        }
        if let Some(a) = is
            && let Some(n) = self.places.get_mut(&a)
        {
            *n += 1;
        } else if let Some(a) = is {
            // A guarded agent holding nothing before the batch is absent from the read.
            self.places.insert(a, 1);
        }
    }

    /// A conversation of the workspace, as the batch has it so far, that `actor` may act on.
    fn existing(&self, ws: WorkspaceId, id: ConversationId, actor: Actor) -> Result<Conversation> {
        let conv = self.conversations.get(&id).filter(|c| c.workspace_id == ws).ok_or(StoreError::NotFound(Entity::Conversation))?;
        // A contact writes only into its own conversations; anyone else's is unknown to them.
        if matches!(actor, Actor::Contact(c) if c != conv.contact_id) {
            return Err(StoreError::NotFound(Entity::Conversation));
        }
        Ok(conv.clone())
    }

    /// If `m`'s author already sent a message with this client id, the earlier outcome.
    fn replay(&self, ws: WorkspaceId, m: &NewMessage) -> Option<Result<Committed>> {
        let event = self.priors.get(&ClientKey::of(ws, m.author, m.client_id.as_deref())?)?;
        Some(match self.conversations.get(&event.conversation_id) {
            Some(conversation) => Ok(Committed { conversation: conversation.clone(), events: vec![event.clone()], replayed: true }),
            None => Err(StoreError::NotFound(Entity::Conversation)),
        })
    }
}

/// Applies `data` by `actor` to `conv`, then the event it brings about (a visitor's
/// message reopening the conversation), numbering both.
fn append(conv: &mut Conversation, feed: &mut i64, actor: Actor, data: EventData, at: Timestamp) -> Result<Vec<Event>> {
    let follow_up = conv.consequence(actor, &data);
    let mut events: Vec<Event> = record(conv, feed, actor, data, at)?.into_iter().collect();
    if let Some(follow_up) = follow_up.filter(|_| !events.is_empty()) {
        events.extend(record(conv, feed, Actor::System, follow_up, at)?);
    }
    Ok(events)
}

/// Applies one event to `conv` and numbers it; `None` if it changed nothing.
fn record(conv: &mut Conversation, feed: &mut i64, actor: Actor, data: EventData, at: Timestamp) -> Result<Option<Event>> {
    if !conv.apply(actor, &data, at)? {
        return Ok(None);
    }
    *feed += 1;
    debug_assert!(
        data.message().is_none_or(|m| m.seq == conv.last_seq && m.conversation_id == conv.id),
        "a message is posted as the next event"
    );
    Ok(Some(Event { workspace_id: conv.workspace_id, conversation_id: conv.id, seq: conv.last_seq, feed_seq: *feed, actor, at, data }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::text;

    struct World {
        ws: WorkspaceId,
        conv: Conversation,
        visitor: Actor,
    }

    fn world() -> World {
        let ws = WorkspaceId::new();
        let mut conv = Conversation::new(ws, SiteId::new(), ContactId::new(), Timestamp(1));
        conv.apply(Actor::System, &EventData::ConversationStarted, Timestamp(1)).unwrap();
        World { ws, visitor: Actor::Contact(conv.contact_id), conv }
    }

    impl World {
        fn snapshot(&self) -> Snapshot {
            let mut owners = Owners::default();
            owners.sites.insert(self.conv.site_id, self.ws);
            owners.contacts.insert(self.conv.contact_id, self.ws);
            Snapshot {
                feed_seqs: vec![(self.ws, 10)],
                prior_messages: vec![],
                conversations: vec![self.conv.clone()],
                owners,
                open_chats: vec![],
            }
        }

        fn send(&self, conversation_id: ConversationId, body: &str, client_id: Option<&str>) -> (WorkspaceId, Change) {
            (self.ws, Change::Post { conversation_id, message: text(self.visitor, body, client_id), at: Timestamp(5) })
        }
    }

    #[test]
    fn changes_continue_the_counters_the_batch_read_and_a_rejected_one_leaves_no_gap() {
        let w = world();
        let jobs = [w.send(w.conv.id, "one", None), w.send(ConversationId::new(), "lost", None), w.send(w.conv.id, "two", None)];
        let (writes, results) = plan(&jobs, w.snapshot());
        assert!(results[0].is_ok() && results[2].is_ok());
        assert!(matches!(results[1], Err(StoreError::NotFound(Entity::Conversation))));
        let numbered: Vec<(i64, i64)> = writes.events.iter().map(|e| (e.seq, e.feed_seq)).collect();
        assert_eq!(numbered, [(2, 11), (3, 12)]);
        assert_eq!(writes.feed_seqs, [(w.ws, 12)]);
        assert_eq!(writes.changed_conversations.len(), 1);
        assert_eq!(writes.changed_conversations[0].last_seq, 3);
        assert_eq!(results[2].as_ref().unwrap().conversation.last_seq, 3, "each result shows the conversation after its own change");
    }

    #[test]
    fn a_client_id_sent_twice_in_one_batch_is_stored_once() {
        let w = world();
        let jobs = [w.send(w.conv.id, "hello", Some("c1")), w.send(w.conv.id, "hello", Some("c1"))];
        let (writes, results) = plan(&jobs, w.snapshot());
        let (first, again) = (results[0].as_ref().unwrap(), results[1].as_ref().unwrap());
        assert!(!first.replayed && again.replayed);
        assert_eq!(first.events, again.events);
        assert_eq!(writes.events.iter().filter(|e| e.data.message().is_some()).count(), 1);
    }

    #[test]
    fn a_client_id_stored_before_the_batch_is_replayed_with_its_conversation() {
        let w = world();
        let (writes, results) = plan(&[w.send(w.conv.id, "hello", Some("c1"))], w.snapshot());
        let prior = writes.events[0].clone();
        let mut snapshot = w.snapshot();
        snapshot.prior_messages.push(prior.clone());
        let (writes, again) = plan(&[w.send(w.conv.id, "hello", Some("c1"))], snapshot);
        assert!(writes.is_empty());
        let again = again[0].as_ref().unwrap();
        assert!(again.replayed);
        assert_eq!(again.events, [prior]);
        assert!(results[0].is_ok());
    }

    #[test]
    fn a_conversation_started_in_the_batch_takes_later_changes_and_is_inserted_once() {
        let w = world();
        let fresh = Conversation::new(w.ws, w.conv.site_id, w.conv.contact_id, Timestamp(3));
        let start = (w.ws, Change::Start { conversation: fresh.clone(), first_message: Some(text(w.visitor, "hi", Some("c1"))) });
        let (writes, results) = plan(&[start, w.send(fresh.id, "more", None)], w.snapshot());
        assert!(results.iter().all(Result::is_ok));
        assert_eq!(writes.new_conversations.len(), 1);
        assert_eq!(writes.new_conversations[0].last_seq, 3);
        assert!(writes.changed_conversations.is_empty());
        let kinds: Vec<&str> = writes.events.iter().map(|e| e.data.kind()).collect();
        assert_eq!(kinds, ["conversation_started", "message", "message"]);
    }

    #[test]
    fn starting_with_another_workspaces_contact_is_refused() {
        let w = world();
        let stranger = Conversation::new(w.ws, w.conv.site_id, ContactId::new(), Timestamp(3));
        let (writes, results) = plan(&[(w.ws, Change::Start { conversation: stranger, first_message: None })], w.snapshot());
        assert!(matches!(results[0], Err(StoreError::NotFound(Entity::Contact))));
        assert!(writes.is_empty() && writes.feed_seqs.is_empty());
    }

    #[test]
    fn a_visitor_cannot_write_into_someone_elses_conversation_or_workspace() {
        let w = world();
        let intruder = Actor::Contact(ContactId::new());
        let theirs = (w.ws, Change::Post { conversation_id: w.conv.id, message: text(intruder, "let me in", None), at: Timestamp(5) });
        let mut foreign = w.send(w.conv.id, "hi", None);
        foreign.0 = WorkspaceId::new();
        let (writes, results) = plan(&[theirs, foreign], w.snapshot());
        assert!(matches!(results[0], Err(StoreError::NotFound(Entity::Conversation))));
        assert!(results[1].is_err());
        assert!(writes.is_empty());
    }

    #[test]
    fn a_posted_message_is_numbered_by_the_log_and_stamped_with_the_change_time() {
        let w = world();
        let (writes, results) = plan(&[w.send(w.conv.id, "hello", Some("c1"))], w.snapshot());
        let event = &results[0].as_ref().unwrap().events[0];
        let m = event.data.message().expect("a message event");
        assert_eq!((m.workspace_id, m.conversation_id, m.seq, m.created_at), (w.ws, w.conv.id, 2, Timestamp(5)));
        assert_eq!((event.seq, event.at), (m.seq, m.created_at));
        assert_eq!(writes.events[0], *event);
    }

    fn assign(w: &World, id: ConversationId, agent: AgentId, guard: AssignGuard) -> (WorkspaceId, Change) {
        let data = EventData::Assigned { agent_id: Some(agent), team_id: None, reason: AssignReason::Routed, note: None };
        (w.ws, Change::Assign { conversation_id: id, actor: Actor::System, data, at: Timestamp(6), guard })
    }

    #[test]
    fn a_capacity_guard_counts_the_assignments_earlier_in_the_same_batch() {
        let w = world();
        let mut snapshot = w.snapshot();
        let mut other = w.conv.clone();
        other.id = ConversationId::new();
        snapshot.conversations.push(other.clone());
        let agent = AgentId::new();
        snapshot.open_chats = vec![(agent, 1)];
        let guard = AssignGuard { unassigned: true, capacity: Some(2) };
        let (writes, results) = plan(&[assign(&w, w.conv.id, agent, guard), assign(&w, other.id, agent, guard)], snapshot);
        assert!(results[0].is_ok(), "1 held, 2 allowed: room for one");
        assert!(matches!(results[1], Err(StoreError::Conflict("capacity"))), "{:?}", results[1]);
        assert_eq!(writes.changed_conversations.len(), 1);
    }

    #[test]
    fn a_resolution_earlier_in_the_batch_frees_a_place() {
        let w = world();
        let agent = AgentId::new();
        let mut snapshot = w.snapshot();
        let mut held = w.conv.clone();
        held.id = ConversationId::new();
        held.assignee_id = Some(agent);
        snapshot.conversations.push(held.clone());
        snapshot.open_chats = vec![(agent, 1)];
        let resolve = (
            w.ws,
            Change::Record {
                conversation_id: held.id,
                actor: Actor::System,
                data: EventData::StatusChanged { status: Status::Resolved },
                at: Timestamp(6),
            },
        );
        let guard = AssignGuard { unassigned: true, capacity: Some(1) };
        let (_, results) = plan(&[assign(&w, w.conv.id, agent, guard), resolve, assign(&w, w.conv.id, agent, guard)], snapshot);
        assert!(matches!(results[0], Err(StoreError::Conflict("capacity"))));
        assert!(results[1].is_ok() && results[2].is_ok(), "{results:?}");
    }

    #[test]
    fn only_the_first_of_two_claims_wins() {
        let w = world();
        let (a, b) = (AgentId::new(), AgentId::new());
        let claim = AssignGuard { unassigned: true, capacity: None };
        let (writes, results) = plan(&[assign(&w, w.conv.id, a, claim), assign(&w, w.conv.id, b, claim)], w.snapshot());
        assert!(results[0].is_ok());
        assert!(matches!(results[1], Err(StoreError::Conflict("assignee"))));
        assert_eq!(writes.changed_conversations[0].assignee_id, Some(a));
    }

    #[test]
    fn a_message_cannot_be_recorded_without_being_posted() {
        let w = world();
        let posted = plan(&[w.send(w.conv.id, "hello", None)], w.snapshot()).0.events.remove(0);
        let again = (w.ws, Change::Record { conversation_id: w.conv.id, actor: w.visitor, data: posted.data, at: Timestamp(6) });
        let (writes, results) = plan(&[again], w.snapshot());
        assert!(matches!(&results[0], Err(StoreError::Invalid(e)) if e.to_string().contains("posted")), "{:?}", results[0]);
        assert!(writes.is_empty());
    }
}
