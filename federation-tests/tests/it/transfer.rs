//! Follows, mutes and blocks carried to another server as Mastodon's CSV
//! files: exported from one instance, imported on another, where each
//! address is found (here or through WebFinger) and followed, muted or
//! blocked by the usual rules, and the follows reach the followed servers.

use perch_federation_tests::{Instance, PASSWORD, drain, follow_across, relationship};
use reqwest::StatusCode;
use serde_json::Value;

/// The export at `path` (a CSV file), checked as one.
async fn export(on: &Instance, token: &str, path: &str) -> String {
    let response = on
        .client
        .get(on.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .expect("ascii")
            .starts_with("attachment"),
    );
    response.text().await.expect("text")
}

/// Import `data` as `kind` (`following`, `muting`, `blocking`) in `mode`.
async fn import(
    on: &Instance,
    token: &str,
    kind: &str,
    mode: &str,
    data: &str,
) -> (StatusCode, Value) {
    let form = reqwest::multipart::Form::new()
        .text("type", kind.to_owned())
        .text("mode", mode.to_owned())
        .part(
            "data",
            reqwest::multipart::Part::bytes(data.as_bytes().to_vec()).file_name("list.csv"),
        );
    let response = on
        .client
        .post(on.url("/api/v1/perch/imports"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("sent");
    let status = response.status();
    (status, response.json().await.expect("json"))
}

#[tokio::test]
async fn follows_mutes_and_blocks_move_to_another_server_as_csv_files() {
    let (a, b, c) = (
        Instance::start().await,
        Instance::start().await,
        Instance::start().await,
    );
    a.create_user("alice", PASSWORD).await;
    a.create_user("carol", PASSWORD).await;
    b.create_user("bob", PASSWORD).await;
    b.create_user("dave", PASSWORD).await;
    b.create_user("eve", PASSWORD).await;
    c.create_user("zed", PASSWORD).await;
    let alice = a.token("alice").await;
    follow_across(&a, &alice, &format!("bob@{}", b.domain), &[&a, &b]).await;
    let carol_on_a = a.resolve(&alice, "carol").await;
    let (status, _) = a
        .post(&format!("/api/v1/accounts/{carol_on_a}/follow"), &alice)
        .await;
    assert_eq!(status, StatusCode::OK);
    let dave_on_a = a.resolve(&alice, &format!("dave@{}", b.domain)).await;
    let (status, _) = a
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/accounts/{dave_on_a}/mute"),
            &alice,
            Some(serde_json::json!({"notifications": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let eve_on_a = a.resolve(&alice, &format!("eve@{}", b.domain)).await;
    let (status, _) = a
        .post(&format!("/api/v1/accounts/{eve_on_a}/block"), &alice)
        .await;
    assert_eq!(status, StatusCode::OK);
    drain(&[&a, &b]).await;

    // Exported as Mastodon writes them.
    let follows = export(&a, &alice, "/api/v1/perch/exports/follows.csv").await;
    assert_eq!(
        follows,
        format!(
            "Account address,Show boosts,Notify on new posts,Languages\n\
             bob@{},true,false,\ncarol@{},true,false,\n",
            b.domain, a.domain
        )
    );
    let mutes = export(&a, &alice, "/api/v1/perch/exports/mutes.csv").await;
    assert_eq!(
        mutes,
        format!(
            "Account address,Hide notifications\ndave@{},false\n",
            b.domain
        )
    );
    let blocks = export(&a, &alice, "/api/v1/perch/exports/blocks.csv").await;
    assert_eq!(blocks, format!("eve@{}\n", b.domain));

    // Imported on C: the follows reach B and A, with one address that
    // names nobody reported and the rest done.
    let zed = c.token("zed").await;
    let with_a_ghost = format!("{follows}ghost@{}\n", b.domain);
    let (status, done) = import(&c, &zed, "following", "merge", &with_a_ghost).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["total"], 3, "{done}");
    assert_eq!(done["imported"], 2, "{done}");
    assert_eq!(
        done["failed"][0]["acct"],
        format!("ghost@{}", b.domain),
        "{done}"
    );
    drain(&[&a, &b, &c]).await;
    let bob_on_c = c.resolve(&zed, &format!("bob@{}", b.domain)).await;
    let carol_on_c = c.resolve(&zed, &format!("carol@{}", a.domain)).await;
    assert_eq!(relationship(&c, &zed, &bob_on_c).await["following"], true);
    assert_eq!(relationship(&c, &zed, &carol_on_c).await["following"], true);
    let bob = b.token("bob").await;
    let (_, me) = b.get("/api/v1/accounts/verify_credentials", &bob).await;
    assert_eq!(me["followers_count"], 2, "alice and zed: {me}");

    let (status, done) = import(&c, &zed, "muting", "merge", &mutes).await;
    assert_eq!(
        (status, done["imported"].clone()),
        (StatusCode::OK, 1.into())
    );
    let (status, done) = import(&c, &zed, "blocking", "merge", &blocks).await;
    assert_eq!(
        (status, done["imported"].clone()),
        (StatusCode::OK, 1.into())
    );
    let dave_on_c = c.resolve(&zed, &format!("dave@{}", b.domain)).await;
    let eve_on_c = c.resolve(&zed, &format!("eve@{}", b.domain)).await;
    let muted = relationship(&c, &zed, &dave_on_c).await;
    assert_eq!(muted["muting"], true, "{muted}");
    assert_eq!(muted["muting_notifications"], false, "{muted}");
    assert_eq!(relationship(&c, &zed, &eve_on_c).await["blocking"], true);

    // Overwriting ends the follows the file leaves out.
    let only_bob = format!("bob@{}\n", b.domain);
    let (status, done) = import(&c, &zed, "following", "overwrite", &only_bob).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["removed"], 1, "{done}");
    drain(&[&a, &b, &c]).await;
    assert_eq!(
        relationship(&c, &zed, &carol_on_c).await["following"],
        false
    );
    assert_eq!(relationship(&c, &zed, &bob_on_c).await["following"], true);
}

#[tokio::test]
async fn an_import_that_cannot_be_read_changes_nothing_and_says_why() {
    let a = Instance::start().await;
    a.create_user("alice", PASSWORD).await;
    a.create_user("carol", PASSWORD).await;
    let alice = a.token("alice").await;
    let (status, body) = import(&a, &alice, "lists", "merge", "carol\n").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"].as_str().is_some_and(|e| e.contains("type")),
        "{body}"
    );
    let (status, body) = import(&a, &alice, "following", "replace", "carol\n").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = import(&a, &alice, "following", "merge", "carol\nno one, here\n").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"].as_str().is_some_and(|e| e.contains("line 2")),
        "{body}"
    );
    let carol = a.resolve(&alice, "carol").await;
    assert_eq!(relationship(&a, &alice, &carol).await["following"], false);
    // A token without the scope may not.
    let reader = a.token_with_scopes("alice", "read").await;
    let (status, body) = import(&a, &reader, "following", "merge", "carol\n").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = a.get("/api/v1/perch/exports/follows.csv", "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
