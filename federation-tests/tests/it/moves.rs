//! Account migration, received: a `Move` from an account of another server
//! to a new one moves the local followers only when the new account's own
//! document names the old one in `alsoKnownAs`.

use perch_db::actors;
use perch_federation_tests::{Instance, PASSWORD, drain, relationship};
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

/// An actor whose document says where it moved (`movedTo`, as an
/// `Update` of it brings) shows that it moved, when the account it names is
/// known here and names it back; and no longer once the document stops
/// saying so. Nobody's follows move without a `Move`.
#[tokio::test]
async fn an_actor_document_naming_where_it_moved_marks_it_moved() {
    let b = Instance::start().await;
    b.create_user("bob", PASSWORD).await;
    let peer = Peer::serve("https://mastodon.example", &b).await;
    let old = peer.actor("mastodon/actor_person.json");
    peer.followed_by(&b, "bob", &old).await;
    let bob = b.token("bob").await;
    let old_id = account_id(&b, &bob, old["id"].as_str().expect("id")).await;
    let update_of = |actor: &Value, n: u32| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{}#updates/{n}", actor["id"].as_str().expect("id")),
            "type": "Update",
            "actor": actor["id"],
            "object": actor,
        })
    };
    let moved_of = |b: &Instance| {
        let uri = old["id"].as_str().expect("id").to_owned();
        let db = b.db.clone();
        async move {
            actors::find_by_uri(&db, &uri)
                .await
                .expect("query")
                .expect("kept")
                .moved_to_account_id
        }
    };

    // Naming one that does not name it back: not believed.
    let stranger = sibling(&peer, &old, "stranger");
    peer.put(&stranger);
    account_id(&b, &bob, stranger["id"].as_str().expect("id")).await;
    let mut claimed = old.clone();
    claimed["movedTo"] = stranger["id"].clone();
    peer.put(&claimed);
    assert_eq!(
        peer.send(&b, &old, &update_of(&claimed, 1)).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(moved_of(&b).await, None);

    // Naming one that does: shown as moved, and Bob still follows it.
    let mut new = sibling(&peer, &old, "renamed");
    new["alsoKnownAs"] = json!([old["id"]]);
    peer.put(&new);
    let new_id = account_id(&b, &bob, new["id"].as_str().expect("id")).await;
    let mut redirected = old.clone();
    redirected["movedTo"] = new["id"].clone();
    peer.put(&redirected);
    assert_eq!(
        peer.send(&b, &old, &update_of(&redirected, 2)).await,
        StatusCode::ACCEPTED
    );
    let (_, shown) = b.get(&format!("/api/v1/accounts/{old_id}"), &bob).await;
    assert_eq!(shown["moved"]["id"], new_id.as_str(), "{shown}");
    assert_eq!(relationship(&b, &bob, &old_id).await["following"], true);

    // The redirect withdrawn.
    peer.put(&old);
    assert_eq!(
        peer.send(&b, &old, &update_of(&old, 3)).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(moved_of(&b).await, None);
}

/// A local account moves to one on another server that names it: its
/// followers' servers get the Move and their followers follow the new
/// account; the old actor names where it went.
#[tokio::test]
async fn a_local_account_moves_to_another_server_with_its_followers() {
    let (a, b, c) = (
        Instance::start().await,
        Instance::start().await,
        Instance::start().await,
    );
    a.create_user("alice", PASSWORD).await;
    b.create_user("bob", PASSWORD).await;
    c.create_user("alice2", PASSWORD).await;
    let bob = b.token("bob").await;
    let alice_on_b = b.resolve(&bob, &format!("alice@{}", a.domain)).await;
    let (status, _) = b
        .post(&format!("/api/v1/accounts/{alice_on_b}/follow"), &bob)
        .await;
    assert_eq!(status, StatusCode::OK);
    drain(&[&a, &b, &c]).await;

    let alice = a.token("alice").await;
    let target = format!("alice2@{}", c.domain);
    let attempt = |instance: &Instance, token: &str, body: Value| {
        let request = instance
            .client
            .post(instance.url("/api/v1/perch/move"))
            .bearer_auth(token)
            .json(&body);
        async move { request.send().await.expect("sent").status() }
    };
    // Not before the new account names the old one.
    assert_eq!(
        attempt(&a, &alice, json!({"acct": target, "password": PASSWORD})).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let alice2 = c.token("alice2").await;
    let (status, aliases) = c
        .send(
            reqwest::Method::POST,
            "/api/v1/perch/aliases",
            &alice2,
            Some(json!({"acct": format!("alice@{}", a.domain)})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{aliases}");
    assert_eq!(aliases[0], format!("{}/users/alice", a.base_url));
    // A wrong password changes nothing.
    assert_eq!(
        attempt(&a, &alice, json!({"acct": target, "password": "not it"})).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        attempt(&a, &alice, json!({"acct": target, "password": PASSWORD})).await,
        StatusCode::ACCEPTED
    );
    drain(&[&a, &b, &c]).await;

    // B: Bob follows the new account, no longer the old.
    assert_eq!(
        relationship(&b, &bob, &alice_on_b).await["following"],
        false
    );
    let alice2_on_b = b.resolve(&bob, &target).await;
    assert_eq!(
        relationship(&b, &bob, &alice2_on_b).await["following"],
        true
    );
    // C: the new account has Bob as a follower.
    let (_, me) = c.get("/api/v1/accounts/verify_credentials", &alice2).await;
    assert_eq!(me["followers_count"], 1, "{me}");
    // A: the old actor names where it went.
    let actor: Value = a
        .client
        .get(a.url("/users/alice"))
        .header("Accept", "application/activity+json")
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(
        actor["movedTo"],
        format!("{}/users/alice2", c.base_url),
        "{actor}"
    );
    assert_eq!(
        attempt(&a, &alice, json!({"acct": target, "password": PASSWORD})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "moved already"
    );

    // A later edit of the profile still says where it went.
    let edited = a
        .client
        .patch(a.url("/api/v1/accounts/update_credentials"))
        .bearer_auth(&alice)
        .json(&json!({"display_name": "Alice (moved)"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(edited.status(), StatusCode::OK);
    let update = perch_db::testing::latest_outbound_of_type(&a.db, "Update")
        .await
        .expect("an Update was queued");
    assert_eq!(update["object"]["name"], "Alice (moved)", "{update}");
    assert_eq!(
        update["object"]["movedTo"],
        format!("{}/users/alice2", c.base_url),
        "{update}"
    );
}
