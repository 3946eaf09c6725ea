//! End to end: the built binary, over TCP, on a fresh SQLite file.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

struct Server {
    child: Child,
    dir: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the binary with no keys configured and reads the admin key it
/// prints once on stderr.
fn start() -> (Server, String, String) {
    let dir = std::env::temp_dir().join(format!(
        "sessiond-e2e-{}",
        sessiond::ids::new_id(chrono::Utc::now())
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sessiond"))
        .current_dir(&dir)
        .env_remove("SESSIOND_BOOTSTRAP_ADMIN_KEY")
        .env_remove("SESSIOND_DATABASE_URL")
        .env("SESSIOND_LISTEN", format!("127.0.0.1:{port}"))
        .env("SESSIOND_LOG", "warn")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start sessiond");
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let mut key = None;
    let mut swagger = None;
    while let Some(Ok(line)) = lines.next() {
        let trimmed = line.trim();
        if key.is_none() && trimmed.len() == 43 && !trimmed.contains(' ') {
            key = Some(trimmed.to_owned());
        }
        if let Some(rest) = trimmed.strip_prefix("Swagger UI: ") {
            swagger = Some(rest.split_whitespace().next().unwrap().to_owned());
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    let key = key.expect("admin key printed on stderr");
    assert_eq!(
        swagger.as_deref(),
        Some(format!("http://127.0.0.1:{port}/swagger-ui/").as_str())
    );
    assert!(
        dir.join("sessiond.db").exists(),
        "embedded SQLite file in the working directory"
    );
    (
        Server { child, dir },
        key,
        format!("http://127.0.0.1:{port}"),
    )
}

#[tokio::test]
async fn the_binary_serves_the_whole_flow_over_tcp() {
    let (_server, key, base) = start();
    let http = reqwest::Client::new();
    for _ in 0..50 {
        if http.get(format!("{base}/readyz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, _) = exchange(
        http.post(format!("{base}/admin/v1/users"))
            .bearer_auth(&key)
            .json(&json!({"loginName": "e2e", "password": "e2e-password"})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, created) = exchange(
        http.post(format!("{base}/v2alpha/sessions"))
            .bearer_auth(&key)
            .json(&json!({"checks": {"user": {"loginName": "E2E"}, "password": {"password": "e2e-password"}}})),
    )
    .await;
    assert_eq!(status, 201);
    let id = created["sessionId"].as_str().unwrap();
    let (status, got) = exchange(
        http.get(format!("{base}/v2alpha/sessions/{id}"))
            .bearer_auth(&key),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(got["session"]["factors"]["user"]["loginName"], "e2e");
    let (status, _) = exchange(
        http.delete(format!("{base}/v2alpha/sessions/{id}"))
            .bearer_auth(&key),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = exchange(
        http.get(format!("{base}/v2alpha/sessions/{id}"))
            .bearer_auth(&key),
    )
    .await;
    assert_eq!(status, 404);
    let r = http
        .get(format!("{base}/swagger-ui/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// Sends a request over TCP; the response is checked against the contract.
async fn exchange(req: reqwest::RequestBuilder) -> (u16, Value) {
    let (client, req) = req.build_split();
    let req = req.unwrap();
    let method = poem::http::Method::from_bytes(req.method().as_str().as_bytes()).unwrap();
    let uri = match req.url().query() {
        Some(query) => format!("{}?{query}", req.url().path()),
        None => req.url().path().to_owned(),
    };
    let r = client.execute(req).await.unwrap();
    let status = poem::http::StatusCode::from_u16(r.status().as_u16()).unwrap();
    let mut headers = poem::http::HeaderMap::new();
    for (name, value) in r.headers() {
        headers.insert(
            poem::http::HeaderName::from_bytes(name.as_str().as_bytes()).unwrap(),
            poem::http::HeaderValue::from_bytes(value.as_bytes()).unwrap(),
        );
    }
    let bytes = r.bytes().await.unwrap();
    crate::response_contract::check(&method, &uri, status, &headers, &bytes);
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status.as_u16(), body)
}

fn run_cli(dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_sessiond"))
        .current_dir(dir)
        .env_remove("SESSIOND_DATABASE_URL")
        .env("SESSIOND_LOG", "warn")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sessiond");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_cli_migrates_adds_users_and_keys_and_writes_the_contract() {
    let dir = std::env::temp_dir().join(format!(
        "sessiond-cli-{}",
        sessiond::ids::new_id(chrono::Utc::now())
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let (ok, _, err) = run_cli(&dir, &["migrate"], None);
    assert!(ok, "{err}");
    let (ok, user_id, err) = run_cli(
        &dir,
        &[
            "user",
            "add",
            "--login-name",
            "cli-user",
            "--display-name",
            "CLI",
            "--password-stdin",
        ],
        Some("cli-password\n"),
    );
    assert!(ok, "{err}");
    assert_eq!(user_id.trim().len(), 26);
    let (ok, secret, err) = run_cli(
        &dir,
        &[
            "key",
            "create",
            "--name",
            "ci",
            "--permissions",
            "session.write,session.read",
        ],
        None,
    );
    assert!(ok, "{err}");
    let secret = secret.trim().to_owned();
    assert!(err.contains("key id: "));
    let (ok, _, err) = run_cli(
        &dir,
        &["key", "create", "--name", "x", "--permissions", "root"],
        None,
    );
    assert!(!ok);
    assert!(err.contains("unknown permission \"root\""), "{err}");

    let (ok, _, err) = run_cli(&dir, &["openapi", "--out", "docs-out"], None);
    assert!(ok, "{err}");
    for name in ["zitadel-session-v2alpha", "oam-session-v1", "admin-v1"] {
        let written =
            std::fs::read_to_string(dir.join("docs-out").join(format!("{name}.yaml"))).unwrap();
        let checked_in = std::fs::read_to_string(format!(
            "{}/openapi/{name}.yaml",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        assert_eq!(written, checked_in);
    }

    // The user and key work against the same database.
    let db = sessiond::store::connect(
        &format!("sqlite://{}?mode=rwc", dir.join("sessiond.db").display()),
        1,
        None,
    )
    .await
    .unwrap();
    let store = sessiond::store::Store::new(db);
    let user = store.find_user(user_id.trim()).await.unwrap().unwrap();
    assert_eq!(user.login_name, "cli-user");
    assert_eq!(user.display_name, "CLI");
    assert!(user.password_hash.starts_with("$argon2id$"));
    let key = store
        .find_key_by_secret_hash(&sessiond::ids::hash_secret(&secret))
        .await
        .unwrap()
        .expect("key stored by hash");
    assert_eq!(key.key.permissions.len(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}
