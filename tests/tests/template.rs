//! What the code relies on, checked in `template.yaml` (and `samconfig.toml`) itself: the things
//! `sam validate --lint` cannot know (which variables a function reads, that the queue's receive
//! count is the retry schedule's attempts, that `FunctionResponseTypes` is a value Lambda accepts
//! — cfn-lint lets an invalid one through). Routes are checked in routes.rs, local resources
//! against these definitions in local_stack.rs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use devstack::template::{FunctionDef, Template, scalar_string};
use serde_json::{Value, json};
use shared::domain::retry::RetrySchedule;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn template() -> Template {
    Template::load(&root().join("template.yaml")).unwrap()
}

fn function(template: &Template, binary: &str) -> FunctionDef {
    template
        .functions()
        .unwrap()
        .into_iter()
        .find(|f| f.binary == binary)
        .unwrap_or_else(|| panic!("template.yaml has no function building {binary}"))
}

/// A property of a function, its own value or else the Globals' one.
fn property(template: &Template, function: &FunctionDef, name: &str) -> Value {
    let own = &template.root()["Resources"][&function.logical_id]["Properties"][name];
    if own.is_null() {
        template.root()["Globals"]["Function"][name].clone()
    } else {
        own.clone()
    }
}

fn resource<'a>(template: &'a Template, id: &str) -> &'a Value {
    let resource = &template.root()["Resources"][id];
    assert!(!resource.is_null(), "template.yaml has no resource {id}");
    resource
}

/// A number that is either literal or a `Ref` to a parameter (then its default).
fn number(template: &Template, value: &Value) -> u64 {
    let text = match value.get("Ref") {
        Some(Value::String(parameter)) => template.parameter_defaults()[parameter].clone(),
        _ => scalar_string(value).unwrap_or_else(|| panic!("{value} is not a number")),
    };
    text.parse()
        .unwrap_or_else(|_| panic!("{text} is not a number"))
}

/// The logical ids a value refers to (`Ref`, `Fn::GetAtt`), anywhere inside it.
fn references(value: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(id)) = map.get("Ref") {
                found.insert(id.clone());
            }
            if let Some(Value::Array(parts)) = map.get("Fn::GetAtt")
                && let Some(Value::String(id)) = parts.first()
            {
                found.insert(id.clone());
            }
            map.values().for_each(|v| references(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, found)),
        _ => {}
    }
}

const FUNCTIONS: [(&str, &[&str]); 5] = [
    ("authorizer", authorizer::ENVIRONMENT),
    ("resources", resources::ENVIRONMENT),
    ("subscriptions", subscriptions::ENVIRONMENT),
    ("fanout", fanout::ENVIRONMENT),
    ("deliver", deliver::ENVIRONMENT),
];

#[test]
fn every_function_is_built_and_run_the_same_way() {
    let template = template();
    let functions = template.functions().unwrap();
    assert_eq!(
        functions
            .iter()
            .map(|f| f.binary.as_str())
            .collect::<BTreeSet<_>>(),
        FUNCTIONS.iter().map(|(b, _)| *b).collect::<BTreeSet<_>>(),
        "the template's functions are the workspace's function crates"
    );
    let architecture = &template.root()["Parameters"]["Architecture"];
    assert_eq!(architecture["Default"], "arm64");
    assert_eq!(architecture["AllowedValues"], json!(["arm64", "x86_64"]));
    for f in &functions {
        let resource = resource(&template, &f.logical_id);
        let id = &f.logical_id;
        assert_eq!(
            resource["Metadata"]["BuildMethod"], "rust-cargolambda",
            "{id}"
        );
        assert!(
            root()
                .join("functions")
                .join(&f.binary)
                .join("src/main.rs")
                .exists(),
            "{id}: Binary {} is not a crate under functions/",
            f.binary
        );
        assert_eq!(
            resource["Properties"]["CodeUri"], ".",
            "{id}: one shared target dir"
        );
        assert_eq!(property(&template, f, "Runtime"), "provided.al2023", "{id}");
        assert_eq!(property(&template, f, "Handler"), "bootstrap", "{id}");
        assert_eq!(
            property(&template, f, "Architectures"),
            json!([{"Ref": "Architecture"}]),
            "{id}"
        );
        assert_eq!(property(&template, f, "Tracing"), "Active", "{id}");
        assert_eq!(
            property(&template, f, "LoggingConfig")["LogFormat"],
            "JSON",
            "{id}"
        );
        let memory = number(&template, &property(&template, f, "MemorySize"));
        let timeout = number(&template, &property(&template, f, "Timeout"));
        assert!(
            (128..=10_240).contains(&memory),
            "{id}: MemorySize {memory}"
        );
        assert!((1..=900).contains(&timeout), "{id}: Timeout {timeout}");
    }
}

#[test]
fn each_function_gets_the_variables_it_reads_and_local_development_flags_only_empty() {
    let template = template();
    // The AWS SDK reads the endpoint variables every function declares for `sam local invoke`.
    let known: BTreeSet<&str> = FUNCTIONS
        .iter()
        .flat_map(|(_, vars)| vars.iter().copied())
        .chain(shared::aws::LOCAL_ENDPOINT_VARS.iter().copied())
        .chain(["ALLOW_HTTP_TARGETS", "ALLOWED_TARGET_CIDRS"])
        .collect();
    for (binary, needs) in FUNCTIONS {
        let f = function(&template, binary);
        let set: BTreeSet<&str> = f.environment.keys().map(String::as_str).collect();
        for name in needs {
            assert!(
                set.contains(name),
                "{binary} reads {name}; template.yaml does not set it"
            );
        }
        for name in &set {
            assert!(
                known.contains(name),
                "{binary}: {name} is set but no function reads it"
            );
        }
        // Declared (empty) so that `sam local invoke --env-vars` can set them; deployed, the
        // strict default holds.
        for flag in ["ALLOW_HTTP_TARGETS", "ALLOWED_TARGET_CIDRS"] {
            if let Some(value) = f.environment.get(flag) {
                assert_eq!(value, "", "{binary}: {flag} is for local development only");
            }
        }
    }
    // The admin key is generated by the stack and kept in Secrets Manager: no parameter to type,
    // never a literal; the function gets the secret's ARN and may read only that secret.
    assert!(
        template.root()["Parameters"]
            .as_object()
            .is_none_or(|p| p.keys().all(|k| !k.contains("Key"))),
        "no key is a parameter"
    );
    let secret = &resource(&template, "AdminApiKeySecret");
    assert_eq!(secret["Type"], "AWS::SecretsManager::Secret");
    assert!(
        secret["Properties"]["GenerateSecretString"]["PasswordLength"]
            .as_u64()
            .is_some_and(|n| n >= 32)
    );
    assert_eq!(
        function(&template, "subscriptions").environment["ADMIN_API_KEY_SECRET"],
        json!({"Ref": "AdminApiKeySecret"})
    );
    let policies =
        resource(&template, "SubscriptionsFunction")["Properties"]["Policies"].to_string();
    assert!(
        policies.contains(
            r#"{"AWSSecretsManagerGetSecretValuePolicy":{"SecretArn":{"Ref":"AdminApiKeySecret"}}}"#
        ),
        "{policies}"
    );
}

#[test]
fn the_delivery_queue_matches_the_retry_schedule_and_the_deliver_timeout() {
    let template = template();
    let defaults = template.parameter_defaults();
    let schedule = RetrySchedule::parse(&defaults["RetrySchedule"]).unwrap();
    let attempts: u32 = defaults["DeliveryAttempts"].parse().unwrap();
    assert_eq!(
        attempts,
        schedule.attempts(),
        "DeliveryAttempts = RetrySchedule entries + 1"
    );

    let queue = &resource(&template, "DeliveryQueue")["Properties"];
    assert_eq!(
        queue["RedrivePolicy"]["maxReceiveCount"],
        json!({"Ref": "DeliveryAttempts"}),
        "SQS moves a message to the DLQ after exactly the schedule's attempts"
    );
    assert_eq!(
        queue["RedrivePolicy"]["deadLetterTargetArn"],
        json!({"Fn::GetAtt": ["DeliveryDeadLetterQueue", "Arn"]})
    );
    let deliver = function(&template, "deliver");
    assert_eq!(
        deliver.environment["DELIVERY_ATTEMPTS"],
        json!({"Ref": "DeliveryAttempts"})
    );
    assert_eq!(
        deliver.environment["RETRY_SCHEDULE"],
        json!({"Ref": "RetrySchedule"})
    );

    let timeout = number(&template, &property(&template, &deliver, "Timeout"));
    let visibility = number(&template, &queue["VisibilityTimeout"]);
    assert!(
        visibility >= 6 * timeout,
        "VisibilityTimeout {visibility} < 6 x deliver Timeout {timeout}"
    );
    // deliver's own request timeout (15 s by default) must end well inside the function's.
    assert!(
        timeout >= 2 * 15,
        "deliver Timeout {timeout} leaves no room after a 15 s request"
    );

    // A message lives on the queue for the whole retry window (jitter up to +20 %, plus each
    // attempt's own time), and SQS keeps its first enqueue time when it moves it to the DLQ.
    let waits: u64 = (1..attempts)
        .map(|attempt| schedule.scheduled(attempt).unwrap().as_secs())
        .sum();
    let window: u64 = waits * 6 / 5 + u64::from(attempts) * timeout;
    let retention = number(&template, &queue["MessageRetentionPeriod"]);
    assert!(
        retention > window,
        "retention {retention} s <= retry window {window} s"
    );
    let dlq = &resource(&template, "DeliveryDeadLetterQueue")["Properties"];
    assert!(number(&template, &dlq["MessageRetentionPeriod"]) >= retention);
    for q in [queue, dlq] {
        assert!(
            q["MaximumMessageSize"].is_number(),
            "MaximumMessageSize set explicitly"
        );
    }
}

#[test]
fn event_sources_report_batch_item_failures_and_are_bounded() {
    let template = template();
    let mut sources = 0;
    for f in template.functions().unwrap() {
        for (name, event) in &f.events {
            if event.kind == "HttpApi" {
                continue;
            }
            sources += 1;
            let p = &event.properties;
            // The only value Lambda accepts; cfn-lint does not check it.
            assert_eq!(
                p["FunctionResponseTypes"],
                json!(["ReportBatchItemFailures"]),
                "{name}"
            );
            match event.kind.as_str() {
                "DynamoDB" => {
                    assert_eq!(
                        p["Stream"],
                        json!({"Fn::GetAtt": ["EventsTable", "StreamArn"]})
                    );
                    assert!((1..=10_000).contains(&number(&template, &p["BatchSize"])));
                    assert_eq!(p["BisectBatchOnFunctionError"], true, "{name}");
                    assert!((0..=10_000).contains(&number(&template, &p["MaximumRetryAttempts"])));
                    assert!(
                        (60..=604_800)
                            .contains(&number(&template, &p["MaximumRecordAgeInSeconds"]))
                    );
                    assert_eq!(
                        p["DestinationConfig"]["OnFailure"]["Destination"],
                        json!({"Fn::GetAtt": ["FanoutFailureQueue", "Arn"]})
                    );
                    let pattern = p["FilterCriteria"]["Filters"][0]["Pattern"]
                        .as_str()
                        .unwrap();
                    let pattern: Value = serde_json::from_str(pattern).unwrap();
                    assert_eq!(pattern["eventName"], json!(["INSERT"]));
                    assert_eq!(
                        pattern["dynamodb"]["NewImage"]["entity"]["S"],
                        json!(["event"])
                    );
                }
                "SQS" => {
                    assert_eq!(p["Queue"], json!({"Fn::GetAtt": ["DeliveryQueue", "Arn"]}));
                    assert!(
                        (1..=10).contains(&number(&template, &p["BatchSize"])),
                        "{name}"
                    );
                    assert_eq!(
                        p["ScalingConfig"]["MaximumConcurrency"],
                        json!({"Ref": "DeliveryMaxConcurrency"})
                    );
                }
                other => panic!("{name}: unexpected event source {other}"),
            }
        }
    }
    assert_eq!(sources, 2, "the stream and the delivery queue");
}

#[test]
fn tables_are_on_demand_recoverable_and_expire_records() {
    let template = template();
    let tables: Vec<_> = template.resources_of_type("AWS::DynamoDB::Table").collect();
    assert_eq!(tables.len(), 2);
    for (id, p) in tables {
        assert_eq!(p["BillingMode"], "PAY_PER_REQUEST", "{id}");
        assert_eq!(
            p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], true,
            "{id}"
        );
        assert_eq!(p["TimeToLiveSpecification"]["Enabled"], true, "{id}");
        assert_eq!(
            p["TimeToLiveSpecification"]["AttributeName"],
            shared::adapters::dynamodb::TTL_ATTRIBUTE,
            "{id}"
        );
    }
    let view =
        &resource(&template, "EventsTable")["Properties"]["StreamSpecification"]["StreamViewType"];
    assert!(
        view == "NEW_IMAGE" || view == "NEW_AND_OLD_IMAGES",
        "{view}"
    );
}

#[test]
fn policies_name_exactly_the_tables_and_queues_each_function_uses() {
    let template = template();
    let storage: BTreeSet<String> = template
        .resources()
        .filter(|(_, r)| {
            [
                "AWS::DynamoDB::Table",
                "AWS::SQS::Queue",
                "AWS::SecretsManager::Secret",
            ]
            .contains(&r["Type"].as_str().unwrap_or_default())
        })
        .map(|(id, _)| id.to_owned())
        .collect();
    for f in template.functions().unwrap() {
        let properties = &resource(&template, &f.logical_id)["Properties"];
        let mut granted = BTreeSet::new();
        for policy in properties["Policies"].as_array().unwrap() {
            let text = policy.to_string();
            assert!(
                !text.contains("\"*\""),
                "{}: a wildcard resource in {policy}",
                f.logical_id
            );
            references(policy, &mut granted);
        }
        let mut used = BTreeSet::new();
        references(&Value::Object(f.environment.clone()), &mut used);
        for event in f.events.values() {
            // Lambda writes to the on-failure destination with the function's role.
            if let Some(destination) = event.properties.get("DestinationConfig") {
                references(destination, &mut used);
            }
        }
        let used: BTreeSet<_> = used.intersection(&storage).cloned().collect();
        assert_eq!(
            granted, used,
            "{}: policies vs the resources it uses",
            f.logical_id
        );
    }
}

#[test]
fn alarms_watch_the_dead_letters_and_the_stream_lag_and_outputs_say_where_things_are() {
    let template = template();
    let alarms: Vec<_> = template
        .resources_of_type("AWS::CloudWatch::Alarm")
        .collect();
    let watches = |metric: &str, dimension: Value| {
        alarms.iter().any(|(_, p)| {
            p["MetricName"] == metric
                && p["Dimensions"][0]["Value"] == dimension
                && !p["AlarmActions"].as_array().is_none_or(Vec::is_empty)
        })
    };
    assert!(watches(
        "ApproximateNumberOfMessagesVisible",
        json!({"Fn::GetAtt": ["DeliveryDeadLetterQueue", "QueueName"]})
    ));
    let dlq_alarm = alarms
        .iter()
        .find(|(_, p)| p["Dimensions"][0]["Value"]["Fn::GetAtt"][0] == "DeliveryDeadLetterQueue")
        .unwrap()
        .1;
    assert_eq!(dlq_alarm["Threshold"], 0);
    assert_eq!(dlq_alarm["ComparisonOperator"], "GreaterThanThreshold");
    let fanout = function(&template, "fanout");
    assert!(watches("IteratorAge", json!({"Ref": fanout.logical_id})));

    let outputs = template.root()["Outputs"].as_object().unwrap();
    for name in [
        "ApiUrl",
        "DataTableName",
        "EventsTableName",
        "DeliveryQueueUrl",
        "DeliveryDeadLetterQueueUrl",
        "AlarmTopicArn",
    ] {
        assert!(outputs.contains_key(name), "output {name}");
    }
}

#[test]
fn samconfig_has_default_and_prod_environments() {
    let template = template();
    let parameters = template.root()["Parameters"].as_object().unwrap();
    for (name, parameter) in parameters {
        assert!(
            parameter.get("Default").is_some(),
            "{name}: a first deploy must not ask for it"
        );
    }
    let text = std::fs::read_to_string(root().join("samconfig.toml")).unwrap();
    let config: toml::Table = toml::from_str(&text).unwrap();
    for environment in ["default", "prod"] {
        let e = &config[environment];
        assert!(
            e["global"]["parameters"]["stack_name"].is_str(),
            "{environment}"
        );
        let deploy = &e["deploy"]["parameters"];
        assert_eq!(deploy["resolve_s3"].as_bool(), Some(true), "{environment}");
        // A first deploy works as typed: a region, no prompt, no parameter without a default.
        assert!(
            deploy["region"].as_str().is_some_and(|r| !r.is_empty()),
            "{environment}"
        );
        assert_eq!(
            deploy["confirm_changeset"].as_bool(),
            Some(false),
            "{environment}"
        );
        assert_eq!(
            deploy["fail_on_empty_changeset"].as_bool(),
            Some(false),
            "{environment}"
        );
        assert!(deploy.get("parameter_overrides").is_none(), "{environment}");
        assert!(
            deploy["capabilities"]
                .as_str()
                .unwrap()
                .contains("CAPABILITY_IAM")
        );
        let build = &e["build"]["parameters"];
        // Explicitly off: SAM's cache hashes target/ (see the comment in samconfig.toml).
        assert_eq!(build["cached"].as_bool(), Some(false), "{environment}");
        assert_eq!(
            build["beta_features"].as_bool(),
            Some(true),
            "{environment}"
        );
        assert_eq!(build["parallel"].as_bool(), Some(true), "{environment}");
        assert_eq!(
            e["validate"]["parameters"]["lint"].as_bool(),
            Some(true),
            "{environment}"
        );
    }
}

#[test]
fn every_route_but_health_and_the_openapi_document_needs_the_key_authorizer() {
    let template = template();
    let api = &resource(&template, "HttpApi")["Properties"]["Auth"];
    assert_eq!(api["DefaultAuthorizer"], "ApiKeyAuthorizer");
    let authorizer = &api["Authorizers"]["ApiKeyAuthorizer"];
    assert_eq!(
        authorizer["FunctionArn"],
        serde_json::json!({"Fn::GetAtt": ["AuthorizerFunction", "Arn"]})
    );
    assert_eq!(authorizer["AuthorizerPayloadFormatVersion"], "2.0");
    assert_eq!(authorizer["EnableSimpleResponses"], true);
    assert_eq!(
        authorizer["EnableFunctionDefaultPermissions"], true,
        "API Gateway may invoke it"
    );
    assert_eq!(
        authorizer["Identity"]["Headers"],
        serde_json::json!(["Authorization"])
    );
    assert!(authorizer["Identity"]["ReauthorizeEvery"].as_u64().unwrap() > 0);
    let open: BTreeSet<String> = template
        .http_routes()
        .unwrap()
        .into_iter()
        .filter(|r| r.authorizer.is_none())
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    let open_in_the_route_table: BTreeSet<String> = shared::http::ROUTES
        .iter()
        .filter(|r| r.access == shared::http::Access::Open)
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(open, open_in_the_route_table);
    assert_eq!(
        open,
        BTreeSet::from([
            "GET /api/v1/health".to_owned(),
            "GET /api/v1/openapi.json".to_owned()
        ])
    );
}

#[test]
fn the_sam_local_endpoint_variables_are_inert_when_deployed() {
    let template = template();
    let globals = &template.root()["Globals"]["Function"]["Environment"]["Variables"];
    for name in shared::aws::LOCAL_ENDPOINT_VARS {
        let expected = if *name == shared::aws::IGNORE_ENDPOINT_URLS {
            "true"
        } else {
            ""
        };
        assert_eq!(globals[*name], expected, "{name}");
    }
}
