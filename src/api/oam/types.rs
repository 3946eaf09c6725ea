//! OAM Session Management wire types, as Oracle's reference names them.

use std::collections::BTreeMap;

use poem_openapi::{Enum, Object};

use crate::api::wire::Rfc3339;

/// One user attribute. `attrValue` is the attribute's bytes as text when
/// they are valid UTF-8; otherwise it is their standard base64 and
/// `attrEncoding` is `base64`.
#[derive(Object, Debug, Clone, PartialEq, Eq)]
#[oai(
    rename_all = "camelCase",
    rename = "NameValueAttribute",
    skip_serializing_if_is_none
)]
pub struct NameValueAttribute {
    /// Attribute name. The key in `userAttributes` names the attribute;
    /// on output this always equals it.
    pub attr_name: Option<String>,
    /// Attribute value, at most 4096 bytes once decoded.
    #[oai(validator(max_length = 5464))]
    pub attr_value: Option<String>,
    /// How `attrValue` is encoded: absent or `text` for UTF-8 text, `base64`
    /// for binary values.
    pub attr_encoding: Option<AttrEncoding>,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "lowercase")]
pub enum AttrEncoding {
    Text,
    Base64,
}

/// A session. On create only `userId` is required; the server fills in the
/// identifiers and times.
#[derive(Object, Debug, Clone)]
#[oai(
    rename_all = "camelCase",
    rename = "SessionData",
    skip_serializing_if_is_none,
    example
)]
pub struct SessionData {
    /// Client IP address of the session.
    #[oai(validator(max_length = 200))]
    pub client_ip: Option<String>,
    /// When the session was created (set by the server).
    pub create_time: Option<Rfc3339>,
    /// When the session expires. On create, a later-than-now value replaces
    /// the configured lifetime.
    pub expiry_time: Option<Rfc3339>,
    /// Identity store of the user; must be this deployment's store.
    #[oai(validator(max_length = 200))]
    pub id_store_name: Option<String>,
    /// Whether this is an impersonation session.
    pub is_impersonating: Option<bool>,
    /// Last time the session was used (set by the server).
    pub last_access_time: Option<Rfc3339>,
    /// Session identifier (set by the server).
    #[oai(validator(max_length = 200))]
    pub session_id: Option<String>,
    /// A second unique identifier of the session (set by the server).
    #[oai(validator(max_length = 200))]
    pub session_index: Option<String>,
    /// Last time the session changed (set by the server).
    pub update_time: Option<Rfc3339>,
    /// Name/value attributes, keyed by name: at most 100, names of up to
    /// 200 characters.
    #[oai(validator(max_properties = 100))]
    pub user_attributes: Option<BTreeMap<String, NameValueAttribute>>,
    /// Login name of the user the session belongs to; required and
    /// non-empty on create. Empty only on a session opened through the
    /// ZITADEL API without a user check.
    #[oai(validator(max_length = 200))]
    pub user_id: String,
}

impl poem_openapi::types::Example for SessionData {
    fn example() -> Self {
        let at = |s: &str| Rfc3339::parse(s).map(Rfc3339);
        SessionData {
            client_ip: Some("192.0.2.10".into()),
            create_time: at("2026-11-22T10:15:30Z"),
            expiry_time: at("2026-11-23T10:15:30Z"),
            id_store_name: Some("UserIdentityStore".into()),
            is_impersonating: Some(false),
            last_access_time: at("2026-11-22T10:15:30Z"),
            session_id: Some("01jdbx3k8q2v6r4m9n0p7s5t1w".into()),
            session_index: Some("Q2b0u1oT3m3a8sYzq0pDq6nVwYl0b8m3x1s8e2k4h5g".into()),
            update_time: at("2026-11-22T10:15:30Z"),
            user_attributes: Some(BTreeMap::from([(
                "mail".into(),
                NameValueAttribute {
                    attr_name: Some("mail".into()),
                    attr_value: Some("alice@example.com".into()),
                    attr_encoding: None,
                },
            )])),
            user_id: "alice@example.com".into(),
        }
    }
}

/// Search filters; all given filters AND together. Time filters select
/// sessions whose time is at or before the given instant.
#[derive(Object, Debug, Clone, Default)]
#[oai(rename_all = "camelCase", rename = "SessionSearchQuery", example)]
pub struct SessionSearchQuery {
    #[oai(validator(max_length = 200))]
    pub client_ip: Option<String>,
    /// Sessions expiring at or before this instant.
    pub expiry_time: Option<Rfc3339>,
    /// Accepted and not used: results are not paginated.
    pub from_index: Option<i32>,
    #[oai(validator(max_length = 200))]
    pub id_store_name: Option<String>,
    pub is_impersonating: Option<bool>,
    /// Sessions last used at or before this instant ("idle since").
    pub last_access_time: Option<Rfc3339>,
    /// Accepted and not used: results are not paginated.
    pub page_size: Option<i32>,
    #[oai(validator(max_length = 200))]
    pub session_id: Option<String>,
    /// Sessions last changed at or before this instant.
    pub update_time: Option<Rfc3339>,
    /// Every given attribute must be present with this value; at most 20.
    #[oai(validator(max_properties = 20))]
    pub user_attributes: Option<BTreeMap<String, NameValueAttribute>>,
    /// Login name of the user.
    #[oai(validator(max_length = 200))]
    pub user_id: Option<String>,
}

impl poem_openapi::types::Example for SessionSearchQuery {
    fn example() -> Self {
        SessionSearchQuery {
            user_id: Some("alice@example.com".into()),
            ..SessionSearchQuery::default()
        }
    }
}

#[derive(Object, Debug, Clone)]
#[oai(rename_all = "camelCase", rename = "Sessions")]
pub struct Sessions {
    pub session_data: Vec<SessionData>,
}

/// Search results: the number of matching sessions and the newest of them,
/// up to the configured maximum (default 28).
#[derive(Object, Debug, Clone)]
#[oai(rename_all = "camelCase", rename = "SessionResults", example)]
pub struct SessionResults {
    /// All matching sessions, including those beyond the returned maximum.
    pub total_records: u64,
    pub sessions: Sessions,
}

impl poem_openapi::types::Example for SessionResults {
    fn example() -> Self {
        SessionResults {
            total_records: 1,
            sessions: Sessions {
                session_data: vec![poem_openapi::types::Example::example()],
            },
        }
    }
}

/// Every code an OAM error can carry; the list is the contract.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename = "ErrorCode", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    InvalidRequest,
    UnknownUser,
    UnknownIdStore,
    UserNotActive,
    SessionLimitReached,
    Unauthorized,
    Forbidden,
    NotFound,
    SessionTimedOut,
    MethodNotAllowed,
    PayloadTooLarge,
    Busy,
    InternalError,
    Unavailable,
}

/// Every OAM error: a stable machine-readable code and a message.
#[derive(Object, Debug, Clone)]
#[oai(rename_all = "camelCase", rename = "Error", example)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
}

impl poem_openapi::types::Example for ErrorBody {
    fn example() -> Self {
        ErrorBody {
            code: ErrorCode::NotFound,
            message: "session not found".into(),
        }
    }
}

/// The deleted sessions, newest first, up to the configured maximum.
pub type DeletedSessions = Vec<SessionData>;
