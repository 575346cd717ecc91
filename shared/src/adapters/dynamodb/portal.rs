//! Portal links and sessions: one item each in the data table, `PORTAL#<token hash>` / `LINK`
//! or `SESSION`, the record as JSON text beside its expiry in the TTL attribute (DynamoDB
//! removes it within days of that; reads check the expiry themselves).

use super::calls::{store_error, unless_condition_failed, written};
use super::codec::{Item, TTL_ATTRIBUTE, s};
use super::keys;
use super::store::DynamoStore;
use crate::model::{Account, AccountId, PortalLink, PortalSession, Timestamp};
use crate::ports::portal::PortalStore;
use crate::ports::{StoreError, StoreResult};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use serde::Serialize;
use serde::de::DeserializeOwned;

const RECORD: &str = "record";

fn portal_item<T: Serialize>(
    token_hash: &str,
    sk: &str,
    value: &T,
    expires_at: Timestamp,
) -> StoreResult<Item> {
    let text = serde_json::to_string(value)
        .map_err(|e| StoreError::Backend(format!("serialise portal record: {e}")))?;
    Ok(Item::from([
        ("pk".to_owned(), s(keys::portal(token_hash))),
        ("sk".to_owned(), s(sk)),
        ("entity".to_owned(), s("portal")),
        (RECORD.to_owned(), s(text)),
        (
            TTL_ATTRIBUTE.to_owned(),
            AttributeValue::N(expires_at.unix_seconds().to_string()),
        ),
    ]))
}

fn from_item<T: DeserializeOwned>(item: &Item) -> StoreResult<T> {
    let text = item
        .get(RECORD)
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| StoreError::Backend("portal item without its record".into()))?;
    serde_json::from_str(text)
        .map_err(|e| StoreError::Backend(format!("deserialise portal record: {e}")))
}

impl DynamoStore {
    /// Puts a link or session, never over another (`Conflict`).
    async fn put_portal_item(&self, item: Item) -> StoreResult<()> {
        let result = self
            .client
            .put_item()
            .table_name(&self.data_table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        if written(result)? {
            Ok(())
        } else {
            Err(StoreError::Conflict)
        }
    }
}

impl PortalStore for DynamoStore {
    async fn put_portal_link(&self, token_hash: &str, link: &PortalLink) -> StoreResult<()> {
        let item = portal_item(
            token_hash,
            keys::PORTAL_LINK_SK,
            link,
            link.grant.expires_at,
        )?;
        self.put_portal_item(item).await
    }

    async fn take_portal_link(&self, token_hash: &str) -> StoreResult<Option<PortalLink>> {
        // A conditional delete is atomic: of two callers at once, one deletes the item (and gets
        // it back), the other's condition fails.
        let result = self
            .client
            .delete_item()
            .table_name(&self.data_table)
            .key("pk", s(keys::portal(token_hash)))
            .key("sk", s(keys::PORTAL_LINK_SK))
            .condition_expression("attribute_exists(pk)")
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        unless_condition_failed(result)?
            .and_then(|output| output.attributes)
            .as_ref()
            .map(from_item)
            .transpose()
    }

    async fn put_portal_session(
        &self,
        token_hash: &str,
        session: &PortalSession,
    ) -> StoreResult<()> {
        let item = portal_item(
            token_hash,
            keys::PORTAL_SESSION_SK,
            session,
            session.grant.expires_at,
        )?;
        self.put_portal_item(item).await
    }

    async fn portal_session(&self, token_hash: &str) -> StoreResult<Option<PortalSession>> {
        let item = self
            .get(
                &self.data_table,
                keys::portal(token_hash),
                keys::PORTAL_SESSION_SK.into(),
            )
            .await?;
        item.as_ref().map(from_item).transpose()
    }

    async fn end_portal_session(&self, token_hash: &str) -> StoreResult<()> {
        self.client
            .delete_item()
            .table_name(&self.data_table)
            .key("pk", s(keys::portal(token_hash)))
            .key("sk", s(keys::PORTAL_SESSION_SK))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| store_error(&e))
    }

    async fn portal_account(&self, account: &AccountId) -> StoreResult<Option<Account>> {
        self.account(account).await
    }
}
