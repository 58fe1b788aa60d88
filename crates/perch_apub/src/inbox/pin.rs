//! Add and Remove, received: a remote account pins or unpins one of its
//! own posts, its `target` being the account's `featured` collection as
//! its actor document names it. Other collections are not kept here.

use perch_db::statuses;
use serde::Deserialize;

use super::activity::Id;
use super::{InboxError, Verified};
use crate::ApubState;
use crate::ingest::note_by_uri;

#[derive(Debug, Deserialize)]
pub struct Pin {
    pub object: Id,
    #[serde(default)]
    pub target: Option<Id>,
}

impl Pin {
    /// `pinned`: an Add; otherwise a Remove.
    pub async fn receive(
        self,
        state: &ApubState,
        from: &Verified,
        pinned: bool,
    ) -> Result<(), InboxError> {
        let sender = from.sender(state).await?;
        let featured = sender.featured_url.as_deref();
        if featured.is_none() || self.target.as_ref().map(|t| t.0.as_str()) != featured {
            return Ok(());
        }
        let status_id = match statuses::find_by_uri(&state.db, self.object.0.as_str()).await? {
            Some(row) => Some(row.id),
            // A post pinned but not known here is fetched, as Mastodon does.
            None if pinned => note_by_uri(state, &self.object.0, 0).await?,
            None => None,
        };
        let Some(status_id) = status_id else {
            return Ok(());
        };
        let Some(status) = statuses::find_by_id(&state.db, status_id).await? else {
            return Ok(());
        };
        let received = from.received();
        perch_domain::pins::received(&state.domain, &sender, &status, pinned, &received).await?;
        Ok(())
    }
}
