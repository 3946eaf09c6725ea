//! Test harness: an in-process app on an isolated database per test.
//!
//! `TEST_DATABASE_URL` picks the backend: unset or `sqlite:` gives a fresh
//! SQLite file per test; `postgres://…` gives a fresh schema per test,
//! dropped afterwards.

use std::sync::Arc;

use poem::EndpointExt;
use poem::endpoint::BoxEndpoint;
use poem::http::{Method, StatusCode};
use poem::test::TestClient;
use serde_json::{Value, json};
use sessiond::clock::ManualClock;
use sessiond::config::Config;
use sessiond::service::Services;
use sessiond::store::Store;

pub const OAM_SESSION: &str = "/oam/services/rest/access/api/v1/session";
pub const OAM_SEARCH: &str = "/oam/services/rest/access/api/v1/sessions";

pub const ADMIN_KEY: &str = "test-admin-key-0123456789abcdefghijklmnopqrstuvwxyz";

pub struct TestDb {
    pub url: String,
    pub schema: Option<String>,
    _dir: Option<tempdir::Dir>,
}

mod tempdir {
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl TestDb {
    pub async fn new() -> (TestDb, Store) {
        let base = std::env::var("TEST_DATABASE_URL").unwrap_or_default();
        let suffix = sessiond::ids::new_id(chrono::Utc::now());
        if base.starts_with("postgres") {
            let schema = format!("test_{suffix}");
            let admin = connect_raw(&base).await;
            use sea_orm::ConnectionTrait;
            admin
                .execute_unprepared(&format!("CREATE SCHEMA \"{schema}\""))
                .await
                .expect("create test schema");
            let store = Store::open(&base, 4, Some(&schema))
                .await
                .expect("PostgreSQL must be reachable at TEST_DATABASE_URL");
            (
                TestDb {
                    url: base,
                    schema: Some(schema),
                    _dir: None,
                },
                store,
            )
        } else {
            let dir = std::env::temp_dir().join(format!("sessiond-test-{suffix}"));
            std::fs::create_dir_all(&dir).expect("temp dir");
            let url = format!("sqlite://{}?mode=rwc", dir.join("test.db").display());
            let store = Store::open(&url, 4, None).await.expect("sqlite connect");
            (
                TestDb {
                    url,
                    schema: None,
                    _dir: Some(tempdir::Dir(dir)),
                },
                store,
            )
        }
    }
}

async fn connect_raw(url: &str) -> sea_orm::DatabaseConnection {
    sea_orm::Database::connect(url)
        .await
        .expect("PostgreSQL must be reachable at TEST_DATABASE_URL")
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(schema) = self.schema.take() {
            let url = self.url.clone();
            // Drop runs inside the test's runtime; use a thread of our own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async move {
                    use sea_orm::ConnectionTrait;
                    let db = connect_raw(&url).await;
                    let _ = db
                        .execute_unprepared(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
                        .await;
                });
            })
            .join();
        }
    }
}

pub struct TestApp {
    pub client: TestClient<BoxEndpoint<'static>>,
    pub services: Services,
    pub clock: Arc<ManualClock>,
    pub store: Store,
    pub db: TestDb,
}

pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub headers: poem::http::HeaderMap,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        let (db, store) = TestDb::new().await;
        TestApp::build(db, store, tweak).await
    }

    /// An app over a store of the test's own making (through a proxy, say),
    /// on `db`'s database.
    pub async fn over_store(db: TestDb, store: Store) -> TestApp {
        TestApp::build(db, store, |_| {}).await
    }

    async fn build(db: TestDb, store: Store, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = Config::for_tests(&db.url);
        tweak(&mut config);
        let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
        let services = sessiond::startup::services(&config, store.clone(), clock.clone())
            .await
            .expect("services");
        services
            .auth
            .bootstrap(Some(ADMIN_KEY))
            .await
            .expect("bootstrap key");
        let client = TestClient::new(sessiond::api::routes(services.clone()).boxed());
        TestApp {
            client,
            services,
            clock,
            store,
            db,
        }
    }

    /// Sends a request with a bearer key (if any) and a JSON body (if any).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.client.request(method.clone(), path);
        if let Some(key) = key {
            req = req.header("authorization", format!("Bearer {key}"));
        }
        send(&method, path, req, body).await
    }

    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.call(method, path, Some(ADMIN_KEY), body).await
    }

    pub async fn create_user(&self, login: &str, password: &str) -> String {
        let r = self
            .admin(
                Method::POST,
                "/admin/v1/users",
                Some(json!({"loginName": login, "password": password, "displayName": format!("{login} display")})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["userId"].as_str().expect("userId").to_owned()
    }

    /// Creates a key; returns (key id, secret).
    pub async fn create_key_pair(&self, permissions: &[&str]) -> (String, String) {
        let r = self
            .admin(
                Method::POST,
                "/admin/v1/keys",
                Some(json!({"name": "test", "permissions": permissions})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        (
            r.body["keyId"].as_str().expect("keyId").to_owned(),
            r.body["secret"].as_str().expect("secret").to_owned(),
        )
    }

    /// Sends a request with HTTP Basic credentials, as OAM clients do.
    pub async fn call_basic(
        &self,
        method: Method,
        path: &str,
        credentials: Option<(&str, &str)>,
        body: Option<Value>,
    ) -> Reply {
        use base64::Engine;
        let mut req = self.client.request(method.clone(), path);
        if let Some((user, password)) = credentials {
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            req = req.header("authorization", format!("Basic {token}"));
        }
        send(&method, path, req, body).await
    }

    /// Creates an OAM session with the admin key; returns its SessionData.
    pub async fn oam_create(&self, body: Value) -> Value {
        let r = self.admin(Method::POST, OAM_SESSION, Some(body)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body
    }

    pub async fn create_key(&self, permissions: &[&str]) -> String {
        let r = self
            .admin(
                Method::POST,
                "/admin/v1/keys",
                Some(json!({"name": "test", "permissions": permissions})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["secret"].as_str().expect("secret").to_owned()
    }

    /// An OAM search with no filter, as the admin key.
    pub async fn oam_search_all(&self) -> Reply {
        self.admin(Method::POST, OAM_SEARCH, Some(json!({}))).await
    }

    /// Reads a ZITADEL session with its token (as the admin key).
    pub async fn zitadel_get_with_token(&self, id: &str, token: &str) -> Reply {
        self.admin(
            Method::GET,
            &format!("/v2alpha/sessions/{id}?sessionToken={token}"),
            None,
        )
        .await
    }

    /// Creates a ZITADEL session; returns (id, token).
    pub async fn zitadel_create(&self, key: &str, body: Value) -> (String, String) {
        let r = self
            .call(Method::POST, "/v2alpha/sessions", Some(key), Some(body))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        (
            r.body["sessionId"].as_str().expect("sessionId").to_owned(),
            r.body["sessionToken"]
                .as_str()
                .expect("sessionToken")
                .to_owned(),
        )
    }
}

/// Sends a request; every response is checked against the contract.
async fn send(
    method: &Method,
    path: &str,
    mut req: poem::test::TestRequestBuilder<'_, BoxEndpoint<'static>>,
    body: Option<Value>,
) -> Reply {
    if let Some(body) = body {
        req = req.body_json(&body);
    }
    let resp = req.send().await;
    let status = resp.0.status();
    let headers = resp.0.headers().clone();
    let bytes = resp.0.into_body().into_bytes().await.expect("body");
    crate::response_contract::check(method, path, status, &headers, &bytes);
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Reply {
        status,
        body,
        headers,
    }
}

/// The body ZITADEL sends for a domain error.
pub fn zitadel_error(code: i64, id: &str, text: &str) -> Value {
    json!({
        "code": code,
        "message": format!("{text} ({id})"),
        "details": [{
            "@type": "type.googleapis.com/zitadel.v1.ErrorDetail",
            "id": id,
            "message": text,
        }]
    })
}
