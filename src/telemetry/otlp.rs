//! OpenTelemetry traces, exported over OTLP/HTTP (protobuf) when an
//! endpoint is configured (`SESSIOND_OTLP_ENDPOINT`).
//!
//! Every request is one `server` span (see `api::access_log`) that continues
//! the caller's trace when a W3C `traceparent` header comes with it; the
//! database queries (sea-orm's `sea_orm.*` spans) and the password hashing
//! (`password.hash`, `password.verify`) are its children. Spans carry no
//! bodies, query strings, headers or secrets.
//!
//! Spans are exported in batches from a thread of their own: a request
//! never waits for the collector, a full queue drops spans instead of
//! growing, and a collector that is down costs only failed exports.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context as _;
use opentelemetry::propagation::{Extractor, TextMapPropagator as _};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider, SpanData, SpanProcessor};
use tracing_subscriber::Layer as _;

/// Whether spans are exported: until [`enable`], the trace layer sees no
/// span at all and costs nothing.
static ENABLED: AtomicBool = AtomicBool::new(false);
static SWITCH: OnceLock<Arc<Switch>> = OnceLock::new();
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// The span processor of the process's tracer provider: empty until
/// [`enable`] puts the exporting batch processor in it.
#[derive(Debug)]
struct Switch {
    batch: OnceLock<BatchSpanProcessor>,
    resource: Resource,
}

#[derive(Debug)]
struct SwitchProcessor(Arc<Switch>);

impl SpanProcessor for SwitchProcessor {
    fn on_start(&self, span: &mut opentelemetry_sdk::trace::Span, cx: &opentelemetry::Context) {
        if let Some(batch) = self.0.batch.get() {
            batch.on_start(span, cx);
        }
    }

    fn on_end(&self, span: SpanData) {
        if let Some(batch) = self.0.batch.get() {
            batch.on_end(span);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.batch.get().map_or(Ok(()), |b| b.force_flush())
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0
            .batch
            .get()
            .map_or(Ok(()), |b| b.shutdown_with_timeout(timeout))
    }
}

/// The subscriber's trace layer (see [`super::init`]): it sees spans at
/// INFO and above, once [`enable`] has been called, and none before.
pub(crate) fn layer<S>() -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
{
    let resource = Resource::builder()
        .with_service_name("sessiond")
        .with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            env!("CARGO_PKG_VERSION"),
        ))
        .build();
    let switch = SWITCH
        .get_or_init(|| {
            Arc::new(Switch {
                batch: OnceLock::new(),
                resource: resource.clone(),
            })
        })
        .clone();
    let provider = PROVIDER.get_or_init(|| {
        SdkTracerProvider::builder()
            .with_span_processor(SwitchProcessor(switch))
            .with_resource(resource)
            .build()
    });
    tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("sessiond"))
        .with_error_records_to_exceptions(false)
        .with_tracked_inactivity(false)
        .with_threads(false)
        .with_filter(
            tracing_subscriber::filter::filter_fn(|meta| {
                ENABLED.load(Ordering::Relaxed) && *meta.level() <= tracing::Level::INFO
            })
            .with_max_level_hint(tracing::level_filters::LevelFilter::INFO),
        )
}

/// Where the spans go: `endpoint` is the collector's base URL (as
/// `OTEL_EXPORTER_OTLP_ENDPOINT`, e.g. `http://collector:4318`); `/v1/traces`
/// is added unless the URL already ends with it.
pub fn traces_url(endpoint: &str) -> String {
    let endpoint = endpoint.trim();
    if endpoint.ends_with("/v1/traces") {
        endpoint.to_owned()
    } else {
        format!("{}/v1/traces", endpoint.trim_end_matches('/'))
    }
}

/// The exporting side; shut it down at exit to send the last spans.
pub struct Exporter {
    switch: Arc<Switch>,
}

impl Exporter {
    /// Sends the spans still queued (waiting at most the export timeout)
    /// and stops the export thread.
    pub async fn shutdown(self) {
        ENABLED.store(false, Ordering::Relaxed);
        let switch = self.switch;
        let _ = tokio::task::spawn_blocking(move || {
            if let Some(batch) = switch.batch.get()
                && let Err(err) = batch.shutdown()
            {
                tracing::debug!(error = %err, "stopping the trace exporter");
            }
        })
        .await;
    }
}

/// Starts exporting the spans of the global subscriber (see
/// [`super::init`]) to `endpoint`, over OTLP/HTTP with protobuf bodies.
/// Spans go out in batches from a thread of their own (the SDK's
/// `OTEL_BSP_*` variables tune it); a full queue drops spans.
pub fn enable(endpoint: &str) -> anyhow::Result<Exporter> {
    let switch = SWITCH
        .get()
        .context("the log subscriber is not installed; traces cannot be exported")?
        .clone();
    let url = traces_url(endpoint);
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(url.clone())
        .with_timeout(Duration::from_secs(5))
        .build()
        .with_context(|| format!("cannot export traces to {url}"))?;
    let mut batch = BatchSpanProcessor::builder(exporter).build();
    batch.set_resource(&switch.resource);
    if switch.batch.set(batch).is_err() {
        anyhow::bail!("traces are exported already");
    }
    ENABLED.store(true, Ordering::Relaxed);
    // The layer's filter answers differently now.
    tracing::callsite::rebuild_interest_cache();
    tracing::info!(endpoint = %url, "exporting traces over OTLP/HTTP");
    Ok(Exporter { switch })
}

/// Names the request span once its route is known (`POST
/// /v2alpha/sessions`).
pub fn rename(span: &tracing::Span, name: String) {
    use opentelemetry::trace::TraceContextExt as _;
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    if ENABLED.load(Ordering::Relaxed) && !span.is_disabled() {
        span.context().span().update_name(name);
    }
}

/// Makes `span` continue the trace of a W3C `traceparent` (and
/// `tracestate`) header, if the request has a valid one.
pub fn continue_trace(span: &tracing::Span, headers: &poem::http::HeaderMap) {
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    if !headers.contains_key("traceparent") {
        return;
    }
    let parent = TraceContextPropagator::new().extract(&Headers(headers));
    let _ = span.set_parent(parent);
}

struct Headers<'a>(&'a poem::http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}
