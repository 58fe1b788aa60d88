//! Account migration, received: a `Move` from an account of another server
//! to a new one moves the local followers only when the new account's own
//! document names the old one in `alsoKnownAs`.

use perch_db::actors;
use perch_federation_tests::{Instance, PASSWORD, relationship};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::interop::{Peer, account_id};

/// A copy of `actor` under the name `name` on the same server.
fn sibling(peer: &Peer, actor: &Value, name: &str) -> Value {
    let mut other = actor.clone();
    let id = format!("{}/users/{name}", peer.base);
    other["id"] = json!(id);
    other["preferredUsername"] = json!(name);
    other["inbox"] = json!(format!("{id}/inbox"));
    other["url"] = json!(format!("{}/@{name}", peer.base));
    other["publicKey"]["id"] = json!(format!("{id}#main-key"));
    other["publicKey"]["owner"] = json!(id);
    other
}

fn move_to(old: &Value, new: &Value, n: u32) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}#moves/{n}", old["id"].as_str().expect("id")),
        "type": "Move",
        "actor": old["id"],
        "object": old["id"],
        "target": new["id"],
    })
}

#[tokio::test]
async fn followers_move_to_the_new_account_only_when_it_names_the_old_one() {
    let b = Instance::start().await;
    b.create_user("bob", PASSWORD).await;
    let peer = Peer::serve("https://mastodon.example", &b).await;
    let old = peer.actor("mastodon/actor_person.json");
    peer.followed_by(&b, "bob", &old).await;
    let bob = b.token("bob").await;
    let old_id = account_id(&b, &bob, old["id"].as_str().expect("id")).await;

    // A new account that does not claim the old one: nothing moves.
    let stranger = sibling(&peer, &old, "stranger");
    peer.put(&stranger);
    assert_eq!(
        peer.send(&b, &old, &move_to(&old, &stranger, 1)).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(relationship(&b, &bob, &old_id).await["following"], true);

    // One that does: Bob asks to follow it and no longer follows the old.
    let mut new = sibling(&peer, &old, "renamed");
    new["alsoKnownAs"] = json!([old["id"]]);
    peer.put(&new);
    assert_eq!(
        peer.send(&b, &old, &move_to(&old, &new, 2)).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(relationship(&b, &bob, &old_id).await["following"], false);
    let new_id = account_id(&b, &bob, new["id"].as_str().expect("id")).await;
    let towards_new = relationship(&b, &bob, &new_id).await;
    assert!(
        towards_new["requested"] == true || towards_new["following"] == true,
        "{towards_new}"
    );
    let old_row = actors::find_by_uri(&b.db, old["id"].as_str().expect("id"))
        .await
        .expect("query")
        .expect("kept");
    assert_eq!(
        old_row.moved_to_account_id.map(|id| id.to_string()),
        Some(new_id.clone())
    );
    let (_, shown) = b.get(&format!("/api/v1/accounts/{old_id}"), &bob).await;
    assert_eq!(shown["moved"]["id"], new_id.as_str(), "{shown}");

    // Only an account moves itself.
    let mut forged = move_to(&new, &old, 3);
    forged["actor"] = old["id"].clone();
    forged["object"] = new["id"].clone();
    forged["id"] = json!(format!("{}#moves/3", old["id"].as_str().expect("id")));
    peer.send(&b, &old, &forged).await;
    let new_row = actors::find_by_uri(&b.db, new["id"].as_str().expect("id"))
        .await
        .expect("query")
        .expect("stored");
    assert_eq!(new_row.moved_to_account_id, None);
}
