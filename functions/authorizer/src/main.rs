use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use std::sync::Arc;

// One thread: Lambda sends one event at a time and a small function gets a fraction of a vCPU.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::wiring::logging::init();
    shared::wiring::config::require(&shared::wiring::config::ProcessEnv, authorizer::ENVIRONMENT)?;
    let config =
        shared::wiring::config::AuthorizerConfig::load(&shared::wiring::config::ProcessEnv)?;
    let (store, admin_key) = shared::wiring::aws::authorizer(config).await?;
    let (store, admin_key) = (Arc::new(store), Arc::new(admin_key));
    run(service_fn(move |event: LambdaEvent<_>| {
        let (store, admin_key) = (Arc::clone(&store), Arc::clone(&admin_key));
        async move { authorizer::handle(&*store, &admin_key, event).await }
    }))
    .await
}
