//! What a run measured, on which machine, and the targets.

use crate::core::CoreResult;
use crate::cost::CostResult;
use crate::e2e::E2eResult;
use crate::fanout::FanoutResult;
use crate::footprint::Footprint;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Machine {
    pub cores: usize,
    pub cpu: String,
    pub memory_gib: f64,
    pub os: String,
}

#[derive(Debug, Serialize)]
pub struct Target {
    pub what: String,
    pub target: String,
    pub measured: String,
    pub met: bool,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub generated_at: String,
    pub command: String,
    pub git_commit: String,
    /// Whether the working tree had changes besides `bench/results/` when the run started: the
    /// figures are then of code no commit holds.
    pub git_dirty: bool,
    pub machine: Machine,
    /// `sam build` as `local/bench.sh` ran it: `command`, `seconds`, `cold`.
    pub build: Option<serde_json::Value>,
    pub delivery_core: Vec<CoreResult>,
    pub fanout: Option<FanoutResult>,
    pub end_to_end: Option<E2eResult>,
    pub footprint: Vec<Footprint>,
    pub cost: Option<CostResult>,
    pub targets: Vec<Target>,
}

pub(crate) fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_default();
    let memory_kib: f64 = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    let os = std::fs::read_to_string("/etc/os-release")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_owned())
        .unwrap_or_default();
    Machine {
        cores: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
        cpu,
        memory_gib: crate::measure::round(memory_kib / 1024.0 / 1024.0, 1),
        os,
    }
}

pub(crate) fn git_commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// Whether the working tree differs from the commit, `bench/results/` aside (a run rewrites it).
pub(crate) fn git_dirty() -> bool {
    std::process::Command::new("git")
        .args([
            "status",
            "--porcelain",
            "--",
            ".",
            ":(exclude)bench/results",
        ])
        .output()
        .ok()
        .is_none_or(|o| !o.status.success() || !o.stdout.is_empty())
}

#[allow(clippy::cast_precision_loss)]
pub(crate) fn bytes_mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}
