//! The closed sets of values the wire carries: one Rust enum each, so the OpenAPI
//! document lists the values and the generated TypeScript gets a union of literals
//! instead of `string`. Their wire names are their serde names (snake_case).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Declares a wire enum: serde and OpenAPI in snake_case, and `as_str` giving the
/// same name (for logs, metrics and cursors), written once.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, ToSchema, strum::VariantArray)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// The wire name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum! {
    /// What an agent may do in a workspace.
    Role { Owner = "owner", Admin = "admin", Agent = "agent" }
}

wire_enum! {
    /// Where a conversation stands. `snoozed` comes with `snoozed_until`.
    ConversationStatus { Open = "open", Pending = "pending", Snoozed = "snoozed", Resolved = "resolved" }
}

wire_enum! {
    /// Who sees which conversations: `all` (everyone sees everything) or `teams`
    /// (agents see their teams', their own and those of no team; owners and admins
    /// see all).
    InboxVisibility { All = "all", Teams = "teams" }
}

wire_enum! {
    /// What kind of channel an inbox is. Only `website` inboxes (sites) take
    /// conversations today; the others are listed for clients to prepare for.
    InboxKind { Website = "website", Email = "email", Telegram = "telegram", Api = "api" }
}

wire_enum! {
    /// Whether a site records its visitors' pages: `on`; `consent`: only once the page
    /// says the visitor agreed (`Switchboard('consent', true)`), nothing before; `off`:
    /// never (the live list does not show the site's visitors).
    TrackingMode { On = "on", Consent = "consent", Off = "off" }
}

wire_enum! {
    /// Where a live visitor stands with the team: no conversation open, waiting for an
    /// agent (unassigned or queued), or chatting with one.
    ChatState { None = "none", Waiting = "waiting", Chatting = "chatting" }
}

wire_enum! {
    /// How a rule compares a URL or a referrer: `contains` and `equals` (case-insensitive
    /// for scheme and host, exact for the rest), `pattern`: `*` matches any run of
    /// characters, the whole URL must match.
    UrlMatch { Contains = "contains", Equals = "equals", Pattern = "pattern" }
}

wire_enum! {
    /// How often a proactive rule may fire for one visitor: once ever, once per visit,
    /// or at most once every `every_days` days.
    TriggerFrequency { OncePerVisitor = "once_per_visitor", OncePerVisit = "once_per_visit", EveryDays = "every_days" }
}

wire_enum! {
    /// The UTM parameter a rule looks at.
    UtmField { Source = "source", Medium = "medium", Campaign = "campaign", Term = "term", Content = "content" }
}

wire_enum! {
    /// What the visitor did with an invitation the widget showed.
    InvitationAction { Shown = "shown", Opened = "opened", Dismissed = "dismissed" }
}

wire_enum! {
    Priority { None = "none", Low = "low", Medium = "medium", High = "high", Urgent = "urgent" }
}

wire_enum! {
    /// How a body is rendered: `text` as it is, `markdown` as safe Markdown. Never HTML.
    MessageFormat { Text = "text", Markdown = "markdown" }
}

wire_enum! {
    MessageKind {
        /// Seen by the visitor and the team.
        Text = "text",
        /// A private note: agents only.
        Note = "note",
    }
}

wire_enum! {
    /// Who wrote a message or caused an event.
    ActorKind { Contact = "contact", Agent = "agent", Integration = "integration", System = "system" }
}

wire_enum! {
    /// Which side of a conversation a receipt speaks for.
    Side { Visitor = "visitor", Agent = "agent" }
}

wire_enum! {
    ReceiptKind {
        /// The events reached that side's device.
        Delivered = "delivered",
        /// That side has read them.
        Read = "read",
    }
}

wire_enum! {
    /// Which corner the widget's launcher sits in: `end` is bottom right in LTR and
    /// bottom left in RTL.
    LauncherPosition { End = "end", Start = "start" }
}

wire_enum! {
    /// `team`: the visitor picks the team the conversation goes to; `options` are team ids.
    PrechatFieldKind { Text = "text", Email = "email", Phone = "phone", Select = "select", Team = "team" }
}

wire_enum! {
    TextDirection { Ltr = "ltr", Rtl = "rtl" }
}

wire_enum! {
    /// An agent's presence as the team sees it: `offline` without a dashboard open,
    /// else the status the agent chose (`online` or `away`).
    PresenceStatus { Online = "online", Away = "away", Offline = "offline" }
}

wire_enum! {
    /// The order of the conversation list.
    ConversationSort {
        /// Newest activity first.
        LastActivity = "last_activity",
        /// Longest-waiting first: conversations whose contact waits for an answer, oldest
        /// `waiting_since` first, then the others, oldest first.
        Waiting = "waiting",
    }
}

wire_enum! {
    /// The status an agent chooses to show the team while connected.
    AgentStatus { Online = "online", Away = "away" }
}

wire_enum! {
    /// The languages the dashboard is translated into.
    UiLocale { En = "en", Ar = "ar", Fa = "fa", He = "he", Tr = "tr" }
}

wire_enum! {
    /// Whose a canned response is: the whole workspace's (managed by owners and
    /// admins), or one agent's own.
    CannedScope { Workspace = "workspace", Personal = "personal" }
}

wire_enum! {
    /// Why the server asks a socket to reconnect.
    ReconnectReason {
        /// The server is stopping or restarting.
        ServerShutdown = "server_shutdown",
        /// The socket fell too far behind the live events; resume from the cursor.
        SlowConsumer = "slow_consumer",
    }
}

wire_enum! {
    /// How soon the team typically answers, as the widget says it ("typically replies in
    /// a few minutes / a few hours / a day"), in the offline form too.
    #[derive(Default)]
    ReplyTime { Minutes = "minutes", #[default] Hours = "hours", Day = "day" }
}

wire_enum! {
    /// What a banned visitor's widget does: the launcher removes itself (`hide`), or
    /// the chat says politely that it is not available (`message`).
    #[derive(Default)]
    BannedBehaviour { #[default] Hide = "hide", Message = "message" }
}

wire_enum! {
    /// What a ban refuses: an address or CIDR range (IPv4 or IPv6), a contact, an e-mail.
    BanKind { Ip = "ip", Contact = "contact", Email = "email" }
}

wire_enum! {
    /// How a team's conversations reach its members.
    #[derive(Default)]
    RoutingStrategy {
        /// Nobody is chosen: conversations wait in the queue for a claim.
        Manual = "manual",
        /// Members take turns (whoever was assigned least recently).
        RoundRobin = "round_robin",
        /// Fewest open chats first, ties to whoever was assigned least recently.
        #[default]
        Balanced = "balanced",
    }
}

wire_enum! {
    /// Why a conversation got (or lost) its assignee.
    AssignReason {
        /// Routing chose the agent.
        Routed = "routed",
        /// The agent claimed it from the queue.
        Claimed = "claimed",
        /// Assigned by hand.
        Manual = "manual",
        /// Transferred to an agent or a team.
        Transferred = "transferred",
        /// Routed again: no first reply in time, or the assignee went offline.
        Rerouted = "rerouted",
        /// The assignee was deactivated or deleted.
        Released = "released",
    }
}

wire_enum! {
    /// Why a conversation left the waiting queue.
    DequeueReason {
        Assigned = "assigned",
        Resolved = "resolved",
        /// It waited longer than the team's `max_wait_seconds`; it stays in the inbox, unassigned.
        MaxWait = "max_wait",
    }
}

#[cfg(test)]
mod tests {
    use strum::VariantArray;

    use super::*;

    /// `as_str` and serde must agree: one is used in logs and cursors, the other on the wire.
    fn names_agree<T: VariantArray + Serialize + Copy + std::fmt::Display>() {
        for v in T::VARIANTS {
            assert_eq!(serde_json::to_value(v).unwrap(), serde_json::Value::String(v.to_string()));
        }
    }

    #[test]
    fn wire_names_are_the_serde_names() {
        names_agree::<Role>();
        names_agree::<ConversationStatus>();
        names_agree::<Priority>();
        names_agree::<TrackingMode>();
        names_agree::<ChatState>();
        names_agree::<UrlMatch>();
        names_agree::<TriggerFrequency>();
        names_agree::<UtmField>();
        names_agree::<InvitationAction>();
        names_agree::<InboxKind>();
        names_agree::<InboxVisibility>();
        names_agree::<MessageFormat>();
        names_agree::<MessageKind>();
        names_agree::<ActorKind>();
        names_agree::<Side>();
        names_agree::<ReceiptKind>();
        names_agree::<LauncherPosition>();
        names_agree::<PrechatFieldKind>();
        names_agree::<TextDirection>();
        names_agree::<PresenceStatus>();
        names_agree::<AgentStatus>();
        names_agree::<ConversationSort>();
        names_agree::<UiLocale>();
        names_agree::<CannedScope>();
        names_agree::<ReconnectReason>();
        names_agree::<ReplyTime>();
        names_agree::<BannedBehaviour>();
        names_agree::<BanKind>();
        names_agree::<RoutingStrategy>();
        names_agree::<AssignReason>();
        names_agree::<DequeueReason>();
    }
}
