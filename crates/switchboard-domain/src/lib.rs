//! Switchboard's vocabulary: ids, entities, state machines and pure rules.
//!
//! Invariant: this crate knows nothing of I/O, async, serde, HTTP or SQL. Everything
//! here is plain data and functions that can be tested without a runtime.

pub mod body;
mod conversation;
mod entities;
mod error;
mod event;
mod ids;
pub mod search;
mod time;
mod values;

pub use entities::*;
pub use error::{Entity, ValidationError};
pub use event::*;
pub use ids::*;
pub use time::Timestamp;
pub use values::*;
