//! The HTTP server loop: HTTP/1.1 and HTTP/2 on one port, with a deadline
//! for request headers (so slow clients cannot hold connections open) and a
//! stop in two steps. On the stop signal the server first drains: it keeps
//! serving, and every response says `Connection: close`, so keep-alive
//! clients finish what they send and open no new request on a closing
//! socket. Then it stops accepting and waits for in-flight requests.
//!
//! With [`run_tls`] the same port speaks TLS only (see [`tls`]); the
//! handshake has the header deadline too, so a client that opens a socket
//! and sends nothing cannot hold it.

pub mod tls;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use poem::http::{HeaderValue, header};
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Addr, Endpoint, IntoResponse};
use tokio::net::TcpListener;

#[derive(Clone, Copy, Debug)]
pub struct ServerOptions {
    /// A client must send a request's whole header within this time, also
    /// on a kept-alive connection between requests.
    pub header_read_timeout: Duration,
    /// How long the server keeps serving, with `Connection: close`, after
    /// the stop signal.
    pub drain: Duration,
    /// How long in-flight requests get once the server stops accepting.
    pub grace: Duration,
}

/// Serves `app` on `listener` until `stop` resolves, then drains and stops.
pub async fn run<E>(
    listener: TcpListener,
    app: E,
    stop: impl Future<Output = ()>,
    options: ServerOptions,
) -> std::io::Result<()>
where
    E: Endpoint + 'static,
{
    serve(listener, app, stop, options, None).await
}

/// [`run`] over TLS: every connection starts with a handshake, which must
/// end within `options.header_read_timeout`, and is then served as in
/// [`run`] (HTTP/1.1 or HTTP/2, as the client's ALPN or preface says).
pub async fn run_tls<E>(
    listener: TcpListener,
    app: E,
    stop: impl Future<Output = ()>,
    options: ServerOptions,
    tls: Arc<tls::Tls>,
) -> std::io::Result<()>
where
    E: Endpoint + 'static,
{
    serve(listener, app, stop, options, Some(tls)).await
}

async fn serve<E>(
    listener: TcpListener,
    app: E,
    stop: impl Future<Output = ()>,
    options: ServerOptions,
    tls: Option<Arc<tls::Tls>>,
) -> std::io::Result<()>
where
    E: Endpoint + 'static,
{
    let app = Arc::new(app);
    let local = listener.local_addr()?;
    let draining = Arc::new(AtomicBool::new(false));
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);

    tokio::pin!(stop);
    let drain_until = loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, remote) = match accepted {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        // Out of file descriptors and the like: the
                        // listener itself is fine, so keep going.
                        tracing::warn!(error = %err, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                match &tls {
                    None => serve_connection(&builder, &graceful, stream, local, remote, &app, &draining),
                    Some(tls) => serve_tls_connection(&builder, &graceful, tls, options.header_read_timeout, stream, local, remote, &app, &draining),
                }
            }
            () = &mut stop => break tokio::time::Instant::now() + options.drain,
        }
    };

    draining.store(true, Ordering::SeqCst);
    tracing::info!(drain = ?options.drain, "draining: responses now close their connections");
    let deadline = tokio::time::sleep_until(drain_until);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                if let Ok((stream, remote)) = accepted {
                    match &tls {
                        None => serve_connection(&builder, &graceful, stream, local, remote, &app, &draining),
                        Some(tls) => serve_tls_connection(&builder, &graceful, tls, options.header_read_timeout, stream, local, remote, &app, &draining),
                    }
                }
            }
            () = &mut deadline => break,
        }
    }
    drop(listener);
    tracing::info!("stopped accepting; waiting for in-flight requests");
    if tokio::time::timeout(options.grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(grace = ?options.grace, "requests still running after the grace period");
    }
    Ok(())
}

fn serve_connection<E: Endpoint + 'static>(
    builder: &Arc<Builder<TokioExecutor>>,
    graceful: &GracefulShutdown,
    stream: tokio::net::TcpStream,
    local: SocketAddr,
    remote: SocketAddr,
    app: &Arc<E>,
    draining: &Arc<AtomicBool>,
) {
    let service = service(app, draining, local, remote, poem::http::uri::Scheme::HTTP);
    let connection = builder
        .serve_connection_with_upgrades(TokioIo::new(stream), service)
        .into_owned();
    let connection = graceful.watch(connection);
    tokio::spawn(async move {
        if let Err(err) = connection.await {
            tracing::debug!(error = %err, "connection ended with an error");
        }
    });
}

/// Like [`serve_connection`], after a TLS handshake that must end within
/// `handshake_timeout`. The connection counts for the graceful stop from
/// its accept on.
#[allow(clippy::too_many_arguments)]
fn serve_tls_connection<E: Endpoint + 'static>(
    builder: &Arc<Builder<TokioExecutor>>,
    graceful: &GracefulShutdown,
    tls: &Arc<tls::Tls>,
    handshake_timeout: Duration,
    stream: tokio::net::TcpStream,
    local: SocketAddr,
    remote: SocketAddr,
    app: &Arc<E>,
    draining: &Arc<AtomicBool>,
) {
    let service = service(app, draining, local, remote, poem::http::uri::Scheme::HTTPS);
    let builder = builder.clone();
    let acceptor = tls.acceptor().clone();
    let watcher = graceful.watcher();
    tokio::spawn(async move {
        let stream = match tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(err)) => {
                tracing::debug!(error = %err, %remote, "TLS handshake failed");
                return;
            }
            Err(_) => {
                tracing::debug!(%remote, timeout = ?handshake_timeout, "TLS handshake timed out");
                return;
            }
        };
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
        if let Err(err) = watcher.watch(connection).await {
            tracing::debug!(error = %err, "connection ended with an error");
        }
    });
}

type ResponseBody = http_body_util::combinators::BoxBody<hyper::body::Bytes, std::io::Error>;

/// The connection's service: `app`, with `Connection: close` on HTTP/1
/// responses while draining.
fn service<E: Endpoint + 'static>(
    app: &Arc<E>,
    draining: &Arc<AtomicBool>,
    local: SocketAddr,
    remote: SocketAddr,
    scheme: poem::http::uri::Scheme,
) -> impl hyper::service::Service<
    hyper::Request<hyper::body::Incoming>,
    Response = hyper::Response<ResponseBody>,
    Error = Infallible,
    Future = impl Future<Output = Result<hyper::Response<ResponseBody>, Infallible>> + Send + 'static,
> + Clone
+ Send
+ 'static {
    let app = app.clone();
    let draining = draining.clone();
    hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let app = app.clone();
        let draining = draining.clone();
        let scheme = scheme.clone();
        async move {
            // `Connection` is an HTTP/1 header; HTTP/2 has GOAWAY instead.
            let http1 = req.version() < poem::http::Version::HTTP_2;
            let req = poem::Request::from((
                req,
                LocalAddr(Addr::SocketAddr(local)),
                RemoteAddr(Addr::SocketAddr(remote)),
                scheme,
            ));
            let mut response = match app.call(req).await {
                Ok(response) => response.into_response(),
                Err(err) => err.into_response(),
            };
            if http1 && draining.load(Ordering::SeqCst) {
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
            }
            Ok::<_, Infallible>(hyper::Response::from(response))
        }
    })
}
