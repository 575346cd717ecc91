//! Phase 4, cold start and footprint: each function's release binary (what `sam build` packages)
//! started under the Runtime API emulator with its template environment against the local stack,
//! invoked with its sample from `events/`.

use crate::measure::{Percentiles, cpu_ms_precise, peak_rss_kib, round};
use crate::receiver::ReceiverProcess;
use crate::runtime_api::RuntimeApi;
use crate::stack::fresh;
use serde::Serialize;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tokio::io::AsyncReadExt as _;

/// Warm invocations after the first.
pub const WARM_INVOCATIONS: usize = 100;
/// Process starts per function.
pub const COLD_STARTS: usize = 5;

/// One process start.
#[derive(Debug, Clone, Copy)]
struct Cold {
    init_ms: f64,
    cold_start_ms: f64,
    first_invocation_ms: f64,
    cpu_ms: f64,
}

impl Cold {
    /// Each figure's median, on its own.
    fn median(colds: &[Self]) -> Self {
        let median = |pick: fn(&Self) -> f64| {
            let mut values: Vec<f64> = colds.iter().map(pick).collect();
            values.sort_by(f64::total_cmp);
            values.get(values.len() / 2).copied().unwrap_or(0.0)
        };
        Self {
            init_ms: median(|c| c.init_ms),
            cold_start_ms: median(|c| c.cold_start_ms),
            first_invocation_ms: median(|c| c.first_invocation_ms),
            cpu_ms: median(|c| c.cpu_ms),
        }
    }
}
/// Deliveries per `deliver` invocation: a full SQS batch.
pub const DELIVER_BATCH: usize = 10;

#[derive(Debug, Clone, Serialize)]
pub struct Footprint {
    pub function: String,
    pub logical_id: String,
    pub binary: String,
    pub binary_bytes: u64,
    pub sample: String,
    /// Process starts measured; the cold figures are their medians.
    pub cold_starts: usize,
    /// Process start → the function asked for its first event (init done).
    pub init_ms: f64,
    /// Process start → its first answer arrived (init + the first, cold, invocation).
    pub cold_start_ms: f64,
    pub first_invocation_ms: f64,
    /// The function's own CPU time from process start to its first answer: what is not waiting
    /// (for the emulators, the receivers, the runtime API).
    pub cold_start_cpu_ms: f64,
    pub warm: Percentiles,
    /// The function's CPU time per warm invocation (mean).
    pub warm_cpu_ms: f64,
    /// Peak RSS over all invocations (and the heaviest sample, where there is one).
    pub peak_rss_mib: f64,
    pub log_bytes_per_invocation: f64,
    pub memory_size_mb: u64,
    pub timeout_seconds: u64,
}

/// The sample each function is measured with; `deliver`'s batch is made 10 deliveries that are
/// forced (a resend), so each invocation really signs and POSTs.
fn sample(binary: &str) -> Option<&'static str> {
    match binary {
        "resources" => Some("resources/get-user.json"),
        // The write that emits each event: what a million deliveries pay for.
        "subscriptions" => Some("subscriptions/post-event.json"),
        "fanout" => Some("fanout/stream-batch.json"),
        "deliver" => Some("deliver/sqs-batch.json"),
        "authorizer" => Some("authorizer/account-key.json"),
        // A scheduled minute with no account opted in: the generator's fixed cost.
        "samples" => Some("samples/scheduled-event.json"),
        _ => None,
    }
}

/// A sample invoked once more at the end because it uses the most memory: creating a user hashes
/// its password with Argon2id (19 MiB).
fn heaviest_sample(binary: &str) -> Option<&'static str> {
    (binary == "resources").then_some("resources/post-users.json")
}

fn read_sample(sample: &str) -> Result<Value, String> {
    serde_json::from_str(
        &std::fs::read_to_string(Path::new("events").join(sample))
            .map_err(|e| format!("events/{sample}: {e}"))?,
    )
    .map_err(|e| format!("events/{sample}: {e}"))
}

fn deliver_batch(mut event: Value) -> Result<Value, String> {
    let record = event
        .get("Records")
        .and_then(|r| r.get(0))
        .cloned()
        .ok_or("the deliver sample has no record")?;
    let records: Vec<Value> = (0..DELIVER_BATCH)
        .map(|i| {
            let mut record = record.clone();
            let mut body: Value = record
                .get("body")
                .and_then(Value::as_str)
                .and_then(|b| serde_json::from_str(b).ok())
                .unwrap_or(Value::Null);
            body["force"] = Value::Bool(true);
            record["body"] = Value::String(body.to_string());
            record["messageId"] = Value::String(format!("bench-message-{i}"));
            record
        })
        .collect();
    event["Records"] = Value::Array(records);
    Ok(event)
}

/// `MemorySize` or `Timeout` of a function: its own, else `Globals.Function`'s.
pub fn configured(template: &Value, logical_id: &str, property: &str) -> Option<u64> {
    template
        .pointer(&format!("/Resources/{logical_id}/Properties/{property}"))
        .or_else(|| template.pointer(&format!("/Globals/Function/{property}")))
        .and_then(Value::as_u64)
}

/// `tests/sample-events.json`: what each sample must answer.
fn expectations() -> Result<Value, String> {
    serde_json::from_str(
        &std::fs::read_to_string("tests/sample-events.json").map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())
}

/// Checks an answer against the sample's expectation.
fn check(expectations: &Value, sample: &str, answer: &Value) -> Result<(), String> {
    let expected = expectations
        .get(sample)
        .ok_or_else(|| format!("{sample} is not in tests/sample-events.json"))?;
    let ok = match (expected.get("status"), expected.get("authorized")) {
        (Some(status), _) => answer.get("statusCode") == Some(status),
        // Given fields of the answer (as local/check_sample.py reads "answer").
        (None, None) if expected.get("answer").is_some() => expected["answer"]
            .as_object()
            .is_some_and(|fields| fields.iter().all(|(k, v)| answer.get(k) == Some(v))),
        (None, Some(authorized)) => {
            answer.get("isAuthorized") == Some(authorized)
                && expected
                    .get("caller")
                    .is_none_or(|caller| answer.pointer("/context/caller") == Some(caller))
        }
        (None, None) => answer
            .get("batchItemFailures")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{sample} answered {answer}, expected {expected}"))
    }
}

/// Runs the phase for every function of the template, binaries under `binaries/<LogicalId>/bootstrap`.
///
/// # Errors
/// A binary is missing, does not start, or answers other than its sample expects.
#[allow(clippy::too_many_lines)]
pub async fn run(binaries: &Path) -> Result<Vec<Footprint>, String> {
    let admin_key = devstack::samples::ADMIN_KEY;
    let (clients, stack) = fresh("footprint", &[("AdminApiKeySecret", admin_key)]).await?;
    let receiver = ReceiverProcess::start(1, devstack::samples::WEBHOOK_SECRET).await?;
    let target = receiver.urls().into_iter().next().ok_or("no receiver")?;
    let store = devstack::samples::store(&clients, &stack)?;
    devstack::samples::seed(&store, &target)
        .await
        .map_err(|e| format!("seeding the sample data: {e}"))?;
    let template = stack.template.root().clone();
    let expectations = expectations()?;
    let mut results = Vec::new();
    for function in stack.template.functions().map_err(|e| e.to_string())? {
        let Some(sample) = sample(&function.binary) else {
            return Err(format!("no sample chosen for {}", function.binary));
        };
        let mut event = read_sample(sample)?;
        if function.binary == "deliver" {
            event = deliver_batch(event)?;
        }
        if let Some(headers) = event["headers"].as_object_mut() {
            // Without it each warm invocation writes an event, as most publishers' requests do.
            headers.remove("idempotency-key");
        }
        let payload = event.to_string().into_bytes();
        let binary = binaries.join(&function.logical_id).join("bootstrap");
        let binary_bytes = std::fs::metadata(&binary)
            .map_err(|e| format!("{}: {e} (run sam build first)", binary.display()))?
            .len();
        let memory = configured(&template, &function.logical_id, "MemorySize").unwrap_or(128);
        let timeout = configured(&template, &function.logical_id, "Timeout").unwrap_or(3);

        // Cold starts are short and the machine is shared with the emulators: the figures are
        // the medians of COLD_STARTS process starts; the warm invocations use the last process.
        let mut colds: Vec<Cold> = Vec::with_capacity(COLD_STARTS);
        let (api, mut child, pid, log_bytes) = loop {
            let api = RuntimeApi::start(&function.binary).await?;
            let mut environment = stack
                .function_environment(&function)
                .map_err(|e| e.to_string())?;
            environment.insert("ALLOW_HTTP_TARGETS".into(), "true".into());
            environment.insert("ALLOWED_TARGET_CIDRS".into(), "127.0.0.0/8".into());
            for name in [
                "AWS_ENDPOINT_URL_DYNAMODB",
                "AWS_ENDPOINT_URL_SQS",
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_REGION",
                "AWS_DEFAULT_REGION",
            ] {
                if let Ok(value) = std::env::var(name) {
                    environment.insert(name.into(), value);
                }
            }
            for (name, value) in [
                ("AWS_LAMBDA_RUNTIME_API", api.address().to_owned()),
                ("AWS_LAMBDA_FUNCTION_NAME", function.binary.clone()),
                ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory.to_string()),
                ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
                (
                    "AWS_LAMBDA_LOG_GROUP_NAME",
                    format!("/aws/lambda/{}", function.binary),
                ),
                ("AWS_LAMBDA_LOG_STREAM_NAME", "bench".into()),
                ("AWS_LAMBDA_LOG_FORMAT", "JSON".into()),
                ("AWS_LAMBDA_LOG_LEVEL", "INFO".into()),
                ("LAMBDA_TASK_ROOT", "/var/task".into()),
                ("_HANDLER", "bootstrap".into()),
            ] {
                environment.insert(name.into(), value);
            }

            let started = Instant::now();
            let mut child = tokio::process::Command::new(&binary)
                .env_clear()
                .envs(&environment)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
            let pid = child.id().ok_or("the function exited at once")?;
            let log_bytes = Arc::new(AtomicU64::new(0));
            if let Some(mut stdout) = child.stdout.take() {
                let counted = Arc::clone(&log_bytes);
                tokio::spawn(async move {
                    let mut buffer = vec![0u8; 16 * 1024];
                    while let Ok(n) = stdout.read(&mut buffer).await {
                        if n == 0 {
                            break;
                        }
                        counted.fetch_add(n as u64, Ordering::Relaxed);
                    }
                });
            }
            let first = api.invoke(payload.clone()).await.map_err(|e| {
                format!(
                    "{}: {e}{}",
                    function.binary,
                    api.init_error()
                        .map(|m| format!(" (init error: {m})"))
                        .unwrap_or_default()
                )
            })?;
            let init = api
                .first_next()
                .map_or(0.0, |t| t.duration_since(started).as_secs_f64() * 1e3);
            let answer: Value = serde_json::from_slice(&first.body).unwrap_or(Value::Null);
            if first.error {
                return Err(format!(
                    "{} failed its first invocation: {answer}",
                    function.binary
                ));
            }
            check(&expectations, sample, &answer)?;
            let cold_cpu = cpu_ms_precise(pid).ok_or("cannot read the function's CPU time")?;
            colds.push(Cold {
                init_ms: init,
                cold_start_ms: first.answered_at.duration_since(started).as_secs_f64() * 1e3,
                first_invocation_ms: first
                    .answered_at
                    .duration_since(first.served_at)
                    .as_secs_f64()
                    * 1e3,
                cpu_ms: cold_cpu,
            });
            if colds.len() == COLD_STARTS {
                break (api, child, pid, log_bytes);
            }
            let _ = child.kill().await;
        };
        let cold = Cold::median(&colds);
        // The CPU the warm invocations add, on top of what this process used until then.
        let cpu_before = cpu_ms_precise(pid).ok_or("cannot read the function's CPU time")?;
        let logs_before = log_bytes.load(Ordering::Relaxed);
        let mut warm = Vec::with_capacity(WARM_INVOCATIONS);
        for _ in 0..WARM_INVOCATIONS {
            let outcome = api.invoke(payload.clone()).await?;
            let answer: Value = serde_json::from_slice(&outcome.body).unwrap_or(Value::Null);
            check(&expectations, sample, &answer)?;
            warm.push(outcome.answered_at.duration_since(outcome.served_at));
        }
        let warm_cpu =
            cpu_ms_precise(pid).ok_or("cannot read the function's CPU time")? - cpu_before;
        if let Some(heaviest) = heaviest_sample(&function.binary) {
            let outcome = api
                .invoke(read_sample(heaviest)?.to_string().into_bytes())
                .await?;
            let answer: Value = serde_json::from_slice(&outcome.body).unwrap_or(Value::Null);
            check(&expectations, heaviest, &answer)?;
        }
        // Let the last log lines through the pipe.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let logs = log_bytes.load(Ordering::Relaxed) - logs_before;
        let rss = peak_rss_kib(pid).ok_or("cannot read the function's peak RSS")?;
        let _ = child.kill().await;
        #[allow(clippy::cast_precision_loss)]
        results.push(Footprint {
            function: function.binary.clone(),
            logical_id: function.logical_id.clone(),
            binary: binary.display().to_string(),
            binary_bytes,
            sample: format!("events/{sample}"),
            cold_starts: COLD_STARTS,
            init_ms: round(cold.init_ms, 2),
            cold_start_ms: round(cold.cold_start_ms, 2),
            first_invocation_ms: round(cold.first_invocation_ms, 2),
            cold_start_cpu_ms: round(cold.cpu_ms, 2),
            warm: Percentiles::of_durations(&warm),
            warm_cpu_ms: round(warm_cpu / WARM_INVOCATIONS as f64, 2),
            peak_rss_mib: round(rss as f64 / 1024.0, 1),
            log_bytes_per_invocation: round(logs as f64 / WARM_INVOCATIONS as f64, 0),
            memory_size_mb: memory,
            timeout_seconds: timeout,
        });
    }
    let arrived = receiver.arrivals().await?;
    let expected = DELIVER_BATCH * (COLD_STARTS + WARM_INVOCATIONS);
    let verified = arrived.iter().filter(|a| a.verified).count();
    if verified < expected {
        return Err(format!(
            "deliver answered without failures, but {verified} of {expected} deliveries arrived verified"
        ));
    }
    Ok(results)
}
