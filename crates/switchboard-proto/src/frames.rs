//! WebSocket frames: JSON text frames with a `type` field. Documented for third-party
//! clients in docs/protocol.md.

// Frames are built and serialised one at a time; boxing variants would only add allocations.
#![allow(clippy::large_enum_variant)]

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::enums::*;
use crate::{Actor, ErrorCode, Event, Invitation, LiveVisitor, Message, PublicAgent, PublicSite, QueueInfo};

/// Where a client stopped reading a conversation.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Cursor {
    pub conversation_id: Uuid,
    pub after_seq: i64,
}

/// A proof-of-work challenge: find a `nonce` such that SHA-256 of `challenge`, `:` and
/// the nonce (UTF-8) starts with `difficulty` zero bits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PowChallenge {
    pub challenge: String,
    pub difficulty: u8,
}

/// A solved challenge, sent with the `send` that starts a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PowSolution {
    pub challenge: String,
    #[schema(max_length = 64)]
    pub nonce: String,
}

/// Frames a visitor's browser sends.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, strum::VariantNames)]
#[serde(tag = "type", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum VisitorIn {
    /// Must be the first frame. Without a token the visitor is new.
    Hello {
        token: Option<String>,
        #[serde(default)]
        resume: Vec<Cursor>,
    },
    /// A message; without `conversation_id` it starts a conversation.
    Send {
        client_id: String,
        conversation_id: Option<Uuid>,
        #[serde(default)]
        body: String,
        format: Option<MessageFormat>,
        #[serde(default)]
        attachment_ids: Vec<Uuid>,
        /// On a site that asks for it, the proof of work for a `send` that starts a
        /// conversation (`pow_required` hands out the challenge).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pow: Option<PowSolution>,
        /// A reply to this invitation (`invitation`): the conversation it starts opens
        /// with the invitation's message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        invitation_id: Option<Uuid>,
        /// For a `send` that starts a conversation: the team the visitor chose, one of
        /// `site.teams` (anything else is `invalid_input` on `team_id`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        team_id: Option<Uuid>,
    },
    Typing {
        conversation_id: Uuid,
        typing: bool,
    },
    Receipt {
        conversation_id: Uuid,
        kind: ReceiptKind,
        up_to_seq: i64,
    },
    /// Asks for events after `after_seq` (answered with `history`).
    History {
        conversation_id: Uuid,
        after_seq: i64,
        limit: Option<u32>,
    },
    /// The visitor opened a page of the site.
    Page {
        url: String,
        title: Option<String>,
        referrer: Option<String>,
        /// The same page view again: this page load reported it on an earlier socket and
        /// the server answered after it (a reconnect after a dropped network or a sleep).
        /// The tab is counted, the page is not recorded twice. Left out (`false`) for a
        /// new page load or a navigation, which are recorded.
        #[serde(default)]
        again: bool,
    },
    /// The visitor's own details (pre-chat form, `setAttributes`).
    Profile {
        name: Option<String>,
        email: Option<String>,
        phone: Option<String>,
        #[serde(default)]
        attributes: BTreeMap<String, serde_json::Value>,
    },
    /// Identity verification: `user_hash` = hex HMAC-SHA256(site secret, external_id).
    /// Without `user_hash` only name, e-mail and phone are set (never `external_id`),
    /// and a site with `appearance.require_identity` refuses it (`identity_required`).
    Identify {
        external_id: String,
        user_hash: Option<String>,
        name: Option<String>,
        email: Option<String>,
        phone: Option<String>,
    },
    /// Rates a resolved conversation of this visitor (rating again replaces).
    Rate {
        conversation_id: Uuid,
        #[schema(minimum = 1, maximum = 5)]
        score: i64,
        #[schema(max_length = 2000)]
        comment: Option<String>,
    },
    /// Asks for the conversation's transcript by e-mail (answered `transcript_requested`).
    Transcript {
        conversation_id: Uuid,
        #[schema(format = Email, max_length = 254)]
        email: String,
    },
    /// Something the page tracked (`Switchboard.track`), kept on the contact. No answer
    /// on success.
    Track {
        #[schema(min_length = 1, max_length = 100)]
        name: String,
        /// String, number or boolean values; at most 20 keys.
        #[serde(default)]
        data: BTreeMap<String, serde_json::Value>,
    },
    /// On a site with `tracking: consent`, the visitor agreed (or withdrew): until
    /// `granted: true`, pages and tracked events are neither recorded nor shown live.
    Consent {
        granted: bool,
    },
    /// The pointer left the page towards the browser's tabs or address bar.
    ExitIntent,
    /// What the visitor did with an invitation (counted for its rule).
    Invitation {
        invitation_id: Uuid,
        action: InvitationAction,
    },
    Ping,
}

/// The conversation as its visitor sees it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct VisitorConversation {
    pub id: Uuid,
    pub status: ConversationStatus,
    pub last_seq: i64,
    pub created_at: i64,
    pub assignee: Option<PublicAgent>,
    /// What the team has read: every event with `seq <=` this.
    pub agent_read_seq: i64,
    /// What the visitor has read (on any tab or device): every event with `seq <=` this.
    pub visitor_read_seq: i64,
    /// Messages from the team after `visitor_read_seq`.
    pub unread: i64,
}

/// Frames the server sends to a visitor.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum VisitorOut {
    /// Answer to `hello`: keep `token` for the next connection.
    Welcome {
        token: String,
        contact_id: Uuid,
        site: PublicSite,
        conversations: Vec<VisitorConversation>,
        agents: Vec<PublicAgent>,
        agents_online: u32,
    },
    /// A `send` is durably stored. The same `client_id` again gets the same ack.
    Ack {
        client_id: String,
        conversation_id: Uuid,
        seq: i64,
        message: Message,
        replayed: bool,
    },
    Event {
        event: Event,
    },
    /// Replay of missed events is over for this conversation; what follows is live.
    CaughtUp {
        conversation_id: Uuid,
        seq: i64,
    },
    History {
        conversation_id: Uuid,
        events: Vec<Event>,
    },
    Typing {
        conversation_id: Uuid,
        actor: Actor,
        typing: bool,
    },
    /// After `identify`: the browser is now this contact; keep the new token.
    Identified {
        token: String,
        contact_id: Uuid,
        conversations: Vec<VisitorConversation>,
    },
    /// The visitor's read mark moved (a `receipt` of kind `read` from any of their tabs):
    /// every socket of theirs that follows the conversation gets it, so all agree.
    ReadMark {
        conversation_id: Uuid,
        up_to_seq: i64,
        /// Messages from the team after the mark.
        unread: i64,
    },
    /// The transcript request is stored; the e-mail follows once the e-mail channel sends it.
    TranscriptRequested {
        conversation_id: Uuid,
    },
    /// The conversation waits for an agent: sent when it enters the queue and whenever
    /// its place changes; `position: 0` (and no estimate) when an agent took it.
    Queue {
        conversation_id: Uuid,
        /// 1-based place in the queue; 0 once it has left it by assignment.
        position: u32,
        /// Median of the team's last 20 waits (24 h) × position ÷ members online; `null`
        /// without history.
        estimated_wait_seconds: Option<u32>,
    },
    /// The conversation waited longer than the team's maximum: offer the offline form.
    QueueTimeout {
        conversation_id: Uuid,
    },
    /// A proactive message (or a rule's "open the widget"): show it; a `send` with its
    /// `invitation_id` answers it.
    Invitation {
        invitation: Invitation,
    },
    Error {
        code: ErrorCode,
        message: String,
        /// The `client_id` of the frame that failed, when it had one.
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
        /// `rate_limited` only: resend the same frame (same `client_id`) after this long.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
        /// `pow_required` and `pow_invalid`: the challenge to solve before sending again.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pow: Option<PowChallenge>,
    },
    /// The server is closing this socket; reconnect after the delay with your cursors.
    Reconnect {
        reason: ReconnectReason,
        retry_after_ms: u64,
    },
    Pong,
}

/// Frames an agent's dashboard sends.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema, strum::VariantNames)]
#[serde(tag = "type", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum AgentIn {
    /// Must be the first frame. With `after_feed_seq`, everything after it is replayed.
    Hello {
        after_feed_seq: Option<i64>,
    },
    Send {
        client_id: String,
        conversation_id: Uuid,
        #[serde(default)]
        body: String,
        format: Option<MessageFormat>,
        #[serde(default)]
        attachment_ids: Vec<Uuid>,
        /// A private note instead of a reply.
        #[serde(default)]
        note: bool,
    },
    Typing {
        conversation_id: Uuid,
        typing: bool,
    },
    Read {
        conversation_id: Uuid,
        up_to_seq: i64,
    },
    /// Which conversation this socket has open now (`null`: none), so teammates see
    /// who else is looking at it (`viewers`). Not stored; a closed socket views nothing.
    View {
        conversation_id: Option<Uuid>,
    },
    /// The person is using the dashboard (sent at most once a minute while they do): an
    /// agent shown `away` because idle past the workspace's `auto_away_minutes` is back
    /// to the status they chose. Nothing is answered.
    Activity,
    /// Follows the live visitors of the workspace (`site_id: null`) or of one site, or
    /// stops (`watch: false`): answered `visitors` (who is on now), then `visitor` and
    /// `visitor_left` as they arrive, move and leave.
    Visitors {
        watch: bool,
        site_id: Option<Uuid>,
    },
    /// Follows only how many visitors are on the workspace's sites now (`watch: false`
    /// stops): answered `visitor_count`, then `visitor_count` again whenever the number
    /// changes. The dashboard's navigation shows it without following the whole list.
    VisitorCount {
        watch: bool,
    },
    Ping,
}

/// An agent and what the team sees of them.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct AgentPresence {
    pub agent_id: Uuid,
    pub status: PresenceStatus,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentOut {
    Welcome {
        agent_id: Uuid,
        /// The agents with a dashboard open (`online` or `away`).
        online_agent_ids: Vec<Uuid>,
        /// Every active agent of the workspace with their presence.
        agents: Vec<AgentPresence>,
    },
    Ack {
        client_id: String,
        conversation_id: Uuid,
        seq: i64,
        message: Message,
        replayed: bool,
    },
    Event {
        event: Event,
    },
    /// Replay is over: live events follow. `feed_seq` is the cursor to resume from.
    CaughtUp {
        feed_seq: i64,
    },
    Typing {
        conversation_id: Uuid,
        actor: Actor,
        typing: bool,
    },
    Presence {
        agent_id: Uuid,
        status: PresenceStatus,
    },
    /// The agents who have the conversation open, after the set changed (empty: nobody).
    Viewers {
        conversation_id: Uuid,
        agent_ids: Vec<Uuid>,
    },
    /// The waiting queues: after `welcome`, then whenever a queue's length or oldest
    /// entry changes (at most one every 250 ms per socket).
    Queues {
        queues: Vec<QueueInfo>,
    },
    /// Answer to `visitors` with `watch: true`: the visitors on now.
    Visitors {
        visitors: Vec<LiveVisitor>,
    },
    /// A watched visitor arrived or changed (page, chat, score, identity).
    Visitor {
        visitor: LiveVisitor,
    },
    /// A watched visitor left the site (their last tab closed).
    VisitorLeft {
        contact_id: Uuid,
        site_id: Uuid,
    },
    /// Answer to `visitor_count` with `watch: true`, and again after each arrival or
    /// departure: how many visitors (one per contact and site) are on the sites now.
    VisitorCount {
        count: u32,
    },
    Error {
        code: ErrorCode,
        message: String,
        #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
        /// `rate_limited` only: resend the same frame (same `client_id`) after this long.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
    Reconnect {
        reason: ReconnectReason,
        retry_after_ms: u64,
    },
    Pong,
}
