//! ZITADEL Session Service v2alpha. Handlers are thin: convert in, call the
//! service, convert out.

mod check_user;
pub mod convert;
pub mod error;
pub mod status;
pub mod types;

use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, Tags};

use self::error::ZitadelError;
use self::types::*;
use crate::api::auth::ApiKeyAuth;
use crate::api::wire::{Rfc3339, U64String};
use crate::domain::{NewSession, SessionOrigin};
use crate::service::Services;

#[derive(Tags)]
enum ApiTags {
    /// Create, read, update, search and terminate login sessions.
    SessionService,
}

#[derive(ApiResponse)]
pub enum CreateSessionCreated {
    /// The session was created; keep its token for later updates.
    #[oai(status = 201)]
    Created(Json<CreateSessionResponse>),
}

type Result<T> = std::result::Result<T, ZitadelError>;

pub struct ZitadelApi {
    pub services: Services,
}

#[OpenApi(prefix_path = "/v2alpha", tag = "ApiTags::SessionService")]
impl ZitadelApi {
    /// Create a new session
    ///
    /// Creates a session, running the given user and password checks first.
    /// A failing check creates nothing. Returns the session id and a token,
    /// which later updates and token-authenticated reads need. Needs
    /// `session.write`.
    #[oai(
        path = "/sessions",
        method = "post",
        operation_id = "SessionService_CreateSession"
    )]
    async fn create_session(
        &self,
        auth: ApiKeyAuth,
        body: Json<CreateSessionRequest>,
    ) -> Result<CreateSessionCreated> {
        let body = body.0;
        let new = NewSession {
            origin: SessionOrigin::Zitadel,
            checks: convert::checks(body.checks),
            metadata: convert::metadata(body.metadata),
            client: Default::default(),
            requested_expiry: None,
            requested_id_store: None,
            is_impersonating: false,
        };
        let created = self.services.sessions.create(&auth.0, new).await?;
        let details = self.services.sessions.details(&created.session);
        Ok(CreateSessionCreated::Created(Json(CreateSessionResponse {
            details: convert::details(&details),
            session_id: created.session.id,
            session_token: created.token,
        })))
    }

    /// Get a session
    ///
    /// Returns the session with its factors and metadata. Allowed with the
    /// session's token, to the key that created the session, or with
    /// `session.read`. Unknown and terminated sessions are not found.
    #[oai(
        path = "/sessions/:sessionId",
        method = "get",
        operation_id = "SessionService_GetSession"
    )]
    async fn get_session(
        &self,
        auth: ApiKeyAuth,
        #[oai(
            name = "sessionId",
            example = "crate::api::wire::example_session_id",
            validator(min_length = 1, max_length = 200)
        )]
        session_id: Path<String>,
        /// The session's token.
        #[oai(
            name = "sessionToken",
            example = "crate::api::wire::example_session_token",
            validator(max_length = 200)
        )]
        session_token: Query<Option<String>>,
    ) -> Result<Json<GetSessionResponse>> {
        let token = session_token.0.as_deref().filter(|t| !t.is_empty());
        let session = self
            .services
            .sessions
            .get(&auth.0, &session_id.0, token)
            .await?;
        Ok(Json(GetSessionResponse {
            session: convert::session(&session),
        }))
    }

    /// Update a session
    ///
    /// Runs new checks and changes metadata. Every change issues a new
    /// session token and the old one stops working; an update that changes
    /// nothing returns the given token and the same sequence. Needs the
    /// current token and `session.write`.
    #[oai(
        path = "/sessions/:sessionId",
        method = "patch",
        operation_id = "SessionService_SetSession"
    )]
    async fn set_session(
        &self,
        auth: ApiKeyAuth,
        #[oai(
            name = "sessionId",
            example = "crate::api::wire::example_session_id",
            validator(min_length = 1, max_length = 200)
        )]
        session_id: Path<String>,
        body: Json<SetSessionBody>,
    ) -> Result<Json<SetSessionResponse>> {
        let body = body.0;
        let checks = convert::checks(body.checks);
        let metadata = body.metadata.map(|raw| convert::metadata(Some(raw)));
        let updated = self
            .services
            .sessions
            .update(
                &auth.0,
                &session_id.0,
                &body.session_token,
                checks,
                metadata,
            )
            .await?;
        let details = self.services.sessions.details(&updated.session);
        Ok(Json(SetSessionResponse {
            details: convert::details(&details),
            session_token: updated.token,
        }))
    }

    /// Terminate a session
    ///
    /// Terminates the session. Allowed with the session's token, or with
    /// `session.delete`. Terminating a session again succeeds. Afterwards the
    /// session is not found and its last token no longer updates it.
    #[oai(
        path = "/sessions/:sessionId",
        method = "delete",
        operation_id = "SessionService_DeleteSession"
    )]
    async fn delete_session(
        &self,
        auth: ApiKeyAuth,
        #[oai(
            name = "sessionId",
            example = "crate::api::wire::example_session_id",
            validator(min_length = 1, max_length = 200)
        )]
        session_id: Path<String>,
        body: Json<Option<DeleteSessionBody>>,
    ) -> Result<Json<DeleteSessionResponse>> {
        let token = body
            .0
            .and_then(|b| b.session_token)
            .filter(|t| !t.is_empty());
        let details = self
            .services
            .sessions
            .delete(&auth.0, &session_id.0, token.as_deref())
            .await?;
        Ok(Json(DeleteSessionResponse {
            details: convert::details(&details),
        }))
    }

    /// Search sessions
    ///
    /// Lists the sessions the caller may see (all of them with
    /// `session.read`, otherwise those its key created), newest first unless
    /// `query.asc` is set. `details.totalResult` counts matches before offset
    /// and limit.
    #[oai(
        path = "/sessions/search",
        method = "post",
        operation_id = "SessionService_ListSessions"
    )]
    async fn list_sessions(
        &self,
        auth: ApiKeyAuth,
        body: Json<ListSessionsRequest>,
    ) -> Result<Json<ListSessionsResponse>> {
        self.search(&auth, body.0).await
    }

    /// Search sessions (earlier path)
    ///
    /// The same as `POST /v2alpha/sessions/search`, at the path early
    /// v2alpha releases used.
    #[oai(
        path = "/sessions/_search",
        method = "post",
        operation_id = "SessionService_ListSessions_Legacy",
        deprecated
    )]
    async fn list_sessions_legacy(
        &self,
        auth: ApiKeyAuth,
        body: Json<ListSessionsRequest>,
    ) -> Result<Json<ListSessionsResponse>> {
        self.search(&auth, body.0).await
    }
}

impl ZitadelApi {
    async fn search(
        &self,
        auth: &ApiKeyAuth,
        body: ListSessionsRequest,
    ) -> Result<Json<ListSessionsResponse>> {
        let filters = body.queries.as_ref().map_or(0, Vec::len);
        self.services.settings.limits.check_filters(filters)?;
        let search = convert::search(body)?;
        let (total, sessions) = self.services.sessions.search(&auth.0, search).await?;
        let processed = sessions.iter().map(|s| s.sequence).max().unwrap_or(0);
        Ok(Json(ListSessionsResponse {
            details: ListDetails {
                total_result: (total > 0).then_some(U64String(total)),
                processed_sequence: (processed > 0).then_some(U64String(processed)),
                timestamp: Some(Rfc3339(self.services.sessions.now())),
            },
            sessions: sessions.iter().map(convert::session).collect(),
        }))
    }
}
