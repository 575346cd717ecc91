//! One contract, two stores: every store port behaves the same on the in-memory adapter (what
//! the handler tests use) and on DynamoDB Local (what Lambda uses). Each contract is a generic
//! function over the ports, run once against each.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod catalog;
#[path = "../common/mod.rs"]
mod common;
mod contracts;
mod deliveries;
mod keys;
mod portal;
mod replays;
mod streams;
mod support;

/// A test per store for a contract of `contracts` or `deliveries`.
macro_rules! on_both_stores {
    ($($module:ident :: $contract:ident),* $(,)?) => {$(
        mod $contract {
            #[tokio::test]
            async fn memory() {
                let store = shared::adapters::memory::MemoryStore::new();
                crate::$module::$contract(&store).await;
            }

            #[tokio::test]
            async fn dynamodb() {
                let store = crate::support::dynamo_store().await;
                crate::$module::$contract(&store).await;
            }
        }
    )*};
}

on_both_stores!(
    catalog::event_types_keep_their_first_sighting_and_move_forward,
    replays::a_window_lists_its_events_oldest_first_and_a_replay_is_written_once,
    contracts::accounts_are_found_by_key_hash_only,
    keys::keys_are_revoked_and_accounts_disabled_at_once,
    contracts::usernames_are_unique_per_account_and_changes_are_checked,
    contracts::users_are_paged_in_id_order_and_cursors_are_checked,
    contracts::likes_move_only_from_the_expected_count,
    contracts::subscriptions_update_only_from_what_was_read,
    contracts::subscriptions_are_listed_by_matching_filter,
    contracts::idempotency_keys_return_the_first_event,
    contracts::events_are_listed_newest_first_and_by_type,
    deliveries::matching_subscriptions_include_inactive_ones,
    deliveries::recorded_deliveries_are_read_back,
    deliveries::failing_marks_keep_their_first_time,
    deliveries::deactivation_is_recorded_with_its_event_once_and_a_missing_subscription_is_no_error,
    deliveries::one_write_records_many_deliveries_and_writes_never_overwrite,
    portal::links_are_taken_once_and_sessions_kept_until_ended,
    portal::attempts_are_read_by_event_and_since_a_time,
);
