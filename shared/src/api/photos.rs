//! Photo likes (a counter per photo, with a `photo.liked` event per like).

use super::base::{Api, new_event};
use super::wire::{LikeOut, PhotoLiked, PhotoOut};
use crate::api::error::{ApiError, ApiResult};
use crate::domain::{contention, names};
use crate::model::AccountId;
use crate::model::{Photo, now};
use crate::ports::delivery::DeliveryQueue;
use crate::ports::resolver::Resolver;
use crate::ports::{StoreError, Stores};

/// Conflicting concurrent likes retried before giving up with 503 (with the backoff of
/// [`contention::wait`], at most about 4 s in all).
const LIKE_ATTEMPTS: u32 = 30;

/// Photo ids come from the customer's own system: plain names.
fn check_photo_id(photo_id: &str) -> ApiResult<()> {
    if names::is_plain_name(photo_id, &names::PHOTO_ID_LENGTHS) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "photo_id",
            names::plain_name_rule(&names::PHOTO_ID_LENGTHS),
        ))
    }
}

impl<S, R, Q> Api<S, R, Q>
where
    S: Stores,
    R: Resolver,
    Q: DeliveryQueue,
{
    /// Adds a like and emits `photo.liked`, atomically; retries when likes race.
    ///
    /// # Errors
    /// Invalid photo id; storage failure; too much contention (503).
    pub async fn like_photo(&self, account: &AccountId, photo_id: &str) -> ApiResult<LikeOut> {
        check_photo_id(photo_id)?;
        for attempt in 0..LIKE_ATTEMPTS {
            let current = self
                .store
                .get_photo(account, photo_id)
                .await?
                .map_or(0, |p| p.likes);
            let likes = current + 1;
            let data = PhotoLiked {
                photo_id: photo_id.to_owned(),
                likes,
                liked_at: now(),
            };
            let liked = new_event(account, "photo.liked", &data)?;
            match self
                .store
                .like_photo(account, photo_id, current, &liked)
                .await
            {
                Ok(()) => {
                    return Ok(LikeOut {
                        photo_id: data.photo_id,
                        likes,
                        event_id: liked.id,
                    });
                }
                Err(StoreError::Conflict | StoreError::Throttled) => {
                    let mut random = [0_u8; 8];
                    getrandom::fill(&mut random).unwrap_or_default();
                    let wait = contention::wait(attempt, u64::from_le_bytes(random));
                    tokio::time::sleep(wait).await;
                }
                Err(other) => return Err(other.into()),
            }
        }
        Err(ApiError::Unavailable)
    }

    /// # Errors
    /// A photo never liked in this account is not found.
    pub async fn get_photo(&self, account: &AccountId, photo_id: &str) -> ApiResult<PhotoOut> {
        check_photo_id(photo_id)?;
        let Photo { photo_id, likes } = self
            .store
            .get_photo(account, photo_id)
            .await?
            .ok_or(ApiError::NotFound("photo"))?;
        Ok(PhotoOut { photo_id, likes })
    }
}
