//! What can go wrong talking to the server: an error the API answered (its status and
//! typed body, to switch on the `ErrorCode`), or a transport or decoding failure.

use std::time::Duration;

use switchboard_proto::{ErrorBody, ErrorCode};
use tokio_tungstenite::tungstenite;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error body.
    #[error("{status} {}: {}", body.code, body.message)]
    Api { status: u16, body: ErrorBody },
    /// The server answered something that is not the documented body for its status.
    #[error("{status}: unexpected body ({error}): {text}")]
    Unexpected { status: u16, text: String, error: String },
    #[error("request failed: {0}")]
    Http(#[from] reqwest::Error),
}

impl ClientError {
    /// The error code, when the server answered one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Api { body, .. } => Some(body.code),
            _ => None,
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } | ClientError::Unexpected { status, .. } => Some(*status),
            ClientError::Http(e) => e.status().map(|s| s.as_u16()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    #[error("no frame within {0:?}")]
    Timeout(Duration),
    #[error("the socket closed")]
    Closed,
    /// The server sent a text frame that is not one of the socket's frames.
    #[error("undecodable frame ({error}): {text}")]
    Decode { text: String, error: String },
    /// The server answered a frame with an `error` frame where one was not expected.
    #[error("the server answered {code}: {message}")]
    Refused { code: ErrorCode, message: String, retry_after_ms: Option<u64> },
    #[error(transparent)]
    WebSocket(#[from] tungstenite::Error),
}
