use lambda_http::{Error, run, service_fn};
use std::sync::Arc;

// One thread: Lambda sends one event at a time and a small function gets a fraction of a vCPU;
// measured by make bench, this halves deliver's CPU per invocation (no cross-thread wake-ups).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::logging::init();
    shared::config::require(&shared::config::ProcessEnv, resources::ENVIRONMENT)?;
    let config = shared::config::ApiConfig::load(&shared::config::ProcessEnv)?;
    let api = Arc::new(shared::aws::api(config).await?);
    run(service_fn(move |request| {
        let api = Arc::clone(&api);
        async move { Ok::<_, Error>(resources::handle(&api, request).await) }
    }))
    .await
}
