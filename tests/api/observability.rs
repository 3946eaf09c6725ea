//! Observability: the Prometheus metrics (scraped and parsed with a real
//! text-format parser), the OpenTelemetry traces (received by an OTLP/HTTP
//! collector inside the test), the access log and the start-up log (read
//! from the binary's standard error).

use std::collections::HashMap;
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use poem::http::{Method, StatusCode};
use serde_json::{Value, json};
use tracing_subscriber::layer::SubscriberExt as _;

use crate::helpers::{ADMIN_KEY, TestApp};

// ------------------------------------------------------------------ metrics

fn labels(sample: &prometheus_parse::Sample) -> HashMap<String, String> {
    sample
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn value(sample: &prometheus_parse::Sample) -> f64 {
    match &sample.value {
        prometheus_parse::Value::Counter(v)
        | prometheus_parse::Value::Gauge(v)
        | prometheus_parse::Value::Untyped(v) => *v,
        prometheus_parse::Value::Histogram(buckets) => {
            buckets.last().map(|b| b.count).unwrap_or_default()
        }
        prometheus_parse::Value::Summary(_) => f64::NAN,
    }
}

async fn scrape(app: &TestApp) -> prometheus_parse::Scrape {
    let resp = app.client.get("/metrics").send().await;
    resp.assert_status_is_ok();
    let content_type = resp.0.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = resp.0.into_body().into_string().await.unwrap();
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    prometheus_parse::Scrape::parse(lines).expect("the exposition parses")
}

/// The samples of `metric` whose labels include every pair of `with`.
fn series<'a>(
    scrape: &'a prometheus_parse::Scrape,
    metric: &str,
    with: &[(&str, &str)],
) -> Vec<&'a prometheus_parse::Sample> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric)
        .filter(|s| {
            let l = labels(s);
            with.iter()
                .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .collect()
}

fn assert_series(scrape: &prometheus_parse::Scrape, metric: &str, with: &[(&str, &str)]) -> f64 {
    let found = series(scrape, metric, with);
    assert!(
        !found.is_empty(),
        "no {metric} with {with:?}; have: {:#?}",
        scrape
            .samples
            .iter()
            .filter(|s| s.metric == metric)
            .map(labels)
            .collect::<Vec<_>>()
    );
    found.iter().map(|s| value(s)).sum()
}

#[tokio::test]
async fn metrics_report_requests_hashing_pools_and_sessions() {
    // sqlx reports pool acquires as trace events; the app's subscriber
    // times them. This test installs the same layer for its own thread.
    let subscriber =
        tracing_subscriber::registry().with(sessiond::telemetry::metrics::AcquireTimer::layer());
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = TestApp::spawn_with(|c| c.lockout_threshold = 2).await;
    let user_id = app.create_user("metrics-user", "metrics-pass-1").await;
    let (id, token) = app
        .zitadel_create(
            ADMIN_KEY,
            json!({"checks": {"user": {"userId": user_id}, "password": {"password": "metrics-pass-1"}}}),
        )
        .await;
    let r = app.zitadel_get_with_token(&id, &token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .admin(
            Method::GET,
            &format!("/v2alpha/sessions/{id}-missing"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // The v2 REST gateway, OAM, and an RPC over Connect's JSON.
    let r = app
        .admin(Method::GET, &format!("/v2/sessions/{id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app.oam_search_all().await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let rpc = app
        .client
        .post("/zitadel.session.v2.SessionService/GetSession")
        .header("authorization", format!("Bearer {ADMIN_KEY}"))
        .content_type("application/json")
        .body(json!({"sessionId": id}).to_string())
        .send()
        .await;
    rpc.assert_status_is_ok();
    // Unknown paths, RPC-like and not, share one label.
    let _ = app.client.get(format!("/no/such/{id}")).send().await;
    let _ = app
        .client
        .post(format!("/made.up.Service/{id}"))
        .content_type("application/json")
        .body("{}")
        .send()
        .await;
    // A deleted session, and a lockout after two wrong passwords.
    let r = app
        .admin(Method::DELETE, &format!("/v2alpha/sessions/{id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let wrong = json!({"checks": {"user": {"userId": user_id}, "password": {"password": "bad"}}});
    for _ in 0..2 {
        let r = app
            .admin(Method::POST, "/v2alpha/sessions", Some(wrong.clone()))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    }

    let scrape = scrape(&app).await;
    const REQUESTS: &str = "sessiond_http_requests_total";
    assert_series(
        &scrape,
        REQUESTS,
        &[
            ("dialect", "zitadel-v2alpha"),
            ("operation", "/v2alpha/sessions"),
            ("method", "POST"),
            ("status", "201"),
        ],
    );
    assert_series(
        &scrape,
        REQUESTS,
        &[
            ("dialect", "zitadel-v2alpha"),
            ("operation", "/v2alpha/sessions/:sessionId"),
            ("method", "GET"),
            ("status", "200"),
        ],
    );
    assert_series(
        &scrape,
        REQUESTS,
        &[
            ("dialect", "zitadel-v2alpha"),
            ("operation", "/v2alpha/sessions/:sessionId"),
            ("status", "404"),
        ],
    );
    assert_series(
        &scrape,
        REQUESTS,
        &[
            ("dialect", "zitadel-v2"),
            ("operation", "/v2/sessions/:sessionId"),
            ("status", "200"),
        ],
    );
    assert_series(
        &scrape,
        REQUESTS,
        &[("dialect", "oam"), ("status", "200"), ("method", "POST")],
    );
    assert_series(
        &scrape,
        REQUESTS,
        &[
            ("dialect", "admin"),
            ("operation", "/admin/v1/users"),
            ("status", "201"),
        ],
    );
    assert_series(
        &scrape,
        REQUESTS,
        &[
            ("dialect", "zitadel-rpc"),
            ("operation", "/zitadel.session.v2.SessionService/GetSession"),
            ("status", "200"),
        ],
    );
    assert_series(
        &scrape,
        REQUESTS,
        &[("dialect", "other"), ("operation", "unmatched")],
    );
    assert_series(
        &scrape,
        REQUESTS,
        &[("dialect", "zitadel-rpc"), ("operation", "unmatched")],
    );
    // No label holds an id: every operation is a template.
    for sample in scrape
        .samples
        .iter()
        .filter(|s| s.metric.starts_with("sessiond_"))
    {
        for (key, value) in labels(sample) {
            assert!(!value.contains(&id), "{key}={value} holds a session id");
            assert!(!value.contains(&token), "{key}={value} holds a token");
        }
    }
    // Latency, as a histogram per operation.
    let histogram = scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == "sessiond_http_request_duration_seconds"
                && labels(s).get("operation").map(String::as_str)
                    == Some("/v2alpha/sessions/:sessionId")
        })
        .expect("a latency histogram for the session route");
    assert!(
        matches!(histogram.value, prometheus_parse::Value::Histogram(_)),
        "{:?}",
        histogram.value
    );
    assert!(value(histogram) >= 1.0);

    // argon2: queue depth, wait and verifications.
    let depth = assert_series(&scrape, "sessiond_password_hash_queue_depth", &[]);
    assert!(depth >= 0.0, "{depth}");
    assert!(assert_series(&scrape, "sessiond_password_hash_wait_seconds", &[]) >= 3.0);
    assert_series(
        &scrape,
        "sessiond_password_hash_duration_seconds",
        &[("operation", "hash")],
    );
    assert!(
        assert_series(
            &scrape,
            "sessiond_password_verifications_total",
            &[("result", "match")]
        ) >= 1.0
    );
    assert!(
        assert_series(
            &scrape,
            "sessiond_password_verifications_total",
            &[("result", "mismatch")]
        ) >= 2.0
    );

    // The database pools: in use, idle, size, and the acquire wait.
    let pool = if std::env::var("TEST_DATABASE_URL")
        .unwrap_or_default()
        .starts_with("postgres")
    {
        "main"
    } else {
        "reader"
    };
    assert_series(
        &scrape,
        "sessiond_db_pool_connections",
        &[("pool", pool), ("state", "in_use")],
    );
    assert!(
        assert_series(
            &scrape,
            "sessiond_db_pool_connections",
            &[("pool", pool), ("state", "idle")]
        ) >= 1.0
    );
    assert!(
        assert_series(
            &scrape,
            "sessiond_db_pool_max_connections",
            &[("pool", pool)]
        ) >= 1.0
    );
    assert!(assert_series(&scrape, "sessiond_db_pool_acquire_seconds", &[]) >= 1.0);

    // Sessions and lockouts.
    assert!(
        assert_series(
            &scrape,
            "sessiond_sessions_created_total",
            &[("origin", "zitadel")]
        ) >= 1.0
    );
    assert!(
        assert_series(
            &scrape,
            "sessiond_sessions_terminated_total",
            &[("reason", "deleted")]
        ) >= 1.0
    );
    assert!(assert_series(&scrape, "sessiond_lockouts_total", &[]) >= 1.0);
}

// ------------------------------------------------------------ the binary

const KEY: &str = "observability-admin-key-0123456789abcdefghij";
const PASSWORD: &str = "observability-secret-pass-1";

struct Server {
    child: Child,
    base: String,
    log: Arc<Mutex<Vec<u8>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn log(&self) -> String {
        String::from_utf8_lossy(&self.log.lock().unwrap()).into_owned()
    }

    /// Stops with SIGTERM and waits for the exit.
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // The reader thread may still be draining stderr.
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(dir: &std::path::Path, env: &[(&str, &str)]) -> Server {
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_sessiond"));
    command
        .current_dir(dir)
        .env_remove("SESSIOND_LOG")
        .env_remove("SESSIOND_OTLP_ENDPOINT")
        .env_remove("SESSIOND_METRICS_LISTEN")
        .env("SESSIOND_DATABASE_URL", "sqlite://server.db?mode=rwc")
        .env("SESSIOND_BOOTSTRAP_ADMIN_KEY", KEY)
        .env("SESSIOND_LISTEN", format!("127.0.0.1:{port}"))
        .env("SESSIOND_SHUTDOWN_DRAIN_MS", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("start sessiond");
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut stderr = child.stderr.take().unwrap();
    let sink = log.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "sessiond exited with {status}: {}",
                String::from_utf8_lossy(&log.lock().unwrap())
            );
        }
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
        log,
    }
}

fn temp_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("sessiond-{name}-"))
        .tempdir()
        .unwrap()
}

/// A user with [`PASSWORD`], a session of it, a read of the session with its
/// token in the query string, and an update; returns (session id, token).
async fn exercise(base: &str, traceparent: Option<&str>) -> (String, String) {
    let http = reqwest::Client::new();
    let auth = format!("Bearer {KEY}");
    let r = http
        .post(format!("{base}/admin/v1/users"))
        .header("authorization", &auth)
        .json(&json!({"loginName": "obs-user", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let user: Value = r.json().await.unwrap();
    let mut create = http
        .post(format!("{base}/v2alpha/sessions"))
        .header("authorization", &auth)
        .json(&json!({"checks": {
            "user": {"userId": user["userId"]},
            "password": {"password": PASSWORD}
        }}));
    if let Some(traceparent) = traceparent {
        create = create.header("traceparent", traceparent);
    }
    let r = create.send().await.unwrap();
    assert_eq!(r.status(), 201);
    let session: Value = r.json().await.unwrap();
    let id = session["sessionId"].as_str().unwrap().to_owned();
    let token = session["sessionToken"].as_str().unwrap().to_owned();
    let r = http
        .get(format!("{base}/v2alpha/sessions/{id}?sessionToken={token}"))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    (id, token)
}

// --------------------------------------------------------------------- logs

fn json_lines(log: &str) -> Vec<Value> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect()
}

#[tokio::test]
async fn the_access_log_has_one_line_per_request_with_the_template_and_no_secret() {
    let dir = temp_dir("access-log");
    let mut server = start(
        dir.path(),
        &[("SESSIOND_LOG_FORMAT", "json"), ("SESSIOND_LOG", "info")],
    );
    let (id, token) = exercise(&server.base, None).await;
    let _ = reqwest::get(format!("{}/no/such/{id}?secret={token}", server.base))
        .await
        .unwrap();
    server.stop();
    let log = server.log();
    let lines = json_lines(&log);
    let access: Vec<&Value> = lines.iter().filter(|l| l["message"] == "request").collect();
    let find = |method: &str, route: &str| {
        access
            .iter()
            .find(|l| l["http.method"] == method && l["http.route"] == route)
            .unwrap_or_else(|| panic!("no access line for {method} {route}: {log}"))
    };
    let read = find("GET", "/v2alpha/sessions/:sessionId");
    assert_eq!(read["level"], "INFO");
    assert_eq!(read["http.status"], 200);
    assert_eq!(read["dialect"], "zitadel-v2alpha");
    assert!(read["duration_ms"].as_f64().unwrap() >= 0.0, "{read}");
    let create = find("POST", "/v2alpha/sessions");
    assert_eq!(create["http.status"], 201);
    let user = find("POST", "/admin/v1/users");
    assert_eq!(user["dialect"], "admin");
    let unknown = find("GET", "unmatched");
    assert_eq!(unknown["http.status"], 404);
    assert_eq!(unknown["dialect"], "other");
    assert_eq!(access.len(), 4, "one line per request: {access:#?}");
    // No secret and no query string, anywhere in the log.
    for secret in [PASSWORD, KEY, token.as_str(), "sessionToken", "secret="] {
        assert!(!log.contains(secret), "{secret} is in the log: {log}");
    }
}

#[tokio::test]
async fn the_text_access_line_names_method_route_status_duration_and_dialect() {
    let dir = temp_dir("access-text");
    let mut server = start(dir.path(), &[]);
    let _ = reqwest::get(format!("{}/healthz", server.base))
        .await
        .unwrap();
    server.stop();
    let log = server.log();
    let line = log
        .lines()
        .find(|l| l.contains(" request ") && l.contains("/healthz"))
        .unwrap_or_else(|| panic!("no access line: {log}"));
    assert!(line.contains(" INFO "), "{line}");
    for field in [
        "http.method=\"GET\"",
        "http.route=\"/healthz\"",
        "http.status=200",
        "duration_ms=",
        "dialect=\"other\"",
    ] {
        assert!(line.contains(field), "{field} missing: {line}");
    }
}

fn migration_lines(log: &str) -> usize {
    log.lines()
        .filter(|l| l.contains("Applying migration 'm20261122_000001_create_instance'"))
        .count()
}

#[tokio::test]
async fn migrations_are_logged_once_at_start_and_not_again() {
    let dir = temp_dir("migrations");
    let mut first = start(dir.path(), &[]);
    first.stop();
    let log = first.log();
    assert_eq!(migration_lines(&log), 1, "{log}");
    assert_eq!(
        log.matches("database migrations applied").count(),
        1,
        "{log}"
    );
    assert!(!log.contains("already exists"), "{log}");
    // A restart on the migrated database logs no migration at all.
    let mut second = start(dir.path(), &[]);
    second.stop();
    let log = second.log();
    assert_eq!(migration_lines(&log), 0, "{log}");
    assert!(!log.contains("pending migrations"), "{log}");
}

/// On PostgreSQL (when the suite runs on it): a fresh start logs the
/// migrations once and no NOTICE such as `relation "seaql_migrations"
/// already exists`, and neither does a restart.
#[tokio::test]
async fn a_fresh_postgres_start_logs_no_misleading_notices() {
    let base = std::env::var("TEST_DATABASE_URL").unwrap_or_default();
    if !base.starts_with("postgres") {
        return;
    }
    use sea_orm::ConnectionTrait;
    let schema = format!(
        "obs_{}",
        sessiond::ids::new_id(chrono::Utc::now()).to_lowercase()
    );
    let admin = sea_orm::Database::connect(&base).await.unwrap();
    admin
        .execute_unprepared(&format!("CREATE SCHEMA \"{schema}\""))
        .await
        .unwrap();
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{separator}options=-c%20search_path%3D{schema}");
    let dir = temp_dir("postgres");
    let mut logs = Vec::new();
    for _ in 0..2 {
        let mut server = start(
            dir.path(),
            &[("SESSIOND_DATABASE_URL", &url), ("SESSIOND_LOG", "info")],
        );
        server.stop();
        logs.push(server.log());
    }
    let _ = admin
        .execute_unprepared(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .await;
    assert_eq!(migration_lines(&logs[0]), 1, "{}", logs[0]);
    assert_eq!(migration_lines(&logs[1]), 0, "{}", logs[1]);
    for log in &logs {
        assert!(!log.contains("already exists"), "{log}");
        assert!(!log.contains("NOTICE"), "{log}");
        assert!(!log.contains("sqlx::postgres::notice"), "{log}");
    }
}

// ------------------------------------------------------------------- traces

mod collector {
    use std::sync::{Arc, Mutex};

    use http_body_util::BodyExt as _;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::trace::v1::Span;
    use prost::Message as _;

    /// An OTLP/HTTP receiver: `POST /v1/traces` with protobuf bodies.
    pub struct Collector {
        pub endpoint: String,
        pub spans: Arc<Mutex<Vec<Span>>>,
        pub paths: Arc<Mutex<Vec<String>>>,
        task: tokio::task::JoinHandle<()>,
    }

    impl Drop for Collector {
        fn drop(&mut self) {
            self.task.abort();
        }
    }

    pub async fn start() -> Collector {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let spans: Arc<Mutex<Vec<Span>>> = Arc::default();
        let paths: Arc<Mutex<Vec<String>>> = Arc::default();
        let (sink, seen) = (spans.clone(), paths.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (sink, seen) = (sink.clone(), seen.clone());
                let service = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let (sink, seen) = (sink.clone(), seen.clone());
                        async move {
                            seen.lock().unwrap().push(format!(
                                "{} {} {}",
                                req.method(),
                                req.uri().path(),
                                req.headers()
                                    .get("content-type")
                                    .and_then(|v| v.to_str().ok())
                                    .unwrap_or_default()
                            ));
                            let body = req.into_body().collect().await.unwrap().to_bytes();
                            let export = ExportTraceServiceRequest::decode(body).unwrap();
                            let mut spans = sink.lock().unwrap();
                            for resource in export.resource_spans {
                                for scope in resource.scope_spans {
                                    spans.extend(scope.spans);
                                }
                            }
                            Ok::<_, std::convert::Infallible>(hyper::Response::new(
                                http_body_util::Full::new(&b""[..]),
                            ))
                        }
                    },
                );
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service),
                );
            }
        });
        Collector {
            endpoint,
            spans,
            paths,
            task,
        }
    }
}

fn attribute(span: &opentelemetry_proto::tonic::trace::v1::Span, key: &str) -> Option<String> {
    use opentelemetry_proto::tonic::common::v1::any_value::Value as V;
    span.attributes
        .iter()
        .find(|a| a.key == key)
        .and_then(|a| a.value.as_ref())
        .and_then(|v| v.value.as_ref())
        .map(|v| match v {
            V::StringValue(s) => s.clone(),
            V::IntValue(i) => i.to_string(),
            V::BoolValue(b) => b.to_string(),
            V::DoubleValue(d) => d.to_string(),
            other => format!("{other:?}"),
        })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_are_exported_over_otlp_and_continue_the_callers_trace() {
    let collector = collector::start().await;
    let dir = temp_dir("otlp");
    let mut server = start(
        dir.path(),
        &[
            ("SESSIOND_OTLP_ENDPOINT", &collector.endpoint),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
    );
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent_id = "00f067aa0ba902b7";
    let traceparent = format!("00-{trace_id}-{parent_id}-01");
    let (_id, token) = exercise(&server.base, Some(&traceparent)).await;

    // The request span of the create, with its children.
    let deadline = Instant::now() + Duration::from_secs(20);
    let request = loop {
        let found = collector
            .spans
            .lock()
            .unwrap()
            .iter()
            .find(|s| hex(&s.trace_id) == trace_id && s.name == "POST /v2alpha/sessions")
            .cloned();
        if let Some(span) = found {
            break span;
        }
        assert!(
            Instant::now() < deadline,
            "no request span exported; received {:?}, spans {:?}; log: {}",
            collector.paths.lock().unwrap(),
            collector
                .spans
                .lock()
                .unwrap()
                .iter()
                .map(|s| (s.name.clone(), hex(&s.trace_id)))
                .collect::<Vec<_>>(),
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    server.stop();
    let spans = collector.spans.lock().unwrap().clone();
    let paths = collector.paths.lock().unwrap().clone();
    assert!(
        paths
            .iter()
            .all(|p| p == "POST /v1/traces application/x-protobuf"),
        "{paths:?}"
    );
    assert_eq!(
        hex(&request.parent_span_id),
        parent_id,
        "continues the caller's span"
    );
    assert_eq!(
        request.kind,
        opentelemetry_proto::tonic::trace::v1::span::SpanKind::Server as i32
    );
    assert_eq!(
        attribute(&request, "http.route").as_deref(),
        Some("/v2alpha/sessions")
    );
    assert_eq!(
        attribute(&request, "http.response.status_code").as_deref(),
        Some("201")
    );
    assert_eq!(
        attribute(&request, "sessiond.dialect").as_deref(),
        Some("zitadel-v2alpha")
    );
    // Children: the store's queries and the password verification.
    let in_trace: Vec<_> = spans
        .iter()
        .filter(|s| hex(&s.trace_id) == trace_id)
        .collect();
    let descends = |span: &opentelemetry_proto::tonic::trace::v1::Span| {
        let mut parent = span.parent_span_id.clone();
        for _ in 0..16 {
            if parent == request.span_id {
                return true;
            }
            match in_trace.iter().find(|s| s.span_id == parent) {
                Some(p) => parent = p.parent_span_id.clone(),
                None => return false,
            }
        }
        false
    };
    let names: Vec<&str> = in_trace.iter().map(|s| s.name.as_str()).collect();
    assert!(
        in_trace
            .iter()
            .any(|s| s.name.starts_with("sea_orm.") && descends(s)),
        "no store span under the request: {names:?}"
    );
    assert!(
        in_trace
            .iter()
            .any(|s| s.name == "password.verify" && descends(s)),
        "no hash span under the request: {names:?}"
    );
    // The user's creation hashed the password, in a trace of its own.
    assert!(
        spans.iter().any(|s| s.name == "password.hash"),
        "no password.hash span"
    );
    assert!(
        spans
            .iter()
            .any(|s| s.name == "GET /v2alpha/sessions/:sessionId"),
        "no span for the read"
    );
    // No secret in any attribute of any span.
    for span in &spans {
        for attr in &span.attributes {
            let value = format!("{:?}", attr.value);
            for secret in [PASSWORD, KEY, token.as_str(), "sessionToken"] {
                assert!(
                    !value.contains(secret) && !attr.key.contains(secret),
                    "{secret} in {} of {}",
                    attr.key,
                    span.name
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_that_is_down_does_not_slow_or_break_requests() {
    // Nothing listens there.
    let endpoint = format!("http://127.0.0.1:{}", free_port());
    let dir = temp_dir("otlp-down");
    let mut server = start(
        dir.path(),
        &[
            ("SESSIOND_OTLP_ENDPOINT", &endpoint),
            ("OTEL_BSP_SCHEDULE_DELAY", "50"),
        ],
    );
    let started = Instant::now();
    for _ in 0..3 {
        exercise_health(&server.base).await;
    }
    let (_id, _token) = exercise(&server.base, None).await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "requests waited for the collector: {:?}",
        started.elapsed()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    exercise_health(&server.base).await;
    server.stop();
    assert!(server.log().contains("exporting traces over OTLP/HTTP"));
}

async fn exercise_health(base: &str) {
    let r = reqwest::get(format!("{base}/healthz")).await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn metrics_can_have_an_address_of_their_own() {
    let port = free_port();
    let dir = temp_dir("metrics-listen");
    let address = format!("127.0.0.1:{port}");
    let server = start(dir.path(), &[("SESSIOND_METRICS_LISTEN", &address)]);
    exercise_health(&server.base).await;
    let r = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "not on the main port");
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        if let Ok(r) = reqwest::get(format!("http://{address}/metrics")).await {
            assert_eq!(r.status(), 200);
            break r.text().await.unwrap();
        }
        assert!(Instant::now() < deadline, "no metrics listener");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap();
    assert!(
        !series(
            &scrape,
            "sessiond_http_requests_total",
            &[("operation", "/healthz"), ("status", "200")]
        )
        .is_empty(),
        "{text}"
    );
}
