//! Throwaway servers as child processes that cannot outlive the process that started
//! them: PostgreSQL, Redis, an S3-compatible server and an SMTP receiver for the tests
//! ([`EphemeralPostgres`], [`EphemeralRedis`], [`EphemeralS3`], [`EphemeralSmtp`]),
//! and [`ServerProcess`] for any other server (the bench's peers).
//!
//! A leaf crate with no Switchboard dependency, so that the test harness, the store
//! tests and the bench share one watchdog without compiling the server to get it.

mod postgres;
mod process;
mod redis;
mod s3;
mod smtp;
#[cfg(test)]
mod tests;

pub use postgres::EphemeralPostgres;
pub use process::{ServerProcess, User, chown, command, free_port, run, server_user, temp_dir};
pub use redis::EphemeralRedis;
pub use s3::{EphemeralS3, MOTO_REQUIREMENT};
pub use smtp::EphemeralSmtp;
