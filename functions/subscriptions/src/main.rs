use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    run(service_fn(|request| async move {
        Ok::<_, Error>(subscriptions::handle(request).await)
    }))
    .await
}
