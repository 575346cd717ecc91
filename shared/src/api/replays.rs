//! Replays (Svix's "recover"): every stored event of a window that a subscription gets, queued
//! again for it. The request finds the events (ids only) and writes the replay with its parts in
//! one transaction; fan-out turns each part into deliveries from the events stream. The same
//! window asked again answers the first replay and queues nothing.

use super::base::{Api, reject_invalid};
use super::wire::{ReplayOut, ReplayRequest};
use crate::api::error::{ApiError, ApiResult, FieldError};
use crate::model::{AccountId, Replay, ReplayPart, SubscriptionId, Timestamp, now};
use crate::ports::Stores;
use crate::ports::delivery::DeliveryQueue;
use crate::ports::recipients::goes_to;
use crate::ports::resolver::Resolver;

/// The most events one replay queues; a window holding more must be narrowed.
pub const MAX_REPLAY_EVENTS: usize = 10_000;

/// The id of a replay of `subscription` over `since`..`until` (`None`: up to when it was asked).
fn replay_id(
    account: &AccountId,
    subscription: &SubscriptionId,
    since: Timestamp,
    until: Option<Timestamp>,
) -> String {
    use sha2::{Digest, Sha256};
    let until = until.map_or_else(|| "now".to_owned(), |t| t.unix_millis().to_string());
    let key = format!(
        "{account}\n{subscription}\n{}\n{until}",
        since.unix_millis()
    );
    let digest = Sha256::digest(key.as_bytes());
    let hex: String = digest.iter().take(13).map(|b| format!("{b:02x}")).collect();
    format!("rpl_{hex}")
}

/// `since` and `until` read and checked: `until` defaults to `now` and is held to it.
fn window(input: &ReplayRequest, now: Timestamp) -> ApiResult<(Timestamp, Option<Timestamp>)> {
    let mut errors = Vec::new();
    let since = Timestamp::parse(&input.since);
    if since.is_none() {
        errors.push(FieldError::new("since", "must be an RFC 3339 time"));
    }
    let until = match input.until.as_deref().map(Timestamp::parse) {
        Some(None) => {
            errors.push(FieldError::new("until", "must be an RFC 3339 time"));
            None
        }
        Some(Some(until)) => Some(until.min(now)),
        None => None,
    };
    if let Some(since) = since
        && since >= until.unwrap_or(now)
    {
        errors.push(FieldError::new(
            "until",
            "must be after since (and since before now)",
        ));
    }
    reject_invalid(errors)?;
    Ok((since.unwrap_or(now), until))
}

impl<S, R, Q> Api<S, R, Q>
where
    S: Stores,
    R: Resolver,
    Q: DeliveryQueue,
{
    /// Replays a window of the account's events to one active subscription.
    ///
    /// # Errors
    /// No such subscription (404); it is not active (409); a bad window, or one holding more
    /// than [`MAX_REPLAY_EVENTS`] of its events (422); storage failure.
    pub async fn replay(
        &self,
        account: &AccountId,
        id: &SubscriptionId,
        input: ReplayRequest,
    ) -> ApiResult<ReplayOut> {
        let now = now();
        let (since, asked_until) = window(&input, now)?;
        let subscription = self.subscription(account, id).await?;
        if !subscription.active {
            return Err(ApiError::Conflict(
                "the subscription is not active: activate it before a replay".into(),
            ));
        }
        let until = asked_until.unwrap_or(now);
        let keep = |head: &crate::model::EventHead| goes_to(head, &subscription);
        let heads = self
            .store
            .event_heads(account, since, until, &keep, MAX_REPLAY_EVENTS + 1)
            .await?;
        if heads.len() > MAX_REPLAY_EVENTS {
            return Err(ApiError::invalid(
                "since",
                format!(
                    "the window holds more than {MAX_REPLAY_EVENTS} events for this subscription: narrow it"
                ),
            ));
        }
        let replay = Replay {
            id: replay_id(account, id, since, asked_until),
            account_id: *account,
            subscription_id: *id,
            since,
            until,
            events: heads.len(),
            created_at: now,
        };
        let parts: Vec<ReplayPart> = heads
            .chunks(ReplayPart::MAX_EVENTS)
            .zip(0..)
            .map(|(chunk, part)| ReplayPart {
                replay_id: replay.id.clone(),
                part,
                account_id: *account,
                subscription_id: *id,
                version: subscription.updated_at,
                event_ids: chunk.iter().map(|h| h.id).collect(),
            })
            .collect();
        Ok(match self.store.start_replay(&replay, &parts).await? {
            None => ReplayOut::of(replay, false),
            Some(earlier) => ReplayOut::of(earlier, true),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap_or_else(now)
    }

    #[test]
    fn a_window_is_checked_and_held_to_now() {
        let now = at("2026-12-03T12:00:00Z");
        let ask = |since: &str, until: Option<&str>| {
            window(
                &ReplayRequest {
                    since: since.into(),
                    until: until.map(str::to_owned),
                },
                now,
            )
        };
        assert!(matches!(ask("2026-12-03T11:00:00Z", None), Ok((_, None))));
        let Ok((_, Some(until))) = ask("2026-12-03T11:00:00Z", Some("2027-01-01T00:00:00Z")) else {
            panic!("a future until is now");
        };
        assert_eq!(until, now);
        for (since, until) in [
            ("yesterday", None),
            ("2026-12-03T11:00:00Z", Some("soon")),
            ("2026-12-03T11:00:00Z", Some("2026-12-03T10:00:00Z")),
            ("2026-12-04T00:00:00Z", None),
        ] {
            assert!(
                matches!(ask(since, until), Err(ApiError::Validation(_))),
                "{since} {until:?}"
            );
        }
    }

    #[test]
    fn a_replay_id_names_its_subscription_and_window() {
        let (account, subscription) = (
            AccountId::from_parts(1, 1),
            SubscriptionId::from_parts(1, 1),
        );
        let since = at("2026-12-03T11:00:00Z");
        let id = replay_id(&account, &subscription, since, None);
        assert!(id.starts_with("rpl_") && id.len() == 30, "{id}");
        assert_eq!(id, replay_id(&account, &subscription, since, None));
        let later = Some(at("2026-12-03T12:00:00Z"));
        assert_ne!(id, replay_id(&account, &subscription, since, later));
        let other = SubscriptionId::from_parts(1, 2);
        assert_ne!(id, replay_id(&account, &other, since, None));
    }
}
