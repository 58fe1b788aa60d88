//! What the server shows of itself for people finding their way: its
//! peers and weekly activity, the servers it blocks (only where the
//! operator says so), the hashtags and posts trending among its own
//! recent public posts, and the accounts it suggests.

use perch_server::testing::{PASSWORD, TestServer, drain};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A GET without a token: its status and JSON.
async fn anonymous(server: &TestServer, path: &str) -> (StatusCode, Value) {
    let response = server.get_response(path).await;
    let status = response.status();
    (status, response.json().await.expect("json"))
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|t| t["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn hashtags_and_posts_trend_from_this_servers_own_public_posts() {
    let server = TestServer::start().await;
    for name in ["alice", "bob", "carol", "dave"] {
        server.create_user(name, PASSWORD).await;
    }
    let (alice, bob, carol, dave) = (
        server.token("alice").await,
        server.token("bob").await,
        server.token("carol").await,
        server.token("dave").await,
    );
    let liked = server
        .post_status(
            &alice,
            json!({"status": "learning #Rust today", "visibility": "public"}),
        )
        .await;
    server
        .post_status(
            &bob,
            json!({"status": "#rust is fun", "visibility": "public"}),
        )
        .await;
    server
        .post_status(
            &bob,
            json!({"status": "more #rust", "visibility": "public"}),
        )
        .await;
    // One account's tag is no trend; a private post counts for none.
    server
        .post_status(&carol, json!({"status": "#solo", "visibility": "public"}))
        .await;
    server
        .post_status(
            &dave,
            json!({"status": "#solo quietly", "visibility": "private"}),
        )
        .await;

    let (status, tags) = anonymous(&server, "/api/v1/trends/tags").await;
    assert_eq!(status, StatusCode::OK, "{tags}");
    assert_eq!(names(&tags), ["rust"], "{tags}");
    let history = tags[0]["history"].as_array().expect("history");
    assert_eq!(history.len(), 7, "{tags}");
    assert_eq!(history[0]["uses"], "3", "{tags}");
    assert_eq!(history[0]["accounts"], "2", "{tags}");
    assert_eq!(history[1]["uses"], "0", "{tags}");
    assert!(
        tags[0]["url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/tags/rust"))
    );
    let (_, same) = anonymous(&server, "/api/v1/trends").await;
    assert_eq!(same, tags);

    // Posts trend by their likes and boosts.
    let (_, none) = anonymous(&server, "/api/v1/trends/statuses").await;
    assert_eq!(none, json!([]), "nothing liked yet");
    let id = liked["id"].as_str().expect("id");
    let (status, _) = server
        .post(&format!("/api/v1/statuses/{id}/favourite"), &carol)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, trending) = server.get("/api/v1/trends/statuses", &dave).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(trending.as_array().map(Vec::len), Some(1), "{trending}");
    assert_eq!(trending[0]["id"], id, "{trending}");
    assert_eq!(trending[0]["favourites_count"], 1);
    // Not to one the author blocks.
    let dave_id = server.resolve(&alice, "dave").await;
    let (status, _) = server
        .post(&format!("/api/v1/accounts/{dave_id}/block"), &alice)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, hidden) = server.get("/api/v1/trends/statuses", &dave).await;
    assert_eq!(hidden, json!([]), "{hidden}");
    let (_, links) = anonymous(&server, "/api/v1/trends/links").await;
    assert_eq!(links, json!([]));
}

#[tokio::test]
async fn suggestions_are_the_follows_of_ones_follows_then_active_local_accounts() {
    let server = TestServer::start().await;
    for name in ["alice", "bob", "carol", "dave", "erin"] {
        server.create_user(name, PASSWORD).await;
    }
    let alice = server.token("alice").await;
    let bob = server.token("bob").await;
    let dave = server.token("dave").await;
    let id_of = |name: &'static str| {
        let server = &server;
        let alice = alice.clone();
        async move { server.resolve(&alice, name).await }
    };
    let (bob_id, carol_id, dave_id) = (
        id_of("bob").await,
        id_of("carol").await,
        id_of("dave").await,
    );
    let (status, _) = server
        .post(&format!("/api/v1/accounts/{bob_id}/follow"), &alice)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = server
        .post(&format!("/api/v1/accounts/{carol_id}/follow"), &bob)
        .await;
    assert_eq!(status, StatusCode::OK);
    server
        .post_status(
            &dave,
            json!({"status": "dave posts", "visibility": "public"}),
        )
        .await;
    drain(&[&server]).await;

    let (status, found) = server.get("/api/v2/suggestions", &alice).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    let ids: Vec<&str> = found
        .as_array()
        .expect("list")
        .iter()
        .map(|s| s["account"]["id"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(ids, [carol_id.as_str(), dave_id.as_str()], "{found}");
    assert_eq!(found[0]["sources"], json!(["friends_of_friends"]));
    assert_eq!(found[0]["source"], "past_interactions");
    assert_eq!(found[1]["sources"], json!(["most_interactions"]));
    let (_, v1) = server.get("/api/v1/suggestions", &alice).await;
    assert_eq!(v1[0]["id"], carol_id.as_str(), "{v1}");

    // Dismissed, not suggested again.
    let (status, _) = server
        .send(
            Method::DELETE,
            &format!("/api/v1/suggestions/{carol_id}"),
            &alice,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, found) = server.get("/api/v1/suggestions", &alice).await;
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
    assert_eq!(found[0]["id"], dave_id.as_str(), "{found}");
    let (status, _) = anonymous(&server, "/api/v1/suggestions").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn peers_activity_and_blocked_servers_where_the_operator_shows_them() {
    let other = TestServer::start().await;
    other.create_user("olga", PASSWORD).await;
    let server = TestServer::start_with(|config| {
        config.public_domain_blocks = perch_api::DomainBlocksShown::Users;
    })
    .await;
    server.create_user("alice", PASSWORD).await;
    server.create_admin("ada", PASSWORD).await;
    let alice = server.token("alice").await;
    server
        .resolve(&alice, &format!("olga@{}", other.domain))
        .await;
    let (status, peers) = anonymous(&server, "/api/v1/instance/peers").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(peers, json!([other.domain]), "{peers}");

    server
        .post_status(&alice, json!({"status": "a post this week"}))
        .await;
    let (status, weeks) = anonymous(&server, "/api/v1/instance/activity").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(weeks.as_array().map(Vec::len), Some(12), "{weeks}");
    assert_eq!(weeks[0]["statuses"], "1", "{weeks}");
    assert_eq!(weeks[0]["registrations"], "2", "{weeks}");
    assert_eq!(weeks[0]["logins"], "1", "{weeks}");
    assert_eq!(weeks[1]["statuses"], "0", "{weeks}");
    let this_week: i64 = weeks[0]["week"]
        .as_str()
        .expect("week")
        .parse()
        .expect("seconds");
    let last_week: i64 = weeks[1]["week"]
        .as_str()
        .expect("week")
        .parse()
        .expect("seconds");
    assert_eq!(this_week - last_week, 7 * 24 * 3600);

    let ada = server
        .token_with_scopes("ada", "admin:read admin:write")
        .await;
    let (status, block) = server
        .send(
            Method::POST,
            "/api/v1/admin/domain_blocks",
            &ada,
            Some(
                json!({"domain": "spam.example", "severity": "suspend", "public_comment": "spam"}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{block}");
    let (status, _) = anonymous(&server, "/api/v1/instance/domain_blocks").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "signed-in users only");
    let (status, blocks) = server.get("/api/v1/instance/domain_blocks", &alice).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(blocks[0]["domain"], "spam.example", "{blocks}");
    assert_eq!(blocks[0]["severity"], "suspend");
    assert_eq!(blocks[0]["comment"], "spam");
    assert_eq!(blocks[0]["digest"].as_str().map(str::len), Some(64));

    // By default, nobody sees them.
    let (status, _) = anonymous(&other, "/api/v1/instance/domain_blocks").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
