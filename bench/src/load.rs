//! The closed-loop load runner: a fixed set of workers, each issuing one
//! request after another until the time is up. Every completed request's
//! latency is kept (microseconds, exact percentiles from the sorted list).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// How one operation ended.
pub enum Outcome {
    /// The expected answer.
    Ok,
    /// An answer with an unexpected status; `detail` is kept for the first.
    Status { status: u16, detail: String },
    /// An answer that is not the expected one, counted under `key` (e.g.
    /// "404" or "grpc-5" for a gRPC status in an HTTP 200).
    Rejected { key: String, detail: String },
    /// No answer: connection or protocol failure, or a malformed body.
    Failed(String),
    /// The worker has nothing left to do (e.g. its pool of sessions is used
    /// up); the operation did not happen.
    Exhausted,
}

impl Outcome {
    /// Ok when `status` is `expected`, else the status with a body excerpt.
    pub fn expect_status(response: &crate::http::Response, expected: u16) -> Outcome {
        if response.status.as_u16() == expected {
            Outcome::Ok
        } else {
            Outcome::Status {
                status: response.status.as_u16(),
                detail: String::from_utf8_lossy(&response.body)
                    .chars()
                    .take(300)
                    .collect(),
            }
        }
    }
}

impl From<anyhow::Error> for Outcome {
    fn from(err: anyhow::Error) -> Outcome {
        Outcome::Failed(format!("{err:#}"))
    }
}

/// One step's result. `kind` indexes the scenario's list of operation kinds
/// (a single-kind scenario always reports 0).
pub struct Step {
    pub kind: usize,
    pub outcome: Outcome,
}

impl From<Outcome> for Step {
    fn from(outcome: Outcome) -> Step {
        Step { kind: 0, outcome }
    }
}

#[async_trait]
pub trait Worker: Send + 'static {
    async fn step(&mut self) -> Step;
}

/// How long and how hard.
#[derive(Clone, Copy, Debug)]
pub struct Load {
    pub warmup: Duration,
    pub duration: Duration,
}

/// Throughput and latency of one measured run.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Stats {
    pub requests: u64,
    pub errors: u64,
    /// Unexpected outcomes by status code, or "transport".
    pub error_counts: BTreeMap<String, u64>,
    pub first_error: Option<String>,
    pub elapsed_secs: f64,
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Per operation kind, for scenarios that mix kinds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<KindStats>,
    /// Set when workers ran out of work before the time was up.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exhausted: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KindStats {
    pub name: String,
    pub requests: u64,
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// What one worker saw.
struct Tally {
    latencies_us: Vec<Vec<u32>>,
    errors: BTreeMap<String, u64>,
    first_error: Option<String>,
    last_done: Instant,
    exhausted: bool,
}

impl Tally {
    fn new(kinds: usize, start: Instant) -> Tally {
        Tally {
            latencies_us: vec![Vec::with_capacity(1 << 14); kinds],
            errors: BTreeMap::new(),
            first_error: None,
            last_done: start,
            exhausted: false,
        }
    }

    fn record(&mut self, step: Step, latency: Duration, done: Instant) {
        let micros = u32::try_from(latency.as_micros()).unwrap_or(u32::MAX);
        let kind = step.kind.min(self.latencies_us.len() - 1);
        let (key, detail) = match step.outcome {
            Outcome::Ok => {
                self.latencies_us[kind].push(micros);
                self.last_done = done;
                return;
            }
            Outcome::Exhausted => {
                self.exhausted = true;
                return;
            }
            Outcome::Status { status, detail } => {
                self.latencies_us[kind].push(micros);
                self.last_done = done;
                (status.to_string(), format!("HTTP {status}: {detail}"))
            }
            Outcome::Rejected { key, detail } => {
                self.latencies_us[kind].push(micros);
                self.last_done = done;
                (key, detail)
            }
            Outcome::Failed(msg) => ("transport".to_owned(), msg),
        };
        *self.errors.entry(key).or_default() += 1;
        self.first_error.get_or_insert(detail);
    }
}

/// Runs `workers` concurrently: first a warm-up that is not recorded, then
/// the measured period. Returns the statistics and the workers, so callers
/// can collect what they created.
pub async fn run<W: Worker>(
    workers: Vec<W>,
    load: Load,
    kinds: &[&str],
) -> anyhow::Result<(Stats, Vec<W>)> {
    let kinds: Vec<String> = if kinds.is_empty() {
        vec!["all".to_owned()]
    } else {
        kinds.iter().map(|k| (*k).to_owned()).collect()
    };
    let warm_end = Instant::now() + load.warmup;
    let start = warm_end;
    let end = start + load.duration;
    let mut handles = Vec::with_capacity(workers.len());
    for mut worker in workers {
        let n = kinds.len();
        handles.push(tokio::spawn(async move {
            while Instant::now() < warm_end {
                let step = worker.step().await;
                if let Outcome::Failed(_) = step.outcome {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                if let Outcome::Exhausted = step.outcome {
                    break;
                }
            }
            let mut tally = Tally::new(n, start);
            loop {
                let begun = Instant::now();
                if begun >= end || tally.exhausted {
                    break;
                }
                let step = worker.step().await;
                let done = Instant::now();
                let failed = matches!(step.outcome, Outcome::Failed(_));
                tally.record(step, done - begun, done);
                if failed {
                    // Keeps a dead server from turning into a busy loop.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
            (tally, worker)
        }));
    }
    let mut tallies = Vec::with_capacity(handles.len());
    let mut workers = Vec::with_capacity(handles.len());
    for handle in handles {
        let (tally, worker) = handle
            .await
            .map_err(|e| anyhow::anyhow!("load worker panicked: {e}"))?;
        tallies.push(tally);
        workers.push(worker);
    }
    Ok((summarize(tallies, &kinds, start), workers))
}

fn summarize(tallies: Vec<Tally>, kinds: &[String], start: Instant) -> Stats {
    let last = tallies.iter().map(|t| t.last_done).max().unwrap_or(start);
    let elapsed = (last - start).as_secs_f64().max(1e-9);
    let mut per_kind: Vec<Vec<u32>> = vec![Vec::new(); kinds.len()];
    let mut stats = Stats {
        elapsed_secs: elapsed,
        ..Stats::default()
    };
    for tally in tallies {
        for (k, lat) in tally.latencies_us.into_iter().enumerate() {
            per_kind[k].extend(lat);
        }
        for (key, n) in tally.errors {
            stats.errors += n;
            *stats.error_counts.entry(key).or_default() += n;
        }
        if stats.first_error.is_none() {
            stats.first_error = tally.first_error;
        }
        stats.exhausted |= tally.exhausted;
    }
    let mut all: Vec<u32> = per_kind.iter().flatten().copied().collect();
    all.sort_unstable();
    // Transport failures have no latency but still count as requests.
    let transport = stats.error_counts.get("transport").copied().unwrap_or(0);
    stats.requests = all.len() as u64 + transport;
    stats.rps = all.len() as f64 / elapsed;
    stats.p50_ms = percentile_ms(&all, 0.50);
    stats.p99_ms = percentile_ms(&all, 0.99);
    stats.max_ms = all.last().map_or(0.0, |&us| us as f64 / 1000.0);
    if kinds.len() > 1 {
        stats.kinds = kinds
            .iter()
            .zip(per_kind.iter_mut())
            .map(|(name, lat)| {
                lat.sort_unstable();
                KindStats {
                    name: name.clone(),
                    requests: lat.len() as u64,
                    rps: lat.len() as f64 / elapsed,
                    p50_ms: percentile_ms(lat, 0.50),
                    p99_ms: percentile_ms(lat, 0.99),
                }
            })
            .collect();
    }
    stats
}

/// The smallest recorded value with at least `q` of all values at or below
/// it (nearest rank), in milliseconds.
fn percentile_ms(sorted_us: &[u32], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted_us.len() as f64).ceil() as usize).clamp(1, sorted_us.len());
    sorted_us[rank - 1] as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u32> = (1..=100).map(|i| i * 1000).collect();
        assert_eq!(percentile_ms(&v, 0.50), 50.0);
        assert_eq!(percentile_ms(&v, 0.99), 99.0);
        assert_eq!(percentile_ms(&[], 0.5), 0.0);
        assert_eq!(percentile_ms(&[7000], 0.99), 7.0);
    }
}
