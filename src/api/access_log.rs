//! One log line per request, one trace span per request, and the request
//! metrics.
//!
//! The line (INFO, target `sessiond::api::access_log`) has the method, the route
//! template (`/v2alpha/sessions/:sessionId`, or the RPC's own path
//! `/zitadel.session.v2.SessionService/GetSession`), the status, the
//! duration and the dialect. The query string is left out on purpose:
//! ZITADEL's GET carries the session token there, and secrets never reach
//! the logs. Bodies and headers are never logged. The raw path (which may
//! hold session ids, never secrets) is only logged at DEBUG.
//!
//! A path no route knows is labelled `unmatched`, so clients cannot grow
//! the number of metric series.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use poem::PathPattern;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};
use tracing::Instrument as _;

use crate::telemetry::{metrics, otlp};

/// The label of a path that no route matched.
pub const UNMATCHED: &str = "unmatched";

pub struct AccessLog {
    names: Arc<ParamNames>,
}

impl AccessLog {
    /// The access log, naming path parameters as the contract `documents`
    /// do.
    pub fn new(documents: &[super::docs::Document]) -> AccessLog {
        AccessLog {
            names: Arc::new(ParamNames::from_documents(documents)),
        }
    }
}

impl<E: Endpoint> Middleware<E> for AccessLog {
    type Output = AccessLogEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        AccessLogEndpoint {
            inner: ep,
            names: self.names.clone(),
        }
    }
}

pub struct AccessLogEndpoint<E> {
    inner: E,
    names: Arc<ParamNames>,
}

/// poem-openapi's routes name their path parameters `:param0`, `:param1`…;
/// the contract documents have the real names. Route templates by shape
/// (each parameter segment as `*`), to the template with the documents'
/// names: `/v2alpha/sessions/*` to `/v2alpha/sessions/:sessionId`.
#[derive(Default)]
struct ParamNames(std::collections::HashMap<String, String>);

impl ParamNames {
    fn from_documents(documents: &[super::docs::Document]) -> ParamNames {
        let mut names = std::collections::HashMap::new();
        for doc in documents {
            let Ok(spec) = serde_json::from_str::<serde_json::Value>(&doc.json) else {
                continue;
            };
            let Some(paths) = spec["paths"].as_object() else {
                continue;
            };
            for path in paths.keys().filter(|p| p.contains('{')) {
                let template = path
                    .split('/')
                    .map(|segment| match segment.strip_prefix('{') {
                        Some(name) => format!(":{}", name.trim_end_matches('}')),
                        None => segment.to_owned(),
                    })
                    .collect::<Vec<_>>()
                    .join("/");
                names.insert(shape(&template), template);
            }
        }
        ParamNames(names)
    }

    fn name<'a>(&'a self, template: &'a str) -> &'a str {
        if !template.contains(':') {
            return template;
        }
        self.0
            .get(&shape(template))
            .map_or(template, String::as_str)
    }
}

fn shape(template: &str) -> String {
    template
        .split('/')
        .map(|segment| {
            if segment.starts_with(':') {
                "*"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Where [`RouteTemplate`] leaves the template of the route that answered.
#[derive(Clone, Default)]
struct TemplateSlot(Arc<Mutex<Option<Arc<str>>>>);

impl<E: Endpoint> Endpoint for AccessLogEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Self::Output> {
        let method = method_label(req.method());
        let path = req.uri().path().to_owned();
        let dialect = dialect(&path);
        let slot = TemplateSlot::default();
        req.set_data(slot.clone());
        let span = tracing::info_span!(
            "request",
            otel.name = method,
            otel.kind = "server",
            otel.status_code = tracing::field::Empty,
            http.request.method = method,
            http.route = tracing::field::Empty,
            http.response.status_code = tracing::field::Empty,
            sessiond.dialect = dialect,
        );
        otlp::continue_trace(&span, req.headers());
        let started = Instant::now();
        let response = match self.inner.call(req).instrument(span.clone()).await {
            Ok(resp) => resp.into_response(),
            Err(err) => err.into_response(),
        };
        let took = started.elapsed();
        let status = response.status().as_u16();
        let template = slot.0.lock().ok().and_then(|t| t.clone());
        let operation: &str = match (&template, dialect) {
            (Some(template), _) => self.names.name(template),
            // The RPC transports route by the path itself.
            (None, "zitadel-rpc") => rpc_operation(&path).unwrap_or(UNMATCHED),
            (None, _) => response
                .data::<PathPattern>()
                .map(|p| &*p.0)
                .filter(|p| !is_nest_prefix(p))
                .unwrap_or(UNMATCHED),
        };
        otlp::rename(&span, format!("{method} {operation}"));
        span.record("http.route", operation);
        span.record("http.response.status_code", status);
        if response.status().is_server_error() {
            span.record("otel.status_code", "ERROR");
        }
        drop(span);
        metrics::request(dialect, operation, method, status, took);
        let duration_ms = took.as_secs_f64() * 1000.0;
        if response.status().is_server_error() {
            tracing::warn!(
                http.method = method,
                http.route = operation,
                http.status = status,
                duration_ms,
                dialect,
                "request"
            );
        } else {
            tracing::info!(
                http.method = method,
                http.route = operation,
                http.status = status,
                duration_ms,
                dialect,
                "request"
            );
        }
        tracing::debug!(http.path = %path, "request path");
        Ok(response)
    }
}

/// Records the template of the innermost route that matched: wrap each
/// nested API's endpoint in it, where poem still has the pattern (the
/// error handlers outside build new responses without it).
pub struct RouteTemplate;

impl<E: Endpoint> Middleware<E> for RouteTemplate {
    type Output = RouteTemplateEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        RouteTemplateEndpoint { inner: ep }
    }
}

pub struct RouteTemplateEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> Endpoint for RouteTemplateEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let slot = req.data::<TemplateSlot>().cloned();
        let result = self.inner.call(req).await.map(IntoResponse::into_response);
        let pattern = match &result {
            Ok(resp) => resp.data::<PathPattern>(),
            Err(err) => err.data::<PathPattern>(),
        };
        if let (Some(slot), Some(pattern)) = (slot, pattern)
            && let Ok(mut template) = slot.0.lock()
        {
            *template = Some(pattern.0.clone());
        }
        result
    }
}

/// The nest patterns that the outer router reports when no inner route
/// matched.
fn is_nest_prefix(pattern: &str) -> bool {
    matches!(
        pattern,
        super::ZITADEL_PREFIX | "/v2" | "/v2beta" | super::ADMIN_PREFIX | super::OAM_PREFIX
    )
}

/// Methods as labels: the standard ones, and `OTHER` for anything else.
fn method_label(method: &poem::http::Method) -> &'static str {
    use poem::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// Which API a path belongs to: `zitadel-v2alpha`, `zitadel-v2`,
/// `zitadel-v2beta`, `zitadel-rpc`, `oam`, `admin` or `other`.
pub fn dialect(path: &str) -> &'static str {
    let under = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    if super::rpc::is_rpc_path(path) {
        "zitadel-rpc"
    } else if under(super::ZITADEL_PREFIX) {
        "zitadel-v2alpha"
    } else if under("/v2beta") {
        "zitadel-v2beta"
    } else if under("/v2") {
        "zitadel-v2"
    } else if under(super::OAM_PREFIX) {
        "oam"
    } else if under(super::ADMIN_PREFIX) {
        "admin"
    } else {
        "other"
    }
}

/// An RPC path is its own template, when it names a method sessiond
/// serves.
fn rpc_operation(path: &str) -> Option<&'static str> {
    static KNOWN: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let known = KNOWN.get_or_init(|| {
        let mut known: Vec<String> = [
            "/grpc.health.v1.Health/Check",
            "/grpc.health.v1.Health/Watch",
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        ]
        .map(str::to_owned)
        .into();
        if let Ok(pool) =
            buffa_descriptor::DescriptorPool::decode(super::rpc::proto::DESCRIPTOR_SET)
        {
            for service in pool.services() {
                if !super::rpc::SERVICES.contains(&service.full_name()) {
                    continue;
                }
                for method in service.methods() {
                    known.push(format!("/{}/{}", service.full_name(), method.name()));
                }
            }
        }
        known
    });
    known.iter().find(|k| *k == path).map(String::as_str)
}

#[cfg(test)]
mod tests {
    #[test]
    fn dialects_by_prefix() {
        assert_eq!(super::dialect("/v2alpha/sessions/x"), "zitadel-v2alpha");
        assert_eq!(super::dialect("/v2/sessions"), "zitadel-v2");
        assert_eq!(super::dialect("/v2beta/sessions/x"), "zitadel-v2beta");
        assert_eq!(super::dialect("/v2x"), "other");
        assert_eq!(
            super::dialect("/zitadel.session.v2.SessionService/GetSession"),
            "zitadel-rpc"
        );
        assert_eq!(super::dialect("/admin/v1/users"), "admin");
        assert_eq!(
            super::dialect("/oam/services/rest/access/api/v1/session"),
            "oam"
        );
        assert_eq!(super::dialect("/healthz"), "other");
    }

    #[test]
    fn rpc_methods_are_known_and_others_are_not() {
        assert_eq!(
            super::rpc_operation("/zitadel.session.v2.SessionService/GetSession"),
            Some("/zitadel.session.v2.SessionService/GetSession")
        );
        assert_eq!(
            super::rpc_operation("/zitadel.session.v2.SessionService/Nope"),
            None
        );
    }
}
