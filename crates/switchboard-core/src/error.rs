//! What a use case can fail with. The edge (HTTP, WebSocket) turns these into codes.

use switchboard_domain::{Entity, InboxKind, InvitationRefusal, ValidationError};
use switchboard_store::StoreError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AuthFailure {
    BadCredentials,
    /// No session, or it expired or was revoked.
    SessionRequired,
    InvalidToken,
    TokenExpired,
    CsrfMismatch,
    /// A second-factor code that is wrong, or was already used.
    BadTwoFactorCode,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0} not found")]
    NotFound(Entity),
    #[error("not allowed for your role")]
    Forbidden,
    #[error("authentication failed: {0:?}")]
    Unauthenticated(AuthFailure),
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error("{0} is already taken")]
    Conflict(&'static str),
    #[error("{0} is still in use")]
    InUse(Entity),
    #[error("this origin may not use the site")]
    OriginNotAllowed,
    /// The workspace has banned this visitor; nothing was written.
    #[error("this visitor is banned")]
    Banned,
    #[error("upload exceeds {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("unsupported file type {0}")]
    UnsupportedMediaType(String),
    /// The change would leave the workspace without an owner, and so with nobody
    /// who may manage its owners and admins.
    #[error("a workspace keeps at least one owner")]
    LastOwner,
    /// Only website inboxes take conversations today.
    #[error("{} inboxes cannot be created yet", .0.name())]
    InboxKindUnsupported(InboxKind),
    /// Only a resolved conversation can be rated.
    #[error("the conversation is not resolved")]
    NotResolved,
    /// The site accepts `identify` only with a valid `user_hash`.
    #[error("this site only identifies visitors with a user hash")]
    IdentityRequired,
    /// The session may only enrol a second factor, which the workspace requires.
    #[error("set up two-factor sign-in first")]
    TwoFactorSetupRequired,
    #[error("two-factor sign-in is already on")]
    TwoFactorEnabled,
    #[error("two-factor sign-in is not on")]
    TwoFactorNotEnabled,
    /// The workspace requires a second factor, so it cannot be turned off.
    #[error("the workspace requires two-factor sign-in")]
    TwoFactorRequired,
    /// A claim lost: the conversation has an assignee already.
    #[error("the conversation is already assigned")]
    AlreadyAssigned,
    /// A transfer to an agent who is not available or has no free place.
    #[error("the agent is not available or has no free place")]
    AgentUnavailable,
    /// The contact is not on a site now (no tab open, tracking off or not consented).
    #[error("the visitor is not on the site now")]
    VisitorNotLive,
    /// A bucket of [`crate::limiter`] is empty: nothing was read or written; the same
    /// request succeeds after `retry_after_ms`.
    #[error("too many requests ({}); retry in {retry_after_ms} ms", kind.name())]
    RateLimited { kind: crate::LimitKind, retry_after_ms: u64 },
    /// The site asks for a proof of work before a conversation starts: solve this one.
    #[error("a proof of work is required")]
    PowRequired(crate::pow::PowChallenge),
    /// The proof of work was wrong, expired or already used: solve this new one.
    #[error("the proof of work was refused ({refusal:?})")]
    PowInvalid { refusal: crate::pow::PowRefusal, challenge: crate::pow::PowChallenge },
    /// An invitation's link that is unknown, revoked, expired or already used.
    #[error("the invitation cannot be used ({0:?})")]
    InvitationRefused(InvitationRefusal),
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A failure that is ours, not the caller's. The source is kept so the log
    /// shows the whole chain.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl Error {
    pub fn internal(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Error::Internal(e.into())
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(entity) => Error::NotFound(entity),
            StoreError::Conflict(field) => Error::Conflict(field),
            StoreError::InUse(entity) => Error::InUse(entity),
            StoreError::Invalid(v) => Error::Invalid(v),
            StoreError::Unavailable(why) => Error::Unavailable(why),
            StoreError::Internal(e) => Error::Internal(e),
        }
    }
}
