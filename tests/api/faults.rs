//! Faults and hostile input: numbers the store cannot take, panics,
//! credentials before the body, caching, bad path encodings, and a database
//! that goes away and comes back.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use poem::EndpointExt;
use poem::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{ADMIN_KEY, OAM_SESSION, TestApp, TestDb, zitadel_error};

#[tokio::test]
async fn an_offset_beyond_the_store_is_invalid_argument_not_a_panic() {
    let app = TestApp::spawn().await;
    for offset in ["9223372036854775808", "18446744073709551615"] {
        let r = app
            .admin(
                Method::POST,
                "/v2alpha/sessions/search",
                Some(json!({"query": {"offset": offset}})),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            r.body,
            zitadel_error(
                3,
                "SESSION-L1m1t",
                "query.offset exceeds the maximum of 9223372036854775807"
            )
        );
    }
    // The largest offset the store takes is an empty page, not an error.
    let r = app
        .admin(
            Method::POST,
            "/v2alpha/sessions/search",
            Some(json!({"query": {"offset": "9223372036854775807"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.get("sessions").is_none());
}

#[tokio::test]
async fn a_panic_is_the_dialects_500_and_the_endpoint_keeps_serving() {
    use std::sync::atomic::AtomicUsize;
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let endpoint = poem::endpoint::make(move |_| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        async move {
            if n == 0 {
                panic!("boom");
            }
            "fine"
        }
    })
    .with(sessiond::api::panics::catch(
        sessiond::api::zitadel::error::panicked,
    ));
    let client = poem::test::TestClient::new(endpoint);
    let r = client.get("/").send().await;
    r.assert_status(StatusCode::INTERNAL_SERVER_ERROR);
    r.assert_json(json!({"code": 13, "message": "Internal error"}))
        .await;
    let r = client.get("/").send().await;
    r.assert_status_is_ok();
    r.assert_text("fine").await;
}

#[tokio::test]
async fn credentials_are_checked_before_the_body() {
    let app = TestApp::spawn().await;
    // OAM: an unknown key with a malformed body is a 401, not a 400.
    for body in ["{not json", "{\"userId\": 5}"] {
        let r = app
            .client
            .post(OAM_SESSION)
            .header("authorization", "Basic dW5rbm93bjp3cm9uZw==")
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        let status = r.0.status();
        let headers = r.0.headers().clone();
        let bytes = r.0.into_body().into_bytes().await.unwrap();
        crate::response_contract::check(&Method::POST, OAM_SESSION, status, &headers, &bytes);
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(headers["www-authenticate"], "Basic realm=\"sessiond\"");
        assert_eq!(
            serde_json::from_slice::<Value>(&bytes).unwrap(),
            json!({"code": "UNAUTHORIZED", "message": "credentials are not valid"})
        );
    }
    // A Basic key on the Bearer-only APIs counts as no credentials, whatever
    // the body.
    let (id, secret) = app.create_key_pair(&["session.write", "user.write"]).await;
    for (path, expected) in [
        (
            "/v2alpha/sessions",
            json!({"code": 16, "message": "auth header missing"}),
        ),
        (
            "/admin/v1/users",
            json!({"code": "UNAUTHENTICATED", "message": "authorization header missing"}),
        ),
    ] {
        let r = app
            .call_basic(
                Method::POST,
                path,
                Some((&id, &secret)),
                Some(json!({"checks": 5, "loginName": 5})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}: {}", r.body);
        assert_eq!(r.body, expected, "{path}");
        assert_eq!(
            r.headers.get("www-authenticate").unwrap(),
            "Bearer realm=\"sessiond\""
        );
    }
    // Bad query parameters wait for the credentials too.
    let r = app
        .call(
            Method::GET,
            "/admin/v1/users?limit=abc",
            Some("wrong"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);
}

#[tokio::test]
async fn answers_with_secrets_are_not_cached() {
    let app = TestApp::spawn().await;
    let r = app
        .admin(Method::POST, "/v2alpha/sessions", Some(json!({})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.headers.get("cache-control").unwrap(), "no-store");
    let r = app
        .admin(
            Method::POST,
            "/admin/v1/keys",
            Some(json!({"name": "k", "permissions": ["session.read"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.headers.get("cache-control").unwrap(), "no-store");
    let r = app.oam_search_all().await;
    assert_eq!(r.headers.get("cache-control").unwrap(), "no-store");
}

#[tokio::test]
async fn a_path_that_is_not_utf8_is_answered_in_the_dialects_shape() {
    let app = TestApp::spawn().await;
    let invalid = |code: Value| json!({"code": code, "message": "invalid path params"});
    let cases: [(Method, &str, Value); 4] = [
        (Method::GET, "/v2alpha/sessions/%FF", invalid(json!(3))),
        (
            Method::DELETE,
            "/v2alpha/sessions/%FF%FE",
            invalid(json!(3)),
        ),
        (
            Method::GET,
            "/oam/services/rest/access/api/v1/session/%FF",
            invalid(json!("INVALID_REQUEST")),
        ),
        (
            Method::GET,
            "/admin/v1/users/%C3%28",
            invalid(json!("INVALID_ARGUMENT")),
        ),
    ];
    for (method, path, expected) in cases {
        let r = app.admin(method.clone(), path, None).await;
        assert_eq!(
            r.status,
            StatusCode::BAD_REQUEST,
            "{method} {path}: {}",
            r.body
        );
        assert_eq!(r.body, expected, "{method} {path}");
    }
}

/// A TCP proxy in front of PostgreSQL that can refuse and reset
/// connections, to stand for a database outage.
struct FlakyProxy {
    port: u16,
    down: Arc<AtomicBool>,
    generation: tokio::sync::watch::Sender<u64>,
}

impl FlakyProxy {
    async fn start(target: std::net::SocketAddr) -> FlakyProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let down = Arc::new(AtomicBool::new(false));
        let (generation, _) = tokio::sync::watch::channel(0u64);
        let (flag, gen_tx) = (down.clone(), generation.clone());
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                if flag.load(Ordering::SeqCst) {
                    drop(client); // refused: closed at once
                    continue;
                }
                let mut cut = gen_tx.subscribe();
                tokio::spawn(async move {
                    let Ok(server) = tokio::net::TcpStream::connect(target).await else {
                        return;
                    };
                    let (mut c, mut s) = (client, server);
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut c, &mut s) => {}
                        _ = cut.changed() => {} // reset: both sides dropped
                    }
                });
            }
        });
        FlakyProxy {
            port,
            down,
            generation,
        }
    }

    fn fail(&self) {
        self.down.store(true, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    fn recover(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_database_outage_is_answered_fast_with_unavailable_and_heals() {
    let base = std::env::var("TEST_DATABASE_URL").unwrap_or_default();
    if !base.starts_with("postgres") {
        return; // SQLite is embedded: there is no server to lose.
    }
    let parsed = url::Url::parse(&base).unwrap();
    let target = format!(
        "{}:{}",
        parsed.host_str().unwrap(),
        parsed.port().unwrap_or(5432)
    )
    .parse()
    .unwrap();
    let proxy = FlakyProxy::start(target).await;
    let mut through_proxy = parsed.clone();
    through_proxy.set_host(Some("127.0.0.1")).unwrap();
    through_proxy.set_port(Some(proxy.port)).unwrap();

    let (db, _) = TestDb::new().await;
    let store = sessiond::store::Store::open_with(
        through_proxy.as_str(),
        4,
        db.schema.as_deref(),
        Duration::from_millis(500),
    )
    .await
    .unwrap();
    let app = TestApp::over_store(db, store).await;
    let (id, _) = app.zitadel_create(ADMIN_KEY, json!({})).await;

    proxy.fail();
    let started = Instant::now();
    let r = app
        .admin(Method::GET, &format!("/v2alpha/sessions/{id}"), None)
        .await;
    let zitadel_took = started.elapsed();
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert_eq!(
        r.body,
        zitadel_error(14, "SESSION-Unav1", "Database unavailable, retry later")
    );
    assert!(
        zitadel_took < Duration::from_secs(2),
        "took {zitadel_took:?}"
    );

    let started = Instant::now();
    let r = app
        .admin(Method::GET, &format!("{OAM_SESSION}/{id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"code": "UNAVAILABLE", "message": "the database is unavailable, retry later"})
    );
    let r2 = app.admin(Method::GET, "/admin/v1/users", None).await;
    assert_eq!(r2.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r2.body);
    assert_eq!(r2.body["code"], "UNAVAILABLE");
    assert!(started.elapsed() < Duration::from_secs(4));

    let started = Instant::now();
    let ready = app.call(Method::GET, "/readyz", None, None).await;
    let ready_took = started.elapsed();
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(ready_took < Duration::from_secs(1), "took {ready_took:?}");
    eprintln!("outage: ZITADEL get answered in {zitadel_took:?}, /readyz in {ready_took:?}");

    // Back without a restart.
    proxy.recover();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = app
            .admin(Method::GET, &format!("/v2alpha/sessions/{id}"), None)
            .await;
        if r.status == StatusCode::OK {
            break;
        }
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
        assert!(Instant::now() < deadline, "no recovery within 10 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ready = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, StatusCode::OK);
}

fn run_serve(url: &str) -> (bool, String, Duration) {
    let started = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sessiond"))
        .env("SESSIOND_DATABASE_URL", url)
        .env("SESSIOND_LISTEN", "127.0.0.1:0")
        .env("SESSIOND_LOG", "warn")
        .arg("serve")
        .output()
        .expect("run sessiond");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn start_up_fails_fast_and_names_what_it_cannot_reach() {
    // Nothing listens on port 1.
    let (ok, err, took) =
        tokio::task::spawn_blocking(|| run_serve("postgres://postgres@127.0.0.1:1/test"))
            .await
            .unwrap();
    assert!(!ok);
    assert!(err.contains("PostgreSQL at 127.0.0.1:1"), "{err}");
    assert!(took < Duration::from_secs(5), "took {took:?}");

    let dir = std::env::temp_dir().join(format!(
        "sessiond-ro-{}",
        sessiond::ids::new_id(chrono::Utc::now())
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("ro.db");
    // A migrated database, then opened read-only.
    sessiond::store::Store::open(&format!("sqlite://{}?mode=rwc", file.display()), 1, None)
        .await
        .unwrap();
    let read_only = format!("sqlite://{}?mode=ro", file.display());
    let (ok, err, _) = tokio::task::spawn_blocking(move || run_serve(&read_only))
        .await
        .unwrap();
    assert!(!ok);
    assert!(err.contains(&file.display().to_string()), "{err}");
    assert!(
        err.contains("not writable") || err.contains("cannot"),
        "{err}"
    );

    let missing = format!("sqlite://{}/no/such/dir/x.db?mode=rwc", dir.display());
    let (ok, err, _) = tokio::task::spawn_blocking({
        let missing = missing.clone();
        move || run_serve(&missing)
    })
    .await
    .unwrap();
    assert!(!ok);
    assert!(err.contains("/no/such/dir/x.db"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn metadata_of(n: usize) -> Value {
    Value::Object(
        (0..n)
            .map(|i| (format!("k{i}"), Value::String("dg==".into())))
            .collect(),
    )
}

#[tokio::test]
async fn documented_limits_are_enforced_in_the_dialects_shape() {
    let app = TestApp::spawn().await;
    let r = app
        .admin(
            Method::POST,
            "/v2alpha/sessions",
            Some(json!({"metadata": metadata_of(101)})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        json!({"code": 3, "message": "invalid request body: body.metadata: allows at most 100 properties"})
    );
    let long_key = "k".repeat(201);
    let r = app
        .admin(
            Method::POST,
            "/v2alpha/sessions",
            Some(json!({"metadata": {long_key: "dg=="}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        zitadel_error(
            3,
            "SESSION-L1m1t",
            "a metadata key's length exceeds the maximum of 200"
        )
    );
    let big = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(vec![7u8; 4097])
    };
    let r = app
        .admin(
            Method::POST,
            "/v2alpha/sessions",
            Some(json!({"metadata": {"k": big}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        zitadel_error(
            3,
            "SESSION-L1m1t",
            "a metadata value's size in bytes exceeds the maximum of 4096"
        )
    );
    let queries: Vec<Value> = (0..21)
        .map(|_| json!({"idsQuery": {"ids": ["a"]}}))
        .collect();
    let r = app
        .admin(
            Method::POST,
            "/v2alpha/sessions/search",
            Some(json!({"queries": queries})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        json!({"code": 3, "message": "invalid request body: body.queries: allows at most 20 items"})
    );
    // 1,000 attribute filters once gave a 500 from the query builder.
    let filters: serde_json::Map<String, Value> = (0..1000)
        .map(|i| (format!("a{i}"), json!({"attrValue": "v"})))
        .collect();
    let r = app
        .admin(
            Method::POST,
            crate::helpers::OAM_SEARCH,
            Some(json!({"userAttributes": filters})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        json!({"code": "INVALID_REQUEST", "message": "invalid request body: body.userAttributes: allows at most 20 properties"})
    );
    // Nothing was stored by any of these.
    let r = app
        .admin(Method::POST, "/v2alpha/sessions/search", Some(json!({})))
        .await;
    assert!(r.body.get("sessions").is_none(), "{}", r.body);
}

#[tokio::test]
async fn configured_limits_hold_also_for_an_updates_merged_metadata() {
    let app = TestApp::spawn_with(|c| {
        c.max_metadata_keys = 3;
        c.max_search_filters = 2;
    })
    .await;
    let r = app
        .admin(
            Method::POST,
            "/v2alpha/sessions",
            Some(json!({"metadata": metadata_of(4)})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        zitadel_error(
            3,
            "SESSION-L1m1t",
            "the number of metadata keys exceeds the maximum of 3"
        )
    );
    let (id, token) = app
        .zitadel_create(ADMIN_KEY, json!({"metadata": metadata_of(3)}))
        .await;
    let r = app
        .admin(
            Method::PATCH,
            &format!("/v2alpha/sessions/{id}"),
            Some(json!({"sessionToken": token, "metadata": {"extra": "dg=="}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        zitadel_error(
            3,
            "SESSION-L1m1t",
            "the number of metadata keys exceeds the maximum of 3"
        )
    );
    // Nothing changed: the token still works and the metadata is as it was.
    let got = app.zitadel_get_with_token(&id, &token).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body["session"]["metadata"], metadata_of(3));
    // Replacing a key while deleting another stays within the limit.
    let r = app
        .admin(
            Method::PATCH,
            &format!("/v2alpha/sessions/{id}"),
            Some(json!({"sessionToken": token, "metadata": {"k0": "", "extra": "dg=="}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // OAM attributes are the same metadata.
    let r = app
        .admin(
            Method::POST,
            OAM_SESSION,
            Some(json!({"userId": "nobody", "userAttributes": {
                "a": {"attrValue": "1"}, "b": {"attrValue": "2"},
                "c": {"attrValue": "3"}, "d": {"attrValue": "4"}}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        json!({"code": "INVALID_REQUEST", "message": "the number of metadata keys exceeds the maximum of 3"})
    );
    let r = app
        .admin(
            Method::POST,
            "/v2alpha/sessions/search",
            Some(json!({"queries": [
                {"idsQuery": {"ids": ["a"]}}, {"idsQuery": {"ids": ["a"]}}, {"idsQuery": {"ids": ["a"]}}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        r.body,
        zitadel_error(
            3,
            "SESSION-L1m1t",
            "the number of search filters exceeds the maximum of 2"
        )
    );
}

#[test]
fn a_limit_above_its_documented_ceiling_is_refused_at_start_up() {
    let mut config = sessiond::config::Config::for_tests("sqlite::memory:");
    config.max_metadata_keys = 101;
    let err = sessiond::service::Settings::from_config(&config).unwrap_err();
    assert_eq!(
        err.to_string(),
        "max_metadata_keys must be between 1 and 100, not 101"
    );
}

/// U+0000 in any text: no backend stores it, so a lookup by it finds
/// nothing, a filter with it matches nothing, and a write carrying it is
/// the dialect's invalid argument, with nothing written. Alike on SQLite
/// and PostgreSQL, whose text cannot hold it.
#[tokio::test]
async fn nul_in_text_is_not_found_or_invalid_never_a_5xx() {
    let app = TestApp::spawn().await;
    app.create_user("nul@example.com", "nul-pass-1").await;
    let (id, _) = app.zitadel_create(ADMIN_KEY, json!({})).await;

    let r = app
        .admin(Method::GET, "/v2alpha/sessions/a%00b", None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = app
        .admin(Method::GET, &format!("{OAM_SESSION}/%00"), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = app.admin(Method::DELETE, "/admin/v1/users/%00", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = app
        .admin(Method::POST, "/admin/v1/users/%00/unlock", None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = app.admin(Method::DELETE, "/admin/v1/keys/%00", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    // A Basic key id with U+0000 is an unknown key.
    let r = app
        .call_basic(
            Method::GET,
            &format!("{OAM_SESSION}/{id}"),
            Some(("\0", "x")),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.body);

    // Filters: an id that cannot exist is dropped from an id list; any
    // other filter with U+0000 matches nothing.
    let r = app
        .admin(
            Method::POST,
            "/v2alpha/sessions/search",
            Some(json!({"queries": [{"idsQuery": {"ids": [id, "x\u{0}"]}}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["details"]["totalResult"], "1");
    assert_eq!(r.body["sessions"][0]["id"], id);
    let r = app
        .admin(
            Method::POST,
            crate::helpers::OAM_SEARCH,
            Some(json!({"userId": "nul\u{0}"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    // Writes: the dialect's invalid argument, and nothing stored.
    let r = app
        .admin(
            Method::POST,
            "/v2alpha/sessions",
            Some(json!({"metadata": {"k\u{0}": "dg=="}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(
        r.body,
        zitadel_error(
            3,
            "SESSION-n0NuL",
            "metadata key must not contain the character U+0000"
        )
    );
    let r = app
        .admin(
            Method::PATCH,
            &format!("/v2alpha/sessions/{id}"),
            Some(json!({"metadata": {"k\u{0}": "dg=="}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    let r = app
        .admin(
            Method::POST,
            OAM_SESSION,
            Some(json!({"userId": "nul@example.com", "userAttributes": {"a\u{0}": {"attrValue": "v"}}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"code": "INVALID_REQUEST", "message": "metadata key must not contain the character U+0000"})
    );
    let r = app
        .admin(
            Method::POST,
            "/admin/v1/users",
            Some(json!({"loginName": "x\u{0}y", "password": "nul-pass-2"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"code": "INVALID_ARGUMENT", "message": "login name must not contain the character U+0000"})
    );
    let r = app
        .admin(
            Method::POST,
            "/admin/v1/keys",
            Some(json!({"name": "k\u{0}", "permissions": ["session.read"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);

    // Nothing was written: one session, unchanged, and one user.
    let all = app.oam_search_all().await;
    assert_eq!(all.body["totalRecords"], 1, "{}", all.body);
    let r = app
        .admin(Method::GET, &format!("/v2alpha/sessions/{id}"), None)
        .await;
    assert!(r.body["session"].get("metadata").is_none(), "{}", r.body);
    let users = app.admin(Method::GET, "/admin/v1/users", None).await;
    assert_eq!(
        users.body["users"].as_array().map(Vec::len),
        Some(1),
        "{}",
        users.body
    );
}
