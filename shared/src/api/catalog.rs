//! The event-type catalog: the platform's own types, each with what it means, the JSON Schema of
//! its `data` generated from the Rust type that builds it, and an example built from that type;
//! then the types the account published, with when they were first and last seen.

use super::base::{Api, PageRequest};
use super::wire::{EventTypeOut, PageOut, PhotoLiked, UserOut, WebhookTest};
use crate::api::error::ApiResult;
use crate::domain::event_type::is_built_in;
use crate::domain::sample_orders::{self, ORDER_RECEIVED};
use crate::model::operational::{
    SUBSCRIPTION_DISABLED, SubscriptionDisabled, WEBHOOK_VERIFICATION, WebhookVerification,
};
use crate::model::sample_order::OrderReceived;
use crate::model::{AccountId, SeenEventType, SubscriptionId, Timestamp, UserId};
use crate::ports::Stores;
use crate::ports::delivery::DeliveryQueue;
use crate::ports::resolver::Resolver;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// One of the platform's own event types.
pub struct BuiltIn {
    pub event_type: &'static str,
    pub description: &'static str,
    /// The JSON Schema of its `data`.
    pub schema: fn() -> Value,
    /// An example `data`.
    pub example: fn() -> Value,
}

/// Every type the platform emits itself (`domain::event_type::BUILT_IN`, in that order), described.
pub const BUILT_IN: &[BuiltIn] = &[
    BuiltIn {
        event_type: "user.created",
        description: "A user was created (POST /api/v1/users). The data is the user; never its password.",
        schema: json_schema::<UserOut>,
        example: || example(&sample_user()),
    },
    BuiltIn {
        event_type: "user.updated",
        description: "A user's username or password changed (PUT /api/v1/users/{id}). The data is the user after the change.",
        schema: json_schema::<UserOut>,
        example: || example(&sample_user()),
    },
    BuiltIn {
        event_type: "user.deleted",
        description: "A user was deleted (DELETE /api/v1/users/{id}). The data is the user as it was.",
        schema: json_schema::<UserOut>,
        example: || example(&sample_user()),
    },
    BuiltIn {
        event_type: "photo.liked",
        description: "A photo was liked (POST /api/v1/photos/{photo_id}/likes); likes is the count after this like.",
        schema: json_schema::<PhotoLiked>,
        example: || {
            example(&PhotoLiked {
                photo_id: "sunset-42".into(),
                likes: 7,
                liked_at: sample_time(),
            })
        },
    },
    BuiltIn {
        event_type: ORDER_RECEIVED,
        description: "A sample order, emitted at the period an account set with PUT /api/v1/sample-events (when the deployment's SampleEvents parameter is on): test a receiver against a steady stream. Amounts are in minor units; sample is always true.",
        schema: json_schema::<OrderReceived>,
        example: || {
            example(&sample_orders::order(&[
                1, 2, 3, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 2,
            ]))
        },
    },
    BuiltIn {
        event_type: "webhook.test",
        description: "A test: to one subscription (POST /api/v1/subscriptions/{id}/test, naming it) or to every active one (POST /api/v1/subscriptions/test).",
        schema: json_schema::<WebhookTest>,
        example: || {
            example(&WebhookTest {
                subscription_id: Some(SubscriptionId::from_parts(SAMPLE_MS, 2)),
                message: "This is a test event.",
            })
        },
    },
    BuiltIn {
        event_type: WEBHOOK_VERIFICATION,
        description: "Asks a subscription created with verify (or POST /api/v1/subscriptions/{id}/verify) to prove intent: answer it 2xx with data.challenge as the body, or {\"challenge\": …}, and the subscription becomes active.",
        schema: json_schema::<WebhookVerification>,
        example: || {
            example(&WebhookVerification {
                subscription_id: SubscriptionId::from_parts(SAMPLE_MS, 2),
                challenge: "ch_Qm9vdHN0cmFwcGVkIGNoYWxsZW5nZSBleGFtcGxl".into(),
            })
        },
    },
    BuiltIn {
        event_type: SUBSCRIPTION_DISABLED,
        description: "The platform turned one of the account's subscriptions off: its endpoint answered 410 Gone, or every delivery failed for too long (5 days by default). Turn it on again with PATCH {\"active\": true}.",
        schema: json_schema::<SubscriptionDisabled>,
        example: || {
            example(&SubscriptionDisabled {
                subscription_id: SubscriptionId::from_parts(SAMPLE_MS, 2),
                url: "https://hooks.example.com/in".into(),
                reason: "the endpoint answered 410 Gone".into(),
                disabled_at: sample_time(),
            })
        },
    },
];

/// When the examples happen: 2026-01-01T00:00:00Z.
const SAMPLE_MS: u64 = 1_767_225_600_000;

fn sample_time() -> Timestamp {
    Timestamp::from_unix_millis(i64::try_from(SAMPLE_MS).unwrap_or_default())
        .unwrap_or_else(Timestamp::now)
}

fn sample_user() -> UserOut {
    UserOut {
        id: UserId::from_parts(SAMPLE_MS, 1),
        username: "ada".into(),
        created_at: sample_time(),
        updated_at: sample_time(),
    }
}

fn example(data: &impl Serialize) -> Value {
    serde_json::to_value(data).unwrap_or_default()
}

/// `T`'s schema as a standalone JSON Schema: the schemas it names under `$defs`.
#[must_use]
pub fn json_schema<T: ToSchema>() -> Value {
    let mut named = Vec::new();
    T::schemas(&mut named);
    let mut root = serde_json::to_value(T::schema()).unwrap_or_default();
    let defs: Map<String, Value> = named
        .into_iter()
        .filter_map(|(name, schema)| Some((name, serde_json::to_value(schema).ok()?)))
        .collect();
    if let Value::Object(object) = &mut root {
        object.insert(
            "$schema".into(),
            "https://json-schema.org/draft/2020-12/schema".into(),
        );
        if !defs.is_empty() {
            object.insert("$defs".into(), Value::Object(defs));
        }
    }
    point_refs_at_defs(&mut root);
    root
}

/// OpenAPI's `#/components/schemas/X` references as `#/$defs/X`.
fn point_refs_at_defs(value: &mut Value) {
    match value {
        Value::Object(object) => {
            for (key, inner) in object.iter_mut() {
                match inner {
                    Value::String(target) if key == "$ref" => {
                        if let Some(name) = target.strip_prefix("#/components/schemas/") {
                            *target = format!("#/$defs/{name}");
                        }
                    }
                    _ => point_refs_at_defs(inner),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(point_refs_at_defs),
        _ => {}
    }
}

impl From<&BuiltIn> for EventTypeOut {
    fn from(built_in: &BuiltIn) -> Self {
        Self {
            event_type: built_in.event_type.to_owned(),
            builtin: true,
            description: Some(built_in.description),
            schema: Some((built_in.schema)()),
            example: Some((built_in.example)()),
            first_seen: None,
            last_seen: None,
        }
    }
}

impl From<SeenEventType> for EventTypeOut {
    fn from(seen: SeenEventType) -> Self {
        Self {
            event_type: seen.event_type,
            builtin: false,
            description: None,
            schema: None,
            example: None,
            first_seen: Some(seen.first_seen),
            last_seen: Some(seen.last_seen),
        }
    }
}

impl<S, R, Q> Api<S, R, Q>
where
    S: Stores,
    R: Resolver,
    Q: DeliveryQueue,
{
    /// The catalog: on the first page every built-in type (beyond `limit`), then the types the
    /// account published, by name, `limit` to a page.
    ///
    /// # Errors
    /// A forged cursor; storage failure.
    pub async fn list_event_types(
        &self,
        account: &AccountId,
        page: PageRequest,
    ) -> ApiResult<PageOut<EventTypeOut>> {
        let seen = self
            .store
            .list_event_types(account, page.limit, page.cursor.as_deref())
            .await?;
        let mut data: Vec<EventTypeOut> = if page.cursor.is_none() {
            BUILT_IN.iter().map(EventTypeOut::from).collect()
        } else {
            Vec::new()
        };
        data.extend(
            seen.items
                .into_iter()
                .filter(|t| !is_built_in(&t.event_type))
                .map(EventTypeOut::from),
        );
        Ok(PageOut {
            data,
            next_cursor: seen.next_cursor,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_are_standalone_and_refer_to_their_defs() {
        let user = json_schema::<UserOut>();
        assert_eq!(
            user["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        let text = user.to_string();
        assert!(!text.contains("#/components/"), "{text}");
        for required in ["id", "username", "created_at", "updated_at"] {
            assert!(
                user["required"]
                    .as_array()
                    .is_some_and(|r| r.contains(&required.into())),
                "{required}: {text}"
            );
        }
    }

    #[test]
    fn every_built_in_type_is_a_type_and_listed_once() {
        for (i, built_in) in BUILT_IN.iter().enumerate() {
            assert!(crate::domain::event_type::is_event_type(
                built_in.event_type
            ));
            assert!(
                !BUILT_IN[..i]
                    .iter()
                    .any(|b| b.event_type == built_in.event_type)
            );
            assert!((built_in.example)().is_object());
        }
    }
}
