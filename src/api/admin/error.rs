//! The admin API's error shape: `{"code", "message"}` with a stable code.

use poem::http::StatusCode;
use poem_openapi::ApiResponse;
use poem_openapi::payload::Json;

use super::types::{ErrorBody, ErrorCode as C};
use crate::api::auth::AuthError;
use crate::api::outside_errors::{Outside, classify, json_response};
use crate::domain::Error;

#[derive(ApiResponse, Debug)]
pub enum AdminError {
    /// The request is malformed or breaks a rule.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// Missing or invalid API key.
    #[oai(status = 401)]
    Unauthorized(
        Json<ErrorBody>,
        /// Always `Bearer realm="sessiond"`.
        #[oai(header = "WWW-Authenticate")]
        String,
    ),
    /// The key lacks the permission.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// No such user or key.
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// The login name is taken.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// Request body larger than 1 MiB.
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorBody>),
    /// Too many password hashes in progress.
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>),
    /// Unexpected error.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// The database cannot be reached; retry later (`UNAVAILABLE`).
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

impl AdminError {
    pub fn new(status: StatusCode, code: C, message: impl Into<String>) -> AdminError {
        let body = Json(ErrorBody {
            code,
            message: message.into(),
        });
        match status {
            StatusCode::UNAUTHORIZED => {
                AdminError::Unauthorized(body, crate::api::zitadel::error::WWW_AUTHENTICATE.into())
            }
            StatusCode::FORBIDDEN => AdminError::Forbidden(body),
            StatusCode::NOT_FOUND => AdminError::NotFound(body),
            StatusCode::CONFLICT => AdminError::Conflict(body),
            StatusCode::PAYLOAD_TOO_LARGE => AdminError::PayloadTooLarge(body),
            StatusCode::TOO_MANY_REQUESTS => AdminError::TooManyRequests(body),
            StatusCode::BAD_REQUEST => AdminError::BadRequest(body),
            StatusCode::SERVICE_UNAVAILABLE => AdminError::Unavailable(body),
            _ => AdminError::Internal(body),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> AdminError {
        AdminError::new(StatusCode::BAD_REQUEST, C::InvalidArgument, message)
    }
}

impl From<Error> for AdminError {
    fn from(err: Error) -> AdminError {
        use StatusCode as S;
        let (status, code, message) = match &err {
            Error::TooLarge { .. } | Error::InvalidText { .. } => {
                return AdminError::new(S::BAD_REQUEST, C::InvalidArgument, err.to_string());
            }
            Error::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable");
                (
                    S::SERVICE_UNAVAILABLE,
                    C::Unavailable,
                    "the database is unavailable, retry later",
                )
            }
            Error::UserNotFound => (S::NOT_FOUND, C::UserNotFound, "user not found"),
            Error::KeyNotFound => (S::NOT_FOUND, C::KeyNotFound, "api key not found"),
            Error::LoginNameTaken => (
                S::CONFLICT,
                C::LoginNameTaken,
                "login name is already taken",
            ),
            Error::PermissionDenied => (
                S::FORBIDDEN,
                C::PermissionDenied,
                "the api key lacks the permission for this operation",
            ),
            Error::HashingBusy => (
                S::TOO_MANY_REQUESTS,
                C::Busy,
                "too many password hashes in progress, retry later",
            ),
            // Session errors do not arise from admin operations; mapped so a
            // new variant must be decided on here too.
            Error::SessionNotFound => (S::NOT_FOUND, C::SessionNotFound, "session not found"),
            Error::SessionTerminated => (
                S::BAD_REQUEST,
                C::SessionTerminated,
                "session already terminated",
            ),
            Error::SessionExpired | Error::SessionIdle => {
                (S::BAD_REQUEST, C::SessionExpired, "session has expired")
            }
            Error::SessionTokenInvalid => (
                S::FORBIDDEN,
                C::SessionTokenInvalid,
                "session token is invalid",
            ),
            Error::UserNotActive => (S::BAD_REQUEST, C::UserNotActive, "user is not active"),
            Error::UserChangeNotPossible => (
                S::BAD_REQUEST,
                C::UserChangeNotPossible,
                "user change not possible",
            ),
            Error::UserIdMissing => (S::BAD_REQUEST, C::UserIdMissing, "user id missing"),
            Error::PasswordInvalid => (S::BAD_REQUEST, C::PasswordInvalid, "password is invalid"),
            Error::UnknownIdStore => (S::BAD_REQUEST, C::UnknownIdStore, "unknown identity store"),
            Error::SessionLimitReached => (
                S::BAD_REQUEST,
                C::SessionLimitReached,
                "session limit reached",
            ),
            Error::SearchLimitTooLarge { .. } => (
                S::BAD_REQUEST,
                C::LimitTooLarge,
                "limit exceeds the maximum",
            ),
            Error::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                (S::INTERNAL_SERVER_ERROR, C::Internal, "internal error")
            }
        };
        AdminError::new(status, code, message)
    }
}

impl From<AuthError> for AdminError {
    fn from(err: AuthError) -> AdminError {
        match err {
            AuthError::Missing => AdminError::new(
                StatusCode::UNAUTHORIZED,
                C::Unauthenticated,
                "authorization header missing",
            ),
            AuthError::Invalid => AdminError::new(
                StatusCode::UNAUTHORIZED,
                C::Unauthenticated,
                "api key is invalid",
            ),
            AuthError::Unavailable => {
                AdminError::from(Error::Unavailable(anyhow::anyhow!("key lookup failed")))
            }
        }
    }
}

/// Renders errors raised outside handlers in the admin shape.
pub fn from_poem(err: poem::Error) -> poem::Response {
    use poem::IntoResponse;
    let mapped = match classify(err) {
        Outside::Rendered(response) => return response,
        Outside::Auth(auth) => AdminError::from(auth),
        Outside::NotFound => AdminError::new(StatusCode::NOT_FOUND, C::NotFound, "not found"),
        Outside::MethodNotAllowed => {
            return json_response(
                StatusCode::METHOD_NOT_ALLOWED,
                serde_json::json!({"code": "METHOD_NOT_ALLOWED", "message": "method not allowed"}),
            );
        }
        Outside::PayloadTooLarge => AdminError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            C::PayloadTooLarge,
            crate::api::body_limit::too_large_message(),
        ),
        Outside::BadRequest(message) => AdminError::bad_request(message),
        Outside::Internal => AdminError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            C::Internal,
            "internal error",
        ),
    };
    mapped.into_response()
}

/// The answer to a request whose handling panicked.
pub fn panicked() -> poem::Response {
    use poem::IntoResponse;
    AdminError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        C::Internal,
        "internal error",
    )
    .into_response()
}
