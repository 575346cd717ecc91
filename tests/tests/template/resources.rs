//! Queues, event sources, tables, alarms, outputs and samconfig.toml.

use crate::support::*;
use serde_json::{Value, json};
use shared::domain::retry::RetrySchedule;

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
            if event.kind == "Schedule" {
                // The sample generator: once a minute, only when the SampleEvents parameter is on.
                assert_eq!(f.binary, "samples", "{name}");
                assert_eq!(event.properties["Schedule"], "rate(1 minute)");
                assert_eq!(
                    event.properties["State"],
                    json!({"Fn::If": ["SampleEventsOn", "ENABLED", "DISABLED"]})
                );
                assert_eq!(
                    template.root()["Parameters"]["SampleEvents"]["Default"],
                    "off"
                );
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
                        json!(["event", "replay_part"])
                    );
                }
                "SQS" => {
                    assert!(
                        (1..=10).contains(&number(&template, &p["BatchSize"])),
                        "{name}"
                    );
                    if p["Queue"] == json!({"Fn::GetAtt": ["DeliveryQueue", "Arn"]}) {
                        assert_eq!(
                            p["ScalingConfig"]["MaximumConcurrency"],
                            json!({"Ref": "DeliveryMaxConcurrency"})
                        );
                    } else {
                        // fanout again, for the stream batches it gave up on: a day of tries
                        // (the stream keeps records 24 h), then the fan-out dead-letter queue.
                        assert_eq!(
                            p["Queue"],
                            json!({"Fn::GetAtt": ["FanoutFailureQueue", "Arn"]})
                        );
                        let queue = &resource(&template, "FanoutFailureQueue")["Properties"];
                        let visibility = number(&template, &queue["VisibilityTimeout"]);
                        let receives =
                            number(&template, &queue["RedrivePolicy"]["maxReceiveCount"]);
                        assert!(
                            visibility * receives >= 86_400,
                            "{visibility} s × {receives}"
                        );
                        assert_eq!(
                            queue["RedrivePolicy"]["deadLetterTargetArn"],
                            json!({"Fn::GetAtt": ["FanoutDeadLetterQueue", "Arn"]})
                        );
                    }
                }
                other => panic!("{name}: unexpected event source {other}"),
            }
        }
    }
    assert_eq!(
        sources, 3,
        "the stream, the delivery queue and the fan-out failure queue"
    );
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
