//! What a link pasted into search names, read from its server: an actor
//! or a post (stored here, with its author), whichever the document it
//! serves for that link is. A post's page URL works as well as its id, as
//! servers answer either with the ActivityPub object when asked for JSON.

use perch_db::accounts::AccountRow;
use url::Url;

use crate::objects::person::ACTOR_TYPES;
use crate::{ApubState, ingest, resolve};

/// What a link turned out to be.
pub enum Linked {
    Account(Box<AccountRow>),
    /// A status, now stored here (its id).
    Status(i64),
}

/// Fetch `url` and store what it names; `None` when it names nothing this
/// server keeps (or cannot be fetched: the reason is logged).
pub async fn by_link(state: &ApubState, url: &Url) -> Option<Linked> {
    let object = match resolve::fetch_object(state, url).await {
        Ok(object) => object,
        Err(error) => {
            tracing::info!(%error, %url, "resolving a link failed");
            return None;
        }
    };
    let id = object["id"].as_str().and_then(|id| Url::parse(id).ok())?;
    if ACTOR_TYPES.contains(&object["type"].as_str().unwrap_or_default()) {
        return match resolve::actor_by_uri(state, &id).await {
            Ok((row, _)) => Some(Linked::Account(Box::new(row))),
            Err(error) => {
                tracing::info!(%error, %url, "resolving a linked actor failed");
                None
            }
        };
    }
    match ingest::note_by_uri(state, &id, 0).await {
        Ok(status) => status.map(Linked::Status),
        Err(error) => {
            tracing::info!(%error, %url, "resolving a linked post failed");
            None
        }
    }
}
