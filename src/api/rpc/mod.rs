//! ZITADEL's Session Service over Connect (JSON and binary), gRPC and
//! gRPC-Web, for v2alpha, v2beta and v2, on the main port. connectrpc
//! serves all three protocols from one tower service, chosen by content
//! type; gRPC server reflection and `grpc.health.v1.Health` come with it.

pub mod gateway;
pub mod openapi;
pub mod proto;
pub mod session_service;
mod status;
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
pub fn endpoint(core: Arc<SessionRpc>) -> RpcEndpoint {
    let limits = Limits::default()
        .with_max_request_body_size(MAX_BODY_BYTES)
        .with_max_message_size(MAX_BODY_BYTES);
    RpcEndpoint(ConnectRpcService::new(router(core)).with_limits(limits))
}

pub struct RpcEndpoint(ConnectRpcService);

impl Endpoint for RpcEndpoint {
    type Output = poem::Response;

    async fn call(&self, req: poem::Request) -> poem::Result<poem::Response> {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let request: http::Request<_> = req.into();
        let response = match self.0.clone().oneshot(request).await {
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
        if response.status() == http::StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                http::header::WWW_AUTHENTICATE,
                http::HeaderValue::from_static(crate::api::zitadel::error::WWW_AUTHENTICATE),
            );
        }
        Ok(trailers_only(response))
    }
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
