//! Storage traits by area (directory, contacts, log, search, jobs, consumers) under one
//! [`Store`] supertrait, the JSON codec shared by backends, the
//! group-commit writer, the blob store, and (feature `testing`) the contract suite.
//!
//! Invariant: this crate knows no concrete database. Backends (`switchboard-store-sqlite`,
//! `switchboard-store-postgres`) implement [`Store`] and must pass [`testing`].

mod blob;
pub mod codec;
mod copy;
mod error;
mod group_commit;
mod invitations;
mod jobs;
mod live;
pub mod log;
mod privacy;
mod proactive;
mod store;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

#[cfg(any(test, feature = "testing"))]
pub use blob::check_blob_store;
pub use blob::{BlobStore, FsBlobStore, S3BlobStore, S3Settings};
pub use copy::{CopyError, CopyReport, Row, TableSource};
pub use error::{Result, StoreError};
pub use group_commit::{Durable, GroupCommit};
pub use invitations::*;
pub use jobs::*;
pub use live::*;
pub use privacy::*;
pub use proactive::*;
pub use store::*;
