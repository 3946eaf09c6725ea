//! argon2id hashing off the async executor, with bounded concurrency.
//!
//! Hashing is CPU-bound (about 15 ms and 19 MiB at the OWASP parameters),
//! so it runs on a fixed set of worker threads, one per allowed concurrent
//! hash. Each worker keeps its argon2 memory and reuses it, so hashing
//! memory stays at workers × 19 MiB however many requests come (the blocking
//! pool's many threads would each keep a malloc arena full of freed
//! blocks). At most `queue` more jobs wait; beyond that a call fails fast
//! with [`Error::HashingBusy`] instead of letting memory grow.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use argon2::password_hash::PasswordHasher as _;
use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;

use crate::domain::Error;
use crate::domain::session::Password;
use crate::telemetry::metrics::hashing as metrics;

type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

pub struct PasswordHasher {
    params: Params,
    jobs: SyncSender<Job>,
    /// Verified when the user does not exist, so the response time does not
    /// tell whether it does.
    dummy_hash: String,
    /// Verifications run so far, dummy ones included.
    verifications: AtomicU64,
}

impl PasswordHasher {
    /// `concurrency` hashes run at once; at most `queue` more wait.
    pub fn new(params: Params, concurrency: usize, queue: usize) -> anyhow::Result<PasswordHasher> {
        let dummy_hash = argon2(params.clone())
            .hash_password(crate::ids::new_secret().as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot build dummy hash: {e}"))?
            .to_string();
        let (jobs, receiver) = sync_channel::<Job>(queue);
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..concurrency.max(1) {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    lower_priority();
                    work(&receiver)
                })?;
        }
        Ok(PasswordHasher {
            params,
            jobs,
            dummy_hash,
            verifications: AtomicU64::new(0),
        })
    }

    pub async fn hash(&self, password: &Password) -> Result<String, Error> {
        let params = self.params.clone();
        let password = password.clone();
        self.run("hash", move |memory| {
            hash_with(memory, params, password.expose().as_bytes())
        })
        .await?
    }

    /// Verifies `password` against `hash`, or against the dummy hash when
    /// there is no user; in that case the answer is always `false`.
    pub async fn verify(&self, password: &Password, hash: Option<&str>) -> Result<bool, Error> {
        let known = hash.is_some();
        let hash = hash.unwrap_or(&self.dummy_hash).to_owned();
        let password = password.clone();
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let matched = self
            .run("verify", move |memory| {
                verify_with(memory, &hash, password.expose().as_bytes())
            })
            .await?;
        metrics::verified(match (known, matched) {
            (false, _) => "unknown_user",
            (true, true) => "match",
            (true, false) => "mismatch",
        });
        Ok(known && matched)
    }

    /// How many verifications ran, dummy ones included.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// Runs `job` on a hashing worker, in a span named after `operation`
    /// (`password.hash`, `password.verify`) that is a child of the caller's
    /// and covers the wait for a worker too. Only the operation and the
    /// wait are recorded, never the password or the hash.
    async fn run<T: Send + 'static>(
        &self,
        operation: &'static str,
        job: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, Error> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let span = match operation {
            "hash" => tracing::info_span!("password.hash", queue_wait_us = tracing::field::Empty),
            _ => tracing::info_span!("password.verify", queue_wait_us = tracing::field::Empty),
        };
        let queued_at = std::time::Instant::now();
        let boxed: Job = Box::new(move |memory| {
            let waited = queued_at.elapsed();
            metrics::started(waited);
            span.record(
                "queue_wait_us",
                u64::try_from(waited.as_micros()).unwrap_or(u64::MAX),
            );
            let started = std::time::Instant::now();
            let result = span.in_scope(|| job(memory));
            metrics::finished(operation, started.elapsed());
            let _ = reply.send(result);
        });
        // Counted before it is queued, so a worker never takes it first.
        metrics::queued();
        match self.jobs.try_send(boxed) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                metrics::unqueued();
                metrics::rejected();
                return Err(Error::HashingBusy);
            }
            Err(TrySendError::Disconnected(_)) => {
                metrics::unqueued();
                return Err(Error::Internal(anyhow::anyhow!("hashing workers stopped")));
            }
        }
        answer
            .await
            .map_err(|_| Error::Internal(anyhow::anyhow!("hashing job was dropped")))
    }
}

/// Hashing workers run below normal priority (nice 4), so a burst of password
/// checks cannot crowd out the cheap requests (session reads, updates) that
/// share the cores; hashing still gets every cycle nothing else wants.
fn lower_priority() {
    // 37 on the crate's 0..=99 scale gives niceness 4 on Linux.
    let below_normal = thread_priority::ThreadPriorityValue::try_from(37u8)
        .map(thread_priority::ThreadPriority::Crossplatform);
    let result = below_normal
        .map_err(|e| e.to_string())
        .and_then(|p| p.set_for_current().map_err(|e| e.to_string()));
    if let Err(err) = result {
        tracing::debug!(error = %err, "cannot lower the hashing worker's priority");
    }
}

/// A worker: runs jobs until the hasher is dropped, reusing its memory.
fn work(receiver: &Mutex<Receiver<Job>>) {
    let mut memory = Vec::new();
    loop {
        let job = match receiver.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(&mut memory),
            Err(_) => return,
        }
    }
}

/// Hashes with a fresh 128-bit salt into the worker's memory; returns the
/// PHC string.
fn hash_with(memory: &mut Vec<Block>, params: Params, password: &[u8]) -> Result<String, Error> {
    let fail = |what: &str| Error::Internal(anyhow::anyhow!("argon2 hash failed: {what}"));
    let mut salt = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt);
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    memory.resize(params.block_count(), Block::default());
    let params_string = ParamsString::try_from(&params).map_err(|e| fail(&e.to_string()))?;
    argon2(params)
        .hash_password_into_with_memory(password, &salt, &mut out, &mut memory[..])
        .map_err(|e| fail(&e.to_string()))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: params_string,
        salt: Some(Salt::new(&salt).map_err(|e| fail(&e.to_string()))?),
        hash: Some(Output::new(&out).map_err(|e| fail(&e.to_string()))?),
    };
    Ok(phc.to_string())
}

/// Verifies against a PHC string, hashing into the worker's memory.
fn verify_with(memory: &mut Vec<Block>, phc: &str, password: &[u8]) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
        return false;
    };
    let Ok(version) = Version::try_from(parsed.version.unwrap_or(0x13)) else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    memory.resize(params.block_count(), Block::default());
    let argon = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.as_bytes().len()];
    if argon
        .hash_password_into_with_memory(password, salt.as_ref(), &mut out, &mut memory[..])
        .is_err()
    {
        return false;
    }
    out.ct_eq(expected.as_bytes()).into()
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
        assert!(!hasher.verify(&pw, Some("not a phc string")).await.unwrap());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn hashing_workers_run_below_normal_priority() {
        let _hasher = PasswordHasher::new(Params::default(), 2, 1).unwrap();
        let mut niceness = Vec::new();
        // Threads may take a moment to set their priority after spawning.
        for _ in 0..100 {
            niceness.clear();
            for task in std::fs::read_dir("/proc/self/task").unwrap() {
                let dir = task.unwrap().path();
                let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
                if !comm.starts_with("argon2-") {
                    continue;
                }
                let stat = std::fs::read_to_string(dir.join("stat")).unwrap_or_default();
                // Fields after the parenthesised name; niceness is field 19.
                let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
                let nice: i32 = after_name
                    .split_whitespace()
                    .nth(16)
                    .unwrap()
                    .parse()
                    .unwrap();
                niceness.push(nice);
            }
            if niceness.len() >= 2 && niceness.iter().all(|n| *n > 0) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(niceness.len() >= 2, "argon2 workers found: {niceness:?}");
        assert!(niceness.iter().all(|n| *n == 4), "{niceness:?}");
    }

    #[tokio::test]
    async fn a_full_queue_fails_fast() {
        let hasher = Arc::new(PasswordHasher::new(Params::default(), 1, 1).unwrap());
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let (started_tx, started) = tokio::sync::oneshot::channel();
        // One job occupies the only worker...
        let worker = hasher.clone();
        let blocking = tokio::spawn(async move {
            worker
                .run("hash", move |_| {
                    let _ = started_tx.send(());
                    let _ = wait.recv();
                })
                .await
        });
        started.await.unwrap();
        // ...and one waits in the only queue slot.
        hasher.jobs.try_send(Box::new(|_| {})).unwrap();
        let err = hasher.verify(&Password::new("x".into()), None).await;
        assert!(matches!(err, Err(Error::HashingBusy)));
        release.send(()).unwrap();
        blocking.await.unwrap().unwrap();
    }
}
