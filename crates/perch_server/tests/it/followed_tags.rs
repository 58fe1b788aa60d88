//! Followed hashtags: following one by name, the Tag entity that says so
//! (its page, search, the followed list paged with Link headers), the
//! public statuses carrying it in the follower's home timeline and only
//! those, blocks and mutes still applied, and unfollowing taking out what
//! the tag alone brought.

use perch_server::testing::{PASSWORD, TestServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn home_ids(server: &TestServer, token: &str) -> Vec<String> {
    let (status, home) = server.get("/api/v1/timelines/home?limit=40", token).await;
    assert_eq!(status, StatusCode::OK, "{home}");
    home.as_array()
        .expect("a list")
        .iter()
        .map(|s| s["id"].as_str().expect("id").to_owned())
        .collect()
}

fn id(status: &Value) -> String {
    status["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn a_followed_hashtag_brings_public_statuses_home_until_unfollowed() {
    let server = TestServer::start().await;
    server.create_user("alice", PASSWORD).await;
    server.create_user("bob", PASSWORD).await;
    let dave_id = server.create_user("dave", PASSWORD).await;
    let (alice, bob, dave) = (
        server.token("alice").await,
        server.token("bob").await,
        server.token("dave").await,
    );
    let (status, _) = server
        .post(&format!("/api/v1/accounts/{dave_id}/follow"), &alice)
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, tag) = server.post("/api/v1/tags/Rust/follow", &alice).await;
    assert_eq!(status, StatusCode::OK, "{tag}");
    assert_eq!(tag["name"], "rust");
    assert_eq!(tag["following"], true, "{tag}");
    assert_eq!(tag["featuring"], false, "{tag}");
    assert!(tag["id"].is_string(), "{tag}");
    assert!(
        tag["url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/tags/rust")),
        "{tag}"
    );
    // Following again changes nothing.
    let (status, again) = server.post("/api/v1/tags/rust/follow", &alice).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["id"], tag["id"]);

    let public = server
        .post_status(&bob, json!({"status": "hello #Rust"}))
        .await;
    let unlisted = server
        .post_status(
            &bob,
            json!({"status": "quiet #rust", "visibility": "unlisted"}),
        )
        .await;
    let private = server
        .post_status(
            &bob,
            json!({"status": "inner #rust", "visibility": "private"}),
        )
        .await;
    let other = server.post_status(&bob, json!({"status": "#go"})).await;
    let followed = server
        .post_status(&dave, json!({"status": "dave on #rust"}))
        .await;
    let home = home_ids(&server, &alice).await;
    assert_eq!(home, vec![id(&followed), id(&public)], "{home:?}");
    for left_out in [&unlisted, &private, &other] {
        assert!(!home.contains(&id(left_out)));
    }

    // The tag says it is followed, on its page and in search; others see
    // it unfollowed.
    let (status, page) = server.get("/api/v1/tags/rust", &alice).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["following"], true);
    let history = page["history"].as_array().expect("history");
    assert_eq!(history.len(), 7, "{page}");
    assert_eq!(history[0]["uses"], "2", "{page}");
    assert!(history[0]["day"].is_string());
    let (_, seen_by_bob) = server.get("/api/v1/tags/rust", &bob).await;
    assert_eq!(seen_by_bob["following"], false);
    let anonymous: Value = server
        .get_response("/api/v1/tags/rust")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(anonymous["following"], false, "{anonymous}");
    let (_, found) = server
        .get("/api/v2/search?q=%23rus&type=hashtags", &alice)
        .await;
    assert_eq!(found["hashtags"][0]["name"], "rust", "{found}");
    assert_eq!(found["hashtags"][0]["following"], true, "{found}");
    // A tag no status used yet has a page too; a name that is no tag has not.
    let (status, unused) = server.get("/api/v1/tags/neverused", &alice).await;
    assert_eq!(status, StatusCode::OK, "{unused}");
    assert_eq!(unused["following"], false);
    let (status, bad) = server.post("/api/v1/tags/not-a-tag/follow", &alice).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{bad}");
    assert!(bad["error"].is_string());

    // Unfollowing takes out what the tag alone brought; a followed
    // account's status stays, and so does one carrying another followed tag.
    let (_, _) = server.post("/api/v1/tags/ferris/follow", &alice).await;
    let both = server
        .post_status(&bob, json!({"status": "#rust and #ferris"}))
        .await;
    let (status, left) = server.post("/api/v1/tags/rust/unfollow", &alice).await;
    assert_eq!(status, StatusCode::OK, "{left}");
    assert_eq!(left["following"], false);
    let home = home_ids(&server, &alice).await;
    assert_eq!(home, vec![id(&both), id(&followed)], "{home:?}");
    let later = server
        .post_status(&bob, json!({"status": "more #rust"}))
        .await;
    assert!(!home_ids(&server, &alice).await.contains(&id(&later)));
    // Unfollowing what is not followed is no error.
    let (status, _) = server.post("/api/v1/tags/rust/unfollow", &alice).await;
    assert_eq!(status, StatusCode::OK);

    // Muting the author hides its tagged statuses, as everything of it at
    // home.
    let bob_id = public["account"]["id"].as_str().expect("id").to_owned();
    let (status, _) = server
        .post(&format!("/api/v1/accounts/{bob_id}/mute"), &alice)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(home_ids(&server, &alice).await, vec![id(&followed)]);
}

#[tokio::test]
async fn followed_tags_are_listed_latest_first_in_pages() {
    let server = TestServer::start().await;
    server.create_user("alice", PASSWORD).await;
    let alice = server.token("alice").await;
    for name in ["one", "two", "three"] {
        let (status, body) = server
            .post(&format!("/api/v1/tags/{name}/follow"), &alice)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let response = server
        .client
        .get(server.url("/api/v1/followed_tags?limit=2"))
        .bearer_auth(&alice)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    let link = response
        .headers()
        .get("link")
        .and_then(|v| v.to_str().ok())
        .expect("a Link header")
        .to_owned();
    let first: Value = response.json().await.expect("json");
    let names: Vec<&str> = first
        .as_array()
        .expect("list")
        .iter()
        .map(|t| t["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["three", "two"]);
    assert!(first[0]["following"] == true && first[0]["history"].is_array());
    let next = link
        .split(',')
        .find(|part| part.contains("rel=\"next\""))
        .and_then(|part| part.split(['<', '>']).nth(1))
        .expect("a next link")
        .to_owned();
    let path = next
        .find("/api/")
        .map(|at| next[at..].to_owned())
        .expect("a path");
    let (status, rest) = server.get(&path, &alice).await;
    assert_eq!(status, StatusCode::OK, "{rest}");
    assert_eq!(rest.as_array().map(Vec::len), Some(1), "{rest}");
    assert_eq!(rest[0]["name"], "one");

    // Scopes: reading needs read:follows, following write:follows.
    let reader = server.token_with_scopes("alice", "read:statuses").await;
    let (status, _) = server.get("/api/v1/followed_tags", &reader).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = server.post("/api/v1/tags/four/follow", &reader).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let writer = server
        .token_with_scopes("alice", "write:follows read:follows")
        .await;
    let (status, _) = server.post("/api/v1/tags/four/follow", &writer).await;
    assert_eq!(status, StatusCode::OK);

    // Featuring from the tag's page, as Mastodon 4.4 allows.
    let (status, featured) = server.post("/api/v1/tags/two/feature", &alice).await;
    assert_eq!(status, StatusCode::OK, "{featured}");
    assert_eq!(featured["featuring"], true, "{featured}");
    let (_, mine) = server.get("/api/v1/featured_tags", &alice).await;
    assert_eq!(mine[0]["name"], "two", "{mine}");
    let (_, unfeatured) = server.post("/api/v1/tags/two/unfeature", &alice).await;
    assert_eq!(unfeatured["featuring"], false, "{unfeatured}");
}
