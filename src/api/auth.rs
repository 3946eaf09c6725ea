//! Request authentication, shared by every dialect. The security schemes
//! resolve the caller before the handler runs, so a bad key is answered with
//! 401 before the body is even parsed.

use poem::Request;
use poem::http::StatusCode;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::{Basic, Bearer};

use crate::domain::Principal;
use crate::service::Services;

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("auth header missing")]
    Missing,
    #[error("invalid credentials")]
    Invalid,
    #[error("credentials could not be checked")]
    Unavailable,
}

impl poem::error::ResponseError for AuthError {
    fn status(&self) -> StatusCode {
        match self {
            AuthError::Missing | AuthError::Invalid => StatusCode::UNAUTHORIZED,
            AuthError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

fn services(req: &Request) -> Result<&Services, AuthError> {
    req.data::<Services>().ok_or(AuthError::Unavailable)
}

fn resolve(result: Result<Option<Principal>, crate::domain::Error>) -> poem::Result<Principal> {
    match result {
        Ok(Some(principal)) => Ok(principal),
        Ok(None) => Err(AuthError::Invalid.into()),
        Err(err) => {
            tracing::error!(error = ?err, "api key lookup failed");
            Err(AuthError::Unavailable.into())
        }
    }
}

/// The caller, resolved by the contract guard before anything of the
/// request is parsed; the security schemes take it from here instead of
/// looking the key up again.
#[derive(Clone)]
pub struct Authenticated(pub Principal);

/// Which credentials a document accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accepted {
    BearerOnly,
    BearerOrBasic,
}

/// Authenticates a request from its `Authorization` header, outside the
/// security schemes, so credentials are checked before the body and the
/// parameters are parsed. A Basic header where only Bearer is accepted
/// counts as missing credentials.
pub async fn authenticate_request(req: &Request, accepted: Accepted) -> poem::Result<Principal> {
    use poem::web::headers::authorization::{Basic as BasicHeader, Bearer as BearerHeader};
    use poem::web::headers::{Authorization, HeaderMapExt};
    let services = services(req)?;
    if let Some(Authorization(bearer)) = req.headers().typed_get::<Authorization<BearerHeader>>() {
        return resolve(services.auth.bearer(bearer.token()).await);
    }
    if accepted == Accepted::BearerOnly {
        return Err(AuthError::Missing.into());
    }
    if let Some(Authorization(basic)) = req.headers().typed_get::<Authorization<BasicHeader>>() {
        return resolve(
            services
                .auth
                .basic(basic.username(), basic.password())
                .await,
        );
    }
    Err(AuthError::Missing.into())
}

fn already_authenticated(req: &Request) -> Option<Principal> {
    req.extensions().get::<Authenticated>().map(|a| a.0.clone())
}

async fn check_bearer(req: &Request, bearer: Bearer) -> poem::Result<Principal> {
    if let Some(principal) = already_authenticated(req) {
        return Ok(principal);
    }
    let services = services(req)?;
    resolve(services.auth.bearer(&bearer.token).await)
}

// Each document names its schemes after its dialect: Swagger UI keys saved
// authorizations by scheme name, so a key authorized in one document must
// not count as authorized in another.

/// An API key sent as `Authorization: Bearer <secret>`.
#[derive(SecurityScheme)]
#[oai(
    ty = "bearer",
    rename = "zitadelBearer",
    bearer_format = "sessiond API key",
    checker = "check_bearer"
)]
pub struct ApiKeyAuth(pub Principal);

/// An API key sent as `Authorization: Bearer <secret>`.
#[derive(SecurityScheme)]
#[oai(
    ty = "bearer",
    rename = "adminBearer",
    bearer_format = "sessiond API key",
    checker = "check_bearer"
)]
pub struct AdminKeyAuth(pub Principal);

/// The outcome of an OAM credential check. Wrong credentials are carried to
/// the handler rather than failing extraction, so that a wrong Bearer key is
/// not reported as "missing Basic credentials" when the next scheme is
/// tried.
pub struct Checked(Result<Principal, AuthError>);

async fn check_oam_bearer(req: &Request, bearer: Bearer) -> poem::Result<Checked> {
    if let Some(principal) = already_authenticated(req) {
        return Ok(Checked(Ok(principal)));
    }
    let services = services(req)?;
    Ok(Checked(
        resolve(services.auth.bearer(&bearer.token).await).map_err(auth_error),
    ))
}

async fn check_oam_basic(req: &Request, basic: Basic) -> poem::Result<Checked> {
    if let Some(principal) = already_authenticated(req) {
        return Ok(Checked(Ok(principal)));
    }
    let services = services(req)?;
    Ok(Checked(
        resolve(services.auth.basic(&basic.username, &basic.password).await).map_err(auth_error),
    ))
}

fn auth_error(err: poem::Error) -> AuthError {
    err.downcast_ref::<AuthError>()
        .copied()
        .unwrap_or(AuthError::Unavailable)
}

/// HTTP Basic as OAM clients send it.
#[derive(SecurityScheme)]
#[oai(ty = "basic", rename = "oamBasic", checker = "check_oam_basic")]
pub struct OamBasic(Checked);

/// An API key as a Bearer token.
#[derive(SecurityScheme)]
#[oai(
    ty = "bearer",
    rename = "oamBearer",
    bearer_format = "sessiond API key",
    checker = "check_oam_bearer"
)]
pub struct OamBearer(Checked);

/// OAM clients send Basic; Bearer keys work too. Basic is listed last:
/// Swagger UI applies every authorized scheme in the document's order, so
/// the last one decides the header it sends.
#[derive(SecurityScheme)]
pub enum OamAuth {
    Bearer(OamBearer),
    Basic(OamBasic),
}

impl OamAuth {
    pub fn principal(&self) -> Result<&Principal, AuthError> {
        match self {
            OamAuth::Basic(OamBasic(Checked(checked)))
            | OamAuth::Bearer(OamBearer(Checked(checked))) => checked.as_ref().map_err(|e| *e),
        }
    }
}
