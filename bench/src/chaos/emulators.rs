//! Faults of the emulators the stack runs on: DynamoDB Local stopped and started again on its data
//! directory (`local/stack.sh stop-dynamodb|start-dynamodb`), the SQS emulator frozen.

use crate::measure::pid_from_file;
use std::path::Path;
use std::time::Duration;

/// Runs `local/stack.sh ACTION NAME` for the stack whose state is in `stack_state`.
async fn stack(action: &str, stack_state: &Path) -> Result<(), String> {
    let name = stack_state
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or("the stack state directory has no name")?;
    let output = tokio::process::Command::new("local/stack.sh")
        .args([action, name])
        .output()
        .await
        .map_err(|e| format!("local/stack.sh {action}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "local/stack.sh {action} {name}: {}",
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// Stops DynamoDB Local, waits `down`, starts it again on the same port and data directory.
///
/// # Errors
/// It could not be stopped or did not come back.
pub async fn restart_dynamodb(stack_state: &Path, down: Duration) -> Result<(), String> {
    stack("stop-dynamodb", stack_state).await?;
    tokio::time::sleep(down).await;
    stack("start-dynamodb", stack_state).await
}

/// Freezes the SQS emulator's process (SIGSTOP) for `down`, then lets it run on (SIGCONT):
/// every call to it hangs meanwhile. moto keeps its queues in memory only, so a restart would
/// lose them, which SQS never does; a freeze is the outage it can show honestly.
///
/// # Errors
/// The process is not found or cannot be signalled.
pub async fn freeze_sqs(stack_state: &Path, down: Duration) -> Result<(), String> {
    let pid = pid_from_file(&stack_state.join("sqs.pid")).ok_or("the SQS emulator's pid")?;
    signal("-STOP", pid).await?;
    tokio::time::sleep(down).await;
    signal("-CONT", pid).await
}

async fn signal(signal: &str, pid: u32) -> Result<(), String> {
    let status = tokio::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .await
        .map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("kill {signal} {pid} failed"))
    }
}
