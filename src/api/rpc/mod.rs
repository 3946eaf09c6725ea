//! ZITADEL's Session Service over Connect (JSON and binary), gRPC and
//! gRPC-Web, for v2alpha, v2beta and v2, on the main port. connectrpc
//! serves all three protocols from one tower service, chosen by content
//! type; gRPC server reflection and `grpc.health.v1.Health` come with it.

pub mod gateway;
pub mod openapi;
pub mod proto;
pub mod session_service;
pub mod status;
pub mod translate;
pub mod versions;

use std::sync::Arc;

use connectrpc::{ConnectRpcService, Limits, Router};
use poem::Endpoint;
use poem::http;

use self::proto::zitadel::session::{v2, v2alpha, v2beta};
use self::session_service::SessionRpc;
use crate::api::body_limit::MAX_BODY_BYTES;
use crate::service::Services;

/// The services on the RPC routes, each under `/<service>/<method>`.
pub const SERVICES: [&str; 6] = [
    v2::SESSION_SERVICE_SERVICE_NAME,
    v2beta::SESSION_SERVICE_SERVICE_NAME,
    v2alpha::SESSION_SERVICE_SERVICE_NAME,
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
    "grpc.health.v1.Health",
];

/// The operations every ZITADEL transport of v2alpha, v2beta and v2 shares.
pub fn core(services: Services) -> Arc<SessionRpc> {
    Arc::new(SessionRpc { services })
}

pub fn router(core: Arc<SessionRpc>) -> Router {
    use self::proto::zitadel::session::v2::SessionServiceExt as _;
    use self::proto::zitadel::session::v2alpha::SessionServiceExt as _;
    use self::proto::zitadel::session::v2beta::SessionServiceExt as _;
    let router = Router::new();
    let router = Arc::new(versions::V2(core.clone())).register(router);
    let router = Arc::new(versions::V2beta(core.clone())).register(router);
    let router = Arc::new(versions::V2alpha(core)).register(router);
    let reflector =
        connectrpc_reflection::Reflector::from_descriptor_set_bytes(proto::DESCRIPTOR_SET)
            .expect("the generated descriptor set is valid");
    let router = connectrpc_reflection::install(router, reflector);
    let (router, _health) = connectrpc_health::install_static(
        router,
        [
            v2::SESSION_SERVICE_SERVICE_NAME,
            v2beta::SESSION_SERVICE_SERVICE_NAME,
            v2alpha::SESSION_SERVICE_SERVICE_NAME,
        ],
    );
    router
}

/// The RPC routes as a poem endpoint. Bodies and trailers pass through
/// frame by frame, so gRPC's trailers reach the client.
///
/// `documents` are the contract documents; Connect JSON requests to a
/// documented route are held to its request schema, as the REST routes are.
pub fn endpoint(core: Arc<SessionRpc>, documents: &[crate::api::docs::Document]) -> RpcEndpoint {
    let limits = Limits::default()
        .with_max_request_body_size(MAX_BODY_BYTES)
        .with_max_message_size(MAX_BODY_BYTES);
    RpcEndpoint {
        service: ConnectRpcService::new(router(core)).with_limits(limits),
        schemas: Arc::new(request_schemas(documents)),
    }
}

/// Each documented RPC path's request schema.
fn request_schemas(
    documents: &[crate::api::docs::Document],
) -> std::collections::HashMap<String, crate::api::schema::CompiledSchema> {
    let mut schemas = std::collections::HashMap::new();
    for doc in documents {
        let spec: serde_json::Value =
            serde_json::from_str(&doc.json).expect("a rendered document is JSON");
        let compiler = crate::api::schema::DocumentSchemas::new(&spec);
        for (path, item) in spec["paths"].as_object().into_iter().flatten() {
            if !is_rpc_path(path) {
                continue;
            }
            let schema = &item["post"]["requestBody"]["content"]["application/json"]["schema"];
            if schema.is_object() {
                let compiled = compiler
                    .compile(schema)
                    .expect("every rendered request schema compiles");
                schemas.insert(path.clone(), compiled);
            }
        }
    }
    schemas
}

pub struct RpcEndpoint {
    service: ConnectRpcService,
    schemas: Arc<std::collections::HashMap<String, crate::api::schema::CompiledSchema>>,
}

impl Endpoint for RpcEndpoint {
    type Output = poem::Response;

    async fn call(&self, mut req: poem::Request) -> poem::Result<poem::Response> {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        if let Some(refused) = self.check_connect_json(&mut req).await {
            return Ok(refused);
        }
        let request: http::Request<_> = req.into();
        let response = match self.service.clone().oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        let mut response: poem::Response = response
            .map(|body| SyncBody::new(body.map_err(std::io::Error::other)))
            .into();
        let headers = response.headers_mut();
        // Answers carry session tokens and state, as on the REST routes.
        headers.insert(
            http::header::CACHE_CONTROL,
            http::HeaderValue::from_static("no-store"),
        );
        if response.status() == http::StatusCode::METHOD_NOT_ALLOWED {
            // Every RPC is a POST (connectrpc answers GET for none of them).
            response
                .headers_mut()
                .insert(http::header::ALLOW, http::HeaderValue::from_static("POST"));
        }
        if response.status() == http::StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                http::header::WWW_AUTHENTICATE,
                http::HeaderValue::from_static(crate::api::zitadel::error::WWW_AUTHENTICATE),
            );
        }
        if response.status() == http::StatusCode::UNSUPPORTED_MEDIA_TYPE
            && !response.headers().contains_key(http::header::CONTENT_TYPE)
        {
            // connectrpc names the accepted types in `Accept-Post`; the body
            // says it too, in the Connect error shape.
            let accepted = response
                .headers()
                .get("accept-post")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let (parts, _) = response.into_parts();
            let mut answer = connect_error(
                parts.status,
                "invalid_argument",
                &format!("unsupported content type; send one of: {accepted}"),
            );
            for (name, value) in &parts.headers {
                answer.headers_mut().insert(name, value.clone());
            }
            return Ok(answer);
        }
        Ok(trailers_only(response))
    }
}

fn connect_error(status: http::StatusCode, code: &str, message: &str) -> poem::Response {
    poem::Response::builder()
        .status(status)
        .content_type("application/json")
        .header(http::header::CACHE_CONTROL, "no-store")
        .body(serde_json::json!({"code": code, "message": message}).to_string())
}

impl RpcEndpoint {
    /// A Connect JSON body must be a JSON object (serde would also read a
    /// message from an array), and on a documented route it must match the
    /// route's request schema: no `null`s, no values of the wrong type.
    async fn check_connect_json(&self, req: &mut poem::Request) -> Option<poem::Response> {
        let schema = self.schemas.get(req.uri().path());
        let body = match read_connect_json(req).await {
            Ok(Some(body)) => body,
            Ok(None) => return None,
            Err(refused) => return Some(refused),
        };
        if let Some(schema) = schema
            && let Ok(value) = serde_json::from_slice::<serde_json::Value>(&body)
            && let Err(problem) = schema.check_at(&value, "body")
        {
            return Some(connect_error(
                http::StatusCode::BAD_REQUEST,
                "invalid_argument",
                &problem,
            ));
        }
        req.set_body(body);
        None
    }
}

/// The body of a Connect JSON request, if it is one; a body that is not a
/// JSON object is refused.
async fn read_connect_json(
    req: &mut poem::Request,
) -> Result<Option<bytes::Bytes>, poem::Response> {
    let is_connect_json = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_connect_json {
        return Ok(None);
    }
    let body = match req.take_body().into_bytes_limit(MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(poem::error::ReadBodyError::PayloadTooLarge) => {
            return Err(connect_error(
                http::StatusCode::PAYLOAD_TOO_LARGE,
                "resource_exhausted",
                &crate::api::body_limit::too_large_message(),
            ));
        }
        Err(err) => {
            return Err(connect_error(
                http::StatusCode::BAD_REQUEST,
                "invalid_argument",
                &format!("reading the request body failed: {err}"),
            ));
        }
    };
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| *b != b'{') {
        return Err(connect_error(
            http::StatusCode::BAD_REQUEST,
            "invalid_argument",
            "the request body must be a JSON object",
        ));
    }
    Ok(Some(body))
}

/// A gRPC error whose status is in the headers is a Trailers-Only
/// response: one HEADERS frame that ends the stream. connectrpc also sends
/// the status again in trailers, which the gRPC spec does not allow after
/// a Trailers-Only header block, so the body is dropped here.
fn trailers_only(response: poem::Response) -> poem::Response {
    let is_grpc = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.starts_with("application/grpc") && !v.starts_with("application/grpc-web")
        });
    if !is_grpc || !response.headers().contains_key("grpc-status") {
        return response;
    }
    let (parts, _) = response.into_parts();
    poem::Response::from_parts(parts, poem::Body::empty())
}

/// poem keeps bodies that are `Sync`; connectrpc's streaming body is only
/// `Send`, and is only ever polled through `&mut`, so the wrapper is exact.
struct SyncBody<B>(sync_wrapper::SyncWrapper<B>);

impl<B> SyncBody<B> {
    fn new(body: B) -> SyncBody<B> {
        SyncBody(sync_wrapper::SyncWrapper::new(body))
    }
}

impl<B: http_body::Body + Unpin> http_body::Body for SyncBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        std::pin::Pin::new(self.get_mut().0.get_mut()).poll_frame(cx)
    }

    // `is_end_stream` and `size_hint` keep their defaults: the wrapper
    // lends the body only mutably.
}

/// Whether a path names an RPC, `/<package>.<Service>/<Method>`: the
/// RPC routes share the port with the REST routes, whose first segments
/// have no dot.
pub fn is_rpc_path(path: &str) -> bool {
    let mut segments = path.strip_prefix('/').unwrap_or(path).split('/');
    match (segments.next(), segments.next(), segments.next()) {
        (Some(service), Some(method), None) => service.contains('.') && !method.is_empty(),
        _ => false,
    }
}

/// Sends RPC paths to the RPC transports and everything else to `rest`.
pub struct Split<R, E> {
    pub rpc: R,
    pub rest: E,
}

impl<R: Endpoint, E: Endpoint> Endpoint for Split<R, E> {
    type Output = poem::Response;

    async fn call(&self, req: poem::Request) -> poem::Result<poem::Response> {
        use poem::IntoResponse;
        if is_rpc_path(req.uri().path()) {
            self.rpc.call(req).await.map(IntoResponse::into_response)
        } else {
            self.rest.call(req).await.map(IntoResponse::into_response)
        }
    }
}
