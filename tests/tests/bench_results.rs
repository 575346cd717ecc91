//! Every figure the README gives for speed, size and cost comes from `bench/results/` (written by
//! `make bench`): the README's bench block must be `latest.md` exactly, and `latest.json` must hold
//! every phase.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use std::path::Path;

const BEGIN: &str = "<!-- bench:begin (make bench writes this) -->";
const END: &str = "<!-- bench:end -->";

fn read(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

#[test]
fn the_readme_shows_the_latest_bench_results_unchanged() {
    let readme = read("README.md");
    let (_, rest) = readme
        .split_once(BEGIN)
        .expect("README.md has the bench begin marker");
    let (block, _) = rest
        .split_once(END)
        .expect("README.md has the bench end marker");
    let latest = read("bench/results/latest.md");
    assert_eq!(
        block.trim(),
        latest.trim(),
        "README.md's bench block differs from bench/results/latest.md: run make bench, do not edit figures by hand"
    );
}

#[test]
fn the_latest_bench_results_hold_every_phase() {
    let report: Value = serde_json::from_str(&read("bench/results/latest.json")).unwrap();
    let core = report["delivery_core"].as_array().unwrap();
    let urls: Vec<u64> = core
        .iter()
        .map(|c| c["receiver_urls"].as_u64().unwrap())
        .collect();
    assert_eq!(urls, [1, 10, 100]);
    assert_eq!(report["fanout"]["subscriptions"], 1000);
    assert_eq!(report["fanout"]["scans"], 0);
    assert_eq!(report["end_to_end"]["expected_deliveries"], 10_000);
    let functions: Vec<&str> = report["footprint"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["function"].as_str().unwrap())
        .collect();
    for function in ["resources", "subscriptions", "fanout", "deliver"] {
        assert!(functions.contains(&function), "no footprint of {function}");
    }
    assert!(report["cost"]["total_dollars"].as_f64().unwrap() > 0.0);
    assert_eq!(
        report["git_dirty"], false,
        "the results were measured on uncommitted changes: commit, then run make bench"
    );
    for meter in ["burst_meter", "paced_meter"] {
        assert!(
            report["end_to_end"][meter]["deliver_invocations"]
                .as_u64()
                .unwrap()
                > 0,
            "{meter}: invocations counted"
        );
    }
    assert!(report["machine"]["cores"].as_u64().unwrap() >= 1);
    assert!(!report["targets"].as_array().unwrap().is_empty());
}

/// The memory each function is given in `template.yaml` is the one it was measured with, and at
/// least twice the peak RSS measured (the rest is headroom for larger payloads and batches).
#[test]
fn configured_memory_is_what_was_measured_and_twice_the_peak() {
    let report: Value = serde_json::from_str(&read("bench/results/latest.json")).unwrap();
    let template = devstack::template::Template::parse(&read("template.yaml")).unwrap();
    let root = template.root();
    for footprint in report["footprint"].as_array().unwrap() {
        let id = footprint["logical_id"].as_str().unwrap();
        let configured = root
            .pointer(&format!("/Resources/{id}/Properties/MemorySize"))
            .or_else(|| root.pointer("/Globals/Function/MemorySize"))
            .and_then(Value::as_f64)
            .unwrap();
        assert_eq!(
            footprint["memory_size_mb"].as_f64().unwrap(),
            configured,
            "{id}: MemorySize changed since make bench measured it"
        );
        let peak = footprint["peak_rss_mib"].as_f64().unwrap();
        assert!(
            peak * 2.0 <= configured,
            "{id}: peak RSS {peak} MiB leaves less than half of MemorySize {configured} MB free"
        );
    }
}
