//! The server loop, against the built binary over TCP: deadlines for slow
//! clients, a stop that tells keep-alive clients to close, and logs that a
//! request cannot forge.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const KEY: &str = "server-test-admin-key-0123456789abcdefghijklmnop";

struct Server {
    child: Child,
    port: u16,
    log: Arc<Mutex<Vec<u8>>>,
    dir: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start(env: &[(&str, &str)]) -> Server {
    let dir = std::env::temp_dir().join(format!(
        "sessiond-server-{}",
        sessiond::ids::new_id(chrono::Utc::now())
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_sessiond"));
    command
        .current_dir(&dir)
        .env("SESSIOND_DATABASE_URL", "sqlite://server.db?mode=rwc")
        .env("SESSIOND_BOOTSTRAP_ADMIN_KEY", KEY)
        .env("SESSIOND_LISTEN", format!("127.0.0.1:{port}"))
        .env("SESSIOND_LOG", "debug")
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
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Server {
        child,
        port,
        log,
        dir,
    }
}

fn connect(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    stream
}

/// Reads one HTTP/1.1 response with a Content-Length body; returns the head
/// (lower-cased) and the body.
fn read_response(stream: &mut TcpStream) -> (String, String) {
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line).unwrap();
        assert!(n > 0, "connection closed before a response");
        if line == "\r\n" {
            break;
        }
        head.push_str(&line.to_lowercase());
    }
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .map(|v| v.trim().parse().unwrap())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    (head, String::from_utf8_lossy(&body).into_owned())
}

/// Checks a raw response against the contract, as the harness does for
/// every other request.
fn check_contract(method: &str, path: &str, head: &str, body: &str) {
    let status: u16 = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut headers = poem::http::HeaderMap::new();
    for line in head.lines().skip(1) {
        if let Some((name, value)) = line.split_once(':') {
            headers.append(
                poem::http::HeaderName::from_bytes(name.trim().as_bytes()).unwrap(),
                poem::http::HeaderValue::from_str(value.trim()).unwrap(),
            );
        }
    }
    crate::response_contract::check(
        &poem::http::Method::from_bytes(method.as_bytes()).unwrap(),
        path,
        poem::http::StatusCode::from_u16(status).unwrap(),
        &headers,
        body.as_bytes(),
    );
}

/// Whether the server closed the connection (EOF or reset) within `within`.
fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 64];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return false,
            Err(_) => return true,
        }
    }
}

#[test]
fn slow_clients_are_cut_off_while_others_are_served() {
    let server = start(&[
        ("SESSIOND_HEADER_READ_TIMEOUT_SECONDS", "1"),
        ("SESSIOND_BODY_READ_TIMEOUT_SECONDS", "1"),
    ]);
    // Headers trickling in, one line every 300 ms, never finished.
    let mut slow = connect(server.port);
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let started = Instant::now();
    let mut cut = false;
    for i in 0..20 {
        std::thread::sleep(Duration::from_millis(300));
        // Meanwhile other clients are served.
        let mut other = connect(server.port);
        other
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let (head, _) = read_response(&mut other);
        assert!(head.starts_with("http/1.1 200"), "{head}");
        if slow
            .write_all(format!("X-Slow-{i}: 1\r\n").as_bytes())
            .is_err()
            || closed_within(&mut slow, Duration::from_millis(10))
        {
            cut = true;
            break;
        }
    }
    assert!(cut, "a slowloris connection stayed open");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(4), "cut after {took:?}");

    // A body that never arrives whole gets the dialect's 400.
    let mut trickle = connect(server.port);
    trickle
        .write_all(
            format!(
                "POST /v2alpha/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n\
                 Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"metadata\""
            )
            .as_bytes(),
        )
        .unwrap();
    let started = Instant::now();
    let (head, body) = read_response(&mut trickle);
    assert!(head.starts_with("http/1.1 400"), "{head}");
    check_contract("POST", "/v2alpha/sessions", &head, &body);
    assert_eq!(
        body,
        r#"{"code":3,"message":"request body not received within 1 s"}"#
    );
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[test]
fn a_stop_tells_keep_alive_clients_to_close() {
    // A drain long enough that a loaded machine still sends the second
    // request inside it; the server is killed when the test ends.
    let server = start(&[("SESSIOND_SHUTDOWN_DRAIN_MS", "20000")]);
    let mut kept = connect(server.port);
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let (head, _) = read_response(&mut kept);
    assert!(head.starts_with("http/1.1 200"));
    assert!(!head.contains("connection: close"), "{head}");

    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    std::thread::sleep(Duration::from_millis(100));
    // The next request on the kept-alive connection is still answered, and
    // the answer says the connection closes.
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let (head, body) = read_response(&mut kept);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("connection: close"), "{head}");
    assert_eq!(body, r#"{"status":"ok"}"#);
    assert!(closed_within(&mut kept, Duration::from_secs(2)));
}

#[test]
fn requests_cannot_forge_log_lines() {
    let server = start(&[]);
    let mut stream = connect(server.port);
    // Percent-encoded newline and escape in a path id, and raw control
    // bytes where HTTP lets them through (a header the log does not show).
    stream
        .write_all(
            format!(
                "GET /v2alpha/sessions/x%0Aforged%20line%1B%5B31m HTTP/1.1\r\nHost: x\r\n\
                 Authorization: Bearer {KEY}\r\n\r\n"
            )
            .as_bytes(),
        )
        .unwrap();
    let (head, body) = read_response(&mut stream);
    assert!(head.starts_with("http/1.1 404"), "{head}");
    check_contract(
        "GET",
        "/v2alpha/sessions/x%0Aforged%20line%1B%5B31m",
        &head,
        &body,
    );
    std::thread::sleep(Duration::from_millis(200));
    let log = server.log.lock().unwrap().clone();
    assert!(!log.contains(&0x1b), "a raw escape byte reached the log");
    let text = String::from_utf8_lossy(&log);
    assert!(
        text.lines().all(|l| !l.starts_with("forged")),
        "a forged line: {text}"
    );
    assert!(
        text.contains("/v2alpha/sessions/x"),
        "the request is logged: {text}"
    );
}
