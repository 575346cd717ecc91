//! The OpenAPI 3.1 document of the whole API, generated: its paths from the route table
//! ([`super::routes::ROUTES`]), its schemas from the request and response types
//! ([`crate::api::wire`]), what each operation takes and answers from [`operations`].

mod operations;
mod schemas;

use super::problem::ProblemBody;
use super::routes::{Access, ROUTES, Route, path_parameters};
use crate::domain::event_type;
use crate::model::{EventId, SubscriptionId, UserId};
use operations::{Doc, Query, describe};
use schemas::{Schemas, schema};
use std::collections::BTreeMap;
use utoipa::PartialSchema;
use utoipa::openapi::path::{OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, HttpMethod, InfoBuilder, ObjectBuilder, OpenApi,
    OpenApiBuilder, PathItem, PathsBuilder, Ref, RefOr, Required, Schema, ServerBuilder, Type,
};

const JSON: &str = "application/json";
const PROBLEM_JSON: &str = "application/problem+json";
const SECURITY: &str = "bearer";

/// API Gateway's own refusal body, before any function runs.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // describes a body API Gateway writes, never this code
struct GatewayMessage {
    #[schema(examples("Unauthorized", "Forbidden"))]
    message: String,
}

fn json_content(schema: RefOr<Schema>) -> utoipa::openapi::Content {
    ContentBuilder::new().schema(Some(schema)).build()
}

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

/// The document, built once per process.
#[must_use]
pub fn document() -> &'static serde_json::Value {
    static DOCUMENT: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    DOCUMENT.get_or_init(|| serde_json::to_value(build()).unwrap_or_default())
}

/// Builds the document.
#[must_use]
pub fn build() -> OpenApi {
    let mut schemas = Schemas::new();
    let mut paths = BTreeMap::<&str, PathItem>::new();
    for route in ROUTES {
        let doc = describe(route.operation, &mut schemas);
        let operation = operation(route, doc);
        let method = http_method(route.method);
        match paths.get_mut(route.path) {
            Some(item) => item.merge_operations(PathItem::new(method, operation)),
            None => {
                paths.insert(route.path, PathItem::new(method, operation));
            }
        }
    }
    schema::<ProblemBody<'static>>(&mut schemas);
    schema::<GatewayMessage>(&mut schemas);
    let problem = || json_content(RefOr::Ref(Ref::from_schema_name("Problem")));
    let gateway = || json_content(RefOr::Ref(Ref::from_schema_name("GatewayMessage")));
    let components = ComponentsBuilder::new()
        .schemas_from_iter(schemas)
        .response(
            "Problem",
            ResponseBuilder::new()
                .description("An RFC 9457 problem")
                .content(PROBLEM_JSON, problem())
                .build(),
        )
        .response(
            "Unauthorized",
            ResponseBuilder::new()
                .description(
                    "No usable key. Through API Gateway, a request without an Authorization \
                     header is refused by the gateway itself with {\"message\": \"Unauthorized\"} \
                     before any function runs; a function invoked directly without its \
                     authorizer's context answers a problem.",
                )
                .content(JSON, gateway())
                .content(PROBLEM_JSON, problem())
                .build(),
        )
        .response(
            "Forbidden",
            ResponseBuilder::new()
                .description(
                    "The key matches no account and is not the admin key: API Gateway's own \
                     answer after the authorizer refused it (cached per key for 5 minutes).",
                )
                .content(JSON, gateway())
                .build(),
        )
        .security_scheme(
            SECURITY,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An account API key (rhk_…), or the admin key for the admin routes",
                    ))
                    .build(),
            ),
        )
        .build();
    let mut builder = PathsBuilder::new();
    for (path, item) in paths {
        builder = builder.path(path, item);
    }
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("rusthook API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Accounts, users, photo likes, subscriptions and events. Every error a \
                     function answers is application/problem+json; API Gateway's own refusals \
                     (no route, no key, an unknown key) are {\"message\": ...}.",
                ))
                .build(),
        )
        .servers(Some([ServerBuilder::new().url("/").build()]))
        .paths(builder.build())
        .components(Some(components))
        .security(Some([SecurityRequirement::new(
            SECURITY,
            Vec::<String>::new(),
        )]))
        .build()
}

fn http_method(method: &str) -> HttpMethod {
    match method {
        "POST" => HttpMethod::Post,
        "PUT" => HttpMethod::Put,
        "PATCH" => HttpMethod::Patch,
        "DELETE" => HttpMethod::Delete,
        _ => HttpMethod::Get,
    }
}

fn operation(route: &Route, doc: Doc) -> utoipa::openapi::path::Operation {
    let mut builder = OperationBuilder::new()
        .operation_id(Some(doc.id))
        .summary(Some(doc.summary));
    for name in path_parameters(route.path) {
        let schema: RefOr<Schema> = match (name, route.path.split('/').nth(3)) {
            ("photo_id", _) => string().pattern(Some("^[A-Za-z0-9_.-]{1,100}$")).into(),
            (_, Some("users")) => UserId::schema(),
            (_, Some("subscriptions")) => SubscriptionId::schema(),
            (_, Some("events")) => EventId::schema(),
            _ => string().into(),
        };
        builder = builder.parameter(
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(schema)),
        );
    }
    for query in doc.query {
        builder = match query {
            Query::Page => builder
                .parameter(
                    ParameterBuilder::new()
                        .name("limit")
                        .parameter_in(ParameterIn::Query)
                        .schema(Some(
                            ObjectBuilder::new()
                                .schema_type(Type::Integer)
                                .minimum(Some(1))
                                .maximum(Some(crate::api::MAX_PAGE as f64))
                                .default(Some(crate::api::DEFAULT_PAGE.into())),
                        )),
                )
                .parameter(
                    ParameterBuilder::new()
                        .name("cursor")
                        .parameter_in(ParameterIn::Query)
                        .description(Some("next_cursor of the previous page"))
                        .schema(Some(
                            string()
                                .min_length(Some(1))
                                .max_length(Some(crate::model::MAX_CURSOR_LEN))
                                .pattern(Some("^[A-Za-z0-9_-]+$")),
                        )),
                ),
            Query::EventType(name) => builder.parameter(
                ParameterBuilder::new()
                    .name(*name)
                    .parameter_in(ParameterIn::Query)
                    .description(Some("Only those for this event type (noun.verb)"))
                    .schema(Some(
                        string()
                            .max_length(Some(event_type::MAX_LEN))
                            .pattern(Some(event_type::EVENT_TYPE_PATTERN)),
                    )),
            ),
        };
    }
    if doc.idempotency_key {
        builder = builder.parameter(
            ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .description(Some(
                    "Publishing again with a key used in the last 24 hours creates nothing and \
                     answers the first event",
                ))
                .schema(Some(
                    string()
                        .min_length(Some(1))
                        .max_length(Some(crate::api::IDEMPOTENCY_KEY_MAX))
                        .pattern(Some("^[!-~]+$")),
                )),
        );
    }
    let errors = error_statuses(route, &doc);
    if let Some((body, required)) = doc.body {
        builder = builder.request_body(Some(
            RequestBodyBuilder::new()
                .required(Some(if required {
                    Required::True
                } else {
                    Required::False
                }))
                .content(JSON, json_content(body))
                .build(),
        ));
    }
    let mut success = ResponseBuilder::new().description(doc.answer);
    if let Some(returns) = doc.returns {
        success = success.content(JSON, json_content(returns));
    }
    builder = builder.response(doc.status.to_string(), success.build());
    for status in errors {
        let name = match status {
            401 => "Unauthorized",
            403 => "Forbidden",
            _ => "Problem",
        };
        builder = builder.response(
            status.to_string(),
            RefOr::Ref(Ref::from_response_name(name)),
        );
    }
    if route.access == Access::Open {
        builder = builder.securities(Some(Vec::<SecurityRequirement>::new()));
    }
    builder.build()
}

/// The error statuses of a route: those its kind shares, and its own.
fn error_statuses(route: &Route, doc: &Doc) -> std::collections::BTreeSet<u16> {
    let mut statuses: std::collections::BTreeSet<u16> = doc.errors.iter().copied().collect();
    if doc.body.is_some() {
        statuses.extend([400, 413, 415]);
    }
    if route.access != Access::Open {
        statuses.extend([401, 403]);
    }
    if doc.query.contains(&Query::Page) {
        statuses.extend([400, 422]);
    }
    statuses
}
