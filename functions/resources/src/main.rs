use lambda_http::{Error, run, service_fn};
use std::sync::Arc;

// One thread: Lambda sends one event at a time and a small function gets a fraction of a vCPU;
// measured by make bench, this halves deliver's CPU per invocation (no cross-thread wake-ups).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    shared::wiring::logging::init();
    shared::wiring::config::require(&shared::wiring::config::ProcessEnv, resources::ENVIRONMENT)?;
    let config = shared::wiring::config::ApiConfig::load(&shared::wiring::config::ProcessEnv)?;
    let api = Arc::new(shared::wiring::aws::api(config).await?);
    run(service_fn(move |request| {
        let api = Arc::clone(&api);
        async move { Ok::<_, Error>(resources::handle(&api, request).await) }
    }))
    .await
}
