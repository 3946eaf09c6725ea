//! What the benchmark ran on, and the server's memory from /proc.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Machine {
    pub cores: usize,
    pub cpu_model: String,
    pub memory_mib: u64,
    pub kernel: String,
    /// 1-minute load average when the run started: anything well above 0
    /// means other work shared the cores.
    pub load_average_1m: f64,
}

pub fn describe() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|rest| rest.split_once(':'))
        .map_or_else(|| "unknown".to_owned(), |(_, m)| m.trim().to_owned());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory_mib = status_kib(&meminfo, "MemTotal:").unwrap_or(0) / 1024;
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned());
    Machine {
        load_average_1m: load_average(),
        cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model,
        memory_mib,
        kernel,
    }
}

/// The 1-minute load average, 0 when unknown.
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

/// A `Name:   123 kB` field of a /proc status-style file, in KiB.
fn status_kib(text: &str, field: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// Resident and peak resident memory of a process.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct Rss {
    pub rss_kib: u64,
    pub hwm_kib: u64,
}

pub fn rss(pid: u32) -> anyhow::Result<Rss> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("cannot read {path} (is the server running?): {e}"))?;
    Ok(Rss {
        rss_kib: status_kib(&status, "VmRSS:").unwrap_or(0),
        hwm_kib: status_kib(&status, "VmHWM:").unwrap_or(0),
    })
}

/// Resets the process's peak RSS (VmHWM) to its current RSS, so a later
/// reading covers only what happened since. Returns false when the kernel
/// refuses (then VmHWM is the peak since the process started).
pub fn reset_peak(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// CPU time (user + system) a process has used, in milliseconds; `None`
/// for `self` means this process. /proc counts in USER_HZ ticks, which
/// Linux fixes at 100 per second.
pub fn cpu_ms(pid: Option<u32>) -> Option<f64> {
    let path = pid.map_or_else(
        || "/proc/self/stat".to_owned(),
        |p| format!("/proc/{p}/stat"),
    );
    let stat = std::fs::read_to_string(path).ok()?;
    stat_cpu_ticks(&stat).map(|ticks| ticks as f64 * 10.0)
}

/// utime + stime of a /proc/PID/stat line (fields 14 and 15; the command
/// name in parentheses may contain spaces, so count from its end).
fn stat_cpu_ticks(stat: &str) -> Option<u64> {
    let (_, after) = stat.rsplit_once(')')?;
    let mut fields = after.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_status_fields() {
        let text = "Name:\tsessiond\nVmHWM:\t  51234 kB\nVmRSS:\t  40000 kB\n";
        assert_eq!(status_kib(text, "VmHWM:"), Some(51234));
        assert_eq!(status_kib(text, "VmRSS:"), Some(40000));
        assert_eq!(status_kib(text, "VmSwap:"), None);
    }

    #[test]
    fn reads_cpu_ticks() {
        let stat = "4242 (tokio runtime) S 1 2 3 4 5 6 7 8 9 10 321 45 0 0 20 0 8";
        assert_eq!(stat_cpu_ticks(stat), Some(366));
        assert!(cpu_ms(None).is_some());
    }
}
