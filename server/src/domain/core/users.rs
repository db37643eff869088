//! Finding an account by name, for every area that acts on one.

use super::Core;
use app::error::{AppError, AppResult};

impl Core {
    /// The account named `username`, or "there is no user named …".
    pub(crate) async fn user_named(&self, username: &str) -> AppResult<crate::store::users::UserRecord> {
        self.store
            .user_by_name(username)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("there is no user named {username}")))
    }
}
