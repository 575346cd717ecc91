//! The template's `Schedule` events, run locally: each one that is on under the stack's
//! parameters invokes its function at its rate, with an EventBridge scheduled event, as
//! EventBridge would (`devstack serve` starts them; `SAMPLE_EVENTS=on make dev` turns the
//! sample event generator's on).

use crate::invoke::Invoker;
use crate::template::Template;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// A function invoked on a schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheduled {
    pub function: String,
    pub every: Duration,
}

/// The duration of `rate(N unit)` (minutes, hours or days).
#[must_use]
pub fn rate(expression: &str) -> Option<Duration> {
    let inner = expression.trim().strip_prefix("rate(")?.strip_suffix(')')?;
    let (count, unit) = inner.trim().split_once(' ')?;
    let count: u64 = count.parse().ok().filter(|n| *n > 0)?;
    let seconds = match unit.trim().trim_end_matches('s') {
        "minute" => 60,
        "hour" => 3600,
        "day" => 86_400,
        _ => return None,
    };
    Some(Duration::from_secs(count * seconds))
}

/// Whether the template's condition `name` holds: `Fn::Equals` of parameters and literals, and
/// `Fn::Not` of that (the forms the template uses).
fn holds(template: &Template, name: &str, parameters: &BTreeMap<String, String>) -> Option<bool> {
    fn value(v: &Value, parameters: &BTreeMap<String, String>) -> Option<String> {
        match v {
            Value::Object(o) => parameters.get(o.get("Ref")?.as_str()?).cloned(),
            Value::String(s) => Some(s.clone()),
            _ => None,
        }
    }
    fn eval(c: &Value, parameters: &BTreeMap<String, String>) -> Option<bool> {
        if let Some([a, b]) = c
            .get("Fn::Equals")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            return Some(value(a, parameters)? == value(b, parameters)?);
        }
        let [inner] = c.get("Fn::Not")?.as_array()?.as_slice() else {
            return None;
        };
        eval(inner, parameters).map(|b| !b)
    }
    eval(&template.root()["Conditions"][name], parameters)
}

/// The schedules that are on: `State` `ENABLED` (or absent), or an `Fn::If` whose condition
/// holds under `parameters` (over the template's defaults).
///
/// # Errors
/// A schedule whose expression or state cannot be read.
pub fn schedules(
    template: &Template,
    parameters: &BTreeMap<String, String>,
) -> Result<Vec<Scheduled>, String> {
    let mut values = template.parameter_defaults();
    values.extend(parameters.clone());
    let mut found = Vec::new();
    for function in template.functions().map_err(|e| e.to_string())? {
        for (name, event) in &function.events {
            if event.kind != "Schedule" {
                continue;
            }
            let what = format!("{}.{name}", function.logical_id);
            let expression = event.properties.get("Schedule").and_then(Value::as_str);
            let every = expression
                .and_then(rate)
                .ok_or_else(|| format!("{what}: only rate(N minutes|hours|days) runs locally"))?;
            let on = match event.properties.get("State") {
                None => true,
                Some(Value::String(state)) => state == "ENABLED",
                Some(state) => {
                    let [condition, yes, no] = state["Fn::If"]
                        .as_array()
                        .map(Vec::as_slice)
                        .unwrap_or_default()
                    else {
                        return Err(format!("{what}: State is neither a string nor Fn::If"));
                    };
                    let holds = condition
                        .as_str()
                        .and_then(|c| holds(template, c, &values))
                        .ok_or_else(|| format!("{what}: its condition cannot be evaluated"))?;
                    (if holds { yes } else { no }) == "ENABLED"
                }
            };
            if on {
                found.push(Scheduled {
                    function: function.binary.clone(),
                    every,
                });
            }
        }
    }
    Ok(found)
}

/// Invokes each schedule's function at the start of each of its periods, forever.
pub async fn run<I: Invoker>(scheduled: Vec<Scheduled>, invoker: Arc<I>) {
    let runs = scheduled.into_iter().map(|s| {
        let invoker = Arc::clone(&invoker);
        async move {
            loop {
                let now = chrono::Utc::now();
                let every = s.every.as_millis().max(1);
                let into = u128::try_from(now.timestamp_millis()).unwrap_or_default() % every;
                let wait = u64::try_from(every - into).unwrap_or(u64::MAX);
                tokio::time::sleep(Duration::from_millis(wait)).await;
                let event = json!({
                    "version": "0",
                    "id": uuid_like(),
                    "detail-type": "Scheduled Event",
                    "source": "aws.events",
                    "account": "123456789012",
                    "time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    "region": "us-east-1",
                    "resources": [],
                    "detail": {}
                });
                if let Err(error) = invoker.invoke(&s.function, event).await {
                    tracing::warn!(function = %s.function, %error, "a scheduled invocation failed");
                }
            }
        }
    });
    futures::future::join_all(runs).await;
}

fn uuid_like() -> String {
    let nanos = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default();
    format!(
        "{:08x}-0000-4000-8000-{:012x}",
        nanos >> 32,
        nanos & 0xffff_ffff_ffff
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(rate("rate(1 minute)"), Some(Duration::from_secs(60)));
        assert_eq!(rate("rate(5 minutes)"), Some(Duration::from_secs(300)));
        assert_eq!(rate("rate(2 hours)"), Some(Duration::from_secs(7200)));
        for bad in [
            "rate(0 minutes)",
            "cron(0 * * * ? *)",
            "rate(1 second)",
            "rate(minute)",
        ] {
            assert_eq!(rate(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_sample_schedule_runs_only_when_its_parameter_is_on() {
        let template = Template::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../template.yaml"
        )))
        .unwrap();
        assert!(
            schedules(&template, &BTreeMap::new()).unwrap().is_empty(),
            "off by default"
        );
        let on = BTreeMap::from([("SampleEvents".to_owned(), "on".to_owned())]);
        assert_eq!(
            schedules(&template, &on).unwrap(),
            [Scheduled {
                function: "samples".into(),
                every: Duration::from_secs(60)
            }]
        );
    }
}
