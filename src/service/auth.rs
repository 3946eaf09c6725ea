//! API key authentication. Secrets are looked up by their SHA-256 and then
//! compared in constant time; revoked keys never authenticate.

use std::sync::Arc;

use crate::clock::Clock;
use crate::domain::{ApiKey, Error, Permission, Principal};
use crate::ids;
use crate::store::Store;

/// Id of the key whose secret comes from `SESSIOND_BOOTSTRAP_ADMIN_KEY`.
pub const BOOTSTRAP_KEY_ID: &str = "bootstrap-admin";

pub struct Authenticator {
    store: Store,
    clock: Arc<dyn Clock>,
}

impl Authenticator {
    pub(super) fn new(store: Store, clock: Arc<dyn Clock>) -> Authenticator {
        Authenticator { store, clock }
    }

    /// A bearer secret. `None` when no active key has it.
    pub async fn bearer(&self, secret: &str) -> Result<Option<Principal>, Error> {
        let Some(stored) = self
            .store
            .find_key_by_secret_hash(&ids::hash_secret(secret))
            .await?
        else {
            return Ok(None);
        };
        Ok(principal_if_valid(stored, secret))
    }

    /// HTTP Basic: the key id as user name and its secret as password.
    pub async fn basic(&self, key_id: &str, secret: &str) -> Result<Option<Principal>, Error> {
        let Some(stored) = self.store.find_key(key_id).await? else {
            // Same hashing work as a known key, so timing says nothing.
            let _ = ids::secret_matches(secret, &ids::hash_secret(""));
            return Ok(None);
        };
        Ok(principal_if_valid(stored, secret))
    }

    /// Start-up key provisioning. With a configured secret, the bootstrap
    /// admin key exists with exactly that secret. Without one, and with no
    /// keys at all, a new admin key is created and its secret returned so it
    /// can be shown once.
    pub async fn bootstrap(&self, configured: Option<&str>) -> anyhow::Result<Option<String>> {
        let now = self.clock.now();
        if let Some(secret) = configured {
            anyhow::ensure!(
                secret.chars().count() >= 32,
                "SESSIOND_BOOTSTRAP_ADMIN_KEY must be at least 32 characters"
            );
            let key = admin_key(BOOTSTRAP_KEY_ID.to_owned(), now);
            self.store
                .upsert_key(&key, &ids::hash_secret(secret))
                .await?;
            return Ok(None);
        }
        if self.store.count_keys().await? > 0 {
            return Ok(None);
        }
        let secret = ids::new_secret();
        let key = admin_key(ids::new_id(now), now);
        self.store
            .insert_key(&key, &ids::hash_secret(&secret))
            .await?;
        Ok(Some(secret))
    }
}

fn admin_key(id: String, now: crate::domain::Timestamp) -> ApiKey {
    ApiKey {
        id,
        name: "admin".to_owned(),
        permissions: Permission::ALL.into_iter().collect(),
        created_at: now,
        revoked_at: None,
    }
}

fn principal_if_valid(stored: crate::store::keys::StoredKey, secret: &str) -> Option<Principal> {
    let matches = ids::secret_matches(secret, &stored.secret_hash);
    (matches && stored.key.revoked_at.is_none()).then_some(Principal {
        key_id: stored.key.id,
        permissions: stored.key.permissions,
    })
}
