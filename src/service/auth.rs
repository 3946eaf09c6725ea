//! API key authentication. Secrets are looked up by their SHA-256 and then
//! compared in constant time; revoked keys never authenticate.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::clock::Clock;
use crate::domain::{ApiKey, Error, Permission, Principal};
use crate::ids;
use crate::store::Store;

/// Id of the key whose secret comes from `SESSIOND_BOOTSTRAP_ADMIN_KEY`.
pub const BOOTSTRAP_KEY_ID: &str = "bootstrap-admin";

/// How long a verified key is trusted without asking the database. A key
/// revoked on this node stops at once; on other nodes within this time.
const KEY_CACHE_TTL: Duration = Duration::from_secs(5);
const KEY_CACHE_MAX: usize = 10_000;

/// Verified keys by the SHA-256 of the presented credentials. Only
/// successful checks are cached, so a wrong secret always reaches the
/// database.
#[derive(Default)]
pub struct KeyCache(Mutex<HashMap<String, (Principal, Instant)>>);

impl KeyCache {
    fn get(&self, credential_hash: &str) -> Option<Principal> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(credential_hash)
            .filter(|(_, at)| at.elapsed() < KEY_CACHE_TTL)
            .map(|(p, _)| p.clone())
    }

    fn put(&self, credential_hash: String, principal: &Principal) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= KEY_CACHE_MAX {
            map.retain(|_, (_, at)| at.elapsed() < KEY_CACHE_TTL);
            if map.len() >= KEY_CACHE_MAX {
                map.clear();
            }
        }
        map.insert(credential_hash, (principal.clone(), Instant::now()));
    }

    /// Forgets every cached key (after a revocation or a bootstrap reset).
    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

pub struct Authenticator {
    store: Store,
    clock: Arc<dyn Clock>,
    cache: Arc<KeyCache>,
}

impl Authenticator {
    pub(super) fn new(store: Store, clock: Arc<dyn Clock>, cache: Arc<KeyCache>) -> Authenticator {
        Authenticator {
            store,
            clock,
            cache,
        }
    }

    /// A bearer secret. `None` when no active key has it.
    pub async fn bearer(&self, secret: &str) -> Result<Option<Principal>, Error> {
        let hash = ids::hash_secret(secret);
        if let Some(principal) = self.cache.get(&hash) {
            return Ok(Some(principal));
        }
        let Some(stored) = self.store.find_key_by_secret_hash(&hash).await? else {
            return Ok(None);
        };
        let principal = principal_if_valid(stored, secret);
        if let Some(p) = &principal {
            self.cache.put(hash, p);
        }
        Ok(principal)
    }

    /// HTTP Basic: the key id as user name and its secret as password.
    pub async fn basic(&self, key_id: &str, secret: &str) -> Result<Option<Principal>, Error> {
        let cache_key = format!("basic:{key_id}:{}", ids::hash_secret(secret));
        if let Some(principal) = self.cache.get(&cache_key) {
            return Ok(Some(principal));
        }
        let Some(stored) = self.store.find_key(key_id).await? else {
            // Same hashing work as a known key, so timing says nothing.
            let _ = ids::secret_matches(secret, &ids::hash_secret(""));
            return Ok(None);
        };
        let principal = principal_if_valid(stored, secret);
        if let Some(p) = &principal {
            self.cache.put(cache_key, p);
        }
        Ok(principal)
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
            self.cache.clear();
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
