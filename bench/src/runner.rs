//! The benchmark, in order: ceilings, seeding, the scenarios at the base
//! size, the mixed profile with memory, the bulk load to the large size, the
//! scenarios again at that size, and the deletes last (they use up
//! bulk-seeded sessions).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait};
use serde_json::json;

use crate::bulk::{self, BulkPool};
use crate::ceilings;
use crate::http::{Client, Target};
use crate::load::{self, Load, Stats, Worker};
use crate::machine;
use crate::results::{Ceilings, Memory, Results, ScenarioResult, Settings};
use crate::rpc::{self, RpcOp, RpcWorker, Transport};
use crate::scenarios::{self, Cursor, HttpWorker, OAM, Op, SessionPool};
use crate::seed::{self, SeedSession};

pub struct RunConfig {
    pub addr: SocketAddr,
    pub admin_key: String,
    pub server_pid: Option<u32>,
    pub server_db_url: String,
    pub storage_db_url: String,
    pub backend: String,
    pub mode: String,
    pub commit: String,
    pub concurrency: usize,
    pub load: Load,
    pub users: usize,
    pub base_sessions: usize,
    pub scale_sessions: u64,
    pub pool_size: u32,
    /// When set, only these scenarios (by key) and, with "ceilings", the
    /// ceilings run; seeding still happens. For profiling one scenario.
    pub only: Option<Vec<String>>,
}

struct Runner {
    cfg: RunConfig,
    target: Target,
    db: DatabaseConnection,
    scenarios: Vec<ScenarioResult>,
}

pub async fn run(cfg: RunConfig) -> anyhow::Result<Results> {
    let date = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let target = Target::new(cfg.addr, &cfg.admin_key);
    let machine = machine::describe();
    if machine.load_average_1m > 0.5 {
        eprintln!(
            "warning: load average {:.2} before the run; other work on this machine will skew the figures",
            machine.load_average_1m
        );
    }
    wait_ready(&target).await?;
    let db = sessiond::store::connect(&cfg.server_db_url, 2, None)
        .await
        .context("cannot open the server's database for seeding")?;
    let mut runner = Runner {
        cfg,
        target,
        db,
        scenarios: Vec::new(),
    };
    let ceilings = runner.ceilings().await?;
    let (memory, bulk) = runner.scenarios().await?;
    let cfg = &runner.cfg;
    Ok(Results {
        date,
        mode: cfg.mode.clone(),
        backend: cfg.backend.clone(),
        machine,
        load_average_end: machine::load_average(),
        settings: Settings {
            concurrency: cfg.concurrency,
            duration_secs: cfg.load.duration.as_secs_f64(),
            warmup_secs: cfg.load.warmup.as_secs_f64(),
            users: cfg.users,
            base_sessions: cfg.base_sessions,
            scale_sessions: cfg.scale_sessions,
            pool_size: cfg.pool_size,
            commit: cfg.commit.clone(),
        },
        ceilings,
        scenarios: runner.scenarios,
        memory,
        bulk,
    })
}

async fn wait_ready(target: &Target) -> anyhow::Result<()> {
    let mut client = Client::new(target.clone());
    for _ in 0..300 {
        if let Ok(r) = client.get("/readyz").await
            && r.status.is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the server at {} did not become ready", target.addr)
}

impl Runner {
    /// Whether `key` runs. In `--only`, `rpc` stands for every RPC
    /// scenario and the REST scenarios they are compared with.
    fn selected(&self, key: &str) -> bool {
        self.cfg.only.as_ref().is_none_or(|only| {
            only.iter().any(|k| {
                k == key
                    || (k == "rpc"
                        && (rpc::rest_key_of(key).is_some()
                            || rpc::COMPARED.iter().any(|(rest, _)| *rest == key)))
            })
        })
    }

    /// Whether `--only` names `key` itself (the `rpc` group does not bring
    /// in the large size).
    fn named(&self, key: &str) -> bool {
        self.cfg
            .only
            .as_ref()
            .is_none_or(|only| only.iter().any(|k| k == key))
    }

    fn workers(&self, target: &Target, mut op: impl FnMut(usize) -> Op) -> Vec<HttpWorker> {
        (0..self.cfg.concurrency)
            .map(|w| HttpWorker::new(target, 1000 + w as u64, op(w)))
            .collect()
    }

    /// PostgreSQL: current planner statistics before every scenario, as
    /// autovacuum keeps them in a long-running deployment. Without this the
    /// tables the benchmark has just filled are never analyzed (autovacuum
    /// wakes once a minute) and plans depend on the run's timing. SQLite is
    /// left as sessiond leaves it: it never runs ANALYZE.
    async fn refresh_statistics(&self) -> anyhow::Result<()> {
        if self.db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
            self.db
                .execute_unprepared("ANALYZE")
                .await
                .context("ANALYZE failed")?;
        }
        Ok(())
    }

    async fn count_sessions(&self) -> anyhow::Result<u64> {
        entity::session::Entity::find()
            .count(&self.db)
            .await
            .context("cannot count sessions")
    }

    /// Runs one HTTP scenario, and records and prints its figures.
    async fn measure<W: Worker>(
        &mut self,
        key: &str,
        title: &str,
        api: &str,
        phase: &str,
        workers: Vec<W>,
        kinds: &[&str],
    ) -> anyhow::Result<()> {
        if !self.selected(key) {
            return Ok(());
        }
        self.refresh_statistics().await?;
        let sessions = self.count_sessions().await?;
        // CPU readings at the end of the warm-up and after the last answer.
        let pid = self.cfg.server_pid;
        let measured_from = tokio::time::Instant::now() + self.cfg.load.warmup;
        let before = tokio::spawn(async move {
            tokio::time::sleep_until(measured_from).await;
            (machine::cpu_ms(pid), machine::cpu_ms(None))
        });
        let (stats, _) = load::run(workers, self.cfg.load, kinds).await?;
        let after = (machine::cpu_ms(pid), machine::cpu_ms(None));
        let before = before.await.unwrap_or((None, None));
        let per_request = |b: Option<f64>, a: Option<f64>| {
            let answered = (stats.rps * stats.elapsed_secs).round();
            match (b, a) {
                (Some(b), Some(a)) if pid.is_some() && answered > 0.0 => {
                    Some((a - b) * 1000.0 / answered)
                }
                _ => None,
            }
        };
        let server_cpu = per_request(before.0, after.0);
        let client_cpu = per_request(before.1, after.1);
        print_line(title, sessions, &stats);
        let server_rss_kib = self
            .cfg
            .server_pid
            .and_then(|pid| machine::rss(pid).ok())
            .map(|r| r.rss_kib);
        self.scenarios.push(ScenarioResult {
            key: key.to_owned(),
            title: title.to_owned(),
            api: api.to_owned(),
            phase: phase.to_owned(),
            sessions,
            server_rss_kib,
            server_cpu_us_per_request: server_cpu,
            client_cpu_us_per_request: client_cpu,
            unavailable: None,
            stats: Some(stats),
        });
        Ok(())
    }

    fn unavailable(&mut self, key: &str, title: &str, reason: &str) {
        eprintln!("  {title:<44} unavailable: {reason}");
        self.scenarios.push(ScenarioResult {
            key: key.to_owned(),
            title: title.to_owned(),
            api: "oam".to_owned(),
            phase: String::new(),
            sessions: 0,
            server_rss_kib: None,
            server_cpu_us_per_request: None,
            client_cpu_us_per_request: None,
            unavailable: Some(reason.to_owned()),
            stats: None,
        });
    }

    async fn ceilings(&mut self) -> anyhow::Result<Ceilings> {
        if !self.selected("ceilings") {
            return Ok(Ceilings::default());
        }
        let load = self.cfg.load;
        eprintln!("== ceilings");
        let hash = tokio::task::spawn_blocking(move || ceilings::hash(load.warmup + load.duration))
            .await
            .context("hash ceiling panicked")??;
        eprintln!(
            "  {:<44} {:>9.1} verifies/s on {} threads ({:.1} ms each)",
            "hash ceiling", hash.verifies_per_sec, hash.threads, hash.mean_ms
        );
        eprintln!(
            "  {:<44} {:>9.1} verifies/s ({:.1} ms each)",
            "hash, verify_password allocating per call",
            hash.allocating_per_sec,
            hash.allocating_mean_ms
        );
        let storage = ceilings::storage(
            &self.cfg.storage_db_url,
            self.cfg.pool_size,
            self.cfg.concurrency,
            load,
        )
        .await?;
        print_line("storage ceiling: insert_session", 0, &storage.inserts);
        print_line(
            "storage ceiling: insert_session + 1 metadata",
            0,
            &storage.inserts_with_metadata,
        );
        print_line("storage ceiling: find_session", 0, &storage.lookups);
        for path in &storage.paths {
            print_line(&format!("store path: {}", path.name), 0, &path.stats);
        }
        let workers = self.workers(&self.target, |_| Op::Get {
            path: "/healthz",
            expect: 200,
        });
        let (framework, _) = load::run(workers, load, &[]).await?;
        print_line("framework ceiling: GET /healthz", 0, &framework);
        Ok(Ceilings {
            hash,
            storage,
            framework,
        })
    }

    async fn scenarios(&mut self) -> anyhow::Result<(Option<Memory>, Option<bulk::BulkReport>)> {
        let cfg = &self.cfg;
        let conc = cfg.concurrency;
        eprintln!("== seeding through the API");
        let users = seed::users(&self.target, cfg.users, conc).await?;
        let own_key = seed::api_key(&self.target, "bench-own", &["session.write"]).await?;
        let own_target = self.target.with_key(&own_key);
        let own_n = (cfg.base_sessions / 10).max(10);
        let bodies = (0..own_n).map(|_| json!({})).collect();
        seed::zitadel_sessions(&own_target, bodies, conc).await?;
        let base = seed::base_sessions(&self.target, users.len(), cfg.base_sessions, conc).await?;
        eprintln!(
            "  {} users, {} sessions, {own_n} sessions of a session.write-only key",
            users.len(),
            base.len()
        );
        let base_pool = Arc::new(SessionPool {
            seeded: base,
            bulk: None,
        });

        eprintln!("== scenarios");
        self.reads("base", &base_pool).await?;
        let n_users = users.len();
        for (key, title, with_user, with_password) in [
            ("create", "create without checks", false, false),
            ("create_user", "create with a user check", true, false),
            (
                "create_password",
                "create with user and password",
                true,
                true,
            ),
        ] {
            let bodies = scenarios::create_bodies(n_users, with_user, with_password);
            let workers = self.workers(&self.target, |w| Op::Post {
                path: seed::ZITADEL_SESSIONS,
                bodies: bodies.clone(),
                next: w,
                expect: 201,
            });
            self.measure(key, title, "zitadel", "", workers, &[])
                .await?;
            if key == "create_user" {
                self.rpc_creates(n_users).await?;
            }
        }
        let owned = self.owned_sessions(4).await?;
        let workers = owned
            .into_iter()
            .enumerate()
            .map(|(w, sessions)| {
                HttpWorker::new(
                    &self.target,
                    2000 + w as u64,
                    Op::SetMetadata {
                        sessions,
                        next: 0,
                        counter: 0,
                    },
                )
            })
            .collect();
        self.measure(
            "set_metadata",
            "set metadata (token rotation)",
            "zitadel",
            "",
            workers,
            &[],
        )
        .await?;
        let own_bodies = scenarios::bodies([json!({"query": {"limit": 100}})]);
        let workers = self.workers(&own_target, |_| Op::Post {
            path: "/v2alpha/sessions/search",
            bodies: own_bodies.clone(),
            next: 0,
            expect: 200,
        });
        self.measure(
            "search_own",
            "search own sessions, limit 100",
            "zitadel",
            "",
            workers,
            &[],
        )
        .await?;

        let oam_available = self.oam(n_users).await?;
        let memory = if self.selected("mixed") {
            self.mixed(&base_pool, n_users).await?
        } else {
            None
        };

        let scale = self.cfg.scale_sessions;
        if scale == 0
            || !["get", "get_no_touch", "search_ids", "delete", "oam_delete"]
                .iter()
                .any(|k| self.named(k))
        {
            return Ok((memory, None));
        }
        eprintln!("== bulk load to {scale} sessions");
        // At least enough rows for both delete scenarios, at up to 8000
        // deletes/s each.
        let secs = (self.cfg.load.warmup + self.cfg.load.duration).as_secs_f64();
        let delete_rows = 2 * (8000.0 * secs).ceil() as u64;
        let current = self.count_sessions().await?;
        let target_total = scale.max(current + delete_rows);
        let (pool, report) = bulk::fill(&self.db, &users, target_total, rand::random()).await?;
        eprintln!(
            "  inserted {} rows in {:.1} s ({:.0} rows/s); {} sessions",
            report.inserted, report.secs, report.rows_per_sec, report.sessions_after
        );
        let scale_pool = Arc::new(SessionPool {
            seeded: base_pool.seeded.clone(),
            bulk: Some(pool.clone()),
        });
        self.reads("scale", &scale_pool).await?;
        self.deletes(&pool, oam_available).await?;
        Ok((memory, Some(report)))
    }

    /// Get with token and search by ids over `pool`.
    async fn reads(&mut self, phase: &str, pool: &Arc<SessionPool>) -> anyhow::Result<()> {
        for (key, title, with_token) in [
            ("get", "get with token", true),
            (
                "get_no_touch",
                "diagnostic: get without token (no touch)",
                false,
            ),
        ] {
            let workers = self.workers(&self.target, |_| Op::GetSession {
                pool: pool.clone(),
                with_token,
            });
            self.measure(key, title, "zitadel", phase, workers, &[])
                .await?;
            if with_token && phase == "base" {
                self.rpc_gets(pool, phase).await?;
            }
        }
        let workers = self.workers(&self.target, |_| Op::SearchIds {
            pool: pool.clone(),
            ids_per_query: 10,
        });
        self.measure(
            "search_ids",
            "search by 10 ids",
            "zitadel",
            phase,
            workers,
            &[],
        )
        .await?;
        Ok(())
    }

    /// GetSession with the token over every RPC transport, right after the
    /// REST get with token: the same pool, concurrency, duration and
    /// per-worker random sequence of sessions.
    async fn rpc_gets(&mut self, pool: &Arc<SessionPool>, phase: &str) -> anyhow::Result<()> {
        for t in Transport::ALL {
            let workers = (0..self.cfg.concurrency)
                .map(|w| {
                    RpcWorker::new(
                        &self.target,
                        t,
                        1000 + w as u64,
                        RpcOp::Get { pool: pool.clone() },
                    )
                })
                .collect();
            let title = format!("get with token, {}", t.name());
            self.measure(
                &rpc::key("get", t),
                &title,
                "zitadel-rpc",
                phase,
                workers,
                &[],
            )
            .await?;
        }
        Ok(())
    }

    /// CreateSession with the user check of the REST "create with a user
    /// check" scenario over every RPC transport, right after it.
    async fn rpc_creates(&mut self, n_users: usize) -> anyhow::Result<()> {
        for t in Transport::ALL {
            let bodies = rpc::create_bodies(n_users, t);
            let workers = (0..self.cfg.concurrency)
                .map(|w| {
                    RpcWorker::new(
                        &self.target,
                        t,
                        1000 + w as u64,
                        RpcOp::Create {
                            bodies: bodies.clone(),
                            next: w,
                        },
                    )
                })
                .collect();
            let title = format!("create with a user check, {}", t.name());
            self.measure(
                &rpc::key("create_user", t),
                &title,
                "zitadel-rpc",
                "",
                workers,
                &[],
            )
            .await?;
        }
        Ok(())
    }

    /// `per_worker` fresh sessions for each worker to own.
    async fn owned_sessions(&self, per_worker: usize) -> anyhow::Result<Vec<Vec<SeedSession>>> {
        let n = self.cfg.concurrency * per_worker;
        let bodies = (0..n).map(|_| json!({})).collect();
        let sessions = seed::zitadel_sessions(&self.target, bodies, self.cfg.concurrency).await?;
        Ok(sessions
            .chunks(per_worker)
            .map(<[SeedSession]>::to_vec)
            .collect())
    }

    /// The OAM scenarios, or "unavailable" for each when the routes are
    /// missing. Returns whether they ran.
    async fn oam(&mut self, n_users: usize) -> anyhow::Result<bool> {
        const SCENARIOS: [(&str, &str); 4] = [
            ("oam_create", "OAM create"),
            ("oam_get", "OAM get"),
            ("oam_search", "OAM search by user"),
            ("oam_delete", "OAM delete"),
        ];
        let mut client = Client::new(self.target.clone());
        let probe = client
            .post(
                &format!("{OAM}/session"),
                &json!({"userId": seed::login_name(0)}),
            )
            .await?;
        if matches!(probe.status.as_u16(), 404 | 405) {
            let reason = format!("POST {OAM}/session answers {}", probe.status);
            for (key, title) in SCENARIOS {
                self.unavailable(key, title, &reason);
            }
            return Ok(false);
        }
        let bodies = scenarios::oam_create_bodies(n_users);
        let workers = self.workers(&self.target, |w| Op::Post {
            path: "/oam/services/rest/access/api/v1/session",
            bodies: bodies.clone(),
            next: w,
            expect: 200,
        });
        self.measure(SCENARIOS[0].0, SCENARIOS[0].1, "oam", "", workers, &[])
            .await?;

        if !self.selected("oam_get") {
            return self.oam_search(n_users).await;
        }
        let seeded = (self.cfg.base_sessions / 10).max(10);
        let bodies = (0..seeded)
            .map(|i| json!({"userId": seed::login_name(i % n_users)}))
            .collect();
        let answers = seed::post_all(
            &self.target,
            "/oam/services/rest/access/api/v1/session",
            bodies,
            200,
            self.cfg.concurrency,
        )
        .await?;
        let ids = Arc::new(
            answers
                .iter()
                .map(seed::oam_session_id)
                .collect::<anyhow::Result<Vec<_>>>()?,
        );
        let workers = self.workers(&self.target, |_| Op::OamGet { ids: ids.clone() });
        self.measure(SCENARIOS[1].0, SCENARIOS[1].1, "oam", "", workers, &[])
            .await?;
        self.oam_search(n_users).await
    }

    async fn oam_search(&mut self, n_users: usize) -> anyhow::Result<bool> {
        let bodies = scenarios::oam_search_bodies(n_users);
        let workers = self.workers(&self.target, |w| Op::Post {
            path: "/oam/services/rest/access/api/v1/sessions",
            bodies: bodies.clone(),
            next: w,
            expect: 200,
        });
        self.measure("oam_search", "OAM search by user", "oam", "", workers, &[])
            .await?;
        Ok(true)
    }

    /// 70% get with token, 20% set metadata, 10% create with password, while
    /// the server's memory is watched.
    async fn mixed(
        &mut self,
        pool: &Arc<SessionPool>,
        n_users: usize,
    ) -> anyhow::Result<Option<Memory>> {
        let owned = self.owned_sessions(4).await?;
        let creates = scenarios::create_bodies(n_users, true, true);
        let workers = owned
            .into_iter()
            .enumerate()
            .map(|(w, sessions)| {
                let mix = vec![
                    (
                        70,
                        Op::GetSession {
                            pool: pool.clone(),
                            with_token: true,
                        },
                    ),
                    (
                        20,
                        Op::SetMetadata {
                            sessions,
                            next: 0,
                            counter: 0,
                        },
                    ),
                    (
                        10,
                        Op::Post {
                            path: seed::ZITADEL_SESSIONS,
                            bodies: creates.clone(),
                            next: w,
                            expect: 201,
                        },
                    ),
                ];
                HttpWorker::mixed(&self.target, 3000 + w as u64, mix)
            })
            .collect();
        let pid = self.cfg.server_pid;
        let peak_reset = pid.is_some_and(machine::reset_peak);
        let sampler = pid.map(sample_rss);
        self.measure(
            "mixed",
            "mixed 70% get / 20% set / 10% create+password",
            "mixed",
            "",
            workers,
            &["get with token", "set metadata", "create with password"],
        )
        .await?;
        let (Some(pid), Some((stop, max))) = (pid, sampler) else {
            return Ok(None);
        };
        stop.store(true, Ordering::Relaxed);
        let after = machine::rss(pid)?;
        let memory = Memory {
            mixed_peak_kib: after.hwm_kib,
            peak_reset,
            mixed_sampled_max_kib: max.load(Ordering::Relaxed),
            end_rss_kib: after.rss_kib,
            end_hwm_kib: after.hwm_kib,
        };
        eprintln!(
            "  {:<44} peak RSS {:.1} MiB (VmHWM{}), sampled max {:.1} MiB",
            "server memory during the mixed profile",
            memory.mixed_peak_kib as f64 / 1024.0,
            if peak_reset {
                ", reset before"
            } else {
                " since start"
            },
            memory.mixed_sampled_max_kib as f64 / 1024.0
        );
        Ok(Some(memory))
    }

    /// ZITADEL and OAM deletes, each over its own half of the bulk rows.
    async fn deletes(&mut self, pool: &BulkPool, oam: bool) -> anyhow::Result<()> {
        let half = pool.count / 2;
        let cursor = Arc::new(Cursor::new(pool.clone(), 0, half));
        let workers = self.workers(&self.target, |_| Op::Delete {
            cursor: cursor.clone(),
            oam: false,
        });
        self.measure("delete", "delete", "zitadel", "", workers, &[])
            .await?;
        if oam {
            let cursor = Arc::new(Cursor::new(pool.clone(), half, pool.count));
            let workers = self.workers(&self.target, |_| Op::Delete {
                cursor: cursor.clone(),
                oam: true,
            });
            self.measure("oam_delete", "OAM delete", "oam", "", workers, &[])
                .await?;
        }
        Ok(())
    }
}

/// Samples the process's VmRSS every 100 ms until told to stop.
fn sample_rss(pid: u32) -> (Arc<AtomicBool>, Arc<AtomicU64>) {
    let stop = Arc::new(AtomicBool::new(false));
    let max = Arc::new(AtomicU64::new(0));
    let (s, m) = (stop.clone(), max.clone());
    tokio::spawn(async move {
        while !s.load(Ordering::Relaxed) {
            if let Ok(r) = machine::rss(pid) {
                m.fetch_max(r.rss_kib, Ordering::Relaxed);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    (stop, max)
}

fn print_line(title: &str, sessions: u64, s: &Stats) {
    print_main_line(title, sessions, s);
    for k in &s.kinds {
        eprintln!(
            "    {:<42} {:>9.1} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms",
            k.name, k.rps, k.p50_ms, k.p99_ms
        );
    }
}

fn print_main_line(title: &str, sessions: u64, s: &Stats) {
    let at = if sessions > 0 {
        format!(" @{sessions}")
    } else {
        String::new()
    };
    eprintln!(
        "  {:<44} {:>9.1} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  errors {}{}{}",
        format!("{title}{at}"),
        s.rps,
        s.p50_ms,
        s.p99_ms,
        s.errors,
        s.first_error
            .as_deref()
            .map(|e| format!(" (first: {})", e.chars().take(200).collect::<String>()))
            .unwrap_or_default(),
        if s.exhausted { " [pool used up]" } else { "" }
    );
}
