//! The instance's blocks of other servers, across two instances: a
//! suspended server is neither heard (its activities dropped before any
//! key fetch) nor reached (no fetch, no delivery); a silenced one's
//! accounts stay out of the public timeline; lifting the block undoes
//! both. And in allow-list mode only allowed servers federate.

use perch_federation_tests::{Instance, PASSWORD, drain, texts};
use perch_server::testing::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

const ADMIN_SCOPES: &str = "read write admin:read admin:write";

async fn admin(
    instance: &Instance,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let response = instance
        .client
        .request(method, instance.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("sent");
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_blocked_server_is_neither_heard_nor_reached_until_unblocked() {
    let (a, b) = (Instance::start().await, Instance::start().await);
    a.create_user("alice", PASSWORD).await;
    a.create_with_role("ada", PASSWORD, Role::Admin).await;
    b.create_user("bob", PASSWORD).await;
    let alice = a.token("alice").await;
    let ada = a.token_with_scopes("ada", ADMIN_SCOPES).await;
    let bob = b.token("bob").await;
    let bob_on_a = a.resolve(&alice, &format!("bob@{}", b.domain)).await;
    let alice_on_b = b.resolve(&bob, &format!("alice@{}", a.domain)).await;
    for (instance, token, id) in [(&a, &alice, &bob_on_a), (&b, &bob, &alice_on_b)] {
        let (status, _) = instance
            .post(&format!("/api/v1/accounts/{id}/follow"), token)
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    drain(&[&a, &b]).await;

    // Silenced: bob's public posts reach alice, who follows him, but not
    // the public timeline.
    let (status, block) = admin(
        &a,
        &ada,
        reqwest::Method::POST,
        "/api/v1/admin/domain_blocks",
        json!({"domain": b.domain, "severity": "silence"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{block}");
    assert_eq!(block["severity"], "silence");
    let block_path = format!(
        "/api/v1/admin/domain_blocks/{}",
        block["id"].as_str().unwrap()
    );
    b.post_status(&bob, json!({"status": "bob while silenced"}))
        .await;
    drain(&[&a, &b]).await;
    assert!(
        texts(&a, &alice, "/api/v1/timelines/home")
            .await
            .iter()
            .any(|t| t.contains("bob while silenced"))
    );
    assert!(
        texts(&a, &alice, "/api/v1/timelines/public")
            .await
            .iter()
            .all(|t| !t.contains("bob while silenced"))
    );

    // Suspended: nothing either way, and no lookups there.
    let (status, block) = admin(
        &a,
        &ada,
        reqwest::Method::PUT,
        &block_path,
        json!({"severity": "suspend"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{block}");
    assert_eq!(block["severity"], "suspend");
    b.post_status(&bob, json!({"status": "bob while suspended"}))
        .await;
    a.post_status(&alice, json!({"status": "alice while B is suspended"}))
        .await;
    drain(&[&a, &b]).await;
    assert!(
        texts(&a, &alice, "/api/v1/timelines/home")
            .await
            .iter()
            .all(|t| !t.contains("bob while")),
        "nothing of B shown"
    );
    assert!(
        texts(&b, &bob, "/api/v1/timelines/home")
            .await
            .iter()
            .all(|t| !t.contains("alice while")),
        "nothing sent to B"
    );
    let (_, found) = a
        .get(
            &format!("/api/v2/search?q=@carol@{}&resolve=true", b.domain),
            &alice,
        )
        .await;
    assert_eq!(found["accounts"], json!([]), "no lookup on B");

    let (status, _) = admin(&a, &ada, reqwest::Method::DELETE, &block_path, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    b.post_status(&bob, json!({"status": "bob unblocked"}))
        .await;
    a.post_status(&alice, json!({"status": "alice to B again"}))
        .await;
    drain(&[&a, &b]).await;
    assert!(
        texts(&a, &alice, "/api/v1/timelines/home")
            .await
            .iter()
            .any(|t| t.contains("bob unblocked"))
    );
    assert!(
        texts(&b, &bob, "/api/v1/timelines/home")
            .await
            .iter()
            .any(|t| t.contains("alice to B again"))
    );
}

#[tokio::test]
async fn in_allowlist_mode_only_allowed_servers_federate() {
    let a =
        Instance::start_with(|c| c.federation_mode = perch_core::federation::Mode::Allowlist).await;
    let b = Instance::start().await;
    a.create_user("alice", PASSWORD).await;
    a.create_with_role("ada", PASSWORD, Role::Admin).await;
    b.create_user("bob", PASSWORD).await;
    let alice = a.token("alice").await;
    let ada = a.token_with_scopes("ada", ADMIN_SCOPES).await;
    let (_, found) = a
        .get(
            &format!("/api/v2/search?q=@bob@{}&resolve=true", b.domain),
            &alice,
        )
        .await;
    assert_eq!(found["accounts"], json!([]), "B is not allowed yet");

    let (status, allowed) = admin(
        &a,
        &ada,
        reqwest::Method::POST,
        "/api/v1/admin/domain_allows",
        json!({"domain": b.domain}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{allowed}");
    assert_eq!(allowed["domain"], b.domain.as_str());
    let bob_on_a = a.resolve(&alice, &format!("bob@{}", b.domain)).await;
    let (status, _) = a
        .post(&format!("/api/v1/accounts/{bob_on_a}/follow"), &alice)
        .await;
    assert_eq!(status, StatusCode::OK);
    drain(&[&a, &b]).await;
    let (_, listed) = admin(
        &a,
        &ada,
        reqwest::Method::GET,
        "/api/v1/admin/domain_allows",
        json!({}),
    )
    .await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    let (_, rel) = a
        .get(
            &format!("/api/v1/accounts/relationships?id[]={bob_on_a}"),
            &alice,
        )
        .await;
    assert_eq!(rel[0]["following"], true, "B's Accept got through: {rel}");
}
