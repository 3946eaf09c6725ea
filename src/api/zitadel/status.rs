//! The one mapping of domain errors to ZITADEL statuses. Every ZITADEL
//! transport renders from here: the REST gateway as an HTTP status with an
//! `rpcStatus` body, Connect as its error code, gRPC and gRPC-Web as
//! `grpc-status`.

use poem::http::StatusCode;

use crate::api::auth::AuthError;
use crate::domain::Error;

/// The gRPC codes ZITADEL's session service answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    FailedPrecondition,
    Unimplemented,
    Internal,
    Unavailable,
    Unauthenticated,
}

impl Code {
    pub fn number(self) -> i32 {
        match self {
            Code::InvalidArgument => 3,
            Code::NotFound => 5,
            Code::PermissionDenied => 7,
            Code::ResourceExhausted => 8,
            Code::FailedPrecondition => 9,
            Code::Unimplemented => 12,
            Code::Internal => 13,
            Code::Unavailable => 14,
            Code::Unauthenticated => 16,
        }
    }

    /// The HTTP status ZITADEL's REST gateway sends for the code; ZITADEL
    /// maps a failed precondition to 400.
    pub fn http_status(self) -> StatusCode {
        match self {
            Code::InvalidArgument | Code::FailedPrecondition => StatusCode::BAD_REQUEST,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::PermissionDenied => StatusCode::FORBIDDEN,
            Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
            Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        }
    }
}

/// A ZITADEL status: a code, and for errors raised by the service an id
/// (ZITADEL's `ErrorDetail.id`) beside the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub code: Code,
    pub id: Option<&'static str>,
    pub text: String,
}

impl Status {
    fn domain(code: Code, id: &'static str, text: impl Into<String>) -> Status {
        Status {
            code,
            id: Some(id),
            text: text.into(),
        }
    }

    /// A status raised before the service (validation, routing): no id.
    pub fn plain(code: Code, text: impl Into<String>) -> Status {
        Status {
            code,
            id: None,
            text: text.into(),
        }
    }

    /// ZITADEL's message: `<text> (<id>)` for service errors.
    pub fn message(&self) -> String {
        match self.id {
            Some(id) => format!("{} ({id})", self.text),
            None => self.text.clone(),
        }
    }
}

impl From<&Error> for Status {
    fn from(err: &Error) -> Status {
        use Code as C;
        let (code, id, text) = match err {
            Error::TooLarge { .. } => {
                return Status::domain(C::InvalidArgument, "SESSION-L1m1t", err.to_string());
            }
            Error::InvalidText { .. } => {
                return Status::domain(C::InvalidArgument, "SESSION-n0NuL", err.to_string());
            }
            Error::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable");
                (
                    C::Unavailable,
                    "SESSION-Unav1",
                    "Database unavailable, retry later",
                )
            }
            Error::SessionNotFound => (C::NotFound, "QUERY-SFeaa", "Session does not exist"),
            Error::SessionTerminated => (
                C::FailedPrecondition,
                "COMAND-SAjeh",
                "Session already terminated",
            ),
            Error::SessionExpired | Error::SessionIdle => (
                C::FailedPrecondition,
                "COMMAND-Hkl3d",
                "Session has expired",
            ),
            Error::SessionTokenInvalid => (
                C::PermissionDenied,
                "COMMAND-sGr42",
                "Session Token is invalid",
            ),
            Error::PermissionDenied => (
                C::PermissionDenied,
                "AUTHZ-HKJD33",
                "No matching permissions found",
            ),
            Error::UserNotFound => (C::NotFound, "QUERY-Dfbg2", "User could not be found"),
            Error::UserNotActive => (C::FailedPrecondition, "SESSION-Gj4ko", "User is not active"),
            Error::UserChangeNotPossible => (
                C::InvalidArgument,
                "SESSION-Nc7h2",
                "user change not possible",
            ),
            Error::UserIdMissing => (C::FailedPrecondition, "COMMAND-Sfw3f", "User ID missing"),
            Error::PasswordInvalid => (C::InvalidArgument, "COMMAND-SAF3g", "Password is invalid"),
            Error::SessionLimitReached => (
                C::FailedPrecondition,
                "SESSION-Lm8x4",
                "Maximum number of sessions for the user reached",
            ),
            Error::SearchLimitTooLarge { .. } => (
                C::InvalidArgument,
                "QUERY-4M0fs",
                "Limit exceeds the maximum",
            ),
            Error::HashingBusy => (
                C::ResourceExhausted,
                "SESSION-B7s2q",
                "Too many password checks in progress, retry later",
            ),
            // Not reachable from this dialect's operations; kept explicit
            // so a new variant forces a decision here.
            Error::LoginNameTaken => (
                C::InvalidArgument,
                "USER-9d2Kf",
                "Login name is already taken",
            ),
            Error::KeyNotFound => (C::NotFound, "KEY-3nf8A", "API key not found"),
            Error::UnknownIdStore => (
                C::InvalidArgument,
                "SESSION-Id5t0",
                "Unknown identity store",
            ),
            Error::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                (C::Internal, "SESSION-1nt3r", "Internal error")
            }
        };
        Status::domain(code, id, text)
    }
}

impl From<AuthError> for Status {
    fn from(err: AuthError) -> Status {
        match err {
            AuthError::Missing => Status::plain(Code::Unauthenticated, "auth header missing"),
            AuthError::Invalid => {
                Status::domain(Code::Unauthenticated, "AUTH-7fs1e", "Token is invalid")
            }
            AuthError::Unavailable => {
                Status::from(&Error::Unavailable(anyhow::anyhow!("key lookup failed")))
            }
        }
    }
}
