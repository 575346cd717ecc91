//! What each operation takes and answers, for the OpenAPI document. The statuses every
//! operation of a kind shares (a body's 400/413/415, a key's 401/403, a page's 400/422) are
//! added by `super`; here is only what is particular to one operation.

use super::schemas::{Schemas, page, schema};
use crate::api::wire::*;
use crate::http::routes::Operation;
use crate::model::EventBody;
use crate::model::delivery::Attempt;
use utoipa::openapi::{RefOr, Schema};

/// A query parameter an operation reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Query {
    /// `limit` and `cursor` of a listing.
    Page,
    /// A `noun.verb` filter under this name.
    EventType(&'static str),
}

/// One operation, as the document describes it.
pub struct Doc {
    pub id: &'static str,
    pub summary: &'static str,
    /// The request body's schema, and whether a body is required.
    pub body: Option<(RefOr<Schema>, bool)>,
    pub status: u16,
    pub answer: &'static str,
    /// The success body's schema; `None` for 204.
    pub returns: Option<RefOr<Schema>>,
    /// Error statuses beyond the shared ones.
    pub errors: &'static [u16],
    pub query: &'static [Query],
    /// Reads the `Idempotency-Key` header.
    pub idempotency_key: bool,
}

fn doc(id: &'static str, summary: &'static str, status: u16, answer: &'static str) -> Doc {
    Doc {
        id,
        summary,
        body: None,
        status,
        answer,
        returns: None,
        errors: &[],
        query: &[],
        idempotency_key: false,
    }
}

impl Doc {
    fn takes(mut self, body: RefOr<Schema>, required: bool) -> Self {
        self.body = Some((body, required));
        self
    }

    fn returns(mut self, body: RefOr<Schema>) -> Self {
        self.returns = Some(body);
        self
    }

    fn errors(mut self, errors: &'static [u16]) -> Self {
        self.errors = errors;
        self
    }

    fn query(mut self, query: &'static [Query]) -> Self {
        self.query = query;
        self
    }
}

/// The description of `operation`; registers the schemas it names in `schemas`.
#[allow(clippy::too_many_lines)] // one arm per operation, each a few lines
pub fn describe(operation: Operation, schemas: &mut Schemas) -> Doc {
    use Operation as O;
    let s = schemas;
    match operation {
        O::Health => doc("health", "Whether the API is up", 200, "The API is up")
            .returns(schema::<Health>(s)),
        O::OpenApi => doc("openapi", "This document", 200, "The OpenAPI 3.1 document")
            .returns(RefOr::T(Schema::Object(
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::Type::Object)
                    .build(),
            ))),
        O::CreateAccount => doc(
            "createAccount",
            "Creates an account (admin key only); its API key is shown once",
            201,
            "Created",
        )
        .takes(schema::<NewAccount>(s), true)
        .returns(schema::<AccountWithKey>(s))
        .errors(&[422]),
        O::UpdateAccount => doc(
            "updateAccount",
            "Disables or enables an account (admin key only): while disabled none of its keys is accepted",
            200,
            "The account",
        )
        .takes(schema::<AccountChanges>(s), true)
        .returns(schema::<AccountOut>(s))
        .errors(&[404, 409, 422]),
        O::CreateApiKey => doc(
            "createApiKey",
            "Creates another API key of the account; the key is shown once",
            201,
            "Created",
        )
        .takes(schema::<NewApiKey>(s), true)
        .returns(schema::<ApiKeyWithSecret>(s))
        .errors(&[409, 422]),
        O::ListApiKeys => doc(
            "listApiKeys",
            "Lists the account's API keys, oldest first (prefix, name, created, last used; never the key)",
            200,
            "A page of API keys",
        )
        .returns(page::<ApiKeyOut>(s))
        .query(&[Query::Page]),
        O::RevokeApiKey => doc(
            "revokeApiKey",
            "Revokes an API key: refused from the next request on (not the account's last key)",
            204,
            "Revoked",
        )
        .errors(&[404, 409]),
        O::RedriveDeadLetters => doc(
            "redriveDeadLetters",
            "Moves deliveries from the dead-letter queue back onto the delivery queue (admin key only)",
            202,
            "Redrive started or done",
        )
        .returns(schema::<Redriven>(s)),
        O::CreateUser => doc("createUser", "Creates a user; emits user.created", 201, "Created")
            .takes(schema::<NewUser>(s), true)
            .returns(schema::<UserOut>(s))
            .errors(&[409, 422]),
        O::ListUsers => doc("listUsers", "Lists users, newest first", 200, "A page of users")
            .returns(page::<UserOut>(s))
            .query(&[Query::Page]),
        O::GetUser => doc("getUser", "Reads a user", 200, "The user")
            .returns(schema::<UserOut>(s))
            .errors(&[404]),
        O::UpdateUser => doc(
            "updateUser",
            "Renames a user or sets its password; emits user.updated",
            200,
            "Updated",
        )
        .takes(schema::<UserChanges>(s), true)
        .returns(schema::<UserOut>(s))
        .errors(&[404, 409, 422]),
        O::DeleteUser => doc("deleteUser", "Deletes a user; emits user.deleted", 204, "Deleted")
            .errors(&[404]),
        O::LikePhoto => doc(
            "likePhoto",
            "Adds one like and emits photo.liked, atomically",
            202,
            "Liked",
        )
        .returns(schema::<LikeOut>(s))
        .errors(&[422, 503]),
        O::GetPhoto => doc("getPhoto", "Reads a photo's like count", 200, "The photo")
            .returns(schema::<PhotoOut>(s))
            .errors(&[404, 422]),
        O::CreateSubscription => doc(
            "createSubscription",
            "Subscribes a URL to event types",
            201,
            "Created, with its signing secret",
        )
        .takes(schema::<NewSubscription>(s), true)
        .returns(schema::<SubscriptionWithSecret>(s))
        .errors(&[422]),
        O::ListSubscriptions => doc(
            "listSubscriptions",
            "Lists subscriptions, newest first; with event_type, those it would go to",
            200,
            "A page of subscriptions",
        )
        .returns(page::<SubscriptionOut>(s))
        .query(&[Query::Page, Query::EventType("event_type")]),
        O::GetSubscription => doc("getSubscription", "Reads a subscription", 200, "The subscription")
            .returns(schema::<SubscriptionOut>(s))
            .errors(&[404]),
        O::UpdateSubscription => doc(
            "updateSubscription",
            "Changes a subscription's URL, event types, description or active flag",
            200,
            "Updated",
        )
        .takes(schema::<SubscriptionChanges>(s), true)
        .returns(schema::<SubscriptionOut>(s))
        .errors(&[404, 409, 422]),
        O::DeleteSubscription => {
            doc("deleteSubscription", "Deletes a subscription", 204, "Deleted").errors(&[404])
        }
        O::GetSecret => doc("getSecret", "Reads the signing secret", 200, "The signing secret")
            .returns(schema::<SecretOut>(s))
            .errors(&[404]),
        O::RotateSecret => doc(
            "rotateSecret",
            "A new signing secret; the previous one keeps signing beside it for 24 hours",
            200,
            "The new secret",
        )
        .returns(schema::<SecretOut>(s))
        .errors(&[404, 409]),
        O::VerifySubscription => doc(
            "verifySubscription",
            "Asks the receiver to prove intent again: a webhook.verification event with a new challenge; the subscription is pending_verification, and gets nothing else, until the receiver echoes it",
            202,
            "Sent",
        )
        .returns(schema::<VerificationSent>(s))
        .errors(&[404, 409]),
        O::TestSubscription => doc(
            "testSubscription",
            "Sends a webhook.test event to this subscription only",
            202,
            "Queued",
        )
        .returns(schema::<EventAccepted>(s))
        .errors(&[404]),
        O::TestAllSubscriptions => doc(
            "testAllSubscriptions",
            "Sends one webhook.test event to every active subscription, whatever its event types",
            202,
            "Queued: the event, and to how many subscriptions it goes",
        )
        .returns(schema::<TestSent>(s)),
        O::ReplaySubscription => doc(
            "replaySubscription",
            "Queues every stored event from since to until (default now) that the subscription gets for one more delivery, off the request path; the same window again queues nothing",
            202,
            "The replay: how many events it queues, and whether it was asked before",
        )
        .takes(schema::<ReplayRequest>(s), true)
        .returns(schema::<ReplayOut>(s))
        .errors(&[404, 409, 422]),
        O::ListAttempts => doc(
            "listAttempts",
            "A subscription's delivery attempts, newest event first",
            200,
            "A page of attempts",
        )
        .returns(page::<Attempt>(s))
        .errors(&[404])
        .query(&[Query::Page]),
        O::PublishEvent => Doc {
            idempotency_key: true,
            ..doc(
                "publishEvent",
                "Publishes a custom event",
                202,
                "Accepted (or, with a key used in the last 24 h, the first event)",
            )
            .takes(schema::<NewEvent>(s), true)
            .returns(schema::<EventAccepted>(s))
            .errors(&[422])
        },
        O::ListEvents => doc("listEvents", "Lists events, newest first", 200, "A page of events")
            .returns(page::<EventBody>(s))
            .query(&[Query::Page, Query::EventType("type")]),
        O::GetSampleEvents => doc(
            "getSampleEvents",
            "Whether the account gets order.received sample events, and how often",
            200,
            "The setting",
        )
        .returns(schema::<SampleEventsOut>(s)),
        O::PutSampleEvents => doc(
            "putSampleEvents",
            "Turns order.received sample events on (every period_seconds, 5 to 3600; emitted when the deployment's SampleEvents parameter is on) or off",
            200,
            "The setting",
        )
        .takes(schema::<SampleEventsSettings>(s), true)
        .returns(schema::<SampleEventsOut>(s))
        .errors(&[422]),
        O::CreatePortalSession => doc(
            "createPortalSession",
            "A one-time link to the web portal (valid 15 minutes) for the account's customers: opening it signs a browser in for session_seconds, to the whole account or only the subscriptions named",
            201,
            "Created",
        )
        .takes(schema::<NewPortalSession>(s), false)
        .returns(schema::<PortalLinkOut>(s))
        .errors(&[422]),
        O::ListEventTypes => doc(
            "listEventTypes",
            "Lists the event types: the platform's own (description, JSON Schema of data, example) on the first page, then those the account published (first and last seen)",
            200,
            "A page of event types",
        )
        .returns(page::<EventTypeOut>(s))
        .query(&[Query::Page]),
        O::GetEvent => doc("getEvent", "Reads an event with its deliveries", 200, "The event")
            .returns(schema::<EventWithDeliveries>(s))
            .errors(&[404]),
        O::ResendEvent => doc(
            "resendEvent",
            "Queues a fresh delivery to one subscription, or to every active subscription the event matches",
            202,
            "Queued",
        )
        .takes(schema::<ResendRequest>(s), false)
        .returns(schema::<Resent>(s))
        .errors(&[404]),
    }
}
