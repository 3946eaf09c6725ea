//! Users and API keys: the admin API and the CLI both go through here.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::Settings;
use crate::clock::Clock;
use crate::domain::session::Password;
use crate::domain::{ApiKey, Error, LoginName, NewUser, Permission, Principal, User};
use crate::ids;
use crate::password::PasswordHasher;
use crate::store::Store;

pub struct Admin {
    store: Store,
    hasher: Arc<PasswordHasher>,
    clock: Arc<dyn Clock>,
    settings: Arc<Settings>,
    keys: Arc<super::KeyCache>,
}

impl Admin {
    pub(super) fn new(
        store: Store,
        hasher: Arc<PasswordHasher>,
        clock: Arc<dyn Clock>,
        settings: Arc<Settings>,
        keys: Arc<super::KeyCache>,
    ) -> Admin {
        Admin {
            store,
            hasher,
            clock,
            settings,
            keys,
        }
    }

    pub async fn create_user(
        &self,
        caller: &Principal,
        login_name: LoginName,
        display_name: Option<String>,
        password: &Password,
    ) -> Result<User, Error> {
        caller.require(Permission::UserWrite)?;
        let now = self.clock.now();
        let password_hash = self.hasher.hash(password).await?;
        let display_name = display_name.unwrap_or_else(|| login_name.as_str().to_owned());
        let id = ids::new_id(now);
        self.store
            .insert_user(
                &NewUser {
                    login_name,
                    display_name,
                    password_hash,
                },
                &id,
                &self.settings.id_store_name,
                now,
            )
            .await?;
        self.store.find_user(&id).await?.ok_or(Error::UserNotFound)
    }

    pub async fn get_user(&self, caller: &Principal, id: &str) -> Result<User, Error> {
        caller.require(Permission::UserRead)?;
        self.store.find_user(id).await?.ok_or(Error::UserNotFound)
    }

    pub async fn list_users(
        &self,
        caller: &Principal,
        offset: u64,
        limit: u64,
    ) -> Result<(u64, Vec<User>), Error> {
        caller.require(Permission::UserRead)?;
        self.store.list_users(offset, limit).await
    }

    pub async fn delete_user(&self, caller: &Principal, id: &str) -> Result<(), Error> {
        caller.require(Permission::UserWrite)?;
        if self.store.delete_user(id).await? {
            Ok(())
        } else {
            Err(Error::UserNotFound)
        }
    }

    pub async fn set_password(
        &self,
        caller: &Principal,
        id: &str,
        password: &Password,
    ) -> Result<(), Error> {
        caller.require(Permission::UserWrite)?;
        if self.store.find_user(id).await?.is_none() {
            return Err(Error::UserNotFound);
        }
        let hash = self.hasher.hash(password).await?;
        if self
            .store
            .set_password_hash(id, &hash, self.clock.now())
            .await?
        {
            Ok(())
        } else {
            Err(Error::UserNotFound)
        }
    }

    pub async fn unlock_user(&self, caller: &Principal, id: &str) -> Result<User, Error> {
        caller.require(Permission::UserWrite)?;
        if !self.store.unlock_user(id, self.clock.now()).await? {
            return Err(Error::UserNotFound);
        }
        self.store.find_user(id).await?.ok_or(Error::UserNotFound)
    }

    /// Locks a user: password checks then fail alike until it is unlocked.
    pub async fn lock_user(&self, caller: &Principal, id: &str) -> Result<User, Error> {
        caller.require(Permission::UserWrite)?;
        if !self.store.lock_user(id, self.clock.now()).await? {
            return Err(Error::UserNotFound);
        }
        self.store.find_user(id).await?.ok_or(Error::UserNotFound)
    }

    /// Creates a key and returns it with its secret, which is not stored.
    pub async fn create_key(
        &self,
        caller: &Principal,
        name: String,
        permissions: BTreeSet<Permission>,
    ) -> Result<(ApiKey, String), Error> {
        caller.require(Permission::KeyWrite)?;
        let now = self.clock.now();
        let secret = ids::new_secret();
        let key = ApiKey {
            id: ids::new_id(now),
            name,
            permissions,
            created_at: now,
            revoked_at: None,
        };
        self.store
            .insert_key(&key, &ids::hash_secret(&secret))
            .await?;
        Ok((key, secret))
    }

    pub async fn list_keys(&self, caller: &Principal) -> Result<Vec<ApiKey>, Error> {
        caller.require(Permission::KeyWrite)?;
        self.store.list_keys().await
    }

    pub async fn revoke_key(&self, caller: &Principal, id: &str) -> Result<(), Error> {
        caller.require(Permission::KeyWrite)?;
        if self.store.find_key(id).await?.is_none() {
            return Err(Error::KeyNotFound);
        }
        self.store.revoke_key(id, self.clock.now()).await?;
        // Revocation takes effect on this node at once.
        self.keys.clear();
        Ok(())
    }
}

/// The principal the CLI acts as: it runs on the host, next to the database.
pub fn cli_principal() -> Principal {
    Principal {
        key_id: "cli".to_owned(),
        permissions: Permission::ALL.into_iter().collect(),
    }
}
