//! Announce (reblog) of a status.

use perch_core::outbound::Reaction;
use perch_core::status::Visibility;
use serde_json::{Value, json};

use super::{AS_CONTEXT, PUBLIC};
use crate::objects::note::timestamp;

/// Public reblogs address the public and the reblogger's followers;
/// unlisted ones keep the public in `cc`. The original author is always
/// told.
pub fn build_announce(announce: &Reaction) -> Value {
    let followers = announce.actor_followers_url.clone();
    let author = announce.status_author.uri.clone();
    let (to, cc) = match announce.visibility {
        Visibility::Public => (vec![PUBLIC.to_owned()], vec![author, followers]),
        Visibility::Unlisted => (vec![followers], vec![PUBLIC.to_owned(), author]),
        _ => (vec![followers], vec![author]),
    };
    json!({
        "@context": AS_CONTEXT,
        "id": announce.uri,
        "type": "Announce",
        "actor": announce.actor.uri,
        "published": timestamp(announce.published),
        "to": to,
        "cc": cc,
        "object": announce.status_uri,
    })
}
