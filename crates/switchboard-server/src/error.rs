//! Turning use-case errors into HTTP responses with stable codes. Server-side
//! failures are logged once here and answered with a generic body.

use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use switchboard_core::{AuthFailure, Error};
use switchboard_domain::InvitationRefusal;
use switchboard_proto::{ErrorBody, ErrorCode, FieldError};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl ApiError {
    /// An error answered with the code's own HTTP status.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        let status = StatusCode::from_u16(code.status()).expect("error codes have valid statuses");
        Self { status, body: ErrorBody { code, message: message.into(), fields: vec![], retry_after_ms: None } }
    }
}

/// The stable code of a use-case error and an English sentence for logs. The HTTP
/// status is the code's own ([`ErrorCode::status`]).
pub fn classify(e: &Error) -> (ErrorCode, String) {
    use ErrorCode as C;
    match e {
        Error::NotFound(entity) => (C::not_found(*entity), format!("{entity} not found")),
        Error::Forbidden => (C::Forbidden, "your role does not allow this".into()),
        Error::Unauthenticated(why) => {
            let (code, msg) = match why {
                AuthFailure::BadCredentials => (C::InvalidCredentials, "wrong e-mail or password"),
                AuthFailure::SessionRequired => (C::Unauthenticated, "sign in first; your session may have expired"),
                AuthFailure::InvalidToken => (C::InvalidToken, "the token is not valid"),
                AuthFailure::TokenExpired => (C::TokenExpired, "the token has expired"),
                AuthFailure::CsrfMismatch => (C::CsrfMismatch, "missing or wrong X-CSRF-Token header"),
                AuthFailure::BadTwoFactorCode => (C::TwoFactorCodeInvalid, "the two-factor code is wrong or was already used"),
            };
            (code, msg.into())
        }
        Error::Invalid(v) => (C::ValidationFailed, v.to_string()),
        Error::Conflict(field) => {
            let code = match *field {
                "email" => C::EmailTaken,
                "name" => C::NameTaken,
                "shortcut" => C::ShortcutTaken,
                "external_id" => C::ExternalIdTaken,
                "label" => C::LabelTaken,
                "invitation" => return (C::InvitationPending, "this e-mail already has a pending invitation".into()),
                _ => C::Conflict,
            };
            (code, format!("{field} is already taken"))
        }
        Error::InUse(entity) => {
            let code = if *entity == switchboard_domain::Entity::Site { C::SiteInUse } else { C::Conflict };
            (code, format!("{entity} is still in use"))
        }
        Error::InvitationRefused(why) => match why {
            InvitationRefusal::Invalid => (C::InvitationInvalid, "the invitation link is not valid".into()),
            InvitationRefusal::Expired => (C::InvitationExpired, "the invitation link has expired".into()),
            InvitationRefusal::Used => (C::InvitationUsed, "the invitation was already accepted".into()),
        },
        Error::LastOwner => (C::LastOwner, "a workspace must keep at least one owner".into()),
        Error::InboxKindUnsupported(kind) => (C::InboxKindUnsupported, format!("{} inboxes cannot be created yet", kind.name())),
        Error::NotResolved => (C::ConversationNotResolved, "only a resolved conversation can be rated".into()),
        Error::AlreadyAssigned => (C::AlreadyAssigned, "the conversation already has an assignee".into()),
        Error::AgentUnavailable => (C::AgentUnavailable, "the agent is not available or has no free place".into()),
        Error::VisitorNotLive => (C::VisitorNotLive, "the visitor is not on the site now".into()),
        Error::IdentityRequired => (C::IdentityRequired, "this site identifies visitors only with a valid user_hash".into()),
        Error::OriginNotAllowed => (C::OriginNotAllowed, "this website may not use the chat".into()),
        Error::Banned => (C::Banned, "this chat is not available to you".into()),
        Error::TooLarge { limit } => (C::PayloadTooLarge, format!("the limit is {limit} bytes")),
        Error::UnsupportedMediaType(t) => (C::UnsupportedMediaType, format!("files of type {t} are not accepted")),
        Error::TwoFactorSetupRequired => (C::TwoFactorSetupRequired, "set up two-factor sign-in first".into()),
        Error::TwoFactorEnabled => (C::TwoFactorEnabled, "two-factor sign-in is already on".into()),
        Error::TwoFactorNotEnabled => (C::TwoFactorNotEnabled, "two-factor sign-in is not on".into()),
        Error::TwoFactorRequired => (C::TwoFactorRequired, "the workspace requires two-factor sign-in".into()),
        Error::RateLimited { kind, retry_after_ms } => {
            (C::RateLimited, format!("too many requests ({}); retry in {retry_after_ms} ms", kind.name()))
        }
        Error::PowRequired(_) => (C::PowRequired, "this site asks for a proof of work before a conversation starts".into()),
        Error::PowInvalid { refusal, .. } => {
            (C::PowInvalid, format!("the proof of work was refused ({refusal:?}); solve the new challenge"))
        }
        Error::Unavailable(why) => {
            tracing::warn!(error = %why, "store unavailable");
            (C::Unavailable, "the service is temporarily unavailable".into())
        }
        Error::Internal(why) => {
            tracing::error!(error = &**why as &dyn std::error::Error, "internal error");
            (C::Internal, "something went wrong on our side".into())
        }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let (code, message) = classify(&e);
        let mut error = ApiError::new(code, message);
        if let Error::Invalid(v) = &e {
            error.body.fields = vec![FieldError { field: v.field.into(), message: v.reason.clone() }];
        }
        // A taken e-mail (an agent signs in with it, or an invitation waits for it) names the field.
        if let Error::Conflict(field @ ("email" | "invitation")) = &e {
            let message =
                if *field == "email" { "another agent signs in with this e-mail" } else { "an invitation to this e-mail is pending" };
            error.body.fields = vec![FieldError { field: "email".into(), message: message.into() }];
        }
        if let Error::RateLimited { retry_after_ms, .. } = e {
            error.body.retry_after_ms = Some(retry_after_ms);
        }
        error
    }
}

impl From<switchboard_domain::ValidationError> for ApiError {
    fn from(e: switchboard_domain::ValidationError) -> Self {
        Error::Invalid(e).into()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let code = match &r {
            JsonRejection::MissingJsonContentType(_) => ErrorCode::UnsupportedMediaType,
            JsonRejection::BytesRejection(_) => ErrorCode::PayloadTooLarge,
            JsonRejection::JsonDataError(e) => match field_at_fault(e) {
                // A value inside the body is wrong (a mistyped field, an unknown enum value):
                // answered like any other wrong value, naming the field.
                Some((field, message)) => {
                    let mut error = ApiError::new(ErrorCode::ValidationFailed, format!("{field}: {message}"));
                    error.body.fields = vec![FieldError { field, message }];
                    return error;
                }
                None => ErrorCode::InvalidJson,
            },
            _ => ErrorCode::InvalidJson,
        };
        ApiError::new(code, r.body_text())
    }
}

/// The path of the field a JSON body got wrong (`prechat_form[0].kind`) and what is
/// wrong with it; `None` when the fault is the body as a whole (a missing field, an
/// array instead of an object).
fn field_at_fault(e: &axum::extract::rejection::JsonDataError) -> Option<(String, String)> {
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(e) = err.downcast_ref::<serde_path_to_error::Error<serde_json::Error>>() {
            let path = e.path().to_string();
            return (path != ".").then(|| (path, e.inner().to_string()));
        }
        source = err.source();
    }
    None
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::new(ErrorCode::InvalidId, r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::new(ErrorCode::InvalidQuery, r.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // `Retry-After` is in whole seconds, rounded up so that waiting it is enough.
        let retry_after = self.body.retry_after_ms.map(|ms| ms.div_ceil(1000).max(1).to_string());
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if let Some(secs) = retry_after.and_then(|s| axum::http::HeaderValue::from_str(&s).ok()) {
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, secs);
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// `Json<T>` whose rejections are [`ApiError`]s. Every request body is a JSON object:
/// serde would also read a struct from an array (`[null, null]`), which no schema allows.
pub struct Json<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = req.headers().get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
            let mime = v.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
        });
        if !json {
            return Err(ApiError::new(ErrorCode::UnsupportedMediaType, "expected a body with `Content-Type: application/json`"));
        }
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|r| {
            let code = if r.status() == StatusCode::PAYLOAD_TOO_LARGE { ErrorCode::PayloadTooLarge } else { ErrorCode::InvalidJson };
            ApiError::new(code, r.body_text())
        })?;
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ApiError::new(ErrorCode::InvalidJson, "the body must be a JSON object"));
        }
        Ok(Self(axum::Json::<T>::from_bytes(&bytes)?.0))
    }
}

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

impl From<MultipartRejection> for ApiError {
    fn from(r: MultipartRejection) -> Self {
        ApiError::new(ErrorCode::InvalidMultipart, r.body_text())
    }
}

/// `Multipart` whose rejections (a request that is not a multipart form) are [`ApiError`]s.
pub struct Multipart(pub axum::extract::Multipart);

impl<S: Send + Sync> axum::extract::FromRequest<S> for Multipart {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(axum::extract::Multipart::from_request(req, state).await?))
    }
}

/// `Path<T>` whose rejections are [`ApiError`]s.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// `Query<T>` whose rejections are [`ApiError`]s.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);
