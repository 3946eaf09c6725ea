#![allow(refining_impl_trait)] // Handlers name their concrete response types.
//! One adapter per API version. v2 calls [`SessionRpc`] directly; v2beta
//! and v2alpha re-encode their messages as v2's and back. That is exact
//! because the three packages share field numbers and types (the protos
//! under `proto/` keep them wire-compatible, and a test checks it); what a
//! version lacks is simply absent on its wire.

use std::sync::Arc;

use buffa::Message;
use connectrpc::{ConnectError, RequestContext, Response, ServiceRequest, ServiceResult};

use super::proto::zitadel::session::{v2, v2alpha, v2beta};
use super::session_service::{ApiVersion, SessionRpc};
use crate::api::zitadel::status::{Code, Status};

/// Re-encodes a message of one version as the same message of another.
pub fn transcode<A: Message, B: Message>(from: &A) -> Result<B, Status> {
    B::decode_from_slice(&from.encode_to_vec())
        .map_err(|e| Status::plain(Code::Internal, format!("message re-encoding failed: {e}")))
}

/// The same, by value, for the adapters.
fn recode<A: Message, B: Message>(from: A) -> Result<B, Status> {
    transcode(&from)
}

/// v2's own messages need no re-encoding.
fn keep<A, B: From<A>>(message: A) -> Result<B, Status> {
    Ok(B::from(message))
}

fn respond<T>(result: Result<T, Status>) -> ServiceResult<T> {
    match result {
        Ok(message) => Response::ok(message),
        Err(status) => Err(ConnectError::from(status)),
    }
}

/// One RPC of an adapter: convert the request to v2 (before anything is
/// awaited), authenticate, run the operation, convert the response back.
macro_rules! rpc_method {
    ($pkg:ident, $version:expr, $convert:ident, $method:ident, $request:ident, $response:ident) => {
        async fn $method(
            &self,
            ctx: RequestContext,
            request: ServiceRequest<'_, $pkg::$request>,
        ) -> ServiceResult<$pkg::$response> {
            let request = $convert::<_, v2::$request>(request.to_owned_message());
            respond(
                async {
                    let request = request?;
                    let caller = self.0.caller(ctx.headers()).await?;
                    let response = self.0.$method($version, &caller, request).await?;
                    $convert::<v2::$response, _>(response)
                }
                .await,
            )
        }
    };
}

/// An adapter for one version: the five RPCs through [`SessionRpc`].
macro_rules! adapter {
    ($name:ident, $pkg:ident, $version:expr, $convert:ident) => {
        #[derive(Clone)]
        pub struct $name(pub Arc<SessionRpc>);

        impl $pkg::SessionService for $name {
            rpc_method!(
                $pkg,
                $version,
                $convert,
                list_sessions,
                ListSessionsRequest,
                ListSessionsResponse
            );
            rpc_method!(
                $pkg,
                $version,
                $convert,
                get_session,
                GetSessionRequest,
                GetSessionResponse
            );
            rpc_method!(
                $pkg,
                $version,
                $convert,
                create_session,
                CreateSessionRequest,
                CreateSessionResponse
            );
            rpc_method!(
                $pkg,
                $version,
                $convert,
                set_session,
                SetSessionRequest,
                SetSessionResponse
            );
            rpc_method!(
                $pkg,
                $version,
                $convert,
                delete_session,
                DeleteSessionRequest,
                DeleteSessionResponse
            );
        }
    };
}

adapter!(V2, v2, ApiVersion::V2, keep);
adapter!(V2beta, v2beta, ApiVersion::V2beta, recode);
adapter!(V2alpha, v2alpha, ApiVersion::V2alpha, recode);
