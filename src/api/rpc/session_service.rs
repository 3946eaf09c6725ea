//! ZITADEL's Session Service over the RPC transports. [`SessionRpc`] holds
//! the operations once, on v2 messages; each version is a thin adapter in
//! [`super::versions`]. Where versions differ, [`ApiVersion`] says so.

use poem::http::HeaderMap;

use super::proto::zitadel::session::v2 as pb;
use super::translate;
use crate::api::auth::AuthError;
use crate::api::zitadel::status::Status;
use crate::domain::{NewSession, Principal, SessionApi, SessionOrigin, SessionUpdate};
use crate::service::Services;

type Result<T> = std::result::Result<T, Status>;

/// The API versions served over RPC, and the rules where they differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiVersion {
    V2alpha,
    V2beta,
    V2,
}

impl ApiVersion {
    /// v2alpha needs SetSession's `sessionToken`; v2beta and v2 ignore it
    /// (deprecated in v2), and the key's `session.write` suffices.
    fn set_checks_token(self) -> bool {
        self == ApiVersion::V2alpha
    }

    /// Delete rules: v2beta and v2 also let the creating key delete.
    fn session_api(self) -> SessionApi {
        match self {
            ApiVersion::V2alpha => SessionApi::V2Alpha,
            ApiVersion::V2beta | ApiVersion::V2 => SessionApi::V2,
        }
    }

    /// `details.creationDate` exists in v2 only.
    fn reports_creation_date(self) -> bool {
        self == ApiVersion::V2
    }
}

pub struct SessionRpc {
    pub services: Services,
}

/// The bearer key from the request's `Authorization` header.
fn bearer(headers: &HeaderMap) -> std::result::Result<&str, AuthError> {
    let header = headers
        .get(poem::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(AuthError::Missing)?;
    let (scheme, token) = header.split_once(' ').ok_or(AuthError::Missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AuthError::Missing);
    }
    Ok(token.trim())
}

impl SessionRpc {
    /// The caller, from the `Authorization` header; every operation starts
    /// here, before its message is looked at.
    pub async fn caller(&self, headers: &HeaderMap) -> Result<Principal> {
        let token = bearer(headers)?;
        match self.services.auth.bearer(token).await {
            Ok(Some(principal)) => Ok(principal),
            Ok(None) => Err(AuthError::Invalid.into()),
            Err(err) => {
                tracing::error!(error = ?err, "api key lookup failed");
                Err(AuthError::Unavailable.into())
            }
        }
    }

    pub async fn create_session(
        &self,
        version: ApiVersion,
        caller: &Principal,
        request: pb::CreateSessionRequest,
    ) -> Result<pb::CreateSessionResponse> {
        translate::challenges(&request.challenges)?;
        let lifetime = translate::lifetime(&request.lifetime, self.services.sessions.now())?;
        let new = NewSession {
            origin: SessionOrigin::Zitadel,
            checks: translate::checks(&request.checks)?,
            metadata: translate::metadata(&request.metadata),
            client: translate::client(&request.user_agent)?,
            requested_expiry: None,
            requested_id_store: None,
            is_impersonating: false,
        };
        let sessions = &self.services.sessions;
        let created = sessions
            .create_with(caller, new, lifetime)
            .await
            .map_err(|e| Status::from(&e))?;
        let details = sessions.details(&created.session);
        Ok(pb::CreateSessionResponse {
            details: Some(translate::details(
                &details,
                version
                    .reports_creation_date()
                    .then_some(created.session.created_at),
            ))
            .into(),
            session_id: created.session.id,
            session_token: created.token,
            ..Default::default()
        })
    }

    pub async fn get_session(
        &self,
        _version: ApiVersion,
        caller: &Principal,
        request: pb::GetSessionRequest,
    ) -> Result<pb::GetSessionResponse> {
        let token = request.session_token.as_deref().filter(|t| !t.is_empty());
        let session = self
            .services
            .sessions
            .get(caller, &request.session_id, token)
            .await
            .map_err(|e| Status::from(&e))?;
        Ok(pb::GetSessionResponse {
            session: Some(translate::session(&session)).into(),
            ..Default::default()
        })
    }

    pub async fn set_session(
        &self,
        version: ApiVersion,
        caller: &Principal,
        request: pb::SetSessionRequest,
    ) -> Result<pb::SetSessionResponse> {
        translate::challenges(&request.challenges)?;
        let change = SessionUpdate {
            checks: translate::checks(&request.checks)?,
            // An empty map changes nothing, as an absent one.
            metadata: (!request.metadata.is_empty())
                .then(|| translate::metadata(&request.metadata)),
            lifetime: translate::lifetime(&request.lifetime, self.services.sessions.now())?,
        };
        let token = version
            .set_checks_token()
            .then_some(request.session_token.as_str());
        let sessions = &self.services.sessions;
        let updated = sessions
            .update_with(caller, &request.session_id, token, change)
            .await
            .map_err(|e| Status::from(&e))?;
        let details = sessions.details(&updated.session);
        Ok(pb::SetSessionResponse {
            details: Some(translate::details(
                &details,
                version
                    .reports_creation_date()
                    .then_some(updated.session.created_at),
            ))
            .into(),
            session_token: updated.token,
            ..Default::default()
        })
    }

    pub async fn delete_session(
        &self,
        version: ApiVersion,
        caller: &Principal,
        request: pb::DeleteSessionRequest,
    ) -> Result<pb::DeleteSessionResponse> {
        let token = request.session_token.as_deref().filter(|t| !t.is_empty());
        let details = self
            .services
            .sessions
            .delete_with(caller, &request.session_id, token, version.session_api())
            .await
            .map_err(|e| Status::from(&e))?;
        Ok(pb::DeleteSessionResponse {
            details: Some(translate::details(&details, None)).into(),
            ..Default::default()
        })
    }

    pub async fn list_sessions(
        &self,
        _version: ApiVersion,
        caller: &Principal,
        request: pb::ListSessionsRequest,
    ) -> Result<pb::ListSessionsResponse> {
        let settings = &self.services.settings;
        settings
            .limits
            .check_filters(request.queries.len())
            .map_err(|e| Status::from(&e))?;
        let search = translate::search(&request, &caller.key_id)?;
        let sessions = &self.services.sessions;
        let (total, found) = sessions
            .search(caller, search)
            .await
            .map_err(|e| Status::from(&e))?;
        Ok(pb::ListSessionsResponse {
            details: Some(translate::list_details(total, &found, sessions.now())).into(),
            sessions: found.iter().map(translate::session).collect(),
            ..Default::default()
        })
    }
}
