//! `make bench` (see `local/bench.sh`, which builds, starts a local stack and runs this).
//!
//! ```text
//! bench run --out bench/results --stack-state .local/run/bench --binaries .aws-sam/build [--only core,fanout,e2e,footprint]
//! bench soak --stack-state .local/run/soak --out bench/results/soak.json [--events 10000]
//! bench chaos --stack-state .local/run/chaos --out bench/results/chaos.json
//! bench receiver --ports N --secret S     (loopback receivers; started by `run` itself)
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;

mod chaos;
mod core;
mod cost;
mod e2e;
mod fanout;
mod footprint;
mod measure;
mod meter;
mod publisher;
mod receiver;
mod report;
mod rig;
mod run;
mod runtime_api;
mod soak;
mod stack;

const USAGE: &str = "usage: bench run --out DIR --stack-state DIR --binaries DIR [--only PHASES] [--build-info FILE]\n       bench soak --stack-state DIR --out FILE [--events N]\n       bench chaos --stack-state DIR --out FILE\n       bench receiver --ports N --secret S";

pub struct RunArgs {
    pub out: PathBuf,
    pub stack_state: PathBuf,
    pub binaries: PathBuf,
    pub only: Option<Vec<String>>,
    /// What `local/bench.sh` measured of `sam build` (JSON), if it ran it.
    pub build_info: Option<PathBuf>,
}

impl RunArgs {
    fn wants(&self, phase: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|only| only.iter().any(|p| p == phase))
    }
}

fn value(raw: &mut impl Iterator<Item = String>, flag: &str) -> Result<String, String> {
    raw.next()
        .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
}

async fn main_result() -> Result<(), String> {
    let mut raw = std::env::args().skip(1);
    match raw.next().as_deref() {
        Some("receiver") => {
            let (mut ports, mut secret) = (1, String::new());
            while let Some(flag) = raw.next() {
                match flag.as_str() {
                    "--ports" => {
                        ports = value(&mut raw, &flag)?
                            .parse()
                            .map_err(|e| format!("--ports: {e}"))?;
                    }
                    "--secret" => secret = value(&mut raw, &flag)?,
                    other => return Err(format!("unknown argument {other}\n{USAGE}")),
                }
            }
            receiver::serve(ports, secret).await
        }
        Some("run") => {
            let mut args = RunArgs {
                out: PathBuf::from("bench/results"),
                stack_state: PathBuf::from(".local/run/bench"),
                binaries: PathBuf::from(".aws-sam/build"),
                only: None,
                build_info: None,
            };
            while let Some(flag) = raw.next() {
                match flag.as_str() {
                    "--out" => args.out = PathBuf::from(value(&mut raw, &flag)?),
                    "--stack-state" => args.stack_state = PathBuf::from(value(&mut raw, &flag)?),
                    "--build-info" => {
                        args.build_info = Some(PathBuf::from(value(&mut raw, &flag)?));
                    }
                    "--binaries" => args.binaries = PathBuf::from(value(&mut raw, &flag)?),
                    "--only" => {
                        args.only = Some(
                            value(&mut raw, &flag)?
                                .split(',')
                                .map(str::to_owned)
                                .collect(),
                        );
                    }
                    other => return Err(format!("unknown argument {other}\n{USAGE}")),
                }
            }
            run::run(&args).await
        }
        Some("soak") => {
            let (mut state, mut out, mut events) = (
                PathBuf::from(".local/run/soak"),
                PathBuf::from("bench/results/soak.json"),
                soak::EVENTS,
            );
            while let Some(flag) = raw.next() {
                match flag.as_str() {
                    "--stack-state" => state = PathBuf::from(value(&mut raw, &flag)?),
                    "--out" => out = PathBuf::from(value(&mut raw, &flag)?),
                    "--events" => {
                        events = value(&mut raw, &flag)?
                            .parse()
                            .map_err(|e| format!("--events: {e}"))?;
                    }
                    other => return Err(format!("unknown argument {other}\n{USAGE}")),
                }
            }
            soak::run(&state, &out, events).await.map(|_| ())
        }
        Some("chaos") => {
            let (mut state, mut out) = (
                PathBuf::from(".local/run/chaos"),
                PathBuf::from("bench/results/chaos.json"),
            );
            while let Some(flag) = raw.next() {
                match flag.as_str() {
                    "--stack-state" => state = PathBuf::from(value(&mut raw, &flag)?),
                    "--out" => out = PathBuf::from(value(&mut raw, &flag)?),
                    other => return Err(format!("unknown argument {other}\n{USAGE}")),
                }
            }
            chaos::run(&state, &out).await.map(|_| ())
        }
        _ => Err(USAGE.to_owned()),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match main_result().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bench: {message}");
            ExitCode::FAILURE
        }
    }
}
