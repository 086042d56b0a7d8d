//! Test harness shared by every tier: the real application, built like the binary, on a
//! random port with a fresh database, SQLite or PostgreSQL ([`TestApp`]), HTTP and WebSocket clients (typed ones from `switchboard-client`), and throwaway PostgreSQL
//! and Redis servers for the cluster tier and an SMTP receiver for the mail stories
//! ([`services`], re-exported from the `switchboard-services` leaf crate, which crates
//! below the server use directly), and [`mail::ReceivedMail`] to read what it received.
//! `TEST_LOG=1` shows the server's logs ([`telemetry`]).

mod app;
mod clients;
pub mod mail;
pub mod mmdb;
pub mod telemetry;

pub use app::{BACKEND_VAR, Seed, TestApp};
pub use clients::{AgentSocket, Api, Client, VisitorSocket, Ws};
pub use switchboard_client::{AuditFilter, ClientError, ConversationFilter, HistoryFilter, SignedIn, SocketError, expect_frame, proto};
pub use switchboard_services as services;
