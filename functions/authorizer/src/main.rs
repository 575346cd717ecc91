use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use std::sync::Arc;

// One thread: Lambda sends one event at a time and a small function gets a fraction of a vCPU.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::logging::init();
    shared::config::require(&shared::config::ProcessEnv, authorizer::ENVIRONMENT)?;
    let config = shared::config::AuthorizerConfig::load(&shared::config::ProcessEnv)?;
    let (store, admin_key) = shared::aws::authorizer(config).await?;
    let (store, admin_key) = (Arc::new(store), Arc::new(admin_key));
    run(service_fn(move |event: LambdaEvent<_>| {
        let (store, admin_key) = (Arc::clone(&store), Arc::clone(&admin_key));
        async move { authorizer::handle(&*store, &admin_key, event).await }
    }))
    .await
}
