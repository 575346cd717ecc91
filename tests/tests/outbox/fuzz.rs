//! Issue 18: the API fuzzed from its own contract. schemathesis (pinned, installed into
//! `.local/fuzz` by `local/install.sh`) reads the served OpenAPI document and sends every
//! operation its examples, the coverage phase's edge and negative values, and generated
//! requests, through `make dev`'s gateway to the two functions on DynamoDB Local: with an
//! account key, with the admin key (the admin routes), and with no key. No 5xx, every answer
//! as documented (status, content type, headers, schema), inputs the document forbids refused,
//! unsupported methods 405 with `Allow`. A failure prints schemathesis' report with the
//! reproducing request as a curl command.
//!
//! `FUZZ_EXAMPLES` (default 12) bounds the generated requests per operation and phase;
//! `FUZZ_SEED` (default 18) fixes them, so a run is repeatable.

use crate::common::api::{ADMIN_KEY, account, http_functions};
use crate::support::dynamo_api;
use devstack::template::Template;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
    response_headers_conformance,response_schema_conformance,negative_data_rejection,\
    unsupported_method,allow_header_conformance";

fn schemathesis() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.local/fuzz/bin/schemathesis");
    assert!(
        path.exists(),
        "{} is missing: run local/install.sh (make test does)",
        path.display()
    );
    path
}

/// One schemathesis run; its report when it found anything.
fn fuzz(base: &str, key: Option<&str>, only: Option<&str>) -> Result<(), String> {
    let examples = std::env::var("FUZZ_EXAMPLES").unwrap_or_else(|_| "12".to_owned());
    let seed = std::env::var("FUZZ_SEED").unwrap_or_else(|_| "18".to_owned());
    // schemathesis keeps a cache in its working directory: under .local/run, not the tree.
    let workdir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.local/run/fuzz");
    std::fs::create_dir_all(&workdir).map_err(|e| e.to_string())?;
    let mut command = std::process::Command::new(schemathesis());
    command
        .current_dir(&workdir)
        .arg("run")
        .arg(format!("{base}/api/v1/openapi.json"))
        .args(["--url", base, "--checks", CHECKS])
        .args(["--max-examples", &examples, "--seed", &seed])
        // One worker: hypothesis parses lambdas' source with `ast` and CPython 3.11 can fail that
        // from two threads at once ("AST constructor recursion depth mismatch", gh-106905),
        // which schemathesis reports as an error of the run.
        .args(["--phases", "examples,coverage,fuzzing", "--workers", "1"])
        .args(["--suppress-health-check", "all", "--no-color"])
        .args(["--output-truncate", "false", "--request-timeout", "20"])
        .env("NO_COLOR", "1")
        .env("SCHEMATHESIS_TELEMETRY", "false");
    if let Some(key) = key {
        command.args(["--header", &format!("Authorization: Bearer {key}")]);
    }
    if let Some(regex) = only {
        command.args(["--include-path-regex", regex]);
    }
    let output = command.output().map_err(|e| e.to_string())?;
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if output.status.success() {
        // The report of a passing run, for --nocapture.
        #[allow(clippy::print_stdout)]
        {
            println!("{report}");
        }
        Ok(())
    } else {
        Err(report)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_holds_to_its_contract_under_generated_requests() {
    schemathesis();
    let (_clients, _stack, api) = dynamo_api("fuzz").await;
    let key = account(&api, "fuzzer").await;
    let api = Arc::new(api);
    let template =
        Template::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml")).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(devstack::gateway::serve(
        listener,
        template.http_routes().unwrap(),
        Arc::new(http_functions(Arc::clone(&api))),
    ));
    let runs = [
        ("account key", Some(key.as_str()), None),
        (
            "admin key",
            Some(ADMIN_KEY),
            Some("^/api/v1/(accounts|admin)"),
        ),
        ("no key", None, None),
    ];
    for (name, key, only) in runs {
        let base = base.clone();
        let key = key.map(str::to_owned);
        let only = only.map(str::to_owned);
        let result =
            tokio::task::spawn_blocking(move || fuzz(&base, key.as_deref(), only.as_deref()))
                .await
                .unwrap();
        if let Err(report) = result {
            panic!("schemathesis found problems ({name}):\n{report}");
        }
    }
}
