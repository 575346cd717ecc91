use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use std::sync::Arc;

// One thread: Lambda sends one event at a time and a small function gets a fraction of a vCPU;
// measured by make bench, this halves deliver's CPU per invocation (no cross-thread wake-ups).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::logging::init();
    shared::config::require(&shared::config::ProcessEnv, fanout::ENVIRONMENT)?;
    let config = shared::config::FanoutConfig::load(&shared::config::ProcessEnv)?;
    let (store, queue) = shared::aws::fanout(config).await;
    let (store, queue) = (Arc::new(store), Arc::new(queue));
    run(service_fn(move |event: LambdaEvent<_>| {
        let (store, queue) = (Arc::clone(&store), Arc::clone(&queue));
        async move { fanout::handle(&*store, &*queue, event).await }
    }))
    .await
}
