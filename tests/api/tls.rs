//! Native TLS against the real server loop: HTTP/1.1 and HTTP/2 (by ALPN)
//! and gRPC on one port, the handshake deadline, certificate reloads (file
//! change and SIGHUP) and start-up errors. Certificates come from a CA the
//! tests make with rcgen.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use connectrpc::Protocol;
use connectrpc::client::{ClientConfig, Http2Connection};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SerialNumber};
use rustls::pki_types::{CertificateDer, ServerName};
use sessiond::api::rpc::proto::zitadel::session::v2 as pb;
use sessiond::server::tls::{Tls, TlsFiles};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::helpers::{ADMIN_KEY, TestApp};

const LOGIN: &str = "alice@example.com";
const PASSWORD: &str = "correct horse battery staple";

/// A test CA that signs server certificates for `localhost` and 127.0.0.1.
struct Ca {
    params: CertificateParams,
    key: KeyPair,
    cert: rcgen::Certificate,
}

struct Leaf {
    cert_pem: String,
    key_pem: String,
    der: CertificateDer<'static>,
}

impl Ca {
    fn new() -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "sessiond test CA");
        let cert = params.self_signed(&key).unwrap();
        Ca { params, key, cert }
    }

    fn leaf(&self, name: &str, serial: u64) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.serial_number = Some(SerialNumber::from(serial));
        let cert = params
            .signed_by(&key, &Issuer::from_params(&self.params, &self.key))
            .unwrap();
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().clone(),
        }
    }

    fn client(&self, alpn: &[&[u8]]) -> TlsConnector {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.cert.der().clone()).unwrap();
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        TlsConnector::from(Arc::new(config))
    }
}

/// Writes the pair where the server reads it: to temporary files renamed
/// into place, as a certificate manager would.
fn install(files: &TlsFiles, leaf: &Leaf) {
    for (path, text) in [(&files.cert, &leaf.cert_pem), (&files.key, &leaf.key_pem)] {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, path).unwrap();
    }
}

fn files_in(dir: &Path) -> TlsFiles {
    TlsFiles {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    }
}

async fn connect(
    addr: SocketAddr,
    connector: &TlsConnector,
) -> std::io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
}

fn peer_leaf(stream: &TlsStream<TcpStream>) -> CertificateDer<'static> {
    stream.get_ref().1.peer_certificates().unwrap()[0].clone()
}

fn alpn(stream: &TlsStream<TcpStream>) -> Option<Vec<u8>> {
    stream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec)
}

/// `GET /healthz` over HTTP/1.1 on a TLS stream; the status and the
/// version the response came in.
async fn get_http1(stream: TlsStream<TcpStream>) -> (u16, hyper::Version) {
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let request = hyper::Request::get("/healthz")
        .header("host", "localhost")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let (status, version) = (response.status().as_u16(), response.version());
    response.into_body().collect().await.unwrap();
    (status, version)
}

async fn get_http2(stream: TlsStream<TcpStream>) -> (u16, hyper::Version) {
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(connection);
    let request = hyper::Request::get("https://localhost/healthz")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let (status, version) = (response.status().as_u16(), response.version());
    response.into_body().collect().await.unwrap();
    (status, version)
}

/// `sessiond::server::run_tls` on a TCP port, in this process.
struct TlsServer {
    app: TestApp,
    addr: SocketAddr,
    tls: Arc<Tls>,
    files: TlsFiles,
    task: tokio::task::JoinHandle<()>,
    reloader: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(reloader) = &self.reloader {
            reloader.abort();
        }
    }
}

async fn start(leaf: &Leaf, header_read_timeout: Duration, poll: Option<Duration>) -> TlsServer {
    let dir = tempfile::tempdir().unwrap();
    let files = files_in(dir.path());
    install(&files, leaf);
    let tls = Tls::load(files.clone()).unwrap();
    let reloader = poll.map(|poll| tls.spawn_reloader(poll).unwrap());
    let app = TestApp::spawn().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let routes = sessiond::api::routes(app.services.clone());
    let options = sessiond::server::ServerOptions {
        header_read_timeout,
        drain: Duration::from_millis(10),
        grace: Duration::from_millis(10),
    };
    let served = tls.clone();
    let task = tokio::spawn(async move {
        sessiond::server::run_tls(listener, routes, std::future::pending(), options, served)
            .await
            .unwrap();
    });
    TlsServer {
        app,
        addr,
        tls,
        files,
        task,
        reloader,
        _dir: dir,
    }
}

/// Waits until a new connection is served `want`.
async fn wait_for_leaf(addr: SocketAddr, connector: &TlsConnector, want: &CertificateDer<'_>) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stream = connect(addr, connector).await.unwrap();
        if peer_leaf(&stream) == *want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "new connections still get the old certificate"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn tls_serves_http1_and_http2_on_one_port_by_alpn() {
    let ca = Ca::new();
    let leaf = ca.leaf("sessiond one", 1);
    let server = start(&leaf, Duration::from_secs(10), None).await;

    let stream = connect(server.addr, &ca.client(&[b"http/1.1"]))
        .await
        .unwrap();
    assert_eq!(alpn(&stream).as_deref(), Some(&b"http/1.1"[..]));
    assert_eq!(peer_leaf(&stream), leaf.der);
    assert_eq!(get_http1(stream).await, (200, hyper::Version::HTTP_11));

    let stream = connect(server.addr, &ca.client(&[b"h2", b"http/1.1"]))
        .await
        .unwrap();
    assert_eq!(alpn(&stream).as_deref(), Some(&b"h2"[..]));
    assert_eq!(get_http2(stream).await, (200, hyper::Version::HTTP_2));

    // A client without ALPN gets HTTP/1.1.
    let stream = connect(server.addr, &ca.client(&[])).await.unwrap();
    assert_eq!(alpn(&stream), None);
    assert_eq!(get_http1(stream).await, (200, hyper::Version::HTTP_11));

    // Plain HTTP on the TLS port gets no answer.
    let mut tcp = TcpStream::connect(server.addr).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut tcp, b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut buf)).await;
    assert!(!buf.starts_with(b"HTTP/"), "{buf:?}");
}

#[tokio::test]
async fn tls_serves_grpc_over_http2() {
    let ca = Ca::new();
    let leaf = ca.leaf("sessiond grpc", 2);
    let server = start(&leaf, Duration::from_secs(10), None).await;
    server.app.create_user(LOGIN, PASSWORD).await;

    let addr = server.addr;
    let connector = ca.client(&[b"h2"]);
    let base: hyper::Uri = format!("https://localhost:{}", addr.port())
        .parse()
        .unwrap();
    let connection = Http2Connection::connect_with_connector(
        tower::service_fn(move |_uri: hyper::Uri| {
            let connector = connector.clone();
            async move {
                let stream = connect(addr, &connector).await?;
                assert_eq!(alpn(&stream).as_deref(), Some(&b"h2"[..]));
                Ok::<_, std::io::Error>(TokioIo::new(stream))
            }
        }),
        base.clone(),
    )
    .await
    .unwrap()
    .shared(16);
    let config = ClientConfig::new(base)
        .with_default_header("authorization", format!("Bearer {ADMIN_KEY}"))
        .with_default_timeout(Duration::from_secs(30))
        .with_protocol(Protocol::Grpc)
        .proto();
    let client = pb::SessionServiceClient::new(connection, config);
    let created = client
        .create_session(pb::CreateSessionRequest {
            checks: buffa::MessageField::some(pb::Checks {
                user: buffa::MessageField::some(pb::CheckUser {
                    search: Some(pb::__buffa::oneof::check_user::Search::LoginName(
                        LOGIN.into(),
                    )),
                    ..Default::default()
                }),
                password: buffa::MessageField::some(pb::CheckPassword {
                    password: PASSWORD.into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_owned();
    assert!(!created.session_id.is_empty());
    let got = client
        .get_session(pb::GetSessionRequest {
            session_id: created.session_id.clone(),
            session_token: Some(created.session_token.clone()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_owned();
    assert_eq!(got.session.as_option().unwrap().id, created.session_id);
}

#[tokio::test]
async fn tls_handshake_has_a_deadline() {
    let ca = Ca::new();
    let leaf = ca.leaf("sessiond slow", 3);
    let server = start(&leaf, Duration::from_millis(300), None).await;
    // A client that opens a socket and sends nothing is cut off.
    let started = Instant::now();
    let mut tcp = TcpStream::connect(server.addr).await.unwrap();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf))
        .await
        .expect("the server kept a silent connection open");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    // The server still serves.
    let stream = connect(server.addr, &ca.client(&[b"h2"])).await.unwrap();
    assert_eq!(get_http2(stream).await, (200, hyper::Version::HTTP_2));
}

#[tokio::test]
async fn tls_reloads_the_certificate_when_the_files_change() {
    let ca = Ca::new();
    let first = ca.leaf("sessiond first", 10);
    let server = start(
        &first,
        Duration::from_secs(10),
        Some(Duration::from_millis(100)),
    )
    .await;
    let connector = ca.client(&[b"http/1.1"]);
    let old = connect(server.addr, &connector).await.unwrap();
    assert_eq!(peer_leaf(&old), first.der);
    let (mut old, connection) = hyper::client::conn::http1::handshake(TokioIo::new(old))
        .await
        .unwrap();
    tokio::spawn(connection);

    let second = ca.leaf("sessiond second", 11);
    install(&server.files, &second);
    wait_for_leaf(server.addr, &connector, &second.der).await;
    assert_eq!(server.tls.certificate_chain()[0], second.der);
    // The connection from before keeps working.
    let response = old
        .send_request(
            hyper::Request::get("/healthz")
                .header("host", "localhost")
                .body(Empty::<Bytes>::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // A bad new certificate keeps the current one.
    std::fs::write(
        &server.files.cert,
        "-----BEGIN CERTIFICATE-----\nnot base64!\n",
    )
    .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(server.tls.reload_if_changed().is_ok_and(|changed| !changed));
    let stream = connect(server.addr, &connector).await.unwrap();
    assert_eq!(peer_leaf(&stream), second.der);
    assert_eq!(get_http1(stream).await.0, 200);
    // A key that is not the certificate's also keeps it.
    let third = ca.leaf("sessiond third", 12);
    std::fs::write(&server.files.cert, &third.cert_pem).unwrap();
    std::fs::write(&server.files.key, &first.key_pem).unwrap();
    let err = server.tls.reload().unwrap_err().to_string();
    assert!(err.contains("key.pem"), "{err}");
    assert_eq!(server.tls.certificate_chain()[0], second.der);
    // Once both files are right, the next poll takes them.
    install(&server.files, &third);
    wait_for_leaf(server.addr, &connector, &third.der).await;
    assert!(!server.task.is_finished());
}

#[tokio::test]
async fn tls_reloads_the_certificate_on_sighup() {
    let ca = Ca::new();
    let first = ca.leaf("sessiond before hup", 20);
    // No polling to speak of: only the signal can reload.
    let server = start(
        &first,
        Duration::from_secs(10),
        Some(Duration::from_secs(3600)),
    )
    .await;
    let connector = ca.client(&[b"h2"]);
    let stream = connect(server.addr, &connector).await.unwrap();
    assert_eq!(peer_leaf(&stream), first.der);

    let second = ca.leaf("sessiond after hup", 21);
    install(&server.files, &second);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stream = connect(server.addr, &connector).await.unwrap();
    assert_eq!(peer_leaf(&stream), first.der, "reloaded before the signal");
    // The reloader has installed the SIGHUP handler, so the signal does
    // not end the test process.
    let status = Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    wait_for_leaf(server.addr, &connector, &second.der).await;
    let stream = connect(server.addr, &connector).await.unwrap();
    assert_eq!(get_http2(stream).await, (200, hyper::Version::HTTP_2));
}

#[test]
fn tls_settings_need_both_files_and_usable_pem() {
    let only_cert = TlsFiles::from_settings(Some(Path::new("c.pem")), None)
        .unwrap_err()
        .to_string();
    assert!(only_cert.contains("SESSIOND_TLS_KEY"), "{only_cert}");
    let only_key = TlsFiles::from_settings(None, Some(Path::new("k.pem")))
        .unwrap_err()
        .to_string();
    assert!(only_key.contains("SESSIOND_TLS_CERT"), "{only_key}");
    assert!(TlsFiles::from_settings(None, None).unwrap().is_none());

    let ca = Ca::new();
    let leaf = ca.leaf("sessiond files", 30);
    let dir = tempfile::tempdir().unwrap();
    let files = files_in(dir.path());
    let error = |files: &TlsFiles| format!("{:#}", Tls::load(files.clone()).err().unwrap());

    // Missing files name themselves.
    let err = error(&files);
    assert!(err.contains(&files.cert.display().to_string()), "{err}");
    std::fs::write(&files.cert, &leaf.cert_pem).unwrap();
    let err = error(&files);
    assert!(err.contains(&files.key.display().to_string()), "{err}");
    // Not PEM, or no key in it.
    std::fs::write(&files.key, "hello").unwrap();
    let err = error(&files);
    assert!(err.contains(&files.key.display().to_string()), "{err}");
    std::fs::write(&files.key, &leaf.cert_pem).unwrap();
    let err = error(&files);
    assert!(err.contains(&files.key.display().to_string()), "{err}");
    std::fs::write(&files.key, &leaf.key_pem).unwrap();
    std::fs::write(&files.cert, "no certificate here").unwrap();
    let err = error(&files);
    assert!(err.contains(&files.cert.display().to_string()), "{err}");
    std::fs::write(
        &files.cert,
        "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let err = error(&files);
    assert!(err.contains(&files.cert.display().to_string()), "{err}");
    // A key that is not the certificate's.
    std::fs::write(&files.cert, &leaf.cert_pem).unwrap();
    std::fs::write(&files.key, &ca.leaf("other", 31).key_pem).unwrap();
    let err = error(&files);
    assert!(err.contains("cannot use the key"), "{err}");
    std::fs::write(&files.key, &leaf.key_pem).unwrap();
    assert!(Tls::load(files).is_ok());
}

/// The binary with the given TLS variables, in its own directory.
fn sessiond(dir: &Path, port: u16, env: &[(&str, &Path)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sessiond"));
    command
        .current_dir(dir)
        .env("SESSIOND_DATABASE_URL", "sqlite://tls.db?mode=rwc")
        .env("SESSIOND_LISTEN", format!("127.0.0.1:{port}"))
        .env("SESSIOND_LOG", "info")
        .env_remove("SESSIOND_TLS_CERT")
        .env_remove("SESSIOND_TLS_KEY")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    command
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn tls_start_up_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    let out = sessiond(dir.path(), free_port(), &[("SESSIOND_TLS_CERT", &cert)])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("SESSIOND_TLS_KEY"), "{stderr}");

    std::fs::write(&cert, "garbage").unwrap();
    std::fs::write(&key, "garbage").unwrap();
    let out = sessiond(
        dir.path(),
        free_port(),
        &[("SESSIOND_TLS_CERT", &cert), ("SESSIOND_TLS_KEY", &key)],
    )
    .output()
    .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&cert.display().to_string()), "{stderr}");
}

/// The binary end to end: HTTPS on its port, and SIGHUP reloads.
#[tokio::test]
async fn tls_binary_serves_https_and_reloads_on_sighup() {
    let ca = Ca::new();
    let first = ca.leaf("sessiond binary one", 40);
    let dir = tempfile::tempdir().unwrap();
    let files = files_in(dir.path());
    install(&files, &first);
    let port = free_port();
    let mut child = sessiond(
        dir.path(),
        port,
        &[
            ("SESSIOND_TLS_CERT", files.cert.as_path()),
            ("SESSIOND_TLS_KEY", files.key.as_path()),
        ],
    )
    .spawn()
    .unwrap();
    let stderr = child.stderr.take().unwrap();
    let child = Killed(child);
    let log = Arc::new(std::sync::Mutex::new(String::new()));
    let sink = log.clone();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            sink.lock().unwrap().push_str(&(line + "\n"));
        }
    });
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let connector = ca.client(&[b"h2", b"http/1.1"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    let stream = loop {
        match connect(addr, &connector).await {
            Ok(stream) => break stream,
            Err(err) => {
                assert!(
                    Instant::now() < deadline,
                    "no TLS server: {err}; {}",
                    log.lock().unwrap()
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    assert_eq!(peer_leaf(&stream), first.der);
    assert_eq!(get_http2(stream).await, (200, hyper::Version::HTTP_2));
    let stream = connect(addr, &ca.client(&[b"http/1.1"])).await.unwrap();
    assert_eq!(get_http1(stream).await, (200, hyper::Version::HTTP_11));

    let second = ca.leaf("sessiond binary two", 41);
    install(&files, &second);
    let status = Command::new("kill")
        .args(["-HUP", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    wait_for_leaf(addr, &connector, &second.der).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while !log.lock().unwrap().contains("SIGHUP") {
        assert!(Instant::now() < deadline, "{}", log.lock().unwrap());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let text = log.lock().unwrap().clone();
    assert!(text.contains("reloaded the TLS certificate"), "{text}");
    assert!(text.contains("https://127.0.0.1"), "{text}");
    drop(child);
}
