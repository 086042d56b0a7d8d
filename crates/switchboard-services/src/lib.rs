//! Throwaway servers as child processes that cannot outlive the process that started
//! them: PostgreSQL and Redis for the tests ([`EphemeralPostgres`], [`EphemeralRedis`]),
//! and [`ServerProcess`] for any other server (the bench's peers).
//!
//! A leaf crate with no Switchboard dependency, so that the test harness, the store
//! tests and the bench share one watchdog without compiling the server to get it.

mod postgres;
mod process;
mod redis;
#[cfg(test)]
mod tests;

pub use postgres::EphemeralPostgres;
pub use process::{ServerProcess, User, chown, command, free_port, run, server_user, temp_dir};
pub use redis::EphemeralRedis;
