//! Users.

use crate::model::Timestamp;
use crate::model::User;
use crate::model::UserId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[schema(pattern = "^[A-Za-z0-9_.-]{3,50}$")]
    pub username: String,
    #[schema(
        min_length = 6,
        max_length = 128,
        write_only,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub password: String,
}

/// Give `username`, `password` or both.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChanges {
    #[schema(pattern = "^[A-Za-z0-9_.-]{3,50}$")]
    pub username: Option<String>,
    #[schema(
        min_length = 6,
        max_length = 128,
        write_only,
        pattern = r"^[^\u0000-\u001F\u007F-\u009F]*$"
    )]
    pub password: Option<String>,
}

/// A user as the API shows it, and as `user.*` events carry it: never the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = User)]
pub struct UserOut {
    pub id: UserId,
    pub username: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&User> for UserOut {
    fn from(user: &User) -> Self {
        Self {
            id: user.id,
            username: user.username.clone(),
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}
