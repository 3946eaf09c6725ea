//! ZITADEL v2alpha wire types, named as ZITADEL's own Swagger names them.
//! Field names are lowerCamelCase; zero values are omitted on output, as
//! ZITADEL's gateway does.

use std::collections::BTreeMap;

use poem_openapi::Object;

use crate::api::wire::{Base64Bytes, Rfc3339, U64String};

/// A gRPC status, as ZITADEL's REST gateway returns errors.
#[derive(Object, Debug, Clone)]
#[oai(rename_all = "camelCase", rename = "rpcStatus", example)]
pub struct RpcStatus {
    /// gRPC status code (3 invalid argument, 5 not found, 7 permission
    /// denied, 8 resource exhausted, 9 failed precondition, 13 internal,
    /// 16 unauthenticated).
    pub code: i32,
    /// `<text> (<error id>)`, or a plain text for errors raised before the
    /// domain layer.
    pub message: String,
    /// Present on errors raised by the service.
    #[oai(default, skip_serializing_if_is_empty)]
    pub details: Vec<ErrorDetail>,
}

impl poem_openapi::types::Example for RpcStatus {
    fn example() -> Self {
        RpcStatus {
            code: 5,
            message: "Session does not exist (QUERY-SFeaa)".into(),
            details: vec![ErrorDetail {
                type_url: "type.googleapis.com/zitadel.v1.ErrorDetail".into(),
                id: "QUERY-SFeaa".into(),
                message: "Session does not exist".into(),
            }],
        }
    }
}

#[derive(Object, Debug, Clone)]
#[oai(rename_all = "camelCase", rename = "zitadelv1ErrorDetail")]
pub struct ErrorDetail {
    /// Always `type.googleapis.com/zitadel.v1.ErrorDetail`.
    #[oai(rename = "@type")]
    pub type_url: String,
    pub id: String,
    pub message: String,
}

/// Which user to check: exactly one of `userId` and `loginName`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckUser {
    UserId(String),
    LoginName(String),
}

#[derive(Object, Debug, Clone)]
#[oai(rename_all = "camelCase", rename = "v2alphaCheckPassword")]
pub struct CheckPassword {
    #[oai(validator(min_length = 1, max_length = 200))]
    pub password: String,
}

/// Checks to run; successful checks become factors of the session.
#[derive(Object, Debug, Clone, Default)]
#[oai(rename_all = "camelCase", rename = "v2alphaChecks")]
pub struct Checks {
    /// Checks the user and sets it on the session.
    pub user: Option<CheckUser>,
    /// Checks the password. Requires a user checked earlier or in the same
    /// request.
    pub password: Option<CheckPassword>,
}

#[derive(Object, Debug, Clone)]
#[oai(
    rename_all = "camelCase",
    rename = "v2alphaCreateSessionRequest",
    example
)]
pub struct CreateSessionRequest {
    pub checks: Option<Checks>,
    /// Custom key/value data; values are standard base64. Keys with empty
    /// values are dropped. At most 100 keys of up to 200 characters, each
    /// value at most 4096 bytes.
    #[oai(validator(max_properties = 100))]
    pub metadata: Option<BTreeMap<String, Base64Bytes>>,
}

impl poem_openapi::types::Example for CreateSessionRequest {
    fn example() -> Self {
        CreateSessionRequest {
            checks: Some(Checks {
                user: Some(CheckUser::LoginName("alice@example.com".into())),
                password: Some(CheckPassword {
                    password: "correct horse battery staple".into(),
                }),
            }),
            metadata: Some(BTreeMap::from([(
                "device".into(),
                Base64Bytes(b"laptop".to_vec()),
            )])),
        }
    }
}

#[derive(Object, Debug, Clone)]
#[oai(
    rename_all = "camelCase",
    rename = "v2alphaDetails",
    skip_serializing_if_is_none
)]
pub struct Details {
    pub sequence: Option<U64String>,
    pub change_date: Option<Rfc3339>,
    /// The instance the session belongs to.
    pub resource_owner: Option<String>,
}

#[derive(Object, Debug, Clone)]
#[oai(
    rename_all = "camelCase",
    rename = "v2alphaCreateSessionResponse",
    example
)]
pub struct CreateSessionResponse {
    pub details: Details,
    pub session_id: String,
    /// Required for later updates; each change issues a new one.
    pub session_token: String,
}

impl poem_openapi::types::Example for CreateSessionResponse {
    fn example() -> Self {
        CreateSessionResponse {
            details: example_details(),
            session_id: "01jdbx3k8q2v6r4m9n0p7s5t1w".into(),
            session_token: "Q2b0u1oT3m3a8sYzq0pDq6nVwYl0b8m3x1s8e2k4h5g".into(),
        }
    }
}

fn example_details() -> Details {
    Details {
        sequence: Some(U64String(2)),
        change_date: Rfc3339::parse("2026-11-22T10:15:30.123456Z").map(Rfc3339),
        resource_owner: Some("01jdbwzq4y7f3c2k8h6m5n1p0r".into()),
    }
}

#[derive(Object, Debug, Clone)]
#[oai(
    rename_all = "camelCase",
    rename = "v2alphaUserFactor",
    skip_serializing_if_is_none
)]
pub struct UserFactor {
    pub verified_at: Option<Rfc3339>,
    pub id: Option<String>,
    pub login_name: Option<String>,
    pub display_name: Option<String>,
}

#[derive(Object, Debug, Clone)]
#[oai(
    rename_all = "camelCase",
    rename = "v2alphaPasswordFactor",
    skip_serializing_if_is_none
)]
pub struct PasswordFactor {
    pub verified_at: Option<Rfc3339>,
}

#[derive(Object, Debug, Clone)]
#[oai(
    rename_all = "camelCase",
    rename = "v2alphaFactors",
    skip_serializing_if_is_none
)]
pub struct Factors {
    pub user: Option<UserFactor>,
    pub password: Option<PasswordFactor>,
}

#[derive(Object, Debug, Clone)]
#[oai(
    rename_all = "camelCase",
    rename = "v2alphaSession",
    skip_serializing_if_is_none
)]
pub struct Session {
    pub id: Option<String>,
    pub creation_date: Option<Rfc3339>,
    pub change_date: Option<Rfc3339>,
    pub sequence: Option<U64String>,
    pub factors: Option<Factors>,
    /// Values are standard base64.
    pub metadata: Option<BTreeMap<String, Base64Bytes>>,
}

#[derive(Object, Debug, Clone)]
#[oai(
    rename_all = "camelCase",
    rename = "v2alphaGetSessionResponse",
    example
)]
pub struct GetSessionResponse {
    pub session: Session,
}

impl poem_openapi::types::Example for GetSessionResponse {
    fn example() -> Self {
        let at = Rfc3339::parse("2026-11-22T10:15:30.123456Z").map(Rfc3339);
        GetSessionResponse {
            session: Session {
                id: Some("01jdbx3k8q2v6r4m9n0p7s5t1w".into()),
                creation_date: at,
                change_date: at,
                sequence: Some(U64String(2)),
                factors: Some(Factors {
                    user: Some(UserFactor {
                        verified_at: at,
                        id: Some("01jdbx1a2b3c4d5e6f7g8h9j0k".into()),
                        login_name: Some("alice@example.com".into()),
                        display_name: Some("Alice".into()),
                    }),
                    password: Some(PasswordFactor { verified_at: at }),
                }),
                metadata: Some(BTreeMap::from([(
                    "device".into(),
                    Base64Bytes(b"laptop".to_vec()),
                )])),
            },
        }
    }
}

#[derive(Object, Debug, Clone)]
#[oai(
    rename_all = "camelCase",
    rename = "SessionServiceSetSessionBody",
    example
)]
pub struct SetSessionBody {
    /// The session's current token.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub session_token: String,
    pub checks: Option<Checks>,
    /// Given keys overwrite, an empty value deletes its key, omitted keys
    /// stay. Values are standard base64. The session keeps at most 100
    /// keys of up to 200 characters, each value at most 4096 bytes.
    #[oai(validator(max_properties = 100))]
    pub metadata: Option<BTreeMap<String, Base64Bytes>>,
}

impl poem_openapi::types::Example for SetSessionBody {
    fn example() -> Self {
        SetSessionBody {
            session_token: "Q2b0u1oT3m3a8sYzq0pDq6nVwYl0b8m3x1s8e2k4h5g".into(),
            checks: Some(Checks {
                user: None,
                password: Some(CheckPassword {
                    password: "correct horse battery staple".into(),
                }),
            }),
            metadata: Some(BTreeMap::from([(
                "device".into(),
                Base64Bytes(b"phone".to_vec()),
            )])),
        }
    }
}

#[derive(Object, Debug, Clone)]
#[oai(
    rename_all = "camelCase",
    rename = "v2alphaSetSessionResponse",
    example
)]
pub struct SetSessionResponse {
    pub details: Details,
    pub session_token: String,
}

impl poem_openapi::types::Example for SetSessionResponse {
    fn example() -> Self {
        SetSessionResponse {
            details: example_details(),
            session_token: "mC6xv0d3QwF8d9t0Jr4kq2lZbVf1n7s5Yx3p2a9e8u0".into(),
        }
    }
}

#[derive(Object, Debug, Clone, Default)]
#[oai(
    rename_all = "camelCase",
    rename = "SessionServiceDeleteSessionBody",
    example
)]
pub struct DeleteSessionBody {
    /// The session's token. Without it the caller needs `session.delete`.
    #[oai(validator(max_length = 200))]
    pub session_token: Option<String>,
}

impl poem_openapi::types::Example for DeleteSessionBody {
    fn example() -> Self {
        DeleteSessionBody {
            session_token: Some("Q2b0u1oT3m3a8sYzq0pDq6nVwYl0b8m3x1s8e2k4h5g".into()),
        }
    }
}

#[derive(Object, Debug, Clone)]
#[oai(
    rename_all = "camelCase",
    rename = "v2alphaDeleteSessionResponse",
    example
)]
pub struct DeleteSessionResponse {
    pub details: Details,
}

impl poem_openapi::types::Example for DeleteSessionResponse {
    fn example() -> Self {
        DeleteSessionResponse {
            details: example_details(),
        }
    }
}

#[derive(Object, Debug, Clone, Default)]
#[oai(rename_all = "camelCase", rename = "v2alphaListQuery")]
pub struct ListQuery {
    /// Sessions to skip.
    pub offset: Option<U64String>,
    /// Maximum number of sessions returned. Default 1000; a limit above the
    /// configured maximum is rejected.
    pub limit: Option<u32>,
    /// Sort by creation date ascending; the default is descending.
    pub asc: Option<bool>,
}

#[derive(Object, Debug, Clone)]
#[oai(rename_all = "camelCase", rename = "v2alphaIDsQuery")]
pub struct IdsQuery {
    /// At most 1000 ids.
    #[oai(validator(max_items = 1000))]
    pub ids: Vec<String>,
}

/// One query. v2alpha knows one kind, `idsQuery`, so it is required.
#[derive(Object, Debug, Clone)]
#[oai(rename_all = "camelCase", rename = "v2alphaSearchQuery")]
pub struct SearchQuery {
    pub ids_query: IdsQuery,
}

#[derive(Object, Debug, Clone, Default)]
#[oai(
    rename_all = "camelCase",
    rename = "v2alphaListSessionsRequest",
    example
)]
pub struct ListSessionsRequest {
    pub query: Option<ListQuery>,
    /// Queries AND together; at most 20.
    #[oai(validator(max_items = 20))]
    pub queries: Option<Vec<SearchQuery>>,
}

impl poem_openapi::types::Example for ListSessionsRequest {
    fn example() -> Self {
        ListSessionsRequest {
            query: Some(ListQuery {
                offset: Some(U64String(0)),
                limit: Some(100),
                asc: Some(false),
            }),
            queries: Some(vec![SearchQuery {
                ids_query: IdsQuery {
                    ids: vec!["01jdbx3k8q2v6r4m9n0p7s5t1w".into()],
                },
            }]),
        }
    }
}

#[derive(Object, Debug, Clone)]
#[oai(
    rename_all = "camelCase",
    rename = "v2alphaListDetails",
    skip_serializing_if_is_none
)]
pub struct ListDetails {
    /// Sessions the caller may see that match, before offset and limit.
    pub total_result: Option<U64String>,
    pub processed_sequence: Option<U64String>,
    pub timestamp: Option<Rfc3339>,
}

#[derive(Object, Debug, Clone)]
#[oai(
    rename_all = "camelCase",
    rename = "v2alphaListSessionsResponse",
    example
)]
pub struct ListSessionsResponse {
    pub details: ListDetails,
    /// Omitted when nothing matches.
    #[oai(default, skip_serializing_if_is_empty)]
    pub sessions: Vec<Session>,
}

impl poem_openapi::types::Example for ListSessionsResponse {
    fn example() -> Self {
        ListSessionsResponse {
            details: ListDetails {
                total_result: Some(U64String(1)),
                processed_sequence: Some(U64String(2)),
                timestamp: Rfc3339::parse("2026-11-22T10:15:31Z").map(Rfc3339),
            },
            sessions: vec![GetSessionResponse::example().session],
        }
    }
}
