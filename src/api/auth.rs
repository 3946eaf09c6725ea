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
            AuthError::Unavailable => StatusCode::INTERNAL_SERVER_ERROR,
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

/// Authenticates a request from its `Authorization` header, Bearer or
/// Basic, outside the security schemes (for checks that run before them).
pub async fn authenticate_request(req: &Request) -> poem::Result<Principal> {
    use poem::web::headers::authorization::{Basic as BasicHeader, Bearer as BearerHeader};
    use poem::web::headers::{Authorization, HeaderMapExt};
    let services = services(req)?;
    if let Some(Authorization(bearer)) = req.headers().typed_get::<Authorization<BearerHeader>>() {
        return resolve(services.auth.bearer(bearer.token()).await);
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

async fn check_bearer(req: &Request, bearer: Bearer) -> poem::Result<Principal> {
    let services = services(req)?;
    resolve(services.auth.bearer(&bearer.token).await)
}

async fn check_basic(req: &Request, basic: Basic) -> poem::Result<Principal> {
    let services = services(req)?;
    resolve(services.auth.basic(&basic.username, &basic.password).await)
}

/// An API key sent as `Authorization: Bearer <secret>`.
#[derive(SecurityScheme)]
#[oai(
    ty = "bearer",
    rename = "apiKey",
    bearer_format = "sessiond API key",
    checker = "check_bearer"
)]
pub struct ApiKeyAuth(pub Principal);

/// An API key sent as HTTP Basic: the key id as user name, the secret as
/// password.
#[derive(SecurityScheme)]
#[oai(ty = "basic", rename = "basicAuth", checker = "check_basic")]
pub struct BasicKeyAuth(pub Principal);

/// OAM clients send Basic; Bearer keys work too.
#[derive(SecurityScheme)]
pub enum OamAuth {
    Basic(BasicKeyAuth),
    Bearer(ApiKeyAuth),
}

impl OamAuth {
    pub fn principal(&self) -> &Principal {
        match self {
            OamAuth::Basic(BasicKeyAuth(p)) | OamAuth::Bearer(ApiKeyAuth(p)) => p,
        }
    }
}
