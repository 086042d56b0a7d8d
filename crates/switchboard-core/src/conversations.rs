//! The agent side of conversations: the inbox, history, replies and notes,
//! assignment, status, labels, priority, read marks, typing, contacts and search.

use std::sync::Arc;

use switchboard_bus::{BusMessage, Topic};
use switchboard_domain::*;
use switchboard_store::{Audience, Change, Committed, ConversationFilter, EventQuery, MessageHit};

use crate::auth::Principal;
use crate::{Core, Error, Result};

/// A message as a client submits it.
#[derive(Clone, Debug, Default)]
pub struct Draft {
    /// The client's id for this message; a retry with the same id is not stored twice.
    pub client_id: Option<String>,
    pub body: String,
    pub format: MessageFormat,
    pub attachments: Vec<AttachmentId>,
}

/// A page of the workspace feed as one caller sees it.
#[derive(Clone, Debug)]
pub struct FeedPage {
    /// The events the caller may see, in feed order.
    pub events: Vec<Event>,
    /// The feed position the page read up to (a cursor past events the caller may not
    /// see as well).
    pub up_to: i64,
    /// Whether the page was full: more may follow after `up_to`.
    pub full: bool,
}

/// A window of a conversation's history.
#[derive(Clone, Copy, Debug, Default)]
pub struct HistoryQuery {
    pub after_seq: Option<i64>,
    pub before_seq: Option<i64>,
    pub limit: Option<u32>,
    pub newest_first: bool,
}

/// Fields an agent may change on a contact; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct ContactPatch {
    pub name: Option<Option<String>>,
    pub email: Option<Option<Email>>,
    pub phone: Option<Option<String>>,
    pub external_id: Option<Option<String>>,
    /// Merged into the existing attributes; a key set to `None` is removed.
    pub attributes: Vec<(String, Option<AttributeValue>)>,
}

#[derive(Clone, Debug)]
pub struct SearchResults {
    pub messages: Vec<SearchHit>,
    pub contacts: Vec<Contact>,
}

/// A message found by search, with the part of its body around the hit and the
/// matching words marked (see [`search::snippet`]).
#[derive(Clone, Debug)]
pub struct SearchHit {
    pub message: Message,
    pub snippet: String,
}

/// How much of a message body a search hit shows.
const SNIPPET_CHARS: usize = 160;

pub(crate) fn check_client_id(id: Option<String>) -> Result<Option<String>> {
    match id {
        Some(id) if id.is_empty() || id.len() > 100 || id.chars().any(char::is_control) => {
            Err(ValidationError::new("client_id", "must have 1 to 100 printable characters").into())
        }
        other => Ok(other),
    }
}

/// Applies a patch to a contact, masking what the contact's site masks (see
/// [`masking`]): card numbers in any text, phones and e-mails when the site asks. A
/// masked e-mail is not an address any more, so the field is left empty instead.
pub(crate) fn apply_contact_patch(contact: &mut Contact, patch: ContactPatch, mask: masking::Masking) -> Result<()> {
    let opt_text = |field: &'static str, v: Option<String>, max: usize| -> Result<Option<String>> {
        v.map(|s| non_empty(field, &s, max).map(|s| masking::mask(&s, mask).into_owned())).transpose().map_err(Error::from)
    };
    if let Some(name) = patch.name {
        contact.name = opt_text("name", name, 200)?;
    }
    if let Some(email) = patch.email {
        contact.email = if mask.emails { None } else { email };
    }
    if let Some(phone) = patch.phone {
        contact.phone = opt_text("phone", phone, 50)?;
    }
    if let Some(ext) = patch.external_id {
        contact.external_id = opt_text("external_id", ext, 200)?;
    }
    for (key, value) in patch.attributes {
        let key = non_empty("attributes", &key, 64)?;
        match value {
            Some(AttributeValue::Text(s)) if s.chars().count() > 1000 => {
                return Err(ValidationError::new("attributes", "values must have at most 1000 characters").into());
            }
            Some(AttributeValue::Text(s)) => {
                contact.attributes.insert(key, AttributeValue::Text(masking::mask(&s, mask).into_owned()));
            }
            Some(v) => {
                contact.attributes.insert(key, v);
            }
            None => {
                contact.attributes.remove(&key);
            }
        }
    }
    if contact.attributes.len() > 100 {
        return Err(ValidationError::new("attributes", "at most 100 attributes per contact").into());
    }
    Ok(())
}

impl Core {
    /// Turns a draft into a message to post, checking its text and that its attachments
    /// exist in the workspace (and, for visitors, are their own uploads).
    /// The body is masked here, before anything reaches the store (log, search index).
    pub(crate) async fn message(
        &self,
        ws: WorkspaceId,
        author: Actor,
        kind: MessageKind,
        draft: Draft,
        mask: masking::Masking,
    ) -> Result<NewMessage> {
        let client_id = check_client_id(draft.client_id)?;
        // The body's rules (switchboard_domain::body) before any read.
        let body = switchboard_domain::body::message_body(&draft.body, self.limits.max_message_chars, !draft.attachments.is_empty())?;
        if draft.attachments.len() > 10 {
            return Err(ValidationError::new("attachments", "at most 10 per message").into());
        }
        let mut attachments = Vec::with_capacity(draft.attachments.len());
        for id in draft.attachments {
            let a = self.store.attachment(ws, id).await?;
            if matches!(author, Actor::Contact(_)) && a.uploader != author {
                return Err(Error::NotFound(Entity::Attachment));
            }
            attachments.push(a);
        }
        let body = masking::mask(&body, mask).into_owned();
        Ok(NewMessage { author, client_id, kind, body, format: draft.format, attachments })
    }

    async fn record(&self, who: &Principal, id: ConversationId, data: EventData) -> Result<Committed> {
        let change = Change::Record { conversation_id: id, actor: who.actor, data, at: self.now() };
        self.commit(who.workspace_id, change).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(workspace.id = %who.workspace_id), err(level = "debug"))]
    pub async fn conversations(&self, who: &Principal, mut filter: ConversationFilter) -> Result<Vec<Conversation>> {
        filter.limit = self.page(Some(filter.limit).filter(|l| *l > 0), 50);
        filter.scope = self.conversation_scope(who).await?;
        Ok(self.store.conversations(who.workspace_id, &filter).await?)
    }

    /// How many conversations each inbox view holds for the caller, among those they may
    /// see (`mine` is 0 for an API token, which is nobody).
    #[tracing::instrument(level = "debug", skip_all, fields(workspace.id = %who.workspace_id), err(level = "debug"))]
    pub async fn conversation_counts(&self, who: &Principal) -> Result<switchboard_store::ConversationCounts> {
        let scope = self.conversation_scope(who).await?;
        Ok(self.store.conversation_counts(who.workspace_id, who.agent_id(), &scope).await?)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(workspace.id = %who.workspace_id, conversation.id = %id), err(level = "debug"))]
    pub async fn conversation(&self, who: &Principal, id: ConversationId) -> Result<Conversation> {
        let conversation = self.visible_conversation(who, id).await?;
        self.audit_read(who, AuditAction::ConversationRead, AuditTarget::new(AuditTargetKind::Conversation, id)).await?;
        Ok(conversation)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(workspace.id = %who.workspace_id, conversation.id = %id), err(level = "debug"))]
    pub async fn history(&self, who: &Principal, id: ConversationId, q: HistoryQuery) -> Result<Vec<Event>> {
        self.check_visible(who, id).await?;
        let query = EventQuery {
            after_seq: q.after_seq,
            before_seq: q.before_seq,
            limit: self.page(q.limit, 50),
            newest_first: q.newest_first,
            audience: Audience::Agents,
        };
        let events = self.store.conversation_events(who.workspace_id, id, &query).await?;
        // An unknown conversation reads as empty: only a transcript that exists was read.
        if !events.is_empty() {
            self.audit_read(who, AuditAction::ConversationRead, AuditTarget::new(AuditTargetKind::Conversation, id)).await?;
        }
        Ok(events)
    }

    /// A page of the workspace feed after `after_feed_seq`, for an agent's reconnect:
    /// the events `scope` lets through, where the page ended, and whether it was full
    /// (more may follow).
    #[tracing::instrument(level = "debug", skip_all, fields(workspace.id = %who.workspace_id, after_feed_seq), err(level = "debug"))]
    pub async fn feed(&self, who: &Principal, scope: &mut crate::FeedScope, after_feed_seq: i64, limit: u32) -> Result<FeedPage> {
        let limit = limit.clamp(1, 1000);
        let read = self.store.feed(who.workspace_id, after_feed_seq, limit).await?;
        let page = FeedPage { up_to: read.last().map_or(after_feed_seq, |e| e.feed_seq), full: read.len() as u32 >= limit, events: vec![] };
        let mut events = Vec::with_capacity(read.len());
        for event in read {
            let assigned = match event.data {
                EventData::Assigned { agent_id, team_id, .. } => Some((agent_id, team_id)),
                _ => None,
            };
            if scope.sees(self, who.workspace_id, event.conversation_id, assigned).await? {
                events.push(event);
            }
        }
        Ok(FeedPage { events, ..page })
    }

    /// A reply the visitor sees, or with `note` a private note only agents see.
    #[tracing::instrument(level = "debug", skip_all, fields(workspace.id = %who.workspace_id, conversation.id = %id, note), err(level = "debug"))]
    pub async fn reply(&self, who: &Principal, id: ConversationId, draft: Draft, note: bool) -> Result<Committed> {
        self.check_visible(who, id).await?;
        let kind = if note { MessageKind::Note } else { MessageKind::Text };
        // Masking is per site: when the workspace's sites disagree, the conversation
        // says which site this is (one read); otherwise no read at all.
        let mask = match self.workspace_masking(who.workspace_id).await? {
            Some(mask) => mask,
            None => {
                let site = self.store.conversation(who.workspace_id, id).await?.site_id;
                self.site_masking(who.workspace_id, Some(site)).await?
            }
        };
        let message = self.message(who.workspace_id, who.actor, kind, draft, mask).await?;
        self.commit(who.workspace_id, Change::Post { conversation_id: id, message, at: self.now() }).await
    }

    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, conversation.id = %id), err(level = "info"))]
    pub async fn assign(
        &self,
        who: &Principal,
        id: ConversationId,
        agent_id: Option<AgentId>,
        team_id: Option<TeamId>,
    ) -> Result<Committed> {
        self.check_visible(who, id).await?;
        // Both must be the workspace's own: ids of other tenants are simply unknown.
        // A deactivated agent cannot answer, so they take no conversation.
        if let Some(a) = agent_id
            && !self.store.agent(who.workspace_id, a).await?.active
        {
            return Err(ValidationError::new("agent_id", "is a deactivated agent").into());
        }
        if let Some(t) = team_id {
            self.store.team(who.workspace_id, t).await?;
        }
        let before = self.store.conversation(who.workspace_id, id).await?;
        let done = self.record(who, id, EventData::Assigned { agent_id, team_id, reason: AssignReason::Manual, note: None }).await?;
        self.after_change(&done, before.assignee_id).await;
        Ok(done)
    }

    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, conversation.id = %id), err(level = "info"))]
    pub async fn set_status(&self, who: &Principal, id: ConversationId, status: Status) -> Result<Committed> {
        self.check_visible(who, id).await?;
        if let Status::Snoozed { until } = status
            && until <= self.now()
        {
            return Err(ValidationError::new("snoozed_until", "must be in the future").into());
        }
        if let Status::Snoozed { until } = status {
            // Before the commit: a crash between the two leaves a timer that finds the
            // conversation not snoozed and does nothing, never a snooze without a timer.
            self.store.conversation(who.workspace_id, id).await?;
            self.schedule(crate::JobKind::WakeConversation { workspace_id: who.workspace_id, conversation_id: id, until }, until).await?;
        }
        let done = self.record(who, id, EventData::StatusChanged { status }).await?;
        self.after_change(&done, done.conversation.assignee_id).await;
        if status == Status::Open && done.conversation.assignee_id.is_none() && !done.events.is_empty() {
            // Reopened with nobody on it: it needs an agent.
            self.route(who.workspace_id, id, AssignReason::Routed).await?;
        }
        Ok(done)
    }

    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, conversation.id = %id), err(level = "info"))]
    pub async fn set_labels(&self, who: &Principal, id: ConversationId, labels: Vec<Label>) -> Result<Committed> {
        self.check_visible(who, id).await?;
        self.record(who, id, EventData::LabelsChanged { labels }).await
    }

    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, conversation.id = %id), err(level = "info"))]
    pub async fn set_priority(&self, who: &Principal, id: ConversationId, priority: Priority) -> Result<Committed> {
        self.check_visible(who, id).await?;
        self.record(who, id, EventData::PriorityChanged { priority }).await
    }

    /// The team has seen everything up to `up_to_seq`.
    #[tracing::instrument(level = "debug", skip_all, fields(workspace.id = %who.workspace_id, conversation.id = %id, up_to_seq), err(level = "debug"))]
    pub async fn agent_read(&self, who: &Principal, id: ConversationId, up_to_seq: i64) -> Result<Committed> {
        self.check_visible(who, id).await?;
        let data = EventData::Receipt { side: Side::Agent, kind: ReceiptKind::Read, up_to_seq };
        self.record(who, id, data).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(workspace.id = %who.workspace_id, conversation.id = %id), err(level = "debug"))]
    pub async fn agent_typing(&self, who: &Principal, id: ConversationId, typing: bool) -> Result<()> {
        let conv = self.visible_conversation(who, id).await?;
        let msg = Arc::new(BusMessage::typing(conv.id, who.actor, typing));
        self.bus.publish(Topic::Conversation(conv.id), msg.clone());
        self.bus.publish(Topic::Workspace(who.workspace_id), msg);
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(workspace.id = %who.workspace_id, contact.id = %id), err(level = "debug"))]
    pub async fn contact(&self, who: &Principal, id: ContactId) -> Result<Contact> {
        self.check_contact_visible(who, id).await?;
        let contact = self.store.contact(who.workspace_id, id).await?;
        self.audit_read(who, AuditAction::ContactRead, AuditTarget::new(AuditTargetKind::Contact, id)).await?;
        Ok(self.fresh_score(contact))
    }

    #[tracing::instrument(skip_all, fields(workspace.id = %who.workspace_id, contact.id = %id), err(level = "info"))]
    pub async fn update_contact(&self, who: &Principal, id: ContactId, patch: ContactPatch) -> Result<Contact> {
        self.check_contact_visible(who, id).await?;
        let mut contact = self.store.contact(who.workspace_id, id).await?;
        let mask = self.site_masking(who.workspace_id, contact.site_id).await?;
        apply_contact_patch(&mut contact, patch, mask)?;
        self.store.update_contact(&contact).await?;
        Ok(self.fresh_score(contact))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(workspace.id = %who.workspace_id), err(level = "debug"))]
    pub async fn search_contacts(&self, who: &Principal, query: &str, limit: Option<u32>) -> Result<Vec<Contact>> {
        let terms = search::query_terms(query);
        let found = self.store.search_contacts(who.workspace_id, &terms, self.page(limit, 20)).await?;
        self.visible_contacts(who, found).await
    }

    /// The contacts among `ids` the reader may see (a page of inbox rows at once: the same
    /// rule as [`Core::contact`], without an audit entry, like the contact list); at most
    /// [`Core::MAX_CONTACT_IDS`] ids.
    #[tracing::instrument(level = "debug", skip_all, fields(workspace.id = %who.workspace_id, ids = ids.len()), err(level = "debug"))]
    pub async fn contacts(&self, who: &Principal, ids: &[ContactId]) -> Result<Vec<Contact>> {
        if ids.len() > Self::MAX_CONTACT_IDS {
            return Err(ValidationError::new("ids", format!("at most {} ids at once", Self::MAX_CONTACT_IDS)).into());
        }
        let scope = self.conversation_scope(who).await?;
        let found: Vec<Contact> =
            self.store.contacts_by_id(who.workspace_id, ids).await?.into_iter().map(|c| self.fresh_score(c)).collect();
        if scope.is_all() {
            return Ok(found);
        }
        // A restricted inbox: only the contacts the caller may see (one or two reads each).
        let mut seen = Vec::with_capacity(found.len());
        for contact in found {
            if self.sees_contact(who.workspace_id, &scope, contact.id).await? {
                seen.push(contact);
            }
        }
        Ok(seen)
    }

    /// How many contacts one [`Core::contacts`] call reads.
    pub const MAX_CONTACT_IDS: usize = 100;

    #[tracing::instrument(level = "debug", skip_all, fields(workspace.id = %who.workspace_id, contact.id = %id), err(level = "debug"))]
    pub async fn page_views(&self, who: &Principal, id: ContactId, limit: Option<u32>) -> Result<Vec<PageView>> {
        self.store.contact(who.workspace_id, id).await?;
        self.check_contact_visible(who, id).await?;
        // Pages still in this node's buffer are written first.
        self.flush_live().await;
        Ok(self.store.page_views(who.workspace_id, id, self.page(limit, 20)).await?)
    }

    /// Messages (including notes) and contacts matching every word of `query`.
    #[tracing::instrument(level = "debug", skip_all, fields(workspace.id = %who.workspace_id), err(level = "debug"))]
    pub async fn search(&self, who: &Principal, query: &str, limit: Option<u32>) -> Result<SearchResults> {
        let terms = search::query_terms(query);
        if terms.is_empty() {
            return Err(ValidationError::new("q", "must contain at least one word").into());
        }
        let limit = self.page(limit, 20);
        let scope = self.conversation_scope(who).await?;
        let mut messages = vec![];
        let mut seen: std::collections::HashMap<ConversationId, bool> = Default::default();
        for MessageHit { message } in self.store.search_messages(who.workspace_id, &terms, limit).await? {
            let visible = match seen.get(&message.conversation_id) {
                Some(v) => *v,
                None => scope.is_all() || scope.sees(&self.store.conversation(who.workspace_id, message.conversation_id).await?),
            };
            seen.insert(message.conversation_id, visible);
            if visible {
                messages.push(SearchHit { snippet: search::snippet(&message.body, &terms, SNIPPET_CHARS), message });
            }
        }
        let contacts = self.store.search_contacts(who.workspace_id, &terms, limit).await?;
        Ok(SearchResults { messages, contacts: self.visible_contacts(who, contacts).await? })
    }

    /// The contacts of `found` the caller may see, in order.
    async fn visible_contacts(&self, who: &Principal, found: Vec<Contact>) -> Result<Vec<Contact>> {
        let scope = self.conversation_scope(who).await?;
        let mut visible = Vec::with_capacity(found.len());
        for contact in found {
            if self.sees_contact(who.workspace_id, &scope, contact.id).await? {
                visible.push(self.fresh_score(contact));
            }
        }
        Ok(visible)
    }
}
