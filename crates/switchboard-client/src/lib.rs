//! A typed client for Switchboard over the wire types of `switchboard-proto`: the REST
//! API ([`Client`]) and both WebSockets ([`VisitorSocket`], [`AgentSocket`]). It exists
//! so that integrations, the system tests and the bench speak the protocol through the
//! same types the server answers with: a field renamed in proto breaks their build,
//! not a run.
//!
//! Invariant: knows the server only through its public protocol (`switchboard-proto`,
//! HTTP and WebSockets); it never depends on the server's crates.

mod accounts;
mod error;
mod invitations;
mod rest;
mod socket;

pub use accounts::{AuditFilter, SignedIn};
pub use error::{ClientError, SocketError};
pub use rest::{Client, ConversationFilter, HistoryFilter, PageQuery};
pub use socket::{Acked, AgentSocket, Socket, VisitorSocket, WAIT};
pub use switchboard_proto as proto;
pub use tokio_tungstenite::tungstenite;

/// Waits for the first frame that matches `pattern` and returns `value` built from its
/// fields; frames before it are skipped: `expect_frame!(ws, VisitorOut::Ack { message, .. } => message)`,
/// optionally with a guard (`VisitorOut::Event { event } if event.seq > 2 => event`).
#[macro_export]
macro_rules! expect_frame {
    ($socket:expr, $pattern:pat if $guard:expr => $value:expr) => {
        $socket
            .find(|frame| match frame {
                $pattern if $guard => ::std::result::Result::Ok($value),
                _ => ::std::result::Result::Err(()),
            })
            .await
    };
    ($socket:expr, $pattern:pat => $value:expr) => {
        $socket
            .find(|frame| match frame {
                $pattern => ::std::result::Result::Ok($value),
                _ => ::std::result::Result::Err(()),
            })
            .await
    };
    ($socket:expr, $pattern:pat) => {
        $crate::expect_frame!($socket, frame @ $pattern => frame)
    };
}
