//! Admin API wire types.

use poem_openapi::{Enum, Object};

use crate::api::wire::Rfc3339;

/// Every code an admin error can carry; the list is the contract.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename = "AdminErrorCode", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    InvalidArgument,
    LoginNameTaken,
    LimitTooLarge,
    PasswordInvalid,
    UserNotActive,
    UserChangeNotPossible,
    UserIdMissing,
    UnknownIdStore,
    SessionExpired,
    SessionTerminated,
    SessionLimitReached,
    SessionTokenInvalid,
    Unauthenticated,
    PermissionDenied,
    NotFound,
    UserNotFound,
    KeyNotFound,
    SessionNotFound,
    MethodNotAllowed,
    PayloadTooLarge,
    Busy,
    Internal,
    Unavailable,
}

#[derive(Object, Debug, Clone)]
#[oai(rename_all = "camelCase", rename = "AdminError", example)]
pub struct ErrorBody {
    /// Stable machine-readable code.
    pub code: ErrorCode,
    pub message: String,
}

impl poem_openapi::types::Example for ErrorBody {
    fn example() -> Self {
        ErrorBody {
            code: ErrorCode::UserNotFound,
            message: "user not found".into(),
        }
    }
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermissionName {
    #[oai(rename = "session.read")]
    SessionRead,
    #[oai(rename = "session.write")]
    SessionWrite,
    #[oai(rename = "session.delete")]
    SessionDelete,
    #[oai(rename = "user.read")]
    UserRead,
    #[oai(rename = "user.write")]
    UserWrite,
    #[oai(rename = "key.write")]
    KeyWrite,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "lowercase")]
pub enum UserStateName {
    Active,
    Locked,
    Inactive,
}

#[derive(Object, Debug, Clone)]
#[oai(rename_all = "camelCase", rename = "CreateUserRequest", example)]
pub struct CreateUserRequest {
    /// Unique, compared case-insensitively.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub login_name: String,
    #[oai(validator(min_length = 1, max_length = 200))]
    pub password: String,
    /// Defaults to the login name.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub display_name: Option<String>,
}

impl poem_openapi::types::Example for CreateUserRequest {
    fn example() -> Self {
        CreateUserRequest {
            login_name: "alice@example.com".into(),
            password: "correct horse battery staple".into(),
            display_name: Some("Alice".into()),
        }
    }
}

#[derive(Object, Debug, Clone)]
#[oai(rename_all = "camelCase", rename = "CreateUserResponse", example)]
pub struct CreateUserResponse {
    pub user_id: String,
}

#[derive(Object, Debug, Clone)]
#[oai(rename_all = "camelCase", rename = "User", example)]
pub struct User {
    pub user_id: String,
    pub login_name: String,
    pub display_name: String,
    pub state: UserStateName,
    /// Consecutive wrong passwords since the last correct one.
    pub failed_attempts: u32,
    pub id_store_name: String,
    pub created_at: Rfc3339,
    pub changed_at: Rfc3339,
}

#[derive(Object, Debug, Clone)]
#[oai(rename_all = "camelCase", rename = "UserList", example)]
pub struct UserList {
    /// All users, before offset and limit.
    pub total_result: u64,
    pub users: Vec<User>,
}

#[derive(Object, Debug, Clone)]
#[oai(rename_all = "camelCase", rename = "SetPasswordRequest", example)]
pub struct SetPasswordRequest {
    #[oai(validator(min_length = 1, max_length = 200))]
    pub password: String,
}

#[derive(Object, Debug, Clone)]
#[oai(rename_all = "camelCase", rename = "CreateKeyRequest", example)]
pub struct CreateKeyRequest {
    #[oai(validator(min_length = 1, max_length = 200))]
    pub name: String,
    #[oai(validator(min_items = 1, max_items = 6))]
    pub permissions: Vec<PermissionName>,
}

impl poem_openapi::types::Example for CreateKeyRequest {
    fn example() -> Self {
        CreateKeyRequest {
            name: "login-ui".into(),
            permissions: vec![PermissionName::SessionRead, PermissionName::SessionWrite],
        }
    }
}

#[derive(Object, Debug, Clone)]
#[oai(rename_all = "camelCase", rename = "CreateKeyResponse", example)]
pub struct CreateKeyResponse {
    pub key_id: String,
    /// Shown only once; the server keeps a hash.
    pub secret: String,
}

#[derive(Object, Debug, Clone)]
#[oai(
    rename_all = "camelCase",
    rename = "ApiKey",
    skip_serializing_if_is_none
)]
pub struct ApiKey {
    pub key_id: String,
    pub name: String,
    pub permissions: Vec<PermissionName>,
    pub created_at: Rfc3339,
    pub revoked_at: Option<Rfc3339>,
}

#[derive(Object, Debug, Clone)]
#[oai(rename_all = "camelCase", rename = "ApiKeyList", example)]
pub struct ApiKeyList {
    pub keys: Vec<ApiKey>,
}

fn example_time() -> Rfc3339 {
    Rfc3339(chrono::DateTime::from_timestamp(1_795_000_000, 0).unwrap_or_default())
}

impl poem_openapi::types::Example for CreateUserResponse {
    fn example() -> Self {
        CreateUserResponse {
            user_id: "01jdbx1a2b3c4d5e6f7g8h9j0k".into(),
        }
    }
}

impl poem_openapi::types::Example for User {
    fn example() -> Self {
        User {
            user_id: "01jdbx1a2b3c4d5e6f7g8h9j0k".into(),
            login_name: "alice@example.com".into(),
            display_name: "Alice".into(),
            state: UserStateName::Active,
            failed_attempts: 0,
            id_store_name: "UserIdentityStore".into(),
            created_at: example_time(),
            changed_at: example_time(),
        }
    }
}

impl poem_openapi::types::Example for UserList {
    fn example() -> Self {
        UserList {
            total_result: 1,
            users: vec![User::example()],
        }
    }
}

impl poem_openapi::types::Example for SetPasswordRequest {
    fn example() -> Self {
        SetPasswordRequest {
            password: "a new long passphrase".into(),
        }
    }
}

impl poem_openapi::types::Example for CreateKeyResponse {
    fn example() -> Self {
        CreateKeyResponse {
            key_id: "01jdbx9z8y7x6w5v4t3s2r1q0p".into(),
            secret: "b7V0c2lkZS10aGUtc2VjcmV0LWlzLXNob3duLW9uY2U".into(),
        }
    }
}

impl poem_openapi::types::Example for ApiKeyList {
    fn example() -> Self {
        ApiKeyList {
            keys: vec![ApiKey {
                key_id: "01jdbx9z8y7x6w5v4t3s2r1q0p".into(),
                name: "login-ui".into(),
                permissions: vec![PermissionName::SessionRead, PermissionName::SessionWrite],
                created_at: example_time(),
                revoked_at: None,
            }],
        }
    }
}
