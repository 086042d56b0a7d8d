//! Test harness shared by every tier: the real application, built like the binary, on a
//! random port with a fresh database, SQLite or PostgreSQL ([`TestApp`]), typed HTTP and WebSocket clients, and throwaway PostgreSQL
//! and Redis servers for the cluster tier ([`services`], re-exported from the
//! `switchboard-services` leaf crate, which crates below the server use directly).
//! `TEST_LOG=1` shows the server's logs ([`telemetry`]).

mod app;
mod clients;
pub mod telemetry;

pub use app::{BACKEND_VAR, Seed, TestApp};
pub use clients::{Api, Ws};
pub use switchboard_services as services;
