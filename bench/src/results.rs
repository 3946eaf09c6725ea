//! The machine-readable results of one run (bench/results/*.json).

use serde::{Deserialize, Serialize};

use crate::bulk::BulkReport;
use crate::ceilings::{HashCeiling, StorageCeiling};
use crate::load::Stats;
use crate::machine::Machine;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Results {
    /// RFC 3339, UTC, when the run started.
    pub date: String,
    /// "full", "smoke" or "partial" (`--only`).
    pub mode: String,
    /// "sqlite" or "postgres".
    pub backend: String,
    pub machine: Machine,
    /// 1-minute load average when the run ended (the run itself adds about
    /// 2-3 on two cores; more means other work ran at the same time).
    #[serde(default)]
    pub load_average_end: f64,
    pub settings: Settings,
    pub ceilings: Ceilings,
    pub scenarios: Vec<ScenarioResult>,
    pub memory: Option<Memory>,
    pub bulk: Option<BulkReport>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Settings {
    pub concurrency: usize,
    pub duration_secs: f64,
    pub warmup_secs: f64,
    pub users: usize,
    pub base_sessions: usize,
    pub scale_sessions: u64,
    /// The server's and the storage ceiling's database pool size.
    pub pool_size: u32,
    /// Commit of the code under test, as given by run.sh.
    pub commit: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Ceilings {
    pub hash: HashCeiling,
    pub storage: StorageCeiling,
    /// GET /healthz through the same server.
    pub framework: Stats,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScenarioResult {
    /// Stable identifier, e.g. "get" or "oam_create".
    pub key: String,
    pub title: String,
    /// "zitadel", "oam" or "mixed".
    pub api: String,
    /// "base" (about 10k sessions) or "scale" (about 1M), for the scenarios
    /// measured at both sizes; empty otherwise.
    pub phase: String,
    /// Sessions in the database when the scenario started.
    pub sessions: u64,
    /// The server's resident memory right after the scenario.
    pub server_rss_kib: Option<u64>,
    /// CPU time per answered request during the measured period, in
    /// microseconds: of the server process (with SQLite, the database
    /// too), and of the load generator. Both share the same cores, so
    /// these tell a slower client from a slower server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_cpu_us_per_request: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cpu_us_per_request: Option<f64>,
    /// Why the scenario could not run (e.g. the OAM routes answer 404).
    pub unavailable: Option<String>,
    pub stats: Option<Stats>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Memory {
    /// VmHWM after the mixed profile, reset just before it when the kernel
    /// allows (see `peak_reset`).
    pub mixed_peak_kib: u64,
    /// Whether /proc/PID/clear_refs reset the peak before the mixed profile.
    pub peak_reset: bool,
    /// Highest VmRSS seen by 100 ms sampling during the mixed profile.
    pub mixed_sampled_max_kib: u64,
    /// VmRSS and VmHWM (since the last reset) at the end of the run.
    pub end_rss_kib: u64,
    pub end_hwm_kib: u64,
}

impl Results {
    pub fn scenario(&self, key: &str, phase: &str) -> Option<&ScenarioResult> {
        self.scenarios
            .iter()
            .find(|s| s.key == key && s.phase == phase)
    }

    /// Stats of a scenario that ran.
    pub fn stats(&self, key: &str, phase: &str) -> Option<&Stats> {
        self.scenario(key, phase).and_then(|s| s.stats.as_ref())
    }

    /// Every scenario and ceiling with errors, as "name: n errors (first)".
    pub fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut check = |name: &str, stats: &Stats| {
            if stats.errors > 0 {
                out.push(format!(
                    "{name}: {} errors, e.g. {}",
                    stats.errors,
                    stats.first_error.as_deref().unwrap_or("?")
                ));
            }
        };
        check("framework ceiling", &self.ceilings.framework);
        check("storage inserts", &self.ceilings.storage.inserts);
        check("storage lookups", &self.ceilings.storage.lookups);
        for path in &self.ceilings.storage.paths {
            check(&format!("store path {}", path.name), &path.stats);
        }
        for s in &self.scenarios {
            if let Some(stats) = &s.stats {
                check(&s.title, stats);
            }
        }
        // A scenario that answered nothing (e.g. every call of a transport
        // hung through the warm-up) is broken even without a counted error.
        for s in &self.scenarios {
            if let Some(stats) = &s.stats
                && stats.requests == 0
                && !stats.exhausted
            {
                out.push(format!("{}: no request completed", s.title));
            }
        }
        out
    }
}
