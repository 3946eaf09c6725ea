//! ZITADEL's Session Service over the RPC transports, for comparison with
//! the REST scenarios they mirror: Connect binary (`application/proto`,
//! HTTP/1.1 and h2c), Connect JSON (`application/json`, HTTP/1.1) and gRPC
//! (h2c). Like the REST client, every worker owns one connection (for h2c
//! one connection with one stream at a time), request bodies are encoded
//! before the clock starts where they do not depend on the request, and
//! answers are checked by status only, except every 256th answer of each
//! worker (its first included), which is decoded and checked in full.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use async_trait::async_trait;
use buffa::{Message, MessageField};
use bytes::{BufMut, Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::{http1, http2};
use hyper::{HeaderMap, Method, Request};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rand::SeedableRng;
use rand::rngs::SmallRng;
use sessiond::api::rpc::proto::zitadel::session::v2 as pb;
use tokio::net::TcpStream;

use crate::http::Target;
use crate::load::{Outcome, Step, Worker};
use crate::scenarios::SessionPool;
use crate::seed;

/// The v2 service: the version the RPC layer implements natively (v2beta
/// and v2alpha re-encode their messages into v2's and back).
pub const SERVICE: &str = "/zitadel.session.v2.SessionService";

/// Longest wait for one answer; a hung stream is an error, not a stall.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Every this many calls a worker decodes and checks the answer in full.
const CHECK_EVERY: u64 = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// Connect unary, `application/proto`, HTTP/1.1: the REST client's
    /// connection handling with a binary body.
    ConnectProto,
    /// The same over h2c (prior knowledge).
    ConnectProtoH2,
    /// Connect unary, `application/json`, HTTP/1.1.
    ConnectJson,
    /// gRPC, `application/grpc`, h2c.
    Grpc,
}

impl Transport {
    /// In the order the scenarios run and the report lists them.
    pub const ALL: [Transport; 4] = [
        Transport::ConnectProto,
        Transport::ConnectProtoH2,
        Transport::ConnectJson,
        Transport::Grpc,
    ];

    /// Appended to the REST scenario's key: `get_connect_proto`, ….
    pub fn suffix(self) -> &'static str {
        match self {
            Transport::ConnectProto => "connect_proto",
            Transport::ConnectProtoH2 => "connect_proto_h2",
            Transport::ConnectJson => "connect_json",
            Transport::Grpc => "grpc",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Transport::ConnectProto => "Connect binary, HTTP/1.1",
            Transport::ConnectProtoH2 => "Connect binary, h2c",
            Transport::ConnectJson => "Connect JSON, HTTP/1.1",
            Transport::Grpc => "gRPC, h2c",
        }
    }

    /// Binary transports are the ones the goal is about.
    pub fn binary(self) -> bool {
        self != Transport::ConnectJson
    }

    fn http2(self) -> bool {
        matches!(self, Transport::ConnectProtoH2 | Transport::Grpc)
    }

    fn content_type(self) -> &'static str {
        match self {
            Transport::ConnectProto | Transport::ConnectProtoH2 => "application/proto",
            Transport::ConnectJson => "application/json",
            Transport::Grpc => "application/grpc",
        }
    }

    /// The request message as this transport's body: the message itself
    /// (Connect unary), or in gRPC's 5-byte envelope.
    pub fn encode<M: Message + serde::Serialize>(self, message: &M) -> Bytes {
        match self {
            Transport::ConnectJson => {
                Bytes::from(serde_json::to_vec(message).expect("messages serialize to JSON"))
            }
            Transport::ConnectProto | Transport::ConnectProtoH2 => message.encode_to_bytes(),
            Transport::Grpc => {
                let bytes = message.encode_to_vec();
                let mut framed = BytesMut::with_capacity(5 + bytes.len());
                framed.put_u8(0);
                framed.put_u32(u32::try_from(bytes.len()).expect("small message"));
                framed.put_slice(&bytes);
                framed.freeze()
            }
        }
    }

    /// An answer's message, decoded as the transport encodes it.
    fn decode<M: Message + serde::de::DeserializeOwned>(self, message: &[u8]) -> anyhow::Result<M> {
        match self {
            Transport::ConnectJson => {
                serde_json::from_slice(message).context("answer is not the message as JSON")
            }
            _ => M::decode_from_slice(message)
                .map_err(|e| anyhow::anyhow!("answer does not decode: {e}")),
        }
    }
}

/// The key of the scenario of `rest_key` over `transport`.
pub fn key(rest_key: &str, transport: Transport) -> String {
    format!("{rest_key}_{}", transport.suffix())
}

/// The REST scenario an RPC scenario key mirrors, with its transport.
pub fn rest_key_of(key: &str) -> Option<(&str, Transport)> {
    // Longest suffix first: `connect_proto_h2` ends like `connect_proto`'s
    // neighbours only by accident, so match whole suffixes.
    let mut all = Transport::ALL;
    all.sort_by_key(|t| std::cmp::Reverse(t.suffix().len()));
    all.into_iter().find_map(|t| {
        key.strip_suffix(t.suffix())
            .and_then(|rest| rest.strip_suffix('_'))
            .filter(|rest| COMPARED.iter().any(|(k, _)| k == rest))
            .map(|rest| (rest, t))
    })
}

/// The REST scenarios with RPC counterparts, with the RPC method.
pub const COMPARED: [(&str, &str); 2] = [("get", "GetSession"), ("create_user", "CreateSession")];

/// An answer that arrived: the HTTP status, and the RPC's message when the
/// call succeeded.
enum Answer {
    Ok(Bytes),
    /// HTTP status other than 200, or a gRPC status other than 0.
    Rejected {
        key: String,
        detail: String,
    },
}

enum Sender {
    H1(http1::SendRequest<Full<Bytes>>),
    H2(http2::SendRequest<Full<Bytes>>),
}

impl Sender {
    fn is_closed(&self) -> bool {
        match self {
            Sender::H1(s) => s.is_closed(),
            Sender::H2(s) => s.is_closed(),
        }
    }
}

/// One connection to the server speaking one transport.
pub struct RpcClient {
    target: Target,
    transport: Transport,
    /// `http://ADDR` for the h2c request URIs.
    origin: String,
    sender: Option<Sender>,
}

impl RpcClient {
    pub fn new(target: Target, transport: Transport) -> RpcClient {
        let origin = format!("http://{}", target.addr);
        RpcClient {
            target,
            transport,
            origin,
            sender: None,
        }
    }

    async fn connect(&self) -> anyhow::Result<Sender> {
        let stream = TcpStream::connect(self.target.addr)
            .await
            .with_context(|| format!("cannot connect to {}", self.target.addr))?;
        stream.set_nodelay(true)?;
        let io = TokioIo::new(stream);
        if self.transport.http2() {
            let (sender, conn) = http2::Builder::new(TokioExecutor::new())
                .handshake(io)
                .await
                .context("HTTP/2 handshake failed")?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            Ok(Sender::H2(sender))
        } else {
            let (sender, conn) = http1::handshake(io)
                .await
                .context("HTTP handshake failed")?;
            tokio::spawn(async move {
                let _ = conn.await;
            });
            Ok(Sender::H1(sender))
        }
    }

    /// Calls `method` of the v2 service with a body already in the
    /// transport's encoding.
    async fn call(&mut self, method: &str, body: Bytes) -> anyhow::Result<Answer> {
        let mut sender = match self.sender.take() {
            Some(s) if !s.is_closed() => s,
            _ => self.connect().await?,
        };
        let t = self.transport;
        let mut req = Request::builder().method(Method::POST);
        req = if t.http2() {
            req.uri(format!("{}{SERVICE}/{method}", self.origin))
        } else {
            req.uri(format!("{SERVICE}/{method}"))
                .header(hyper::header::HOST, self.target.addr.to_string())
        };
        req = req
            .header(hyper::header::AUTHORIZATION, &self.target.authorization)
            .header(hyper::header::CONTENT_TYPE, t.content_type());
        req = match t {
            Transport::Grpc => req.header(hyper::header::TE, "trailers"),
            _ => req.header("connect-protocol-version", "1"),
        };
        let req = req.body(Full::new(body)).context("cannot build request")?;
        let resp = match &mut sender {
            Sender::H1(s) => {
                s.ready().await.context("connection not ready")?;
                s.send_request(req).await
            }
            Sender::H2(s) => {
                s.ready().await.context("connection not ready")?;
                s.send_request(req).await
            }
        }
        .context("request failed")?;
        let (parts, body) = resp.into_parts();
        let collected = body.collect().await.context("cannot read response body")?;
        self.sender = Some(sender);
        let trailers = collected.trailers().cloned();
        let bytes = collected.to_bytes();
        if parts.status.as_u16() != 200 {
            return Ok(Answer::Rejected {
                key: parts.status.as_u16().to_string(),
                detail: format!("HTTP {}: {}", parts.status, excerpt(&bytes)),
            });
        }
        if t != Transport::Grpc {
            return Ok(Answer::Ok(bytes));
        }
        grpc_answer(&parts.headers, trailers.as_ref(), bytes)
    }
}

/// A gRPC answer: the status from the headers (Trailers-Only) or the
/// trailers, and the one message from its envelope.
fn grpc_answer(
    headers: &HeaderMap,
    trailers: Option<&HeaderMap>,
    body: Bytes,
) -> anyhow::Result<Answer> {
    let status_of = |h: &HeaderMap| {
        h.get("grpc-status").map(|v| {
            (
                v.to_str().unwrap_or("?").to_owned(),
                h.get("grpc-message").cloned(),
            )
        })
    };
    let Some((status, message)) = status_of(headers).or_else(|| trailers.and_then(status_of))
    else {
        bail!("gRPC answer without grpc-status");
    };
    if status != "0" {
        let message = message
            .map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned())
            .unwrap_or_default();
        return Ok(Answer::Rejected {
            key: format!("grpc-{status}"),
            detail: format!("grpc-status {status}: {message}"),
        });
    }
    if body.len() < 5 {
        bail!(
            "gRPC answer of {} bytes has no message envelope",
            body.len()
        );
    }
    if body[0] != 0 {
        bail!("gRPC answer is compressed (flag {})", body[0]);
    }
    let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
    if body.len() != 5 + len {
        bail!(
            "gRPC envelope says {len} bytes, body has {}",
            body.len() - 5
        );
    }
    Ok(Answer::Ok(body.slice(5..)))
}

fn excerpt(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(300).collect()
}

/// What an RPC worker repeats.
pub enum RpcOp {
    /// GetSession of a random pooled session with its token, as the REST
    /// "get with token" scenario.
    Get { pool: Arc<SessionPool> },
    /// CreateSession with one of the pre-encoded bodies, in turn.
    Create {
        bodies: Arc<Vec<Bytes>>,
        next: usize,
    },
}

pub struct RpcWorker {
    client: RpcClient,
    rng: SmallRng,
    op: RpcOp,
    calls: u64,
}

impl RpcWorker {
    /// `seed` as for the REST worker it mirrors, so a get worker draws
    /// the same sessions in the same order.
    pub fn new(target: &Target, transport: Transport, seed: u64, op: RpcOp) -> RpcWorker {
        RpcWorker {
            client: RpcClient::new(target.clone(), transport),
            rng: SmallRng::seed_from_u64(seed),
            op,
            calls: 0,
        }
    }

    async fn call(&mut self) -> anyhow::Result<Outcome> {
        let t = self.client.transport;
        let check = self.calls.is_multiple_of(CHECK_EVERY);
        self.calls += 1;
        match &mut self.op {
            RpcOp::Get { pool } => {
                let (id, token) = pool.pick(&mut self.rng);
                let request = pb::GetSessionRequest {
                    session_id: id.clone(),
                    session_token: Some(token),
                    ..Default::default()
                };
                let answer = self.client.call("GetSession", t.encode(&request)).await?;
                let Answer::Ok(message) = answer else {
                    return Ok(answer.into());
                };
                if check {
                    let got: pb::GetSessionResponse = t.decode(&message)?;
                    let session_id = got.session.as_option().map(|s| s.id.as_str());
                    if session_id != Some(id.as_str()) {
                        bail!("GetSession({id}) answered session {session_id:?}");
                    }
                }
                Ok(Outcome::Ok)
            }
            RpcOp::Create { bodies, next } => {
                let body = bodies[*next % bodies.len()].clone();
                *next += 1;
                let answer = self.client.call("CreateSession", body).await?;
                let Answer::Ok(message) = answer else {
                    return Ok(answer.into());
                };
                if check {
                    let created: pb::CreateSessionResponse = t.decode(&message)?;
                    if created.session_id.is_empty() || created.session_token.is_empty() {
                        bail!("CreateSession answered no session id or token");
                    }
                }
                Ok(Outcome::Ok)
            }
        }
    }
}

impl From<Answer> for Outcome {
    fn from(answer: Answer) -> Outcome {
        match answer {
            Answer::Ok(_) => Outcome::Ok,
            Answer::Rejected { key, detail } => Outcome::Rejected { key, detail },
        }
    }
}

#[async_trait]
impl Worker for RpcWorker {
    async fn step(&mut self) -> Step {
        match tokio::time::timeout(CALL_TIMEOUT, self.call()).await {
            Ok(Ok(outcome)) => outcome.into(),
            Ok(Err(e)) => Outcome::from(e).into(),
            Err(_) => {
                // The connection may be stuck mid-answer: start afresh.
                self.client.sender = None;
                Outcome::Failed(format!("no answer within {CALL_TIMEOUT:?}")).into()
            }
        }
    }
}

/// The CreateSession requests of the REST "create with a user check"
/// scenario (`{"checks":{"user":{"loginName":"user<N>"}}}`), one per user,
/// in `transport`'s encoding.
pub fn create_bodies(users: usize, transport: Transport) -> Arc<Vec<Bytes>> {
    Arc::new(
        (0..users.max(1))
            .map(|n| {
                let request = pb::CreateSessionRequest {
                    checks: MessageField::some(pb::Checks {
                        user: MessageField::some(pb::CheckUser {
                            search: Some(pb::__buffa::oneof::check_user::Search::LoginName(
                                seed::login_name(n),
                            )),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                };
                transport.encode(&request)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_back_to_their_rest_scenario() {
        for (rest, _) in COMPARED {
            for t in Transport::ALL {
                assert_eq!(rest_key_of(&key(rest, t)), Some((rest, t)));
            }
        }
        assert_eq!(rest_key_of("get"), None);
        assert_eq!(rest_key_of("get_no_touch"), None);
        assert_eq!(rest_key_of("search_ids_grpc"), None);
    }

    #[test]
    fn create_bodies_match_the_rest_json() {
        let json = create_bodies(2, Transport::ConnectJson);
        let v: serde_json::Value = serde_json::from_slice(&json[1]).unwrap();
        assert_eq!(v, seed::create_with_user(1));
        let grpc = create_bodies(1, Transport::Grpc);
        let proto = create_bodies(1, Transport::ConnectProto);
        assert_eq!(&grpc[0][5..], &proto[0][..]);
        assert_eq!(grpc[0][0], 0);
    }
}
