//! The activities about a local actor itself: `Update` of the actor when
//! its profile changes (to its followers' servers, with the new document
//! embedded, as Mastodon sends it), and `Delete` of the actor when the
//! account is deleted (to every server that knows of it).

use serde_json::{Value, json};

use super::{AS_CONTEXT, PUBLIC};
use crate::objects::actor_context;
use crate::objects::person::Person;

/// `Update` of `person`, as of `version` (milliseconds: one id per change).
pub fn build_update_actor(person: &Person, version: i64) -> Result<Value, serde_json::Error> {
    let mut object = serde_json::to_value(person)?;
    if let Some(object) = object.as_object_mut() {
        object.remove("@context");
    }
    let followers = person.followers.as_ref().map(|url| url.to_string());
    Ok(json!({
        "@context": actor_context(),
        "id": format!("{}#updates/{version}", person.id),
        "type": "Update",
        "actor": person.id,
        "to": [PUBLIC],
        "cc": followers.into_iter().collect::<Vec<_>>(),
        "object": object,
    }))
}

/// `Delete` of the actor `actor_uri`: its servers remove the account and
/// everything of it they keep.
pub fn build_delete_actor(actor_uri: &str) -> Value {
    json!({
        "@context": AS_CONTEXT,
        "id": format!("{actor_uri}#delete"),
        "type": "Delete",
        "actor": actor_uri,
        "to": [PUBLIC],
        "object": actor_uri,
    })
}

/// `Move` of the actor `actor_uri` to `target` (its new account, which
/// names it in `alsoKnownAs`).
pub fn build_move(actor_uri: &str, target: &str, n: i64) -> Value {
    json!({
        "@context": AS_CONTEXT,
        "id": format!("{actor_uri}#moves/{n}"),
        "type": "Move",
        "actor": actor_uri,
        "object": actor_uri,
        "target": target,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delete_of_an_actor_names_the_actor_as_its_object_and_is_its_own() {
        let delete = build_delete_actor("https://perch.example/users/ann");
        assert_eq!(delete["type"], "Delete");
        assert_eq!(delete["actor"], "https://perch.example/users/ann");
        assert_eq!(delete["object"], "https://perch.example/users/ann");
        assert_eq!(delete["id"], "https://perch.example/users/ann#delete");
        assert_eq!(delete["to"][0], PUBLIC);
    }
}
