//! The contract of the stream reader (`fanout` reads a batch it gave up on again): on DynamoDB
//! Local's streams and in memory. Each gets three records of one shard and must give back a
//! batch's records by sequence number, both ends included, and refuse what it cannot read.

use crate::common::fresh_stack;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use serde_json::{Value, json};
use shared::adapters::dynamodb_streams::{DynamoStreams, lambda_record};
use shared::adapters::memory::MemoryStreams;
use shared::model::StreamBatch;
use shared::ports::streams::StreamReader;

fn sequence(record: &Value) -> String {
    record["dynamodb"]["SequenceNumber"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn a_batch_is_read_again_by_sequence_number<R: StreamReader>(
    reader: &R,
    arn: &str,
    shard: &str,
    records: &[Value],
) {
    assert_eq!(records.len(), 3);
    let batch = |from: &Value, to: &Value| StreamBatch {
        stream_arn: arn.to_owned(),
        shard_id: shard.to_owned(),
        start_sequence_number: sequence(from),
        end_sequence_number: sequence(to),
    };
    let read = reader.read(&batch(&records[1], &records[2])).await.unwrap();
    assert_eq!(read, records[1..]);
    let read = reader.read(&batch(&records[0], &records[0])).await.unwrap();
    assert_eq!(read, records[..1]);
    let read = reader.read(&batch(&records[0], &records[2])).await.unwrap();
    assert_eq!(read, records);
    let mut elsewhere = batch(&records[0], &records[2]);
    elsewhere.shard_id = "shardId-00000000000000000000-00000000".into();
    assert!(reader.read(&elsewhere).await.is_err(), "another shard");
}

#[tokio::test]
async fn memory() {
    let reader = MemoryStreams::default();
    let records: Vec<Value> = (1..=3)
        .map(|n| json!({"eventName": "INSERT", "dynamodb": {"SequenceNumber": format!("{:021}", n * 100)}}))
        .collect();
    reader.push(
        "shardId-1",
        json!({"dynamodb": {"SequenceNumber": "000000000000000000050"}}),
    );
    for record in &records {
        reader.push("shardId-1", record.clone());
    }
    reader.push(
        "shardId-1",
        json!({"dynamodb": {"SequenceNumber": "000000000000000000400"}}),
    );
    a_batch_is_read_again_by_sequence_number(&reader, "arn:stream", "shardId-1", &records).await;
    reader.trim();
    let gone = StreamBatch {
        stream_arn: "arn:stream".into(),
        shard_id: "shardId-1".into(),
        start_sequence_number: sequence(&records[0]),
        end_sequence_number: sequence(&records[0]),
    };
    assert!(reader.read(&gone).await.is_err(), "no longer in the stream");
}

#[tokio::test]
async fn dynamodb() {
    let (clients, stack) = fresh_stack("streams", &[]).await;
    let table = stack.table("EventsTable").unwrap().name.clone();
    for n in 0..5 {
        clients
            .dynamodb
            .put_item()
            .table_name(&table)
            .item("pk", AttributeValue::S("ACC#streams".into()))
            .item("sk", AttributeValue::S(format!("EVT#{n}")))
            .send()
            .await
            .unwrap();
    }
    let arn = clients
        .dynamodb
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .unwrap()
        .table
        .unwrap()
        .latest_stream_arn
        .unwrap();
    let shard = clients
        .streams
        .describe_stream()
        .stream_arn(&arn)
        .send()
        .await
        .unwrap()
        .stream_description
        .unwrap()
        .shards
        .unwrap()
        .remove(0)
        .shard_id
        .unwrap();
    let iterator = clients
        .streams
        .get_shard_iterator()
        .stream_arn(&arn)
        .shard_id(&shard)
        .shard_iterator_type(ShardIteratorType::TrimHorizon)
        .send()
        .await
        .unwrap()
        .shard_iterator
        .unwrap();
    let all: Vec<Value> = clients
        .streams
        .get_records()
        .shard_iterator(iterator)
        .send()
        .await
        .unwrap()
        .records
        .unwrap()
        .iter()
        .map(|r| lambda_record(r, &arn, &clients.region))
        .collect();
    assert_eq!(all.len(), 5, "{all:?}");
    let reader = DynamoStreams::new(clients.streams.clone(), clients.region.clone());
    a_batch_is_read_again_by_sequence_number(&reader, &arn, &shard, &all[1..4]).await;
}
