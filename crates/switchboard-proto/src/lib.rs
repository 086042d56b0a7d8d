//! Wire types: the JSON of the REST API and the WebSocket frames, with their
//! OpenAPI schemas, and conversions from domain values.
//!
//! Invariant: this is the public contract. Renaming a field here breaks clients;
//! times are Unix milliseconds, ids are UUID strings, codes are snake_case.

mod accounts;
mod convert;
mod convert_live;
mod convert_proactive;
mod enums;
mod error;
mod frames;
mod http;
mod invitations;
mod live;

pub use accounts::*;
pub use convert::Viewer;
pub use enums::*;
pub use error::*;
pub use frames::*;
pub use http::*;
pub use invitations::*;
pub use live::*;
