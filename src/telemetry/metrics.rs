//! Prometheus metrics, in the text exposition format at `/metrics`.
//!
//! The `metrics` facade records; one process-wide Prometheus recorder
//! (installed once, on first use) renders. Labels come from fixed sets
//! (dialects, route templates, results), never from request data, so the
//! number of series stays bounded whatever clients send.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use poem::{EndpointExt as _, Response};

use crate::store::Store;

/// Every metric's name.
pub mod name {
    pub const HTTP_REQUESTS: &str = "sessiond_http_requests_total";
    pub const HTTP_DURATION: &str = "sessiond_http_request_duration_seconds";
    pub const HASH_QUEUE_DEPTH: &str = "sessiond_password_hash_queue_depth";
    pub const HASH_WAIT: &str = "sessiond_password_hash_wait_seconds";
    pub const HASH_DURATION: &str = "sessiond_password_hash_duration_seconds";
    pub const HASH_REJECTED: &str = "sessiond_password_hash_rejected_total";
    pub const VERIFICATIONS: &str = "sessiond_password_verifications_total";
    pub const DB_CONNECTIONS: &str = "sessiond_db_pool_connections";
    pub const DB_MAX_CONNECTIONS: &str = "sessiond_db_pool_max_connections";
    pub const DB_ACQUIRE: &str = "sessiond_db_pool_acquire_seconds";
    pub const LOCKOUTS: &str = "sessiond_lockouts_total";
    pub const SESSIONS_CREATED: &str = "sessiond_sessions_created_total";
    pub const SESSIONS_TERMINATED: &str = "sessiond_sessions_terminated_total";
}

/// Latency buckets, in seconds: 1 ms to 10 s.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's Prometheus recorder, installed on first use. Metrics
/// recorded before it is installed are lost, so start-up calls this early.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), BUCKETS)
            .expect("the buckets are not empty")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics stays empty");
        }
        describe();
        handle
    })
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        name::HTTP_REQUESTS,
        "Requests answered, by dialect, operation (route template), method and status."
    );
    describe_histogram!(
        name::HTTP_DURATION,
        Unit::Seconds,
        "Time to answer a request (until the response head), by dialect, operation and method."
    );
    describe_gauge!(
        name::HASH_QUEUE_DEPTH,
        "Password hashes waiting for a hashing worker."
    );
    describe_histogram!(
        name::HASH_WAIT,
        Unit::Seconds,
        "Time a password hash waited for a hashing worker."
    );
    describe_histogram!(
        name::HASH_DURATION,
        Unit::Seconds,
        "Time a hashing worker spent on one password, by operation (hash, verify)."
    );
    describe_counter!(
        name::HASH_REJECTED,
        "Password hashes refused because the hashing queue was full (answered 429)."
    );
    describe_counter!(
        name::VERIFICATIONS,
        "Password verifications, by result: match, mismatch, or unknown_user (a dummy verify)."
    );
    describe_gauge!(
        name::DB_CONNECTIONS,
        "Database pool connections, by pool (reader, writer or main) and state (in_use, idle)."
    );
    describe_gauge!(
        name::DB_MAX_CONNECTIONS,
        "Largest size of each database pool."
    );
    describe_histogram!(
        name::DB_ACQUIRE,
        Unit::Seconds,
        "Time a query waited to get a connection from a database pool (any pool)."
    );
    describe_counter!(
        name::LOCKOUTS,
        "Users locked after too many wrong passwords."
    );
    describe_counter!(
        name::SESSIONS_CREATED,
        "Sessions created, by origin (zitadel, oam)."
    );
    describe_counter!(
        name::SESSIONS_TERMINATED,
        "Sessions terminated, by reason (deleted, revoked)."
    );
}

/// One answered request.
pub fn request(dialect: &'static str, operation: &str, method: &str, status: u16, took: Duration) {
    let operation = operation.to_owned();
    metrics::counter!(
        name::HTTP_REQUESTS,
        "dialect" => dialect,
        "operation" => operation.clone(),
        "method" => method.to_owned(),
        "status" => status.to_string(),
    )
    .increment(1);
    metrics::histogram!(
        name::HTTP_DURATION,
        "dialect" => dialect,
        "operation" => operation,
        "method" => method.to_owned(),
    )
    .record(took.as_secs_f64());
}

pub fn session_created(origin: &'static str) {
    metrics::counter!(name::SESSIONS_CREATED, "origin" => origin).increment(1);
}

pub fn sessions_terminated(reason: &'static str, count: u64) {
    if count > 0 {
        metrics::counter!(name::SESSIONS_TERMINATED, "reason" => reason).increment(count);
    }
}

pub fn lockout() {
    metrics::counter!(name::LOCKOUTS).increment(1);
}

/// The hashing pool's figures (see `crate::password`).
pub mod hashing {
    use super::name;
    use std::time::Duration;

    pub fn queued() {
        metrics::gauge!(name::HASH_QUEUE_DEPTH).increment(1.0);
    }

    /// A job that could not be queued after all.
    pub fn unqueued() {
        metrics::gauge!(name::HASH_QUEUE_DEPTH).decrement(1.0);
    }

    /// A worker took the job after `waited`.
    pub fn started(waited: Duration) {
        metrics::gauge!(name::HASH_QUEUE_DEPTH).decrement(1.0);
        metrics::histogram!(name::HASH_WAIT).record(waited.as_secs_f64());
    }

    pub fn finished(operation: &'static str, took: Duration) {
        metrics::histogram!(name::HASH_DURATION, "operation" => operation)
            .record(took.as_secs_f64());
    }

    pub fn rejected() {
        metrics::counter!(name::HASH_REJECTED).increment(1);
    }

    /// `result`: `match`, `mismatch` or `unknown_user`.
    pub fn verified(result: &'static str) {
        metrics::counter!(name::VERIFICATIONS, "result" => result).increment(1);
    }
}

/// One pool's figures, as sqlx keeps them.
struct PoolStats {
    size: u32,
    idle: usize,
    max: u32,
    /// Tells pools apart: clones of one pool share it.
    identity: usize,
}

fn pool_stats(db: &sea_orm::DatabaseConnection) -> Option<PoolStats> {
    use sea_orm::DatabaseConnectionType as Type;
    fn of<DB: sea_orm::sqlx::Database>(pool: &sea_orm::sqlx::Pool<DB>) -> PoolStats {
        PoolStats {
            size: pool.size(),
            idle: pool.num_idle(),
            max: pool.options().get_max_connections(),
            identity: std::sync::Arc::as_ptr(&pool.connect_options()) as *const () as usize,
        }
    }
    match &db.inner {
        Type::SqlxSqlitePoolConnection(_) => Some(of(db.get_sqlite_connection_pool())),
        Type::SqlxPostgresPoolConnection(_) => Some(of(db.get_postgres_connection_pool())),
        _ => None,
    }
}

/// Sets the pool gauges from the store's pools, as they are now: in use
/// and idle connections of each. On PostgreSQL reads and writes share one
/// pool (`main`); on SQLite they have their own (`reader`, `writer`).
pub fn observe_pools(store: &Store) {
    let reader = pool_stats(&store.reader);
    let writer = pool_stats(&store.writer);
    let pools: Vec<(&'static str, PoolStats)> = match (reader, writer) {
        (Some(r), Some(w)) if r.identity == w.identity => vec![("main", r)],
        (r, w) => [("reader", r), ("writer", w)]
            .into_iter()
            .filter_map(|(name, s)| s.map(|s| (name, s)))
            .collect(),
    };
    for (pool, stats) in pools {
        let in_use = f64::from(stats.size) - stats.idle as f64;
        metrics::gauge!(name::DB_CONNECTIONS, "pool" => pool, "state" => "in_use")
            .set(in_use.max(0.0));
        metrics::gauge!(name::DB_CONNECTIONS, "pool" => pool, "state" => "idle")
            .set(stats.idle as f64);
        metrics::gauge!(name::DB_MAX_CONNECTIONS, "pool" => pool).set(f64::from(stats.max));
    }
}

/// The text exposition, with the pool gauges read just now.
pub fn render(store: &Store) -> String {
    let handle = handle();
    observe_pools(store);
    handle.run_upkeep();
    handle.render()
}

/// `GET /metrics`; when not `enabled` (the metrics have an address of
/// their own), every request is not found, as on an unknown path.
pub fn endpoint(store: Store, enabled: bool) -> poem::endpoint::BoxEndpoint<'static> {
    if !enabled {
        return poem::endpoint::make(|_| async {
            Err::<Response, _>(poem::Error::from(poem::error::NotFoundError))
        })
        .boxed();
    }
    poem::get(poem::endpoint::make(move |_| {
        let store = store.clone();
        async move {
            Response::builder()
                .content_type("text/plain; version=0.0.4; charset=utf-8")
                .header(poem::http::header::CACHE_CONTROL, "no-store")
                .body(render(&store))
        }
    }))
    .boxed()
}

/// Times the pools' connection acquires: sqlx reports each acquire's wait
/// as a `sqlx::pool::acquire` event (with `acquired_after_secs`) when the
/// pool asks for it, which `store::connect` does. This layer turns those
/// events into [`name::DB_ACQUIRE`]. sqlx says nothing of which pool it
/// was, so the histogram has no pool label.
pub struct AcquireTimer;

impl AcquireTimer {
    /// The layer, listening to nothing but sqlx's acquire events.
    pub fn layer<S>() -> impl tracing_subscriber::Layer<S>
    where
        S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
    {
        use tracing_subscriber::Layer as _;
        AcquireTimer.with_filter(
            tracing_subscriber::filter::Targets::new()
                .with_target(ACQUIRE_TARGET, tracing::Level::TRACE),
        )
    }
}

const ACQUIRE_TARGET: &str = "sqlx::pool::acquire";

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for AcquireTimer {
    fn on_event(
        &self,
        event: &tracing::Event<'_>,
        _ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        if event.metadata().target() != ACQUIRE_TARGET {
            return;
        }
        struct Visitor(Option<f64>);
        impl tracing::field::Visit for Visitor {
            fn record_f64(&mut self, field: &tracing::field::Field, value: f64) {
                if field.name() == "acquired_after_secs" {
                    self.0 = Some(value);
                }
            }
            fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
        }
        let mut visitor = Visitor(None);
        event.record(&mut visitor);
        if let Some(secs) = visitor.0 {
            metrics::histogram!(name::DB_ACQUIRE).record(secs);
        }
    }
}
