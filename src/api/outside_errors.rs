//! Errors raised outside handlers (routing, body parsing, authentication,
//! body size), sorted into the few kinds every dialect renders. Each
//! dialect maps these kinds to its own shape with an exhaustive match.

use poem::http::StatusCode;

use super::auth::AuthError;

pub enum Outside {
    /// Already a response in the dialect's shape (a handler's own error).
    Rendered(poem::Response),
    Auth(AuthError),
    NotFound,
    MethodNotAllowed,
    PayloadTooLarge,
    /// The request is malformed; the text says how.
    BadRequest(String),
    Internal,
}

pub fn classify(err: poem::Error) -> Outside {
    if err.is_from_response() {
        return Outside::Rendered(err.into_response());
    }
    if let Some(auth) = err.downcast_ref::<AuthError>() {
        return Outside::Auth(*auth);
    }
    match err.status() {
        StatusCode::NOT_FOUND => Outside::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => Outside::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => Outside::PayloadTooLarge,
        // poem-openapi's own "no credentials" error.
        StatusCode::UNAUTHORIZED => Outside::Auth(AuthError::Missing),
        s if s.is_client_error() => Outside::BadRequest(err.to_string()),
        _ => {
            tracing::error!(error = %err, "unexpected error");
            Outside::Internal
        }
    }
}

/// A JSON body with a given status, for the one case (405) that no
/// operation declares and so has no response type.
pub fn json_response(status: StatusCode, body: serde_json::Value) -> poem::Response {
    poem::Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .body(body.to_string())
}
