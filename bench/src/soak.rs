//! The memory soak: mixed writes for a long time (10 minutes by default)
//! while the server's resident memory is read after every interval, so one
//! can see whether it levels off. Half the requests create a session with
//! metadata, half rotate a session's token with new metadata.

use std::time::Duration;

use serde_json::json;

use crate::http::Target;
use crate::load::{self, Load};
use crate::machine;
use crate::scenarios::{self, HttpWorker, Op};
use crate::seed;

pub struct SoakConfig {
    pub target: Target,
    pub server_pid: u32,
    pub duration: Duration,
    pub interval: Duration,
    pub concurrency: usize,
}

/// One reading: seconds since the start, RSS, and the interval's rate.
pub struct Sample {
    pub at_secs: f64,
    pub rss_mib: f64,
    pub rps: f64,
    pub errors: u64,
}

pub async fn run(cfg: SoakConfig) -> anyhow::Result<Vec<Sample>> {
    let per_worker = 4;
    let bodies = (0..cfg.concurrency * per_worker)
        .map(|_| json!({}))
        .collect();
    let owned = seed::zitadel_sessions(&cfg.target, bodies, cfg.concurrency).await?;
    let creates = scenarios::bodies(
        (0..64).map(|n| json!({"metadata": {"device": "bGFwdG9w", "n": format!("{n:08}")}})),
    );
    // Eight decimal digits are valid base64.
    let mut workers: Vec<HttpWorker> = owned
        .chunks(per_worker)
        .enumerate()
        .map(|(w, sessions)| {
            let mix = vec![
                (
                    50,
                    Op::Post {
                        path: seed::ZITADEL_SESSIONS,
                        bodies: creates.clone(),
                        next: w,
                        expect: 201,
                    },
                ),
                (
                    50,
                    Op::SetMetadata {
                        sessions: sessions.to_vec(),
                        next: 0,
                        counter: 0,
                    },
                ),
            ];
            HttpWorker::mixed(&cfg.target, 7000 + w as u64, mix)
        })
        .collect();
    let mut samples = vec![Sample {
        at_secs: 0.0,
        rss_mib: mib(machine::rss(cfg.server_pid)?.rss_kib),
        rps: 0.0,
        errors: 0,
    }];
    let rounds = (cfg.duration.as_secs_f64() / cfg.interval.as_secs_f64()).ceil() as usize;
    for round in 1..=rounds {
        let load = Load {
            warmup: Duration::ZERO,
            duration: cfg.interval,
        };
        let (stats, back) = load::run(workers, load, &["create", "set metadata"]).await?;
        workers = back;
        let sample = Sample {
            at_secs: round as f64 * cfg.interval.as_secs_f64(),
            rss_mib: mib(machine::rss(cfg.server_pid)?.rss_kib),
            rps: stats.rps,
            errors: stats.errors,
        };
        eprintln!(
            "  t={:>5.0} s  RSS {:>6.1} MiB  {:>7.0} req/s  errors {}",
            sample.at_secs, sample.rss_mib, sample.rps, sample.errors
        );
        samples.push(sample);
    }
    Ok(samples)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
