//! ZITADEL's REST gateway routes for v2 and v2beta: each route builds the
//! RPC's request message from the path, the query and the JSON body, runs
//! it through [`SessionRpc`] like every other transport, and answers with
//! the response message as JSON or an `rpcStatus`.

use std::marker::PhantomData;
use std::sync::Arc;

use buffa::Message;
use poem::http::StatusCode;
use poem::{Endpoint, IntoResponse, Request, Response, Route};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::proto::zitadel::session::{v2, v2beta};
use super::session_service::{ApiVersion, SessionRpc};
use super::versions::transcode;
use crate::api::zitadel::error::ZitadelError;
use crate::api::zitadel::status::Status;

/// A version's messages, as its REST routes parse and render them.
pub trait GatewayVersion: Send + Sync + 'static {
    const VERSION: ApiVersion;
    /// Where the version's REST routes live, e.g. `/v2`.
    const PREFIX: &'static str;
    type CreateRequest: Message + DeserializeOwned;
    type CreateResponse: Message + Serialize;
    type GetRequest: Message + DeserializeOwned;
    type GetResponse: Message + Serialize;
    type SetRequest: Message + DeserializeOwned;
    type SetResponse: Message + Serialize;
    type DeleteRequest: Message + DeserializeOwned;
    type DeleteResponse: Message + Serialize;
    type ListRequest: Message + DeserializeOwned;
    type ListResponse: Message + Serialize;
}

pub struct V2;
pub struct V2beta;

macro_rules! gateway_version {
    ($name:ident, $pkg:ident, $version:expr, $prefix:literal) => {
        impl GatewayVersion for $name {
            const VERSION: ApiVersion = $version;
            const PREFIX: &'static str = $prefix;
            type CreateRequest = $pkg::CreateSessionRequest;
            type CreateResponse = $pkg::CreateSessionResponse;
            type GetRequest = $pkg::GetSessionRequest;
            type GetResponse = $pkg::GetSessionResponse;
            type SetRequest = $pkg::SetSessionRequest;
            type SetResponse = $pkg::SetSessionResponse;
            type DeleteRequest = $pkg::DeleteSessionRequest;
            type DeleteResponse = $pkg::DeleteSessionResponse;
            type ListRequest = $pkg::ListSessionsRequest;
            type ListResponse = $pkg::ListSessionsResponse;
        }
    };
}

gateway_version!(V2, v2, ApiVersion::V2, "/v2");
gateway_version!(V2beta, v2beta, ApiVersion::V2beta, "/v2beta");

type Result<T> = std::result::Result<T, ZitadelError>;

/// `maxLength` of the `sessionId` and `sessionToken` parameters in the
/// documents (see `openapi.rs`).
const MAX_PARAMETER_LENGTH: usize = 200;

/// The version's routes, at their full paths.
pub fn routes<V: GatewayVersion>(core: Arc<SessionRpc>) -> Route {
    let op = |kind: Operation| Gateway::<V> {
        core: core.clone(),
        kind,
        version: PhantomData,
    };
    let prefix = V::PREFIX;
    Route::new()
        .at(
            format!("{prefix}/sessions"),
            poem::post(op(Operation::Create)),
        )
        .at(
            format!("{prefix}/sessions/search"),
            poem::post(op(Operation::List)),
        )
        .at(
            format!("{prefix}/sessions/:sessionId"),
            poem::get(op(Operation::Get))
                .patch(op(Operation::Set))
                .delete(op(Operation::Delete)),
        )
}

#[derive(Clone, Copy)]
enum Operation {
    Create,
    Get,
    Set,
    Delete,
    List,
}

struct Gateway<V> {
    core: Arc<SessionRpc>,
    kind: Operation,
    version: PhantomData<fn() -> V>,
}

impl<V: GatewayVersion> Endpoint for Gateway<V> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        Ok(match self.answer(&mut req).await {
            Ok(response) => response,
            Err(err) => err.into_response(),
        })
    }
}

impl<V: GatewayVersion> Gateway<V> {
    async fn answer(&self, req: &mut Request) -> Result<Response> {
        // Credentials first: a bad key is answered before the body is read.
        let caller = self.core.caller(req.headers()).await?;
        let session_id = req.raw_path_param("sessionId").map(str::to_owned);
        // The document's parameter limits, as poem-openapi holds v2alpha to
        // them.
        if session_id
            .as_deref()
            .is_some_and(|id| id.is_empty() || id.chars().count() > MAX_PARAMETER_LENGTH)
        {
            return Err(ZitadelError::invalid_argument(format!(
                "path.sessionId: must be 1 to {MAX_PARAMETER_LENGTH} characters"
            )));
        }
        let query = req.uri().query().unwrap_or("").to_owned();
        let body = req.take_body().into_bytes().await.map_err(|e| {
            ZitadelError::invalid_argument(format!("reading the request body failed: {e}"))
        })?;
        let core = &self.core;
        let version = V::VERSION;
        match self.kind {
            Operation::Create => {
                let request: V::CreateRequest = message(fields(&body)?)?;
                let response = core
                    .create_session(version, &caller, transcode(&request)?)
                    .await?;
                render::<V::CreateResponse, _>(StatusCode::CREATED, &response)
            }
            Operation::Get => {
                let mut fields = Map::new();
                for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
                    if name == "sessionToken" || name == "session_token" {
                        if value.chars().count() > MAX_PARAMETER_LENGTH {
                            return Err(ZitadelError::invalid_argument(format!(
                                "query.sessionToken: at most {MAX_PARAMETER_LENGTH} characters"
                            )));
                        }
                        fields.insert("sessionToken".into(), Value::String(value.into_owned()));
                    }
                }
                with_session_id(&mut fields, session_id);
                let request: V::GetRequest = message(fields)?;
                let response = core
                    .get_session(version, &caller, transcode(&request)?)
                    .await?;
                render::<V::GetResponse, _>(StatusCode::OK, &response)
            }
            Operation::Set => {
                let mut fields = fields(&body)?;
                with_session_id(&mut fields, session_id);
                let request: V::SetRequest = message(fields)?;
                let response = core
                    .set_session(version, &caller, transcode(&request)?)
                    .await?;
                render::<V::SetResponse, _>(StatusCode::OK, &response)
            }
            Operation::Delete => {
                let mut fields = fields(&body)?;
                with_session_id(&mut fields, session_id);
                let request: V::DeleteRequest = message(fields)?;
                let response = core
                    .delete_session(version, &caller, transcode(&request)?)
                    .await?;
                render::<V::DeleteResponse, _>(StatusCode::OK, &response)
            }
            Operation::List => {
                let request: V::ListRequest = message(fields(&body)?)?;
                let response = core
                    .list_sessions(version, &caller, transcode(&request)?)
                    .await?;
                render::<V::ListResponse, _>(StatusCode::OK, &response)
            }
        }
    }
}

/// The body's fields; an empty body has none.
fn fields(body: &[u8]) -> Result<Map<String, Value>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(fields)) => Ok(fields),
        Ok(_) => Err(ZitadelError::invalid_argument(
            "parse request payload error: the body must be a JSON object",
        )),
        Err(e) => Err(ZitadelError::invalid_argument(format!(
            "parse request payload error: {e}"
        ))),
    }
}

/// The path's session id wins over one in the body, as in ZITADEL's
/// gateway.
fn with_session_id(fields: &mut Map<String, Value>, session_id: Option<String>) {
    fields.remove("session_id");
    if let Some(id) = session_id {
        fields.insert("sessionId".into(), Value::String(id));
    }
}

fn message<T: DeserializeOwned>(fields: Map<String, Value>) -> Result<T> {
    serde_json::from_value(Value::Object(fields))
        .map_err(|e| ZitadelError::invalid_argument(format!("parse request payload error: {e}")))
}

/// Renders a v2 response as the version's message.
fn render<T: Message + Serialize, R: Message>(
    status: StatusCode,
    response: &R,
) -> Result<Response> {
    let message: T = transcode(response)?;
    let body = serde_json::to_vec(&message).map_err(|e| {
        ZitadelError::from(Status::plain(
            crate::api::zitadel::status::Code::Internal,
            format!("rendering the response failed: {e}"),
        ))
    })?;
    Ok(Response::builder()
        .status(status)
        .content_type("application/json")
        .body(body))
}
