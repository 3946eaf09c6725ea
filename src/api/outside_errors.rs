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

/// Renders errors that the outer router raises before a dialect's own
/// routes run (a path that does not decode to UTF-8, say) in the shape of
/// the dialect whose prefix the path has.
pub struct ByPrefix(pub Vec<(&'static str, Renderer)>);

/// A dialect's rendering of an error raised outside its handlers.
pub type Renderer = fn(poem::Error) -> poem::Response;

impl<E: poem::Endpoint> poem::Middleware<E> for ByPrefix {
    type Output = ByPrefixEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        ByPrefixEndpoint {
            inner: ep,
            renderers: self.0.clone(),
        }
    }
}

pub struct ByPrefixEndpoint<E> {
    inner: E,
    renderers: Vec<(&'static str, Renderer)>,
}

impl<E: poem::Endpoint> poem::Endpoint for ByPrefixEndpoint<E> {
    type Output = poem::Response;

    async fn call(&self, req: poem::Request) -> poem::Result<Self::Output> {
        use poem::IntoResponse;
        let path = req.uri().path().to_owned();
        match self.inner.call(req).await {
            Ok(response) => Ok(response.into_response()),
            Err(err) => match self
                .renderers
                .iter()
                .find(|(prefix, _)| path.starts_with(&format!("{prefix}/")))
            {
                Some((_, render)) => Ok(render(err)),
                None => Err(err),
            },
        }
    }
}
