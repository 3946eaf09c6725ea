//! Ceilings: what the parts under the HTTP server manage alone on this
//! machine, so each scenario can be read as a fraction of its bound.
//!
//! - hash: argon2id verifies per second on every core, at the parameters
//!   sessiond uses (`argon2::Params::default()`);
//! - storage: `Store::insert_session` and `Store::find_session` (and the get
//!   path's find + touch) called by 32 tasks, no HTTP, on a fresh database of
//!   the same backend with the server's pool size.
//!
//! The framework ceiling (`GET /healthz` through the real server) is an
//! ordinary HTTP scenario; see `runner.rs`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use sessiond::domain::{ClientContext, Session, UserFactor};
use sessiond::store::Store;

use crate::load::{self, Load, Outcome, Stats, Step, Worker};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct HashCeiling {
    pub threads: usize,
    pub verifies: u64,
    pub secs: f64,
    pub verifies_per_sec: f64,
    /// Mean time of one verify on one thread.
    pub mean_ms: f64,
    pub params: String,
}

/// argon2id verifies on one OS thread per core for `duration`.
pub fn hash(duration: Duration) -> anyhow::Result<HashCeiling> {
    let params = Params::default();
    let described = format!(
        "argon2id m={} KiB t={} p={}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost()
    );
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let phc = argon
        .hash_password(b"correct horse battery staple")
        .map_err(|e| anyhow::anyhow!("argon2 hash failed: {e}"))?
        .to_string();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let start = Instant::now();
    let end = start + duration;
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let phc = phc.clone();
            let params = params.clone();
            std::thread::spawn(move || -> anyhow::Result<u64> {
                let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
                let parsed =
                    PasswordHash::new(&phc).map_err(|e| anyhow::anyhow!("bad PHC string: {e}"))?;
                let mut n = 0;
                while Instant::now() < end {
                    argon
                        .verify_password(b"correct horse battery staple", &parsed)
                        .map_err(|e| anyhow::anyhow!("argon2 verify failed: {e}"))?;
                    n += 1;
                }
                Ok(n)
            })
        })
        .collect();
    let mut verifies = 0;
    for handle in handles {
        verifies += handle
            .join()
            .map_err(|_| anyhow::anyhow!("hash thread panicked"))??;
    }
    let secs = start.elapsed().as_secs_f64();
    Ok(HashCeiling {
        threads,
        verifies,
        secs,
        verifies_per_sec: verifies as f64 / secs,
        mean_ms: secs * 1000.0 * threads as f64 / verifies.max(1) as f64,
        params: described,
    })
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StorageCeiling {
    pub pool_size: u32,
    /// `insert_session` of a user-checked session without metadata.
    pub inserts: Stats,
    /// `find_session` (session row + metadata) of a random inserted id.
    pub lookups: Stats,
    /// What a get with token costs the store: `find_session` then
    /// `touch_session` (a conditional UPDATE of last_access_at).
    pub lookup_touch: Stats,
}

enum StoreOp {
    Insert { ids: Vec<String> },
    Lookup { ids: Arc<Vec<String>>, touch: bool },
}

struct StoreWorker {
    store: Store,
    rng: SmallRng,
    op: StoreOp,
}

#[async_trait]
impl Worker for StoreWorker {
    async fn step(&mut self) -> Step {
        let outcome = match &mut self.op {
            StoreOp::Insert { ids } => {
                let session = new_session();
                let id = session.id.clone();
                match self.store.insert_session(&session).await {
                    Ok(()) => {
                        ids.push(id);
                        Outcome::Ok
                    }
                    Err(e) => Outcome::Failed(format!("insert_session: {e}")),
                }
            }
            StoreOp::Lookup { ids, touch } => {
                let id = &ids[self.rng.random_range(0..ids.len())];
                match self.store.find_session(id).await {
                    Ok(Some(_)) if !*touch => Outcome::Ok,
                    Ok(Some(_)) => match self.store.touch_session(id, now()).await {
                        Ok(()) => Outcome::Ok,
                        Err(e) => Outcome::Failed(format!("touch_session: {e}")),
                    },
                    Ok(None) => Outcome::Failed(format!("session {id} not found")),
                    Err(e) => Outcome::Failed(format!("find_session: {e}")),
                }
            }
        };
        outcome.into()
    }
}

fn now() -> sessiond::domain::Timestamp {
    sessiond::clock::truncate(chrono::Utc::now())
}

/// A session as a ZITADEL create with a user check builds it.
fn new_session() -> Session {
    let now = now();
    Session {
        id: sessiond::ids::new_id(now),
        token_hash: sessiond::ids::hash_secret(&sessiond::ids::new_secret()),
        creator_key_id: "bench-storage-ceiling".to_owned(),
        resource_owner: "bench".to_owned(),
        user: Some(UserFactor {
            user_id: "bench-user".to_owned(),
            login_name: "user0".to_owned(),
            display_name: "user0".to_owned(),
            verified_at: now,
        }),
        password_verified_at: None,
        metadata: Default::default(),
        created_at: now,
        changed_at: now,
        sequence: 1,
        expires_at: None,
        idle_timeout: None,
        last_access_at: now,
        client: ClientContext::default(),
        id_store_name: Some("UserIdentityStore".to_owned()),
        is_impersonating: false,
        session_index: sessiond::ids::new_secret(),
        terminated_at: None,
    }
}

/// Inserts, then lookups, then lookups with touch, each for `load`.
pub async fn storage(
    url: &str,
    pool_size: u32,
    concurrency: usize,
    load: Load,
) -> anyhow::Result<StorageCeiling> {
    let db = sessiond::store::connect(url, pool_size, None)
        .await
        .context("cannot open the storage-ceiling database")?;
    let store = Store::new(db);
    let worker = |i: usize, op: StoreOp| StoreWorker {
        store: store.clone(),
        rng: SmallRng::seed_from_u64(i as u64),
        op,
    };

    let inserters = (0..concurrency)
        .map(|i| worker(i, StoreOp::Insert { ids: Vec::new() }))
        .collect();
    let (inserts, done) = load::run(inserters, load, &[]).await?;
    let ids: Vec<String> = done
        .into_iter()
        .flat_map(|w| match w.op {
            StoreOp::Insert { ids } => ids,
            StoreOp::Lookup { .. } => Vec::new(),
        })
        .collect();
    anyhow::ensure!(!ids.is_empty(), "the storage ceiling inserted nothing");
    let ids = Arc::new(ids);

    let mut results = Vec::new();
    for touch in [false, true] {
        let readers = (0..concurrency)
            .map(|i| {
                let ids = ids.clone();
                worker(i, StoreOp::Lookup { ids, touch })
            })
            .collect();
        results.push(load::run(readers, load, &[]).await?.0);
    }
    let lookup_touch = results.pop().unwrap_or_default();
    let lookups = results.pop().unwrap_or_default();
    store.connection().clone().close().await.ok();
    Ok(StorageCeiling {
        pool_size,
        inserts,
        lookups,
        lookup_touch,
    })
}
