//! OAM Session Management REST API. Handlers are thin: convert in, call the
//! service, convert out.

pub mod convert;
pub mod error;
pub mod types;

use poem::{Endpoint, Middleware, Request};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{OpenApi, Tags};

use self::convert::Selectors;
use self::error::OamError;
use self::types::*;
use crate::api::auth::OamAuth;
use crate::domain::{Checks, ClientContext, NewSession, SessionOrigin, UserSelector};
use crate::service::Services;

#[derive(Tags)]
enum ApiTags {
    /// Create, read, search and delete sessions.
    SessionManagement,
}

type Result<T> = std::result::Result<T, OamError>;

pub struct OamApi {
    pub services: Services,
}

#[OpenApi(
    prefix_path = "/oam/services/rest/access/api/v1",
    tag = "ApiTags::SessionManagement"
)]
impl OamApi {
    /// Create a session
    ///
    /// Creates a session for the user named by `userId`, a login name in the
    /// directory; the session's user counts as checked at creation. The
    /// server fills in `sessionId`, `sessionIndex`, `createTime`,
    /// `updateTime`, `lastAccessTime`, `idStoreName` and `expiryTime` (now
    /// plus the configured lifetime, unless the body gives a later one), and
    /// echoes `clientIp`, `isImpersonating` and `userAttributes`. Attributes
    /// without a value are not stored. Needs `session.write`.
    #[oai(path = "/session", method = "post", operation_id = "OAM_CreateSession")]
    async fn create_session(
        &self,
        auth: OamAuth,
        body: Json<SessionData>,
    ) -> Result<Json<SessionData>> {
        let body = body.0;
        if body.user_id.is_empty() {
            auth.principal()?;
            return Err(OamError::invalid("userId must not be empty"));
        }
        let new = NewSession {
            origin: SessionOrigin::Oam,
            checks: Checks {
                user: Some(UserSelector::LoginName(body.user_id)),
                password: None,
            },
            metadata: convert::attributes_in(body.user_attributes)?,
            client: ClientContext {
                ip: body.client_ip.filter(|ip| !ip.is_empty()),
                user_agent: None,
            },
            requested_expiry: body.expiry_time.map(|t| t.0),
            requested_id_store: body.id_store_name,
            is_impersonating: body.is_impersonating.unwrap_or(false),
        };
        let created = self
            .services
            .sessions
            .create(auth.principal()?, new)
            .await?;
        Ok(Json(convert::session_data(&created.session)))
    }

    /// Get a session
    ///
    /// Returns the session. Unknown, terminated and expired sessions are not
    /// found (404); a session idle longer than its idle timeout has timed
    /// out (408). Reading does not count as access. The id must be
    /// percent-encoded. Needs `session.read`.
    #[oai(
        path = "/session/:sessionId",
        method = "get",
        operation_id = "OAM_GetSession"
    )]
    async fn get_session(
        &self,
        auth: OamAuth,
        /// The session id, percent-encoded.
        #[oai(
            name = "sessionId",
            example = "crate::api::wire::example_session_id",
            validator(min_length = 1, max_length = 200)
        )]
        session_id: Path<String>,
    ) -> Result<Json<SessionData>> {
        let session = self
            .services
            .sessions
            .get_admin(auth.principal()?, &session_id.0)
            .await?;
        Ok(Json(convert::session_data(&session)))
    }

    /// Delete sessions
    ///
    /// Deletes the session named by `sessionId`, or else every session of
    /// the user named by `userId` (in `idStore`, if given; `idStore` counts
    /// only with `userId`). Returns the deleted sessions, newest first, at
    /// most the configured maximum (default 28); a user's other sessions are
    /// deleted all the same. No selector, or nothing found: 404. Needs
    /// `session.delete`.
    #[oai(
        path = "/session",
        method = "delete",
        operation_id = "OAM_DeleteSessions"
    )]
    async fn delete_sessions(
        &self,
        auth: OamAuth,
        /// The session to delete; other parameters are then ignored.
        #[oai(
            name = "sessionId",
            example = "crate::api::wire::example_optional_session_id",
            validator(max_length = 200)
        )]
        session_id: Query<Option<String>>,
        /// Login name whose sessions are deleted.
        #[oai(
            name = "userId",
            example = "crate::api::wire::example_login_name",
            validator(max_length = 200)
        )]
        user_id: Query<Option<String>>,
        /// Identity store of the user; only used with `userId`.
        #[oai(
            name = "idStore",
            example = "crate::api::wire::example_id_store",
            validator(max_length = 200)
        )]
        id_store: Query<Option<String>>,
    ) -> Result<Json<Vec<SessionData>>> {
        let selectors = Selectors::new(session_id.0, user_id.0, id_store.0);
        let sessions = self.services.sessions.clone();
        let deleted = if let Some(id) = selectors.session_id {
            vec![sessions.terminate_admin(auth.principal()?, &id).await?]
        } else if let Some(user) = selectors.user_id {
            sessions
                .terminate_user_admin(auth.principal()?, &user, selectors.id_store)
                .await?
        } else {
            auth.principal()?
                .require(crate::domain::Permission::SessionDelete)?;
            return Err(OamError::not_found("sessionId or userId is required"));
        };
        if deleted.is_empty() {
            return Err(OamError::not_found("no session found"));
        }
        Ok(Json(deleted.iter().map(convert::session_data).collect()))
    }

    /// Search sessions
    ///
    /// Finds sessions matching every given filter; a query parameter wins
    /// over the same body field. `sessionId`, `userId` (login name),
    /// `idStoreName`, `clientIp`, `isImpersonating` and `userAttributes`
    /// match exactly; `expiryTime`, `lastAccessTime` and `updateTime` select
    /// sessions whose time is at or before the given instant. Returns the
    /// number of matches and the newest of them, at most the configured
    /// maximum (default 28). `fromIndex` and `pageSize` are accepted and not
    /// used. Expired sessions are not listed. No match: 404. Needs
    /// `session.read`.
    #[oai(
        path = "/sessions",
        method = "post",
        operation_id = "OAM_SearchSessions"
    )]
    async fn search_sessions(
        &self,
        auth: OamAuth,
        /// A single session to look for.
        #[oai(
            name = "sessionId",
            example = "crate::api::wire::example_optional_session_id",
            validator(max_length = 200)
        )]
        session_id: Query<Option<String>>,
        /// Login name whose sessions are searched.
        #[oai(
            name = "userId",
            example = "crate::api::wire::example_login_name",
            validator(max_length = 200)
        )]
        user_id: Query<Option<String>>,
        /// Identity store of the sessions.
        #[oai(
            name = "idStore",
            example = "crate::api::wire::example_id_store",
            validator(max_length = 200)
        )]
        id_store: Query<Option<String>>,
        body: Json<Option<SessionSearchQuery>>,
    ) -> Result<Json<SessionResults>> {
        auth.principal()?
            .require(crate::domain::Permission::SessionRead)?;
        let params = Selectors::new(session_id.0, user_id.0, id_store.0);
        let body = body.0.unwrap_or_default();
        let filters = body.user_attributes.as_ref().map_or(0, |a| a.len());
        self.services.settings.limits.check_filters(filters)?;
        let login = params
            .user_id
            .clone()
            .or(body.user_id.clone().filter(|u| !u.is_empty()));
        let user_id = match login {
            None => None,
            Some(login) => match self.services.sessions.user_id_for_login(&login).await? {
                Some(id) => Some(id),
                None => return Err(OamError::not_found("no session found")),
            },
        };
        let search = convert::search(params, body, user_id);
        let (total, sessions) = self
            .services
            .sessions
            .search_admin(auth.principal()?, search)
            .await?;
        if sessions.is_empty() {
            return Err(OamError::not_found("no session found"));
        }
        Ok(Json(SessionResults {
            total_records: total,
            sessions: Sessions {
                session_data: sessions.iter().map(convert::session_data).collect(),
            },
        }))
    }
}

/// OAM ids carry `+`, which form decoding would turn into a space; this
/// makes a literal `+` in the query string mean `+`.
pub struct LiteralPlus;

impl<E: Endpoint> Middleware<E> for LiteralPlus {
    type Output = LiteralPlusEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        LiteralPlusEndpoint { inner: ep }
    }
}

pub struct LiteralPlusEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> Endpoint for LiteralPlusEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, mut req: Request) -> poem::Result<Self::Output> {
        if let Some(query) = req.uri().query()
            && query.contains('+')
        {
            let rewritten = format!("{}?{}", req.uri().path(), query.replace('+', "%2B"));
            if let Ok(uri) = rewritten.parse() {
                *req.uri_mut() = uri;
            }
        }
        self.inner.call(req).await
    }
}
