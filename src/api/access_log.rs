//! One log line per request: method, path, status and duration. The query
//! string is left out on purpose: ZITADEL's GET carries the session token
//! there, and secrets never reach the logs. Bodies are never logged.

use std::time::Instant;

use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};

pub struct AccessLog;

impl<E: Endpoint> Middleware<E> for AccessLog {
    type Output = AccessLogEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        AccessLogEndpoint { inner: ep }
    }
}

pub struct AccessLogEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> Endpoint for AccessLogEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let started = Instant::now();
        let response = match self.inner.call(req).await {
            Ok(resp) => resp.into_response(),
            Err(err) => err.into_response(),
        };
        let status = response.status().as_u16();
        let micros = started.elapsed().as_micros() as u64;
        if response.status().is_server_error() {
            tracing::warn!(http.method = %method, http.path = %path, http.status = status, duration_us = micros, "request");
        } else {
            tracing::debug!(http.method = %method, http.path = %path, http.status = status, duration_us = micros, "request");
        }
        Ok(response)
    }
}
