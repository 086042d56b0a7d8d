//! Switchboard's vocabulary: ids, entities, state machines and pure rules.
//!
//! Invariant: this crate knows nothing of I/O, async, serde, HTTP or SQL (the IANA time
//! zone database it reads through `jiff` is bundled in the binary). Everything
//! here is plain data and functions that can be tested without a runtime.

mod audit;
mod bans;
pub mod body;
mod conversation;
mod entities;
mod error;
mod event;
mod hours;
mod ids;
mod invitations;
pub mod live;
pub mod masking;
pub mod routing;
pub mod scoring;
pub mod search;
mod time;
pub mod triggers;
mod values;
mod visibility;

pub use audit::*;
pub use bans::*;
pub use entities::*;
pub use error::{Entity, ValidationError};
pub use event::*;
pub use hours::{BusinessHours, Holiday, Minute, WeeklyRange, calendar, format_minute, parse_date, parse_minute, reply_outside_hours};
pub use ids::*;
pub use invitations::{AgentInvitation, INVITATION_TTL_MS, InvitationMail, InvitationRefusal};
pub use live::{
    ChatState, Invitation, LiveChat, LiveVisitor, Moment, NewInvitation, StoredInvitation, TrackingMode, Utm, VISIT_IDLE_MS, Visit,
    VisitWithPages, VisitorFacts,
};
pub use time::Timestamp;
pub use triggers::InvitationAction;
pub use values::*;
pub use visibility::ConversationScope;
