//! Caps request bodies and defaults their content type to JSON. poem's own `SizeLimit` needs a Content-Length, which
//! chunked requests lack, so the body is read here with a hard limit.

use poem::http::StatusCode;
use poem::{Endpoint, Middleware, Request, Result};

/// Large enough for the largest body the documents allow (a create with
/// the most metadata keys, each at its longest, JSON-escaped), so that a
/// 413 only ever meets a body that is invalid anyway. A test checks that.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The 413 message of every dialect.
pub fn too_large_message() -> String {
    format!("request body exceeds {MAX_BODY_BYTES} bytes")
}

/// The body is read within `read_timeout`, so a client that trickles its
/// body cannot hold a request open.
pub struct BodyLimit {
    pub read_timeout: std::time::Duration,
}

impl<E: Endpoint> Middleware<E> for BodyLimit {
    type Output = BodyLimitEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        BodyLimitEndpoint {
            inner: ep,
            read_timeout: self.read_timeout,
        }
    }
}

pub struct BodyLimitEndpoint<E> {
    inner: E,
    read_timeout: std::time::Duration,
}

impl<E: Endpoint> Endpoint for BodyLimitEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        let declared = req
            .headers()
            .get(poem::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > MAX_BODY_BYTES as u64) {
            return Err(poem::Error::from_status(StatusCode::PAYLOAD_TOO_LARGE));
        }
        let body = req.take_body();
        let read = tokio::time::timeout(self.read_timeout, body.into_bytes_limit(MAX_BODY_BYTES));
        let Ok(read) = read.await else {
            return Err(poem::Error::from_string(
                format!(
                    "request body not received within {} s",
                    self.read_timeout.as_secs()
                ),
                StatusCode::BAD_REQUEST,
            ));
        };
        let bytes = read.map_err(|err| match err {
            poem::error::ReadBodyError::PayloadTooLarge => {
                poem::Error::from_status(StatusCode::PAYLOAD_TOO_LARGE)
            }
            other => poem::Error::from_string(other.to_string(), StatusCode::BAD_REQUEST),
        })?;
        // Bodies are JSON whatever the client declares, as in ZITADEL's
        // gateway; this also lets optional bodies (DELETE) be left out.
        if !req.headers().contains_key(poem::http::header::CONTENT_TYPE) {
            req.headers_mut().insert(
                poem::http::header::CONTENT_TYPE,
                poem::http::HeaderValue::from_static("application/json"),
            );
        }
        req.set_body(bytes);
        self.inner.call(req).await
    }
}
