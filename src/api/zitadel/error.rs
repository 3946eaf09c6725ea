//! ZITADEL's error shape: a gRPC status with an ErrorDetail, and the HTTP
//! status ZITADEL's gateway maps each gRPC code to.

use poem::http::StatusCode;
use poem_openapi::ApiResponse;
use poem_openapi::payload::Json;

use super::types::{ErrorDetail, RpcStatus};
use crate::api::auth::AuthError;
use crate::api::outside_errors::{Outside, classify, json_response};
use crate::domain::Error;

/// Every error this dialect returns.
#[derive(ApiResponse, Debug)]
pub enum ZitadelError {
    /// Invalid argument (code 3) or failed precondition (code 9).
    #[oai(status = 400)]
    BadRequest(Json<RpcStatus>),
    /// Missing or invalid API key (code 16).
    #[oai(status = 401)]
    Unauthenticated(
        Json<RpcStatus>,
        /// Always `Bearer realm="sessiond"`.
        #[oai(header = "WWW-Authenticate")]
        String,
    ),
    /// Missing permission or invalid session token (code 7).
    #[oai(status = 403)]
    PermissionDenied(Json<RpcStatus>),
    /// Unknown session or user (code 5).
    #[oai(status = 404)]
    NotFound(Json<RpcStatus>),
    /// Request body larger than 1 MiB (code 8).
    #[oai(status = 413)]
    PayloadTooLarge(Json<RpcStatus>),
    /// Too many password checks in progress (code 8).
    #[oai(status = 429)]
    ResourceExhausted(Json<RpcStatus>),
    /// Unexpected error (code 13).
    #[oai(status = 500)]
    Internal(Json<RpcStatus>),
    /// The database cannot be reached; retry later (code 14).
    #[oai(status = 503)]
    Unavailable(Json<RpcStatus>),
}

/// Sent with every 401 (RFC 9110 §11.6.1).
pub const WWW_AUTHENTICATE: &str = "Bearer realm=\"sessiond\"";

pub const INVALID_ARGUMENT: i32 = 3;
pub const NOT_FOUND: i32 = 5;
pub const PERMISSION_DENIED: i32 = 7;
pub const RESOURCE_EXHAUSTED: i32 = 8;
pub const FAILED_PRECONDITION: i32 = 9;
pub const UNIMPLEMENTED: i32 = 12;
pub const INTERNAL: i32 = 13;
pub const UNAVAILABLE: i32 = 14;
pub const UNAUTHENTICATED: i32 = 16;

impl ZitadelError {
    /// An error raised by the service, with ZITADEL's `<text> (<id>)` form.
    pub fn domain(status: StatusCode, code: i32, id: &str, text: &str) -> ZitadelError {
        ZitadelError::with_status(
            status,
            RpcStatus {
                code,
                message: format!("{text} ({id})"),
                details: vec![ErrorDetail {
                    type_url: "type.googleapis.com/zitadel.v1.ErrorDetail".into(),
                    id: id.into(),
                    message: text.into(),
                }],
            },
        )
    }

    /// An error raised before the domain layer (validation, auth, routing):
    /// a plain message and no details, as ZITADEL's gateway sends them.
    pub fn plain(status: StatusCode, code: i32, message: impl Into<String>) -> ZitadelError {
        ZitadelError::with_status(
            status,
            RpcStatus {
                code,
                message: message.into(),
                details: vec![],
            },
        )
    }

    pub fn invalid_argument(message: impl Into<String>) -> ZitadelError {
        ZitadelError::plain(StatusCode::BAD_REQUEST, INVALID_ARGUMENT, message)
    }

    fn with_status(status: StatusCode, body: RpcStatus) -> ZitadelError {
        let body = Json(body);
        match status {
            StatusCode::UNAUTHORIZED => {
                ZitadelError::Unauthenticated(body, WWW_AUTHENTICATE.into())
            }
            StatusCode::FORBIDDEN => ZitadelError::PermissionDenied(body),
            StatusCode::NOT_FOUND => ZitadelError::NotFound(body),
            StatusCode::PAYLOAD_TOO_LARGE => ZitadelError::PayloadTooLarge(body),
            StatusCode::TOO_MANY_REQUESTS => ZitadelError::ResourceExhausted(body),
            StatusCode::BAD_REQUEST => ZitadelError::BadRequest(body),
            StatusCode::SERVICE_UNAVAILABLE => ZitadelError::Unavailable(body),
            _ => ZitadelError::Internal(body),
        }
    }
}

impl From<Error> for ZitadelError {
    fn from(err: Error) -> ZitadelError {
        use StatusCode as S;
        let (status, code, id, text) = match &err {
            Error::TooLarge { .. } => {
                return ZitadelError::domain(
                    S::BAD_REQUEST,
                    INVALID_ARGUMENT,
                    "SESSION-L1m1t",
                    &err.to_string(),
                );
            }
            Error::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable");
                (
                    S::SERVICE_UNAVAILABLE,
                    UNAVAILABLE,
                    "SESSION-Unav1",
                    "Database unavailable, retry later",
                )
            }
            Error::SessionNotFound => (
                S::NOT_FOUND,
                NOT_FOUND,
                "QUERY-SFeaa",
                "Session does not exist",
            ),
            Error::SessionTerminated => (
                S::BAD_REQUEST,
                FAILED_PRECONDITION,
                "COMAND-SAjeh",
                "Session already terminated",
            ),
            Error::SessionExpired | Error::SessionIdle => (
                S::BAD_REQUEST,
                FAILED_PRECONDITION,
                "COMMAND-Hkl3d",
                "Session has expired",
            ),
            Error::SessionTokenInvalid => (
                S::FORBIDDEN,
                PERMISSION_DENIED,
                "COMMAND-sGr42",
                "Session Token is invalid",
            ),
            Error::PermissionDenied => (
                S::FORBIDDEN,
                PERMISSION_DENIED,
                "AUTHZ-HKJD33",
                "No matching permissions found",
            ),
            Error::UserNotFound => (
                S::NOT_FOUND,
                NOT_FOUND,
                "QUERY-Dfbg2",
                "User could not be found",
            ),
            Error::UserNotActive => (
                S::BAD_REQUEST,
                FAILED_PRECONDITION,
                "SESSION-Gj4ko",
                "User is not active",
            ),
            Error::UserChangeNotPossible => (
                S::BAD_REQUEST,
                INVALID_ARGUMENT,
                "SESSION-Nc7h2",
                "user change not possible",
            ),
            Error::UserIdMissing => (
                S::BAD_REQUEST,
                FAILED_PRECONDITION,
                "COMMAND-Sfw3f",
                "User ID missing",
            ),
            Error::PasswordInvalid => (
                S::BAD_REQUEST,
                INVALID_ARGUMENT,
                "COMMAND-SAF3g",
                "Password is invalid",
            ),
            Error::SessionLimitReached => (
                S::BAD_REQUEST,
                FAILED_PRECONDITION,
                "SESSION-Lm8x4",
                "Maximum number of sessions for the user reached",
            ),
            Error::SearchLimitTooLarge { .. } => (
                S::BAD_REQUEST,
                INVALID_ARGUMENT,
                "QUERY-4M0fs",
                "Limit exceeds the maximum",
            ),
            Error::HashingBusy => (
                S::TOO_MANY_REQUESTS,
                RESOURCE_EXHAUSTED,
                "SESSION-B7s2q",
                "Too many password checks in progress, retry later",
            ),
            // Not reachable from this dialect's operations; kept explicit
            // so a new variant forces a decision here.
            Error::LoginNameTaken => (
                S::BAD_REQUEST,
                INVALID_ARGUMENT,
                "USER-9d2Kf",
                "Login name is already taken",
            ),
            Error::KeyNotFound => (S::NOT_FOUND, NOT_FOUND, "KEY-3nf8A", "API key not found"),
            Error::UnknownIdStore => (
                S::BAD_REQUEST,
                INVALID_ARGUMENT,
                "SESSION-Id5t0",
                "Unknown identity store",
            ),
            Error::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                (
                    S::INTERNAL_SERVER_ERROR,
                    INTERNAL,
                    "SESSION-1nt3r",
                    "Internal error",
                )
            }
        };
        ZitadelError::domain(status, code, id, text)
    }
}

impl From<AuthError> for ZitadelError {
    fn from(err: AuthError) -> ZitadelError {
        match err {
            AuthError::Missing => ZitadelError::plain(
                StatusCode::UNAUTHORIZED,
                UNAUTHENTICATED,
                "auth header missing",
            ),
            AuthError::Invalid => ZitadelError::domain(
                StatusCode::UNAUTHORIZED,
                UNAUTHENTICATED,
                "AUTH-7fs1e",
                "Token is invalid",
            ),
            AuthError::Unavailable => {
                ZitadelError::from(Error::Unavailable(anyhow::anyhow!("key lookup failed")))
            }
        }
    }
}

/// Renders any error poem raised outside a handler (routing, parsing,
/// authentication, body size) in this dialect's shape.
pub fn from_poem(err: poem::Error) -> poem::Response {
    use poem::IntoResponse;
    let mapped = match classify(err) {
        Outside::Rendered(response) => return response,
        Outside::Auth(auth) => ZitadelError::from(auth),
        Outside::NotFound => ZitadelError::plain(StatusCode::NOT_FOUND, NOT_FOUND, "Not Found"),
        Outside::MethodNotAllowed => {
            return json_response(
                StatusCode::METHOD_NOT_ALLOWED,
                serde_json::json!({"code": UNIMPLEMENTED, "message": "Method Not Allowed"}),
            );
        }
        Outside::PayloadTooLarge => ZitadelError::plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            RESOURCE_EXHAUSTED,
            crate::api::body_limit::too_large_message(),
        ),
        Outside::BadRequest(message) => ZitadelError::invalid_argument(message),
        Outside::Internal => ZitadelError::plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            INTERNAL,
            "Internal error",
        ),
    };
    mapped.into_response()
}

/// The answer to a request whose handling panicked.
pub fn panicked() -> poem::Response {
    use poem::IntoResponse;
    ZitadelError::plain(
        StatusCode::INTERNAL_SERVER_ERROR,
        INTERNAL,
        "Internal error",
    )
    .into_response()
}
