//! Admin API: users and API keys.

pub mod error;
pub mod types;

use std::collections::BTreeSet;

use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi, Tags};

use self::error::AdminError;
use self::types::*;
use crate::api::auth::AdminKeyAuth;
use crate::api::wire::Rfc3339;
use crate::domain::session::Password;
use crate::domain::{self, LoginName, Permission, UserState};
use crate::service::Services;

#[derive(Tags)]
enum ApiTags {
    /// Users that sessions check.
    Users,
    /// API keys that call sessiond.
    Keys,
}

#[derive(ApiResponse)]
pub enum UserCreated {
    /// The user was created.
    #[oai(status = 201)]
    Created(Json<CreateUserResponse>),
}

#[derive(ApiResponse)]
pub enum KeyCreated {
    /// The key was created; its secret is shown only here.
    #[oai(status = 201)]
    Created(Json<CreateKeyResponse>),
}

#[derive(ApiResponse)]
pub enum Done {
    /// Done.
    #[oai(status = 204)]
    NoContent,
}

type Result<T> = std::result::Result<T, AdminError>;

pub struct AdminApi {
    pub services: Services,
}

fn user(u: domain::User) -> User {
    User {
        user_id: u.id,
        login_name: u.login_name,
        display_name: u.display_name,
        state: match u.state {
            UserState::Active => UserStateName::Active,
            UserState::Locked => UserStateName::Locked,
            UserState::Inactive => UserStateName::Inactive,
        },
        failed_attempts: u.failed_attempts,
        id_store_name: u.id_store_name,
        created_at: Rfc3339(u.created_at),
        changed_at: Rfc3339(u.changed_at),
    }
}

fn permission(p: PermissionName) -> Permission {
    match p {
        PermissionName::SessionRead => Permission::SessionRead,
        PermissionName::SessionWrite => Permission::SessionWrite,
        PermissionName::SessionDelete => Permission::SessionDelete,
        PermissionName::UserRead => Permission::UserRead,
        PermissionName::UserWrite => Permission::UserWrite,
        PermissionName::KeyWrite => Permission::KeyWrite,
    }
}

fn permission_name(p: Permission) -> PermissionName {
    match p {
        Permission::SessionRead => PermissionName::SessionRead,
        Permission::SessionWrite => PermissionName::SessionWrite,
        Permission::SessionDelete => PermissionName::SessionDelete,
        Permission::UserRead => PermissionName::UserRead,
        Permission::UserWrite => PermissionName::UserWrite,
        Permission::KeyWrite => PermissionName::KeyWrite,
    }
}

#[OpenApi(prefix_path = "/admin/v1")]
impl AdminApi {
    /// Create a user
    ///
    /// Creates an active user with an argon2id-hashed password. Needs
    /// `user.write`.
    #[oai(
        path = "/users",
        method = "post",
        operation_id = "AdminService_CreateUser",
        tag = "ApiTags::Users"
    )]
    async fn create_user(
        &self,
        auth: AdminKeyAuth,
        body: Json<CreateUserRequest>,
    ) -> Result<UserCreated> {
        let body = body.0;
        let login_name = LoginName::parse(&body.login_name)
            .ok_or_else(|| AdminError::bad_request("loginName must be 1 to 200 characters"))?;
        let created = self
            .services
            .admin
            .create_user(
                &auth.0,
                login_name,
                body.display_name,
                &Password::new(body.password),
            )
            .await?;
        Ok(UserCreated::Created(Json(CreateUserResponse {
            user_id: created.id,
        })))
    }

    /// List users
    ///
    /// Lists users by login name. Needs `user.read`.
    #[oai(
        path = "/users",
        method = "get",
        operation_id = "AdminService_ListUsers",
        tag = "ApiTags::Users"
    )]
    async fn list_users(
        &self,
        auth: AdminKeyAuth,
        /// Users to skip.
        #[oai(
            default,
            example,
            validator(minimum(value = "0"), maximum(value = "1000000000"))
        )]
        offset: Query<u64>,
        /// Most users returned (1–1000, default 100).
        #[oai(
            default = "default_limit",
            example = "default_limit",
            validator(minimum(value = "1"), maximum(value = "1000"))
        )]
        limit: Query<u64>,
    ) -> Result<Json<UserList>> {
        let (total, users) = self
            .services
            .admin
            .list_users(&auth.0, offset.0, limit.0)
            .await?;
        Ok(Json(UserList {
            total_result: total,
            users: users.into_iter().map(user).collect(),
        }))
    }

    /// Get a user
    ///
    /// Needs `user.read`.
    #[oai(
        path = "/users/:userId",
        method = "get",
        operation_id = "AdminService_GetUser",
        tag = "ApiTags::Users"
    )]
    async fn get_user(
        &self,
        auth: AdminKeyAuth,
        #[oai(
            name = "userId",
            example = "crate::api::wire::example_user_id",
            validator(min_length = 1, max_length = 200)
        )]
        user_id: Path<String>,
    ) -> Result<Json<User>> {
        Ok(Json(user(
            self.services.admin.get_user(&auth.0, &user_id.0).await?,
        )))
    }

    /// Delete a user
    ///
    /// Removes the user; its existing sessions stay until terminated. Needs
    /// `user.write`.
    #[oai(
        path = "/users/:userId",
        method = "delete",
        operation_id = "AdminService_DeleteUser",
        tag = "ApiTags::Users"
    )]
    async fn delete_user(
        &self,
        auth: AdminKeyAuth,
        #[oai(
            name = "userId",
            example = "crate::api::wire::example_user_id",
            validator(min_length = 1, max_length = 200)
        )]
        user_id: Path<String>,
    ) -> Result<Done> {
        self.services.admin.delete_user(&auth.0, &user_id.0).await?;
        Ok(Done::NoContent)
    }

    /// Set a user's password
    ///
    /// Replaces the password. Needs `user.write`.
    #[oai(
        path = "/users/:userId/password",
        method = "put",
        operation_id = "AdminService_SetPassword",
        tag = "ApiTags::Users"
    )]
    async fn set_password(
        &self,
        auth: AdminKeyAuth,
        #[oai(
            name = "userId",
            example = "crate::api::wire::example_user_id",
            validator(min_length = 1, max_length = 200)
        )]
        user_id: Path<String>,
        body: Json<SetPasswordRequest>,
    ) -> Result<Done> {
        self.services
            .admin
            .set_password(&auth.0, &user_id.0, &Password::new(body.0.password))
            .await?;
        Ok(Done::NoContent)
    }

    /// Unlock a user
    ///
    /// Makes a locked user active again and clears its failed-attempt count.
    /// Needs `user.write`.
    #[oai(
        path = "/users/:userId/unlock",
        method = "post",
        operation_id = "AdminService_UnlockUser",
        tag = "ApiTags::Users"
    )]
    async fn unlock_user(
        &self,
        auth: AdminKeyAuth,
        #[oai(
            name = "userId",
            example = "crate::api::wire::example_user_id",
            validator(min_length = 1, max_length = 200)
        )]
        user_id: Path<String>,
    ) -> Result<Json<User>> {
        Ok(Json(user(
            self.services.admin.unlock_user(&auth.0, &user_id.0).await?,
        )))
    }

    /// Create an API key
    ///
    /// Creates a key with the given permissions. The secret is returned once
    /// and stored only as a hash. Needs `key.write`.
    #[oai(
        path = "/keys",
        method = "post",
        operation_id = "AdminService_CreateKey",
        tag = "ApiTags::Keys"
    )]
    async fn create_key(
        &self,
        auth: AdminKeyAuth,
        body: Json<CreateKeyRequest>,
    ) -> Result<KeyCreated> {
        let body = body.0;
        let permissions: BTreeSet<Permission> =
            body.permissions.into_iter().map(permission).collect();
        let (key, secret) = self
            .services
            .admin
            .create_key(&auth.0, body.name, permissions)
            .await?;
        Ok(KeyCreated::Created(Json(CreateKeyResponse {
            key_id: key.id,
            secret,
        })))
    }

    /// List API keys
    ///
    /// Lists keys without their secrets. Needs `key.write`.
    #[oai(
        path = "/keys",
        method = "get",
        operation_id = "AdminService_ListKeys",
        tag = "ApiTags::Keys"
    )]
    async fn list_keys(&self, auth: AdminKeyAuth) -> Result<Json<ApiKeyList>> {
        let keys = self.services.admin.list_keys(&auth.0).await?;
        Ok(Json(ApiKeyList {
            keys: keys
                .into_iter()
                .map(|k| ApiKey {
                    key_id: k.id,
                    name: k.name,
                    permissions: k.permissions.into_iter().map(permission_name).collect(),
                    created_at: Rfc3339(k.created_at),
                    revoked_at: k.revoked_at.map(Rfc3339),
                })
                .collect(),
        }))
    }

    /// Revoke an API key
    ///
    /// The key stops authenticating at once. Revoking again succeeds. Needs
    /// `key.write`.
    #[oai(
        path = "/keys/:keyId",
        method = "delete",
        operation_id = "AdminService_RevokeKey",
        tag = "ApiTags::Keys"
    )]
    async fn revoke_key(
        &self,
        auth: AdminKeyAuth,
        #[oai(
            name = "keyId",
            example = "crate::api::wire::example_key_id",
            validator(min_length = 1, max_length = 200)
        )]
        key_id: Path<String>,
    ) -> Result<Done> {
        self.services.admin.revoke_key(&auth.0, &key_id.0).await?;
        Ok(Done::NoContent)
    }
}

fn default_limit() -> u64 {
    100
}
