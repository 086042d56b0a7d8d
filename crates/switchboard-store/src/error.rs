//! What can go wrong in a store, in terms the core can act on.

use switchboard_domain::{Entity, ValidationError};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(Entity),
    /// A uniqueness rule was broken; names the field (e.g. `email`, `shortcut`).
    #[error("{0} is already taken")]
    Conflict(&'static str),
    /// A row is still referenced (e.g. a site that has conversations).
    #[error("{0} is still in use")]
    InUse(Entity),
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The database cannot be reached or the writer has stopped.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("store failure: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError::Internal(Box::new(e))
    }
}
