//! argon2id hashing off the async executor, with bounded concurrency.
//!
//! Hashing is CPU-bound (about 15 ms at the OWASP parameters), so it runs on
//! the blocking pool behind a semaphore sized to the cores. A second, larger
//! bound admits callers to the queue; when it is full the call fails fast
//! instead of letting memory grow with waiting requests.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

use crate::domain::Error;
use crate::domain::session::Password;

pub struct PasswordHasher {
    params: Params,
    workers: Arc<Semaphore>,
    admission: Arc<Semaphore>,
    /// Verified when the user does not exist, so the response time does not
    /// tell whether it does.
    dummy_hash: String,
    /// Verifications run so far, dummy ones included.
    verifications: AtomicU64,
}

impl PasswordHasher {
    /// `concurrency` hashes run at once; at most `queue` more wait.
    pub fn new(params: Params, concurrency: usize, queue: usize) -> anyhow::Result<PasswordHasher> {
        let concurrency = concurrency.max(1);
        let argon = argon2(params.clone());
        let dummy_hash = argon
            .hash_password(crate::ids::new_secret().as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot build dummy hash: {e}"))?
            .to_string();
        Ok(PasswordHasher {
            params,
            workers: Arc::new(Semaphore::new(concurrency)),
            admission: Arc::new(Semaphore::new(concurrency + queue)),
            dummy_hash,
            verifications: AtomicU64::new(0),
        })
    }

    pub async fn hash(&self, password: &Password) -> Result<String, Error> {
        let params = self.params.clone();
        let password = password.clone();
        self.run(move || {
            argon2(params)
                .hash_password(password.expose().as_bytes())
                .map(|h| h.to_string())
                .map_err(|e| Error::Internal(anyhow::anyhow!("argon2 hash failed: {e}")))
        })
        .await?
    }

    /// Verifies `password` against `hash`, or against the dummy hash when
    /// there is no user; in that case the answer is always `false`.
    pub async fn verify(&self, password: &Password, hash: Option<&str>) -> Result<bool, Error> {
        let known = hash.is_some();
        let hash = hash.unwrap_or(&self.dummy_hash).to_owned();
        let password = password.clone();
        let params = self.params.clone();
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let matched = self
            .run(move || match PasswordHash::new(&hash) {
                Ok(parsed) => argon2(params)
                    .verify_password(password.expose().as_bytes(), &parsed)
                    .is_ok(),
                Err(_) => false,
            })
            .await?;
        Ok(known && matched)
    }

    /// How many verifications ran, dummy ones included.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        let _admitted = self
            .admission
            .clone()
            .try_acquire_owned()
            .map_err(|_| Error::HashingBusy)?;
        let _worker = self
            .workers
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| Error::Internal(e.into()))?;
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || span.in_scope(job))
            .await
            .map_err(|e| Error::Internal(e.into()))
    }
}

fn argon2(params: Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_users_never_match() {
        let hasher = PasswordHasher::new(Params::default(), 2, 8).unwrap();
        let pw = Password::new("correct horse".into());
        let hash = hasher.hash(&pw).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(hasher.verify(&pw, Some(&hash)).await.unwrap());
        assert!(
            !hasher
                .verify(&Password::new("wrong".into()), Some(&hash))
                .await
                .unwrap()
        );
        assert!(!hasher.verify(&pw, None).await.unwrap());
    }

    #[tokio::test]
    async fn a_full_queue_fails_fast() {
        let hasher = PasswordHasher::new(Params::default(), 1, 0).unwrap();
        let _held = hasher.admission.clone().try_acquire_owned().unwrap();
        let err = hasher.verify(&Password::new("x".into()), None).await;
        assert!(matches!(err, Err(Error::HashingBusy)));
    }
}
