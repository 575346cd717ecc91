//! Log setup for every function. Lambda's advanced logging controls are honoured as
//! `lambda_runtime` reads them (`AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else INFO;
//! `AWS_LAMBDA_LOG_FORMAT=JSON` for JSON lines), but a JSON line carries the invocation's span
//! (its request id and trace id) once instead of twice (`span` and `spans`): `deliver` writes a line
//! per delivery, and CloudWatch bills every byte.

use lambda_http::tracing::subscriber::EnvFilter;
use lambda_http::tracing::subscriber::filter::LevelFilter;
use std::str::FromStr as _;

/// Installs the global subscriber, writing to stdout.
pub fn init() {
    init_with_writer(std::io::stdout);
}

/// The same, writing to `writer`.
pub fn init_with_writer<W>(writer: W)
where
    W: for<'w> lambda_http::tracing::subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|level| LevelFilter::from_str(&level).ok())
        .unwrap_or(LevelFilter::INFO);
    let builder = lambda_http::tracing::subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_env_filter(
            EnvFilter::builder()
                .with_default_directive(level.into())
                .from_env_lossy(),
        )
        .with_writer(writer);
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    if json {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init();
    } else {
        builder.init();
    }
}
