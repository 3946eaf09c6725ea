//! ZITADEL's error shape: a gRPC status with an ErrorDetail, and the HTTP
//! status ZITADEL's gateway maps each gRPC code to.

use poem::http::StatusCode;
use poem_openapi::ApiResponse;
use poem_openapi::payload::Json;

use super::status::Status;
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

impl From<Status> for ZitadelError {
    fn from(status: Status) -> ZitadelError {
        let http = status.code.http_status();
        match status.id {
            Some(id) => ZitadelError::domain(http, status.code.number(), id, &status.text),
            None => ZitadelError::plain(http, status.code.number(), status.text),
        }
    }
}

impl From<Error> for ZitadelError {
    fn from(err: Error) -> ZitadelError {
        Status::from(&err).into()
    }
}

impl From<AuthError> for ZitadelError {
    fn from(err: AuthError) -> ZitadelError {
        Status::from(err).into()
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
