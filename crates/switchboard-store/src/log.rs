//! How a [`Change`] is applied to the log, once for every backend: the retry check on
//! client ids, the domain rules of [`Conversation::apply`], follow-up events, and the
//! order of writes. Backends supply only the SQL, through [`LogWriter`], and run this
//! inside their batch transaction.

use async_trait::async_trait;
use switchboard_domain::*;

use crate::{Change, Committed, Result, StoreError};

/// The writes and reads a backend performs inside the transaction of a batch.
#[async_trait]
pub trait LogWriter: Send {
    /// The event of the message `author` already sent with `client_id`, if any.
    async fn message_event(&mut self, ws: WorkspaceId, author: Actor, client_id: &str) -> Result<Option<Event>>;
    /// The conversation (locked against other writers where the backend needs that);
    /// `NotFound` when it is not the workspace's.
    async fn load_conversation(&mut self, ws: WorkspaceId, id: ConversationId) -> Result<Conversation>;
    /// Inserts a new conversation; `NotFound` when its site or contact is not the workspace's.
    async fn insert_conversation(&mut self, conversation: &Conversation) -> Result<()>;
    async fn save_conversation(&mut self, conversation: &Conversation) -> Result<()>;
    /// Hands out the workspace's next `feed_seq`.
    async fn next_feed_seq(&mut self, ws: WorkspaceId) -> Result<i64>;
    async fn insert_message(&mut self, message: &Message) -> Result<()>;
    async fn insert_event(&mut self, event: &Event) -> Result<()>;
}

/// Applies one change. The caller wraps it in a savepoint, so an error leaves nothing behind.
pub async fn apply<W: LogWriter + ?Sized>(w: &mut W, ws: WorkspaceId, change: Change) -> Result<Committed> {
    match change {
        Change::Start { mut conversation, first_message } => {
            if let Some(m) = &first_message
                && let Some(done) = replay(w, ws, m).await?
            {
                return Ok(done);
            }
            if conversation.workspace_id != ws || conversation.last_seq != 0 {
                return Err(ValidationError::new("conversation", "must be new and belong to the workspace").into());
            }
            w.insert_conversation(&conversation).await?;
            let at = conversation.created_at;
            let mut events = vec![];
            events.extend(record(w, &mut conversation, Actor::System, EventData::ConversationStarted, at).await?);
            if let Some(m) = first_message {
                events.extend(record(w, &mut conversation, m.author, EventData::Message(m), at).await?);
            }
            w.save_conversation(&conversation).await?;
            Ok(Committed { conversation, events, replayed: false })
        }
        Change::Record { conversation_id, actor, data, at } => {
            if let EventData::Message(m) = &data
                && let Some(done) = replay(w, ws, m).await?
            {
                return Ok(done);
            }
            let mut conversation = w.load_conversation(ws, conversation_id).await?;
            // A contact writes only into its own conversations; anyone else's is unknown to them.
            if matches!(actor, Actor::Contact(c) if c != conversation.contact_id) {
                return Err(StoreError::NotFound(Entity::Conversation));
            }
            let follow_up = conversation.consequence(actor, &data);
            let mut events: Vec<Event> = record(w, &mut conversation, actor, data, at).await?.into_iter().collect();
            if let Some(follow_up) = follow_up.filter(|_| !events.is_empty()) {
                events.extend(record(w, &mut conversation, Actor::System, follow_up, at).await?);
            }
            if !events.is_empty() {
                w.save_conversation(&conversation).await?;
            }
            Ok(Committed { conversation, events, replayed: false })
        }
    }
}

/// If `m`'s author already sent a message with this client id, the earlier outcome.
async fn replay<W: LogWriter + ?Sized>(w: &mut W, ws: WorkspaceId, m: &Message) -> Result<Option<Committed>> {
    let Some(client_id) = &m.client_id else { return Ok(None) };
    let Some(event) = w.message_event(ws, m.author, client_id).await? else { return Ok(None) };
    let conversation = w.load_conversation(ws, event.conversation_id).await?;
    Ok(Some(Committed { conversation, events: vec![event], replayed: true }))
}

/// Applies one event to `conv` and appends it; `None` if it changed nothing.
async fn record<W: LogWriter + ?Sized>(
    w: &mut W,
    conv: &mut Conversation,
    actor: Actor,
    mut data: EventData,
    at: Timestamp,
) -> Result<Option<Event>> {
    if !conv.apply(actor, &data, at)? {
        return Ok(None);
    }
    let feed_seq = w.next_feed_seq(conv.workspace_id).await?;
    if let EventData::Message(m) = &mut data {
        m.workspace_id = conv.workspace_id;
        m.conversation_id = conv.id;
        m.seq = conv.last_seq;
        m.author = actor;
        m.created_at = at;
        w.insert_message(m).await?;
    }
    let event = Event { workspace_id: conv.workspace_id, conversation_id: conv.id, seq: conv.last_seq, feed_seq, actor, at, data };
    w.insert_event(&event).await?;
    Ok(Some(event))
}
