//! `devstack` command line, used by `make dev` (see `local/dev.sh`).
//!
//! ```text
//! devstack provision --prefix dev- [--template template.yaml] [--param K=V]... [--env K=V]... [--env-file F]
//! devstack serve --prefix dev- --invoke-url http://127.0.0.1:9000 --port 3000 [--template …] [--param K=V]...
//! devstack sam-env --prefix dev- --out events/env.json [--container-host H] [--env K=V]...  (sam local invoke --env-vars)
//! devstack seed --prefix dev- --receiver-url http://127.0.0.1:8080/webhook   (the data events/ refers to)
//! devstack sample-admin-key                                                 (the AdminApiKey events/ uses)
//! ```
//! Endpoints and credentials come from the standard AWS variables (`AWS_ENDPOINT_URL_DYNAMODB`,
//! `AWS_ENDPOINT_URL_SQS`, …) that `local/stack.sh` writes.

#![allow(clippy::print_stdout)]

use devstack::bridge::{Bridge, LocalSettings, Mappings};
use devstack::invoke::InvokeApi;
use devstack::provision::{self, Clients, Options, Stack};
use devstack::template::Template;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

struct Args {
    command: String,
    template: PathBuf,
    prefix: String,
    parameters: BTreeMap<String, String>,
    extra_env: BTreeMap<String, String>,
    env_file: Option<PathBuf>,
    out: Option<PathBuf>,
    container_host: String,
    invoke_url: Option<String>,
    receiver_url: Option<String>,
    port: u16,
}

const USAGE: &str = "usage: devstack provision|serve|seed|sam-env --prefix P [--template F] [--param K=V]... [--env K=V]... \
                     [--env-file F] [--out F] [--container-host H] [--invoke-url URL] [--port N] [--receiver-url URL]\n       devstack sample-admin-key";

fn parse_args() -> Result<Args, String> {
    let mut raw = std::env::args().skip(1);
    let command = raw.next().ok_or(USAGE)?;
    let mut args = Args {
        command,
        template: PathBuf::from("template.yaml"),
        prefix: String::new(),
        parameters: BTreeMap::new(),
        extra_env: BTreeMap::new(),
        env_file: None,
        out: None,
        container_host: "host.docker.internal".into(),
        invoke_url: None,
        receiver_url: None,
        port: 3000,
    };
    while let Some(flag) = raw.next() {
        let mut value = || {
            raw.next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        let pair = |text: String| {
            text.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| format!("{flag} takes KEY=VALUE, got {text}"))
        };
        match flag.as_str() {
            "--template" => args.template = PathBuf::from(value()?),
            "--prefix" => args.prefix = value()?,
            "--param" => {
                let (k, v) = pair(value()?)?;
                args.parameters.insert(k, v);
            }
            "--env" => {
                let (k, v) = pair(value()?)?;
                args.extra_env.insert(k, v);
            }
            "--env-file" => args.env_file = Some(PathBuf::from(value()?)),
            "--out" => args.out = Some(PathBuf::from(value()?)),
            "--container-host" => args.container_host = value()?,
            "--invoke-url" => args.invoke_url = Some(value()?),
            "--receiver-url" => args.receiver_url = Some(value()?),
            "--port" => args.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if args.prefix.is_empty() && args.command != "sample-admin-key" {
        return Err(format!("--prefix is required\n{USAGE}"));
    }
    Ok(args)
}

async fn provision_stack(args: &Args, clients: &Clients) -> Result<Stack, String> {
    let template = Template::load(&args.template).map_err(|e| e.to_string())?;
    let options = Options {
        prefix: args.prefix.clone(),
        parameters: args.parameters.clone(),
    };
    provision::provision(&template, clients, &options)
        .await
        .map_err(|e| e.to_string())
}

async fn run(args: Args) -> Result<(), String> {
    if args.command == "sample-admin-key" {
        println!("{}", devstack::samples::ADMIN_KEY);
        return Ok(());
    }
    let clients = Clients::from_env().await;
    let stack = provision_stack(&args, &clients).await?;
    match args.command.as_str() {
        "provision" => {
            let mut environment = stack.combined_environment().map_err(|e| e.to_string())?;
            environment.extend(args.extra_env.clone());
            for (id, table) in &stack.tables {
                println!("table  {id:<26} {}", table.name);
            }
            for (id, queue) in &stack.queues {
                println!("queue  {id:<26} {}", queue.url);
            }
            if let Some(path) = &args.env_file {
                let text: String = environment
                    .iter()
                    .map(|(k, v)| format!("{k}={v}\n"))
                    .collect();
                std::fs::write(path, text)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                println!("function environment written to {}", path.display());
            }
            Ok(())
        }
        "sam-env" => {
            let path = args.out.as_ref().ok_or("sam-env needs --out")?;
            let file = devstack::sam_env::env_vars(&stack, &args.extra_env, &args.container_host)
                .map_err(|e| e.to_string())?;
            let text = serde_json::to_string_pretty(&file).map_err(|e| e.to_string())? + "\n";
            std::fs::write(path, text)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            println!(
                "sam local invoke --env-vars file written to {}",
                path.display()
            );
            Ok(())
        }
        "serve" => {
            let invoke_url = args.invoke_url.clone().ok_or("serve needs --invoke-url")?;
            let invoker = Arc::new(InvokeApi::new(&invoke_url).map_err(|e| e.to_string())?);
            let mappings = Mappings::from_stack(&stack, LocalSettings::default())
                .map_err(|e| e.to_string())?;
            let routes = stack.template.http_routes().map_err(|e| e.to_string())?;
            let address = std::net::SocketAddr::from(([127, 0, 0, 1], args.port));
            let listener = tokio::net::TcpListener::bind(address).await.map_err(|e| {
                format!("cannot listen on {address}: {e} (is the port taken? set API_PORT)")
            })?;
            let _bridge = Bridge::start(&clients, mappings.clone(), Arc::clone(&invoker))
                .await
                .map_err(|e| e.to_string())?;
            for mapping in &mappings.streams {
                println!(
                    "bridge stream -> {} ({})",
                    mapping.function, mapping.stream_arn
                );
            }
            for mapping in &mappings.queues {
                println!(
                    "bridge queue  -> {} ({})",
                    mapping.function, mapping.queue_url
                );
            }
            println!(
                "gateway ready on http://{address} ({} routes)",
                routes.len()
            );
            let scheduled = devstack::schedule::schedules(&stack.template, &args.parameters)?;
            for s in &scheduled {
                println!(
                    "schedule      -> {} every {} s",
                    s.function,
                    s.every.as_secs()
                );
            }
            let schedules = tokio::spawn(devstack::schedule::run(scheduled, Arc::clone(&invoker)));
            let gateway = tokio::spawn(devstack::gateway::serve(listener, routes, invoker));
            shutdown_signal().await;
            gateway.abort();
            schedules.abort();
            Ok(())
        }
        "seed" => {
            let receiver = args
                .receiver_url
                .as_deref()
                .ok_or("seed needs --receiver-url")?;
            let store = devstack::samples::store(&clients, &stack)?;
            devstack::samples::seed(&store, receiver)
                .await
                .map_err(|e| format!("seeding the sample data: {e}"))
        }
        other => Err(format!("unknown command {other}\n{USAGE}")),
    }
}

async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_target(false)
        .init();
    let result = match parse_args() {
        Ok(args) => run(args).await,
        Err(message) => Err(message),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("devstack: {message}");
            ExitCode::FAILURE
        }
    }
}
