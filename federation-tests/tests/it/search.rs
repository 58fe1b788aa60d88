//! Search across two instances: a link to a post or an account of another
//! server, pasted into search with `resolve=true`, is fetched and stored,
//! and found by its words afterwards; without `resolve` nothing is fetched.
//! The account search resolves an address the same way.

use perch_federation_tests::{Instance, PASSWORD};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn search(instance: &Instance, token: &str, query: &str, resolve: bool) -> Value {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("q", query)
        .append_pair("resolve", if resolve { "true" } else { "false" })
        .finish();
    let (status, body) = instance
        .get(&format!("/api/v2/search?{query}"), token)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn a_pasted_link_to_a_post_or_account_elsewhere_is_resolved() {
    let (a, b) = (Instance::start().await, Instance::start().await);
    a.create_user("alice", PASSWORD).await;
    b.create_user("bob", PASSWORD).await;
    let alice = a.token("alice").await;
    let bob = b.token("bob").await;
    let posted = a
        .post_status(
            &alice,
            json!({"status": "Kingfishers dive #birds", "visibility": "public"}),
        )
        .await;
    let uri = posted["uri"].as_str().expect("uri");

    // Unknown on B, and not fetched without resolve.
    let found = search(&b, &bob, uri, false).await;
    assert_eq!(found["statuses"], json!([]), "{found}");

    let found = search(&b, &bob, uri, true).await;
    assert_eq!(
        found["statuses"].as_array().map(Vec::len),
        Some(1),
        "{found}"
    );
    let status = &found["statuses"][0];
    assert_eq!(status["uri"], uri);
    assert_eq!(status["account"]["acct"], format!("alice@{}", a.domain));
    // Stored now: found by its words, and by the link without fetching.
    let by_words = search(&b, &bob, "kingfishers", false).await;
    assert_eq!(by_words["statuses"][0]["uri"], uri, "{by_words}");
    assert_eq!(
        search(&b, &bob, uri, false).await["statuses"][0]["uri"],
        uri
    );

    // An actor's link gives the account.
    let actor = format!("{}/users/alice", a.base_url);
    let found = search(&b, &bob, &actor, true).await;
    assert_eq!(
        found["accounts"][0]["acct"],
        format!("alice@{}", a.domain),
        "{found}"
    );
    assert_eq!(found["statuses"], json!([]));

    // A link that names nothing finds nothing, without an error.
    let missing = format!("{}/users/alice/statuses/1", a.base_url);
    let found = search(&b, &bob, &missing, true).await;
    assert_eq!(found["statuses"], json!([]), "{found}");
    assert_eq!(found["accounts"], json!([]), "{found}");
}

#[tokio::test]
async fn account_search_resolves_an_address_of_another_server_only_when_asked() {
    let (a, b) = (Instance::start().await, Instance::start().await);
    a.create_user("alice", PASSWORD).await;
    b.create_user("bob", PASSWORD).await;
    let bob = b.token("bob").await;
    let address = format!("alice@{}", a.domain);
    let accounts = |resolve: bool| {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &address)
            .append_pair("resolve", if resolve { "true" } else { "false" })
            .finish();
        let (b, bob) = (&b, &bob);
        async move {
            let (status, body) = b
                .get(&format!("/api/v1/accounts/search?{query}"), bob)
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body
        }
    };

    assert_eq!(
        accounts(false).await,
        json!([]),
        "unknown here, not fetched"
    );
    let found = accounts(true).await;
    assert_eq!(found[0]["acct"], address.as_str(), "{found}");
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");
    // Known now, without fetching.
    assert_eq!(accounts(false).await[0]["acct"], address.as_str());
}
