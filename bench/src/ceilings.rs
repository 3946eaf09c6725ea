//! Ceilings: what the parts under the HTTP server manage alone on this
//! machine, so each scenario can be read as a fraction of its bound.
//!
//! - hash: argon2id verifies per second on every core, at the parameters
//!   sessiond uses (`argon2::Params::default()`), each thread reusing its
//!   argon2 memory as sessiond's hashing workers do;
//! - storage: `Store::insert_session` and `Store::find_session` called by 32
//!   tasks, no HTTP, on a fresh database of the same backend with the
//!   server's pool size, with and without one metadata entry; plus, as
//!   diagnostics, the complete store work of one request of some scenarios
//!   (user lookup, metadata), and two bounds the search and revoke paths
//!   are read against: a single-row update commit (`record_accesses` of
//!   one session: the least a revoke writes) and a bare indexed select of
//!   one page by user (the search's own page statement, without its count
//!   or metadata).
//!
//! The framework ceiling (`GET /healthz` through the real server) is an
//! ordinary HTTP scenario; see `runner.rs`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use async_trait::async_trait;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use sessiond::domain::{ClientContext, LoginName, NewUser, Session, UserFactor};
use sessiond::store::Store;

use crate::load::{self, Load, Outcome, Stats, Step, Worker};

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct HashCeiling {
    pub threads: usize,
    pub verifies: u64,
    pub secs: f64,
    /// The ceiling: verifies per second on all cores, each thread hashing
    /// into argon2 memory it allocated once, as sessiond's hashing workers
    /// do (`hash_password_into_with_memory`).
    pub verifies_per_sec: f64,
    /// Mean time of one verify on one thread.
    pub mean_ms: f64,
    pub params: String,
    /// Diagnostic: argon2's own `verify_password` on a PHC string, which
    /// allocates 19 MiB per call (what sessiond did before it kept worker
    /// memory).
    #[serde(default)]
    pub allocating_per_sec: f64,
    #[serde(default)]
    pub allocating_mean_ms: f64,
}

const PASSWORD: &[u8] = b"correct horse battery staple";

/// Runs the closure `make` builds, once per core on its own OS thread,
/// until `end`; returns how many calls completed.
fn on_every_core<F>(end: Instant, make: impl Fn() -> anyhow::Result<F>) -> anyhow::Result<u64>
where
    F: FnMut() -> anyhow::Result<()> + Send + 'static,
{
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut handles = Vec::with_capacity(threads);
    for _ in 0..threads {
        let mut verify = make()?;
        handles.push(std::thread::spawn(move || -> anyhow::Result<u64> {
            let mut n = 0;
            while Instant::now() < end {
                verify()?;
                n += 1;
            }
            Ok(n)
        }));
    }
    let mut total = 0;
    for handle in handles {
        total += handle
            .join()
            .map_err(|_| anyhow::anyhow!("hash thread panicked"))??;
    }
    Ok(total)
}

/// The hash ceiling for `duration`, then the allocating diagnostic for as
/// long.
pub fn hash(duration: Duration) -> anyhow::Result<HashCeiling> {
    let params = Params::default();
    let described = format!(
        "argon2id m={} KiB t={} p={}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost()
    );
    let argon = || Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());

    // A verify is a hash with the stored salt and a comparison.
    let salt = *b"sessiond-bench-salt!";
    let mut expected = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon()
        .hash_password_into(PASSWORD, &salt, &mut expected)
        .map_err(|e| anyhow::anyhow!("argon2 hash failed: {e}"))?;
    let start = Instant::now();
    let verifies = on_every_core(start + duration, || {
        let argon = argon();
        let mut blocks = vec![Block::default(); params.block_count()];
        Ok(move || {
            let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
            argon
                .hash_password_into_with_memory(PASSWORD, &salt, &mut out, &mut blocks[..])
                .map_err(|e| anyhow::anyhow!("argon2 hash failed: {e}"))?;
            anyhow::ensure!(out == expected, "argon2 output differs");
            Ok(())
        })
    })?;
    let secs = start.elapsed().as_secs_f64();

    let phc = argon()
        .hash_password(PASSWORD)
        .map_err(|e| anyhow::anyhow!("argon2 hash failed: {e}"))?
        .to_string();
    let start2 = Instant::now();
    let allocating = on_every_core(start2 + duration, || {
        let argon = argon();
        let phc = phc.clone();
        Ok(move || {
            let parsed =
                PasswordHash::new(&phc).map_err(|e| anyhow::anyhow!("bad PHC string: {e}"))?;
            argon
                .verify_password(PASSWORD, &parsed)
                .map_err(|e| anyhow::anyhow!("argon2 verify failed: {e}"))
        })
    })?;
    let secs2 = start2.elapsed().as_secs_f64();

    Ok(HashCeiling {
        threads,
        verifies,
        secs,
        verifies_per_sec: verifies as f64 / secs,
        mean_ms: secs * 1000.0 * threads as f64 / verifies.max(1) as f64,
        params: described,
        allocating_per_sec: allocating as f64 / secs2,
        allocating_mean_ms: secs2 * 1000.0 * threads as f64 / allocating.max(1) as f64,
    })
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct StorageCeiling {
    pub pool_size: u32,
    /// `insert_session` of a user-checked session without metadata.
    pub inserts: Stats,
    /// `insert_session` of a user-checked session with one metadata entry:
    /// the writes of an OAM create with one user attribute.
    #[serde(default)]
    pub inserts_with_metadata: Stats,
    /// `find_session` (session row + metadata) of a random inserted id.
    pub lookups: Stats,
    /// Diagnostics: the whole store work of one request of a scenario, so
    /// that HTTP and serialization costs can be told from store costs.
    pub paths: Vec<StorePath>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StorePath {
    pub name: String,
    /// The scenarios (keys, space-separated) whose store work this is.
    pub scenario: String,
    pub stats: Stats,
}

/// The store calls one step makes. API keys are not looked up: sessiond
/// caches verified keys (5 s), so a request under load costs no key query.
#[derive(Clone, Copy)]
struct Calls {
    /// `find_user_by_login_name`, as a user check does.
    user: bool,
    /// One metadata entry on inserted sessions, as an OAM create with one
    /// user attribute has.
    metadata: bool,
}

const BARE: Calls = Calls {
    user: false,
    metadata: false,
};

enum StoreOp {
    Insert {
        ids: Vec<String>,
    },
    Lookup {
        ids: Arc<Vec<String>>,
    },
    /// A single-row UPDATE, committed on its own.
    Touch {
        ids: Arc<Vec<String>>,
    },
    /// The page statement of a search by user, run bare.
    Page {
        statement: sea_orm::Statement,
    },
}

/// The page size of OAM's search (`oam_max_results`' default).
const PAGE: u64 = 28;

struct StoreWorker {
    store: Store,
    rng: SmallRng,
    calls: Calls,
    op: StoreOp,
}

impl StoreWorker {
    async fn call(&mut self) -> Result<(), String> {
        if self.calls.user {
            match self.store.find_user_by_login_name("user0").await {
                Ok(Some(_)) => {}
                Ok(None) => return Err("user0 not found".into()),
                Err(e) => return Err(format!("find_user_by_login_name: {e}")),
            }
        }
        match &mut self.op {
            StoreOp::Insert { ids } => {
                let mut session = new_session();
                if self.calls.metadata {
                    session.metadata.insert("a".to_owned(), b"v".to_vec());
                }
                self.store
                    .insert_session(&session)
                    .await
                    .map_err(|e| format!("insert_session: {e}"))?;
                ids.push(session.id);
            }
            StoreOp::Lookup { ids } => {
                let id = &ids[self.rng.random_range(0..ids.len())];
                match self.store.find_session(id).await {
                    Ok(Some(_)) => {}
                    Ok(None) => return Err(format!("session {id} not found")),
                    Err(e) => return Err(format!("find_session: {e}")),
                }
            }
            StoreOp::Touch { ids } => {
                let id = ids[self.rng.random_range(0..ids.len())].clone();
                self.store
                    .record_accesses(&[(id, now())])
                    .await
                    .map_err(|e| format!("record_accesses: {e}"))?;
            }
            StoreOp::Page { statement } => {
                use sea_orm::ConnectionTrait as _;
                let rows = self
                    .store
                    .connection()
                    .query_all_raw(statement.clone())
                    .await
                    .map_err(|e| format!("page by user: {e}"))?;
                if rows.is_empty() {
                    return Err("page by user: no rows".into());
                }
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Worker for StoreWorker {
    async fn step(&mut self) -> Step {
        match self.call().await {
            Ok(()) => Outcome::Ok.into(),
            Err(e) => Outcome::Failed(e).into(),
        }
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

/// A user for the request-path diagnostics' user checks.
async fn provision(store: &Store) -> anyhow::Result<()> {
    let user = NewUser {
        login_name: LoginName::parse("user0").context("bad login name")?,
        display_name: "user0".to_owned(),
        password_hash: "unused".to_owned(),
    };
    store
        .insert_user(&user, "bench-user", "UserIdentityStore", now())
        .await
        .context("cannot create the storage ceiling's user")?;
    Ok(())
}

/// Opens the store as the server does (`Store::open`: on SQLite a one-
/// connection writer pool plus a reader pool of `pool_size`), then measures
/// inserts, lookups and the request-path diagnostics, each for `load`.
pub async fn storage(
    url: &str,
    pool_size: u32,
    concurrency: usize,
    load: Load,
) -> anyhow::Result<StorageCeiling> {
    let store = Store::open(url, pool_size, None)
        .await
        .context("cannot open the storage-ceiling database")?;
    provision(&store).await?;
    let workers = |calls: Calls, op: &dyn Fn() -> StoreOp| -> Vec<StoreWorker> {
        (0..concurrency)
            .map(|i| StoreWorker {
                store: store.clone(),
                rng: SmallRng::seed_from_u64(i as u64),
                calls,
                op: op(),
            })
            .collect()
    };
    let insert = || StoreOp::Insert { ids: Vec::new() };

    let (inserts, done) = load::run(workers(BARE, &insert), load, &[]).await?;
    let ids: Vec<String> = done
        .into_iter()
        .flat_map(|w| match w.op {
            StoreOp::Insert { ids } => ids,
            _ => Vec::new(),
        })
        .collect();
    anyhow::ensure!(!ids.is_empty(), "the storage ceiling inserted nothing");
    let ids = Arc::new(ids);
    let lookup = || StoreOp::Lookup { ids: ids.clone() };
    let (lookups, _) = load::run(workers(BARE, &lookup), load, &[]).await?;
    let touch = || StoreOp::Touch { ids: ids.clone() };
    let (touches, _) = load::run(workers(BARE, &touch), load, &[]).await?;
    let by_user = sessiond::domain::SessionSearch {
        user_id: Some("bench-user".to_owned()),
        live_at: Some(now()),
        ..Default::default()
    };
    let statement = store.search_statement(&by_user, PAGE);
    let page = || StoreOp::Page {
        statement: statement.clone(),
    };
    let (pages, _) = load::run(workers(BARE, &page), load, &[]).await?;
    let with_metadata = Calls {
        metadata: true,
        ..BARE
    };
    let (inserts_with_metadata, _) = load::run(workers(with_metadata, &insert), load, &[]).await?;

    // A get with token reads through `find_session` and records the access
    // in memory (written in batches), so its store path is the lookup.
    let mut paths = Vec::new();
    for (name, scenario, calls) in [
        ("user + insert", "create_user", Calls { user: true, ..BARE }),
        (
            "user + insert with 1 metadata entry",
            "oam_create",
            Calls {
                user: true,
                metadata: true,
            },
        ),
    ] {
        let (stats, _) = load::run(workers(calls, &insert), load, &[]).await?;
        paths.push(StorePath {
            name: name.to_owned(),
            scenario: scenario.to_owned(),
            stats,
        });
    }
    paths.push(StorePath {
        name: "single-row update commit (`record_accesses` of one session)".to_owned(),
        scenario: "delete oam_delete".to_owned(),
        stats: touches,
    });
    paths.push(StorePath {
        name: format!(
            "bare indexed select of {PAGE} sessions by user (the search's page statement, \
             no count, no metadata)"
        ),
        scenario: "oam_search".to_owned(),
        stats: pages,
    });
    Ok(StorageCeiling {
        pool_size,
        inserts,
        inserts_with_metadata,
        lookups,
        paths,
    })
}
