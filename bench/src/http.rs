//! A minimal HTTP/1.1 client: one keep-alive connection per worker, requests
//! sent one after another, like one wrk connection. Reconnects when the
//! server closes the connection.

use std::net::SocketAddr;

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Where the server is and how to authenticate.
#[derive(Clone, Debug)]
pub struct Target {
    pub addr: SocketAddr,
    /// `Bearer <secret>`, precomputed.
    pub authorization: String,
}

impl Target {
    pub fn new(addr: SocketAddr, secret: &str) -> Target {
        Target {
            addr,
            authorization: format!("Bearer {secret}"),
        }
    }

    pub fn with_key(&self, secret: &str) -> Target {
        Target::new(self.addr, secret)
    }
}

pub struct Response {
    pub status: StatusCode,
    pub body: Bytes,
}

impl Response {
    pub fn json(&self) -> anyhow::Result<serde_json::Value> {
        serde_json::from_slice(&self.body).with_context(|| {
            format!(
                "response {} is not JSON: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The body as JSON when the status is the expected one, else an error
    /// that shows both.
    pub fn expect(self, status: u16) -> anyhow::Result<serde_json::Value> {
        if self.status.as_u16() != status {
            bail!(
                "expected {status}, got {}: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            );
        }
        self.json()
    }
}

/// One connection to the server.
pub struct Client {
    target: Target,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Client {
    pub fn new(target: Target) -> Client {
        Client {
            target,
            sender: None,
        }
    }

    async fn connect(&self) -> anyhow::Result<SendRequest<Full<Bytes>>> {
        let stream = TcpStream::connect(self.target.addr)
            .await
            .with_context(|| format!("cannot connect to {}", self.target.addr))?;
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .context("HTTP handshake failed")?;
        tokio::spawn(async move {
            // Ends when the connection closes; errors show up on the sender.
            let _ = conn.await;
        });
        Ok(sender)
    }

    pub async fn send(
        &mut self,
        method: Method,
        path_and_query: &str,
        body: Option<Bytes>,
    ) -> anyhow::Result<Response> {
        let mut sender = match self.sender.take() {
            Some(s) if !s.is_closed() => s,
            _ => self.connect().await?,
        };
        sender.ready().await.context("connection not ready")?;
        let mut req = Request::builder()
            .method(method)
            .uri(path_and_query)
            .header(hyper::header::HOST, self.target.addr.to_string())
            .header(hyper::header::AUTHORIZATION, &self.target.authorization);
        if body.is_some() {
            req = req.header(hyper::header::CONTENT_TYPE, "application/json");
        }
        let req = req
            .body(Full::new(body.unwrap_or_default()))
            .context("cannot build request")?;
        let resp = sender.send_request(req).await.context("request failed")?;
        let status = resp.status();
        let body = resp
            .into_body()
            .collect()
            .await
            .context("cannot read response body")?
            .to_bytes();
        self.sender = Some(sender);
        Ok(Response { status, body })
    }

    pub async fn get(&mut self, path: &str) -> anyhow::Result<Response> {
        self.send(Method::GET, path, None).await
    }

    pub async fn delete(&mut self, path: &str) -> anyhow::Result<Response> {
        self.send(Method::DELETE, path, None).await
    }

    pub async fn post(&mut self, path: &str, body: &serde_json::Value) -> anyhow::Result<Response> {
        self.send(Method::POST, path, Some(json_bytes(body))).await
    }

    pub async fn patch(
        &mut self,
        path: &str,
        body: &serde_json::Value,
    ) -> anyhow::Result<Response> {
        self.send(Method::PATCH, path, Some(json_bytes(body))).await
    }
}

fn json_bytes(value: &serde_json::Value) -> Bytes {
    Bytes::from(value.to_string())
}
