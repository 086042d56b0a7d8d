//! Turning use-case errors into HTTP responses with stable codes. Server-side
//! failures are logged once here and answered with a generic body.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use switchboard_core::{AuthFailure, Error};
use switchboard_proto::{ErrorBody, FieldError};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self { status, body: ErrorBody { code: code.into(), message: message.into(), fields: vec![] } }
    }
}

/// The stable code and HTTP status of a use-case error.
pub fn classify(e: &Error) -> (StatusCode, String, String) {
    use StatusCode as S;
    let (status, code, message) = match e {
        Error::NotFound(entity) => (S::NOT_FOUND, format!("{}_not_found", entity.as_str()), format!("{entity} not found")),
        Error::Forbidden => (S::FORBIDDEN, "forbidden".into(), "your role does not allow this".into()),
        Error::Unauthenticated(why) => {
            let (status, code, msg) = match why {
                AuthFailure::BadCredentials => (S::UNAUTHORIZED, "invalid_credentials", "wrong e-mail or password"),
                AuthFailure::SessionRequired => (S::UNAUTHORIZED, "unauthenticated", "sign in first; your session may have expired"),
                AuthFailure::InvalidToken => (S::UNAUTHORIZED, "invalid_token", "the token is not valid"),
                AuthFailure::TokenExpired => (S::UNAUTHORIZED, "token_expired", "the token has expired"),
                AuthFailure::CsrfMismatch => (S::FORBIDDEN, "csrf_mismatch", "missing or wrong X-CSRF-Token header"),
            };
            (status, code.into(), msg.into())
        }
        Error::Invalid(v) => (S::UNPROCESSABLE_ENTITY, "validation_failed".into(), v.to_string()),
        Error::Conflict(field) => (S::CONFLICT, format!("{field}_taken"), format!("{field} is already taken")),
        Error::InUse(entity) => (S::CONFLICT, format!("{}_in_use", entity.as_str()), format!("{entity} is still in use")),
        Error::OriginNotAllowed => (S::FORBIDDEN, "origin_not_allowed".into(), "this website may not use the chat".into()),
        Error::TooLarge { limit } => (S::PAYLOAD_TOO_LARGE, "payload_too_large".into(), format!("the limit is {limit} bytes")),
        Error::UnsupportedMediaType(t) => {
            (S::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type".into(), format!("files of type {t} are not accepted"))
        }
        Error::LastOwner => (S::CONFLICT, "last_owner".into(), "a workspace must keep at least one owner".into()),
        Error::Unavailable(why) => {
            tracing::warn!(error = %why, "store unavailable");
            (S::SERVICE_UNAVAILABLE, "unavailable".into(), "the service is temporarily unavailable".into())
        }
        Error::Internal(why) => {
            tracing::error!(error = &**why as &dyn std::error::Error, "internal error");
            (S::INTERNAL_SERVER_ERROR, "internal".into(), "something went wrong on our side".into())
        }
    };
    (status, code, message)
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let (status, code, message) = classify(&e);
        let fields = match &e {
            Error::Invalid(v) => vec![FieldError { field: v.field.into(), message: v.reason.clone() }],
            _ => vec![],
        };
        Self { status, body: ErrorBody { code, message, fields } }
    }
}

impl From<switchboard_domain::ValidationError> for ApiError {
    fn from(e: switchboard_domain::ValidationError) -> Self {
        Error::Invalid(e).into()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let status = match r {
            JsonRejection::MissingJsonContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            JsonRejection::BytesRejection(_) => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, "invalid_json", r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_id", r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", r.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// `Json<T>` whose rejections are [`ApiError`]s.
#[derive(axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
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
