use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use std::sync::Arc;

// One thread: Lambda sends one event at a time and a small function gets a fraction of a vCPU;
// measured by make bench, this halves deliver's CPU per invocation (no cross-thread wake-ups).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::wiring::logging::init();
    shared::wiring::config::require(&shared::wiring::config::ProcessEnv, fanout::ENVIRONMENT)?;
    let config = shared::wiring::config::FanoutConfig::load(&shared::wiring::config::ProcessEnv)?;
    let (store, queue, streams) = shared::wiring::aws::fanout(config).await;
    let (store, queue, streams) = (Arc::new(store), Arc::new(queue), Arc::new(streams));
    run(service_fn(move |event: LambdaEvent<_>| {
        let (store, queue) = (Arc::clone(&store), Arc::clone(&queue));
        let streams = Arc::clone(&streams);
        async move { fanout::handle_any(&*store, &*queue, &*streams, event).await }
    }))
    .await
}
