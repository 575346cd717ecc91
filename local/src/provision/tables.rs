//! A `AWS::DynamoDB::Table` of the template, created on DynamoDB Local: keys, indexes,
//! stream and TTL as declared.

use super::clients::Clients;
use super::error::{ProvisionError, aws_error, definition};
use aws_sdk_dynamodb::types as ddb;
use serde_json::{Map, Value};

/// A created table.
#[derive(Debug, Clone)]
pub struct TableInfo {
    pub name: String,
    pub arn: String,
    pub stream_arn: Option<String>,
}

pub(super) fn str_field<'a>(
    id: &str,
    object: &'a Value,
    key: &str,
) -> Result<&'a str, ProvisionError> {
    object[key]
        .as_str()
        .ok_or_else(|| definition(id, format!("{key} missing or not a string")))
}

fn key_schema(id: &str, value: &Value) -> Result<Vec<ddb::KeySchemaElement>, ProvisionError> {
    value
        .as_array()
        .ok_or_else(|| definition(id, "KeySchema is not a list"))?
        .iter()
        .map(|element| {
            ddb::KeySchemaElement::builder()
                .attribute_name(str_field(id, element, "AttributeName")?)
                .key_type(ddb::KeyType::from(str_field(id, element, "KeyType")?))
                .build()
                .map_err(|e| definition(id, e.to_string()))
        })
        .collect()
}

fn projection(id: &str, value: &Value) -> Result<ddb::Projection, ProvisionError> {
    let mut builder = ddb::Projection::builder();
    if let Some(kind) = value["ProjectionType"].as_str() {
        builder = builder.projection_type(ddb::ProjectionType::from(kind));
    }
    for attribute in value["NonKeyAttributes"].as_array().into_iter().flatten() {
        let name = attribute
            .as_str()
            .ok_or_else(|| definition(id, "NonKeyAttributes entry is not a string"))?;
        builder = builder.non_key_attributes(name);
    }
    Ok(builder.build())
}

pub(super) async fn create_table(
    clients: &Clients,
    name: &str,
    id: &str,
    properties: &Map<String, Value>,
) -> Result<TableInfo, ProvisionError> {
    let get = |key: &str| properties.get(key).unwrap_or(&Value::Null);
    let mut request = clients
        .dynamodb
        .create_table()
        .table_name(name)
        .set_key_schema(Some(key_schema(id, get("KeySchema"))?))
        .billing_mode(ddb::BillingMode::from(
            get("BillingMode").as_str().unwrap_or("PROVISIONED"),
        ));
    for attribute in get("AttributeDefinitions").as_array().into_iter().flatten() {
        request = request.attribute_definitions(
            ddb::AttributeDefinition::builder()
                .attribute_name(str_field(id, attribute, "AttributeName")?)
                .attribute_type(ddb::ScalarAttributeType::from(str_field(
                    id,
                    attribute,
                    "AttributeType",
                )?))
                .build()
                .map_err(|e| definition(id, e.to_string()))?,
        );
    }
    for index in get("GlobalSecondaryIndexes")
        .as_array()
        .into_iter()
        .flatten()
    {
        request = request.global_secondary_indexes(
            ddb::GlobalSecondaryIndex::builder()
                .index_name(str_field(id, index, "IndexName")?)
                .set_key_schema(Some(key_schema(id, &index["KeySchema"])?))
                .projection(projection(id, &index["Projection"])?)
                .build()
                .map_err(|e| definition(id, e.to_string()))?,
        );
    }
    for index in get("LocalSecondaryIndexes")
        .as_array()
        .into_iter()
        .flatten()
    {
        request = request.local_secondary_indexes(
            ddb::LocalSecondaryIndex::builder()
                .index_name(str_field(id, index, "IndexName")?)
                .set_key_schema(Some(key_schema(id, &index["KeySchema"])?))
                .projection(projection(id, &index["Projection"])?)
                .build()
                .map_err(|e| definition(id, e.to_string()))?,
        );
    }
    if let Some(view) = get("StreamSpecification")["StreamViewType"].as_str() {
        request = request.stream_specification(
            ddb::StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(ddb::StreamViewType::from(view))
                .build()
                .map_err(|e| definition(id, e.to_string()))?,
        );
    }
    if request.get_billing_mode() == &Some(ddb::BillingMode::Provisioned) {
        request = request.provisioned_throughput(
            ddb::ProvisionedThroughput::builder()
                .read_capacity_units(5)
                .write_capacity_units(5)
                .build()
                .map_err(|e| definition(id, e.to_string()))?,
        );
    }
    match request.send().await {
        Ok(_) => {}
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) => {}
        Err(error) => return Err(aws_error(id, "CreateTable", &error)),
    }

    let ttl = get("TimeToLiveSpecification");
    if ttl["Enabled"].as_bool() == Some(true) {
        let attribute = str_field(id, ttl, "AttributeName")?;
        let spec = ddb::TimeToLiveSpecification::builder()
            .enabled(true)
            .attribute_name(attribute)
            .build()
            .map_err(|e| definition(id, e.to_string()))?;
        // A second provisioning of the same table finds TTL already on: nothing to do.
        let current = clients
            .dynamodb
            .describe_time_to_live()
            .table_name(name)
            .send()
            .await
            .map_err(|e| aws_error(id, "DescribeTimeToLive", &e))?;
        let on = current.time_to_live_description().is_some_and(|d| {
            d.attribute_name() == Some(attribute)
                && matches!(
                    d.time_to_live_status(),
                    Some(ddb::TimeToLiveStatus::Enabled | ddb::TimeToLiveStatus::Enabling)
                )
        });
        if !on {
            clients
                .dynamodb
                .update_time_to_live()
                .table_name(name)
                .time_to_live_specification(spec)
                .send()
                .await
                .map_err(|e| aws_error(id, "UpdateTimeToLive", &e))?;
        }
    }

    let described = clients
        .dynamodb
        .describe_table()
        .table_name(name)
        .send()
        .await
        .map_err(|e| aws_error(id, "DescribeTable", &e))?;
    let table = described
        .table
        .ok_or_else(|| definition(id, "DescribeTable returned no table"))?;
    Ok(TableInfo {
        name: name.to_owned(),
        arn: table.table_arn.unwrap_or_default(),
        stream_arn: table.latest_stream_arn,
    })
}
