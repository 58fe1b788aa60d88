//! A local account's profile and its deletion, as other servers see them:
//! an edit reaches the followers' servers as an `Update` of the actor, and
//! a deletion reaches every server that knows the account as a `Delete`
//! of the actor, after which nothing of it is left here or there.

use perch_federation_tests::{Instance, PASSWORD, drain, follow_across};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn account(instance: &Instance, token: &str, id: &str) -> Value {
    let (status, body) = instance.get(&format!("/api/v1/accounts/{id}"), token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Bob (on B) follows Alice (on A); the id of Alice on B.
async fn bob_follows_alice(a: &Instance, b: &Instance) -> String {
    let bob = b.token("bob").await;
    follow_across(b, &bob, &format!("alice@{}", a.domain), &[a, b]).await
}

#[tokio::test]
async fn a_profile_edit_reaches_the_servers_of_the_followers() {
    let (a, b) = (Instance::start().await, Instance::start().await);
    a.create_user("alice", PASSWORD).await;
    b.create_user("bob", PASSWORD).await;
    let alice_on_b = bob_follows_alice(&a, &b).await;
    let bob = b.token("bob").await;
    assert_eq!(account(&b, &bob, &alice_on_b).await["display_name"], "");

    let alice = a.token("alice").await;
    let edited = a
        .client
        .patch(a.url("/api/v1/accounts/update_credentials"))
        .bearer_auth(&alice)
        .json(&json!({
            "display_name": "Alice of A",
            "note": "Now with a biography",
            "fields_attributes": [{"name": "Pronouns", "value": "she/her"}],
        }))
        .send()
        .await
        .expect("sent");
    assert_eq!(edited.status(), StatusCode::OK);
    drain(&[&a, &b]).await;

    let seen = account(&b, &bob, &alice_on_b).await;
    assert_eq!(seen["display_name"], "Alice of A", "{seen}");
    assert!(
        seen["note"]
            .as_str()
            .is_some_and(|note| note.contains("Now with a biography")),
        "{seen}"
    );
    assert_eq!(seen["fields"][0]["name"], "Pronouns", "{seen}");
}

/// The tables that may still name a deleted account: its emptied row's
/// key, the activities signed in its name (the Delete among them), its
/// ended sessions.
const KEPT_AFTER_DELETION: &[&str] = &[
    "account_keys.account_id",
    "outbound_activities.actor_account_id",
    "oauth_sessions.account_id",
];

#[tokio::test]
async fn a_deleted_account_leaves_nothing_here_and_is_forgotten_by_the_servers_that_knew_it() {
    let (a, b) = (Instance::start().await, Instance::start().await);
    let alice_id = a.create_user("alice", PASSWORD).await;
    a.create_user("carol", PASSWORD).await;
    b.create_user("bob", PASSWORD).await;
    bob_follows_alice(&a, &b).await;
    let (alice, carol) = (a.token("alice").await, a.token("carol").await);
    let carol_id = a.resolve(&alice, "carol").await;
    let alice_on_a = a.resolve(&carol, "alice").await;
    for (token, target) in [(&alice, &carol_id), (&carol, &alice_on_a)] {
        let (status, body) = a
            .post(&format!("/api/v1/accounts/{target}/follow"), token)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    // Carol's post, which Alice likes, reblogs and answers.
    let carols = a
        .post_status(&carol, json!({"status": "carol's", "visibility": "public"}))
        .await;
    let carols_id = carols["id"].as_str().expect("id").to_owned();
    for action in ["favourite", "reblog"] {
        let (status, body) = a
            .post(&format!("/api/v1/statuses/{carols_id}/{action}"), &alice)
            .await;
        assert_eq!(status, StatusCode::OK, "{action}: {body}");
    }
    a.post_status(
        &alice,
        json!({"status": "a reply", "in_reply_to_id": carols_id}),
    )
    .await;
    // Alice's own post, with an image, which Carol likes.
    let media = perch_federation_tests::upload_dot(&a, &alice).await;
    let media_url = media["url"].as_str().expect("url").to_owned();
    let alices = a
        .post_status(
            &alice,
            json!({"status": "alice's", "visibility": "public", "media_ids": [media["id"]]}),
        )
        .await;
    let (status, _) = a
        .post(
            &format!(
                "/api/v1/statuses/{}/favourite",
                alices["id"].as_str().expect("id")
            ),
            &carol,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // What only this server knows: her bookmark, her list of Carol and
    // her note about her, and Carol's list of Alice and note about her.
    let (status, _) = a
        .post(&format!("/api/v1/statuses/{carols_id}/bookmark"), &alice)
        .await;
    assert_eq!(status, StatusCode::OK);
    for (token, member) in [(&alice, &carol_id), (&carol, &alice_on_a)] {
        let (status, list) = a
            .send(
                reqwest::Method::POST,
                "/api/v1/lists",
                token,
                Some(json!({"title": "friends"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{list}");
        let path = format!(
            "/api/v1/lists/{}/accounts",
            list["id"].as_str().expect("id")
        );
        let (status, body) = a
            .send(
                reqwest::Method::POST,
                &path,
                token,
                Some(json!({"account_ids": [member]})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = a
            .send(
                reqwest::Method::POST,
                &format!("/api/v1/accounts/{member}/note"),
                token,
                Some(json!({"comment": "a friend"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    drain(&[&a, &b]).await;
    let bob = b.token("bob").await;
    assert_eq!(
        perch_federation_tests::texts(&b, &bob, "/api/v1/timelines/home")
            .await
            .len(),
        3,
        "Bob reads Alice's reblog, reply and post before she goes"
    );

    // A wrong password changes nothing.
    let (status, body) = a
        .send(
            reqwest::Method::POST,
            "/api/v1/accounts/delete",
            &alice,
            Some(json!({"password": "not it"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["error"].is_string(), "{body}");
    let (status, _) = a.get("/api/v1/accounts/verify_credentials", &alice).await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = a
        .send(
            reqwest::Method::POST,
            "/api/v1/accounts/delete",
            &alice,
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    // Here: nothing of hers is left but what signs the Delete.
    let left = perch_db::testing::rows_naming_account(&a.db, alice_id).await;
    for (column, count) in &left {
        assert!(
            KEPT_AFTER_DELETION.contains(&column.as_str()),
            "{column} still names the deleted account ({count} rows)"
        );
    }
    let (status, _) = a.get("/api/v1/accounts/verify_credentials", &alice).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "her sessions ended");
    let seen = a
        .get(&format!("/api/v1/statuses/{carols_id}"), &carol)
        .await
        .1;
    assert_eq!(
        (
            &seen["favourites_count"],
            &seen["reblogs_count"],
            &seen["replies_count"]
        ),
        (&json!(0), &json!(0), &json!(0)),
        "{seen}"
    );
    let carol_now = a.get("/api/v1/accounts/verify_credentials", &carol).await.1;
    assert_eq!(
        (&carol_now["followers_count"], &carol_now["following_count"]),
        (&json!(0), &json!(0)),
        "{carol_now}"
    );
    let image = a.client.get(&media_url).send().await.expect("sent");
    assert_eq!(
        image.status(),
        StatusCode::NOT_FOUND,
        "her files are removed"
    );
    let actor = a
        .client
        .get(a.url("/users/alice"))
        .header("Accept", "application/activity+json")
        .send()
        .await
        .expect("sent");
    assert_eq!(actor.status(), StatusCode::GONE);
    let tombstone: Value = actor.json().await.expect("json");
    assert_eq!(tombstone["type"], "Tombstone", "{tombstone}");
    assert_eq!(tombstone["formerType"], "Person", "{tombstone}");
    let finger = a
        .client
        .get(a.url(&format!(
            "/.well-known/webfinger?resource=acct:alice@{}",
            a.domain
        )))
        .send()
        .await
        .expect("sent");
    assert_eq!(finger.status(), StatusCode::GONE);

    // There: the Delete of the actor reaches B, which forgets her.
    drain(&[&a, &b]).await;
    let alice_uri = format!("{}/users/alice", a.base_url);
    assert!(
        perch_db::actors::find_by_uri(&b.db, &alice_uri)
            .await
            .expect("query")
            .is_none(),
        "B still keeps the deleted account"
    );
    assert!(
        perch_federation_tests::texts(&b, &bob, "/api/v1/timelines/home")
            .await
            .is_empty()
    );
    let bob_now = b.get("/api/v1/accounts/verify_credentials", &bob).await.1;
    assert_eq!(bob_now["following_count"], 0, "{bob_now}");
}

/// A custom emoji in a display name or note shows with the account, here
/// and on the servers of its followers: the actor carries an `Emoji` tag,
/// remembered there under its server, and every rendering of the account
/// lists it in `emojis`.
#[tokio::test]
async fn custom_emoji_in_a_profile_show_with_the_account_here_and_there() {
    let (a, b) = (Instance::start().await, Instance::start().await);
    a.create_user("alice", PASSWORD).await;
    b.create_user("bob", PASSWORD).await;
    let picture = a.url("/media/emoji/blobcat-x.png");
    perch_domain::emojis::add_local(&a.apub.domain, "blobcat", &picture, None)
        .await
        .expect("added");
    let alice_on_b = bob_follows_alice(&a, &b).await;
    let alice = a.token("alice").await;
    let edited = a
        .client
        .patch(a.url("/api/v1/accounts/update_credentials"))
        .bearer_auth(&alice)
        .json(&json!({"display_name": "Alice :blobcat:", "note": "no :unknown: here"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(edited.status(), StatusCode::OK);
    let own: Value = edited.json().await.expect("json");
    assert_eq!(own["emojis"][0]["shortcode"], "blobcat", "{own}");
    assert_eq!(own["emojis"].as_array().map(Vec::len), Some(1), "{own}");

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
    assert_eq!(actor["tag"][0]["type"], "Emoji", "{actor}");
    assert_eq!(actor["tag"][0]["name"], ":blobcat:", "{actor}");
    assert_eq!(actor["tag"][0]["icon"]["url"], picture.as_str(), "{actor}");
    drain(&[&a, &b]).await;

    let bob = b.token("bob").await;
    let seen = account(&b, &bob, &alice_on_b).await;
    assert_eq!(seen["display_name"], "Alice :blobcat:", "{seen}");
    assert_eq!(seen["emojis"][0]["shortcode"], "blobcat", "{seen}");
    assert_eq!(seen["emojis"][0]["url"], picture.as_str(), "{seen}");
    // As the author of a status, too.
    a.post_status(&alice, json!({"status": "hello", "visibility": "public"}))
        .await;
    drain(&[&a, &b]).await;
    let (_, home) = b.get("/api/v1/timelines/home", &bob).await;
    assert_eq!(
        home[0]["account"]["emojis"][0]["shortcode"], "blobcat",
        "{home}"
    );
    // Not among B's own emoji.
    let (_, listed) = b.get("/api/v1/custom_emojis", &bob).await;
    assert_eq!(listed, json!([]));
}
