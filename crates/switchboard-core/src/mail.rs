//! The port for outgoing e-mail: what core hands over to be sent, and how a send can
//! fail. Invitations use it today; the e-mail channel's replies will go through it too.
//! The SMTP adapter (`switchboard-mail`, over `lettre`) implements it, so core knows no
//! mail library and no server.
//!
//! Invariant: a [`MailError`] never carries the recipient's address or the body, only
//! what the server said, so it may be logged and stored.

use async_trait::async_trait;
use switchboard_domain::{Email, Locale};

/// One message to send: a plain-text part and an HTML part of the same content.
#[derive(Clone, PartialEq, Debug)]
pub struct OutgoingMail {
    pub to: Email,
    /// Shown beside the address (`"Dilan" <dilan@example.com>`), when known.
    pub to_name: Option<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The language of the content (`Content-Language`).
    pub locale: Locale,
}

/// Why a message did not go out.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
pub enum MailError {
    /// Worth trying again later: the server is unreachable, busy, or answered 4xx.
    #[error("mail not sent, will retry: {0}")]
    Transient(String),
    /// Trying again will not help: the server refused the message or the recipient (5xx).
    #[error("mail refused: {0}")]
    Permanent(String),
}

/// Sends mail. Implementations hold their own connection settings and pool.
#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError>;
}
