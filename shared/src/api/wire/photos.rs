//! Photo likes.

use crate::model::EventId;
use crate::model::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// The answer to a like.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Like)]
pub struct LikeOut {
    pub photo_id: String,
    /// The count after this like.
    pub likes: u64,
    /// The `photo.liked` event this like emitted.
    pub event_id: EventId,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Photo)]
pub struct PhotoOut {
    pub photo_id: String,
    pub likes: u64,
}

/// The data of a `photo.liked` event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PhotoLiked {
    pub photo_id: String,
    pub likes: u64,
    pub liked_at: Timestamp,
}
