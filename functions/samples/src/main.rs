use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use std::sync::Arc;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::wiring::logging::init();
    shared::wiring::config::require(&shared::wiring::config::ProcessEnv, samples::ENVIRONMENT)?;
    let config = shared::wiring::samples::SamplesConfig::load(&shared::wiring::config::ProcessEnv)?;
    let store = Arc::new(shared::wiring::samples::store(config).await);
    run(service_fn(move |event: LambdaEvent<_>| {
        let store = Arc::clone(&store);
        async move { samples::handle(&*store, event).await }
    }))
    .await
}
