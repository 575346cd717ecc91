use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use std::sync::Arc;

// One thread: Lambda sends one event at a time and a small function gets a fraction of a vCPU;
// measured by make bench, this halves deliver's CPU per invocation (no cross-thread wake-ups).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::wiring::logging::init();
    shared::wiring::config::require(&shared::wiring::config::ProcessEnv, deliver::ENVIRONMENT)?;
    let config = shared::wiring::config::DeliverConfig::load(&shared::wiring::config::ProcessEnv)?;
    let pipeline = Arc::new(shared::wiring::aws::pipeline(config).await?);
    run(service_fn(move |event: LambdaEvent<_>| {
        let pipeline = Arc::clone(&pipeline);
        async move { deliver::handle(&pipeline, event).await }
    }))
    .await
}
