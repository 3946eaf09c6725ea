//! OAM's error shape: `{"code", "message"}` with a stable code. Messages
//! never carry database or internal text.

use poem::http::StatusCode;
use poem_openapi::ApiResponse;
use poem_openapi::payload::Json;

use super::types::{ErrorBody, ErrorCode as C};
use crate::api::auth::AuthError;
use crate::api::outside_errors::{Outside, classify, json_response};
use crate::domain::Error;

/// Sent with every 401 so clients know to retry with Basic credentials.
pub const WWW_AUTHENTICATE: &str = "Basic realm=\"sessiond\"";

#[derive(ApiResponse, Debug)]
pub enum OamError {
    /// Bad Request. Error in input data.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// Missing or wrong credentials.
    #[oai(status = 401)]
    Unauthorized(
        Json<ErrorBody>,
        /// Always `Basic realm="sessiond"`.
        #[oai(header = "WWW-Authenticate")]
        String,
    ),
    /// The key lacks the permission.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// Session or user not found.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The session has been idle longer than its idle timeout.
    #[oai(status = 408)]
    TimedOut(Json<ErrorBody>),
    /// Request body larger than 1 MiB.
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// Too many requests in progress.
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>),
    /// Unexpected error.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// The database cannot be reached; retry later (`UNAVAILABLE`).
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

impl OamError {
    pub fn new(status: StatusCode, code: C, message: impl Into<String>) -> OamError {
        let body = Json(ErrorBody {
            code,
            message: message.into(),
        });
        match status {
            StatusCode::UNAUTHORIZED => OamError::Unauthorized(body, WWW_AUTHENTICATE.into()),
            StatusCode::FORBIDDEN => OamError::Forbidden(body),
            StatusCode::NOT_FOUND => OamError::NotFound(body),
            StatusCode::REQUEST_TIMEOUT => OamError::TimedOut(body),
            StatusCode::PAYLOAD_TOO_LARGE => OamError::PayloadTooLarge(body),
            StatusCode::TOO_MANY_REQUESTS => OamError::TooManyRequests(body),
            StatusCode::BAD_REQUEST => OamError::BadRequest(body),
            StatusCode::SERVICE_UNAVAILABLE => OamError::Unavailable(body),
            _ => OamError::Internal(body),
        }
    }

    pub fn invalid(message: impl Into<String>) -> OamError {
        OamError::new(StatusCode::BAD_REQUEST, C::InvalidRequest, message)
    }

    pub fn not_found(message: impl Into<String>) -> OamError {
        OamError::new(StatusCode::NOT_FOUND, C::NotFound, message)
    }
}

impl From<Error> for OamError {
    fn from(err: Error) -> OamError {
        use StatusCode as S;
        let (status, code, message) = match &err {
            Error::TooLarge { .. } | Error::InvalidText { .. } => {
                return OamError::new(S::BAD_REQUEST, C::InvalidRequest, err.to_string());
            }
            Error::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable");
                (
                    S::SERVICE_UNAVAILABLE,
                    C::Unavailable,
                    "the database is unavailable, retry later",
                )
            }
            Error::SessionNotFound | Error::SessionTerminated | Error::SessionExpired => {
                (S::NOT_FOUND, C::NotFound, "session not found")
            }
            Error::SessionIdle => (
                S::REQUEST_TIMEOUT,
                C::SessionTimedOut,
                "session has timed out",
            ),
            Error::UserNotFound => (
                S::BAD_REQUEST,
                C::UnknownUser,
                "userId is not a login name in the directory",
            ),
            Error::UserNotActive => (
                S::BAD_REQUEST,
                C::UserNotActive,
                "the user is locked or inactive",
            ),
            Error::UnknownIdStore => (
                S::BAD_REQUEST,
                C::UnknownIdStore,
                "idStoreName does not name this deployment's identity store",
            ),
            Error::SessionLimitReached => (
                S::BAD_REQUEST,
                C::SessionLimitReached,
                "the user already has the maximum number of sessions",
            ),
            Error::PermissionDenied => (
                S::FORBIDDEN,
                C::Forbidden,
                "the credentials lack the permission for this operation",
            ),
            Error::HashingBusy => (
                S::TOO_MANY_REQUESTS,
                C::Busy,
                "too many requests in progress, retry later",
            ),
            // Not produced by OAM operations; mapped so a new variant needs
            // a decision here.
            Error::SessionTokenInvalid => (S::FORBIDDEN, C::Forbidden, "session token is invalid"),
            Error::UserChangeNotPossible => (
                S::BAD_REQUEST,
                C::InvalidRequest,
                "user change not possible",
            ),
            Error::UserIdMissing => (S::BAD_REQUEST, C::InvalidRequest, "userId is required"),
            Error::PasswordInvalid => (S::BAD_REQUEST, C::InvalidRequest, "password is invalid"),
            Error::LoginNameTaken => (
                S::BAD_REQUEST,
                C::InvalidRequest,
                "login name is already taken",
            ),
            Error::KeyNotFound => (S::NOT_FOUND, C::NotFound, "not found"),
            Error::SearchLimitTooLarge { .. } => (
                S::BAD_REQUEST,
                C::InvalidRequest,
                "limit exceeds the maximum",
            ),
            Error::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                (
                    S::INTERNAL_SERVER_ERROR,
                    C::InternalError,
                    "unexpected error",
                )
            }
        };
        OamError::new(status, code, message)
    }
}

impl From<AuthError> for OamError {
    fn from(err: AuthError) -> OamError {
        match err {
            AuthError::Missing => OamError::new(
                StatusCode::UNAUTHORIZED,
                C::Unauthorized,
                "credentials required",
            ),
            AuthError::Invalid => OamError::new(
                StatusCode::UNAUTHORIZED,
                C::Unauthorized,
                "credentials are not valid",
            ),
            AuthError::Unavailable => OamError::from(Error::Unavailable(anyhow::anyhow!(
                "credential check failed"
            ))),
        }
    }
}

/// Renders errors raised outside handlers in the OAM shape.
pub fn from_poem(err: poem::Error) -> poem::Response {
    use poem::IntoResponse;
    let mapped = match classify(err) {
        Outside::Rendered(response) => return response,
        Outside::Auth(auth) => OamError::from(auth),
        Outside::NotFound => OamError::not_found("not found"),
        Outside::MethodNotAllowed => {
            return json_response(
                StatusCode::METHOD_NOT_ALLOWED,
                serde_json::json!({"code": "METHOD_NOT_ALLOWED", "message": "method not allowed"}),
            );
        }
        Outside::PayloadTooLarge => OamError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            C::PayloadTooLarge,
            crate::api::body_limit::too_large_message(),
        ),
        Outside::BadRequest(message) => OamError::invalid(message),
        Outside::Internal => OamError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            C::InternalError,
            "unexpected error",
        ),
    };
    mapped.into_response()
}

/// The answer to a request whose handling panicked.
pub fn panicked() -> poem::Response {
    use poem::IntoResponse;
    OamError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        C::InternalError,
        "unexpected error",
    )
    .into_response()
}
