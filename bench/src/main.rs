//! sessiond-bench: the load generator and report writer behind
//! `bench/run.sh`. See bench/README.md.

mod bulk;
mod ceilings;
mod http;
mod load;
mod machine;
mod pg;
mod report;
mod results;
mod rpc;
mod runner;
mod scenarios;
mod seed;
mod soak;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "sessiond-bench", about = "Load benchmark for sessiond")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every ceiling and scenario against a running server.
    Run(Box<RunArgs>),
    /// Regenerate RESULTS.md from the results files.
    Report {
        #[arg(long, default_value = "bench/results")]
        results: PathBuf,
        #[arg(long, default_value = "bench/RESULTS.md")]
        out: PathBuf,
    },
    /// Create a PostgreSQL database and print its URL.
    DbCreate {
        #[arg(long, env = "BENCH_PG_ADMIN_URL")]
        admin_url: String,
        #[arg(long)]
        name: String,
    },
    /// Drop a PostgreSQL database.
    DbDrop {
        #[arg(long, env = "BENCH_PG_ADMIN_URL")]
        admin_url: String,
        #[arg(long)]
        name: String,
    },
    /// Print a free TCP port on 127.0.0.1.
    FreePort,
    /// Mixed writes for a long time, printing the server's RSS after every
    /// interval (see bench/soak.sh).
    Soak {
        #[arg(long)]
        addr: SocketAddr,
        #[arg(long, env = "BENCH_ADMIN_KEY", hide_env_values = true)]
        admin_key: String,
        #[arg(long)]
        server_pid: u32,
        /// Seconds in all.
        #[arg(long, default_value_t = 600)]
        duration: u64,
        /// Seconds between readings.
        #[arg(long, default_value_t = 30)]
        interval: u64,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Where to write the readings (CSV).
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Args)]
struct RunArgs {
    /// The server's address (127.0.0.1:PORT).
    #[arg(long)]
    addr: SocketAddr,
    /// Secret of the server's admin key.
    #[arg(long, env = "BENCH_ADMIN_KEY", hide_env_values = true)]
    admin_key: String,
    /// The server's process id, for its memory figures.
    #[arg(long)]
    server_pid: Option<u32>,
    /// The server's database, for bulk seeding and counting sessions.
    #[arg(long, env = "BENCH_SERVER_DB_URL")]
    server_db_url: String,
    /// A fresh, separate database of the same backend for the storage
    /// ceiling.
    #[arg(long, env = "BENCH_STORAGE_DB_URL")]
    storage_db_url: String,
    /// Small, short and gentle: every scenario for about 1.5 s at
    /// concurrency 4 over a few thousand sessions. Asserts no figures.
    #[arg(long)]
    smoke: bool,
    /// Seconds per scenario (default 10; smoke 1.5).
    #[arg(long)]
    duration: Option<f64>,
    /// Unmeasured seconds before each scenario (default 1; smoke 0.2).
    #[arg(long)]
    warmup: Option<f64>,
    /// Concurrent connections or tasks (default 32; smoke 4).
    #[arg(long)]
    concurrency: Option<usize>,
    /// Users to seed (default 100; smoke 10).
    #[arg(long)]
    users: Option<usize>,
    /// Sessions seeded through the API for the base size (default 10000;
    /// smoke 500).
    #[arg(long)]
    base_sessions: Option<usize>,
    /// Sessions in the database for the large size, reached by bulk
    /// seeding (default 1000000; smoke 5000); 0 skips the large size and
    /// the deletes.
    #[arg(long)]
    scale_sessions: Option<u64>,
    /// The server's database pool size; the storage ceiling uses the same.
    #[arg(long, env = "SESSIOND_DATABASE_MAX_CONNECTIONS", default_value_t = 8)]
    pool_size: u32,
    /// Run only these scenarios (comma-separated keys as in the results
    /// file, e.g. `get,oam_get`; `ceilings` for the ceilings; `rpc` for the
    /// RPC transports and the REST scenarios they are compared with).
    /// Seeding still happens; the results are marked partial and left out
    /// of RESULTS.md.
    #[arg(long, value_delimiter = ',')]
    only: Option<Vec<String>>,
    /// Commit of the code under test, recorded in the results.
    #[arg(long, default_value = "unknown")]
    commit: String,
    /// Where to write the results (JSON).
    #[arg(long)]
    out: PathBuf,
}

impl RunArgs {
    fn config(self) -> anyhow::Result<runner::RunConfig> {
        let smoke = self.smoke;
        let pick = |given: Option<f64>, full: f64, small: f64| {
            given.unwrap_or(if smoke { small } else { full })
        };
        let secs =
            |s: f64| Duration::try_from_secs_f64(s).with_context(|| format!("bad duration {s}"));
        let backend = sessiond::store::Backend::of_url(&self.server_db_url)?;
        Ok(runner::RunConfig {
            addr: self.addr,
            admin_key: self.admin_key,
            server_pid: self.server_pid,
            server_db_url: self.server_db_url,
            storage_db_url: self.storage_db_url,
            backend: match backend {
                sessiond::store::Backend::Sqlite => "sqlite",
                sessiond::store::Backend::Postgres => "postgres",
            }
            .to_owned(),
            mode: match (smoke, &self.only) {
                (_, Some(_)) => "partial",
                (true, None) => "smoke",
                (false, None) => "full",
            }
            .to_owned(),
            commit: self.commit,
            concurrency: self
                .concurrency
                .unwrap_or(if smoke { 4 } else { 32 })
                .max(1),
            load: load::Load {
                warmup: secs(pick(self.warmup, 1.0, 0.2))?,
                duration: secs(pick(self.duration, 10.0, 1.5))?,
            },
            users: self.users.unwrap_or(if smoke { 10 } else { 100 }).max(1),
            base_sessions: self
                .base_sessions
                .unwrap_or(if smoke { 500 } else { 10_000 })
                .max(10),
            scale_sessions: self
                .scale_sessions
                .unwrap_or(if smoke { 5_000 } else { 1_000_000 }),
            pool_size: self.pool_size,
            only: self.only,
        })
    }
}

fn main() -> ExitCode {
    match real_main() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("sessiond-bench: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn real_main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    match cli.command {
        Command::Run(args) => {
            let out = args.out.clone();
            let results = runtime.block_on(runner::run(args.config()?))?;
            let json = serde_json::to_string_pretty(&results)?;
            std::fs::write(&out, json + "\n")
                .with_context(|| format!("cannot write {}", out.display()))?;
            eprintln!("results: {}", out.display());
            if let Some(section) = report::rpc_section(&results) {
                eprintln!("\n{section}");
            }
            let failures = results.failures();
            if failures.is_empty() {
                return Ok(ExitCode::SUCCESS);
            }
            for f in failures {
                eprintln!("FAILED {f}");
            }
            Ok(ExitCode::FAILURE)
        }
        Command::Report { results, out } => {
            report::write(&results, &out)?;
            eprintln!("wrote {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::DbCreate { admin_url, name } => {
            println!("{}", runtime.block_on(pg::create(&admin_url, &name))?);
            Ok(ExitCode::SUCCESS)
        }
        Command::DbDrop { admin_url, name } => {
            runtime.block_on(pg::drop(&admin_url, &name))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Soak {
            addr,
            admin_key,
            server_pid,
            duration,
            interval,
            concurrency,
            out,
        } => {
            let samples = runtime.block_on(soak::run(soak::SoakConfig {
                target: http::Target::new(addr, &admin_key),
                server_pid,
                duration: Duration::from_secs(duration),
                interval: Duration::from_secs(interval.max(1)),
                concurrency,
            }))?;
            let mut csv = String::from("seconds,rss_mib,requests_per_second,errors\n");
            for s in &samples {
                csv.push_str(&format!(
                    "{:.0},{:.1},{:.0},{}\n",
                    s.at_secs, s.rss_mib, s.rps, s.errors
                ));
            }
            std::fs::write(&out, csv).with_context(|| format!("cannot write {}", out.display()))?;
            let errors: u64 = samples.iter().map(|s| s.errors).sum();
            Ok(if errors == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::FreePort => {
            let listener = std::net::TcpListener::bind("127.0.0.1:0")
                .context("cannot bind a port on 127.0.0.1")?;
            println!("{}", listener.local_addr()?.port());
            Ok(ExitCode::SUCCESS)
        }
    }
}
