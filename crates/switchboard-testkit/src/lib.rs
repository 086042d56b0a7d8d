//! Test harness shared by every tier: the real server on a random port with a fresh
//! database ([`TestApp`]), typed HTTP and WebSocket clients, and throwaway PostgreSQL
//! and Redis servers ([`services`]). `TEST_LOG=1` shows the server's logs ([`telemetry`]).

mod app;
mod clients;
pub mod services;
pub mod telemetry;

pub use app::{Seed, TestApp};
pub use clients::{Api, Ws};
