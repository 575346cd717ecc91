//! Measuring helpers: CPU time of processes (from `/proc`), peak RSS, percentiles.

use serde::Serialize;
use std::time::Duration;

/// Clock ticks per second of `/proc/<pid>/stat` (`getconf CLK_TCK`, 100 on Linux almost always).
fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse::<f64>().ok())
            .unwrap_or(100.0)
    })
}

/// User + system CPU seconds used so far by a process (all its threads).
#[must_use]
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the ')'.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / clock_ticks())
}

/// CPU time its live threads have run so far, in milliseconds, at nanosecond resolution
/// (`/proc/PID/task/*/schedstat`; `/proc/PID/stat` counts in 10 ms ticks, too coarse for a
/// single invocation). Threads that have exited are not counted.
#[must_use]
pub fn cpu_ms_precise(pid: u32) -> Option<f64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut nanos: u64 = 0;
    for task in tasks.flatten() {
        let stat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
        nanos += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    #[allow(clippy::cast_precision_loss)]
    Some(nanos as f64 / 1e6)
}

/// Peak resident set size (`VmHWM`) of a running process, in KiB.
#[must_use]
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The PID in a `local/stack.sh` pid file.
#[must_use]
pub fn pid_from_file(path: &std::path::Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// CPU used by a set of named processes over a stretch of wall time.
pub struct CpuWindow {
    started: std::time::Instant,
    processes: Vec<(String, u32, f64)>,
}

/// One process's share of a window.
#[derive(Debug, Clone, Serialize)]
pub struct CpuShare {
    pub process: String,
    pub cpu_seconds: f64,
    /// CPU seconds per wall second: 1.0 is one core fully busy.
    pub cores_busy: f64,
}

impl CpuWindow {
    #[must_use]
    pub fn start(processes: &[(&str, Option<u32>)]) -> Self {
        Self {
            started: std::time::Instant::now(),
            processes: processes
                .iter()
                .filter_map(|(name, pid)| {
                    let pid = (*pid)?;
                    Some(((*name).to_owned(), pid, cpu_seconds(pid)?))
                })
                .collect(),
        }
    }

    #[must_use]
    pub fn finish(&self) -> Vec<CpuShare> {
        let wall = self.started.elapsed().as_secs_f64();
        self.processes
            .iter()
            .filter_map(|(name, pid, before)| {
                let used = cpu_seconds(*pid)? - before;
                Some(CpuShare {
                    process: name.clone(),
                    cpu_seconds: round(used, 2),
                    cores_busy: round(used / wall, 2),
                })
            })
            .collect()
    }
}

/// p50/p95/p99/max of some durations, in milliseconds.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Percentiles {
    pub count: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Percentiles {
    #[must_use]
    pub fn of(values_ms: &mut [f64]) -> Self {
        if values_ms.is_empty() {
            return Self::default();
        }
        values_ms.sort_by(f64::total_cmp);
        let at = |q: f64| {
            // Nearest rank.
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )]
            let rank = ((q * values_ms.len() as f64).ceil() as usize).clamp(1, values_ms.len());
            round(values_ms[rank - 1], 3)
        };
        Self {
            count: values_ms.len(),
            p50_ms: at(0.50),
            p95_ms: at(0.95),
            p99_ms: at(0.99),
            max_ms: at(1.0),
        }
    }

    #[must_use]
    pub fn of_durations(durations: &[Duration]) -> Self {
        let mut ms: Vec<f64> = durations.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        Self::of(&mut ms)
    }
}

/// `value` rounded to `places` decimals, for reports.
#[must_use]
pub fn round(value: f64, places: i32) -> f64 {
    let factor = 10f64.powi(places);
    (value * factor).round() / factor
}

/// Waits (up to `limit`) until the given processes use less than 5 % of a core over a second:
/// the emulators keep working after a phase (the JVM's compiler and collector, moto's
/// clean-up), and a phase that starts meanwhile measures them too. Returns how long it waited.
pub async fn settle(pids: &[u32], limit: Duration) -> Duration {
    let started = std::time::Instant::now();
    let used = || pids.iter().filter_map(|p| cpu_seconds(*p)).sum::<f64>();
    while started.elapsed() < limit {
        let before = used();
        tokio::time::sleep(Duration::from_secs(1)).await;
        if used() - before < 0.05 {
            break;
        }
    }
    started.elapsed()
}

/// A fresh `whsec_` secret for this run's subscriptions.
#[must_use]
pub fn signing_secret() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    shared::domain::secrets::fill_random(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut values: Vec<f64> = (1..=100).map(f64::from).collect();
        let p = Percentiles::of(&mut values);
        assert_eq!(
            (p.p50_ms, p.p95_ms, p.p99_ms, p.max_ms),
            (50.0, 95.0, 99.0, 100.0)
        );
        let mut one = vec![7.0];
        assert_eq!(Percentiles::of(&mut one).p99_ms, 7.0);
        assert_eq!(Percentiles::of(&mut []).count, 0);
    }

    #[test]
    fn this_process_uses_cpu_and_memory() {
        let pid = std::process::id();
        assert!(cpu_seconds(pid).is_some());
        assert!(peak_rss_kib(pid).is_some_and(|k| k > 0));
    }
}
