//! Announcements: `perch announcement add|list|remove` publishes them,
//! users read, dismiss and react to them (with a Unicode emoji or a local
//! custom one) through the client API, and the `user` stream hears of each
//! new announcement, reaction and deletion.

use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::statuses::{User, call, user};
use crate::streaming::{connect, next_event, next_frame, send_and_sync};
use crate::support::{TestApp, perch, run_with_stdin, spawn_app, stderr, stdout};

async fn announcement_cli(app: &TestApp, work: &Path, args: &[&str]) -> std::process::Output {
    let mut command = perch(work);
    command
        .arg("announcement")
        .args(args)
        .env("PERCH_DATABASE_URL", &app.database_url)
        .env("PERCH_DATA_DIR", app.data_dir())
        .env("PERCH_PUBLIC_URL", &app.base_url);
    tokio::task::spawn_blocking(move || run_with_stdin(command, ""))
        .await
        .expect("ran")
}

async fn announcements(app: &TestApp, who: &User) -> Vec<Value> {
    let (status, body, _) = call(
        app,
        Method::GET,
        "/api/v1/announcements",
        Some(&who.token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().expect("a list").clone()
}

async fn reaction(app: &TestApp, who: &User, method: Method, id: &str, name: &str) -> StatusCode {
    let path = format!(
        "/api/v1/announcements/{id}/reactions/{}",
        url::form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>()
    );
    let (status, body, _) = call(app, method, &path, Some(&who.token), None).await;
    if status == StatusCode::OK {
        assert_eq!(body, json!({}));
    } else {
        assert!(body["error"].is_string(), "{body}");
    }
    status
}

#[tokio::test]
async fn the_staff_announce_and_users_read_dismiss_and_react() {
    let app = spawn_app().await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    let work = tempfile::tempdir().expect("dir");
    let added = announcement_cli(
        &app,
        work.path(),
        &[
            "add",
            "--text",
            "Maintenance tonight, see https://status.example/ #perch",
            "--starts-at",
            "2030-01-01T20:00:00Z",
            "--ends-at",
            "2030-01-01T22:00:00Z",
        ],
    )
    .await;
    assert!(added.status.success(), "{}", stderr(&added));
    let id = stdout(&added).trim().to_owned();
    let ended = announcement_cli(
        &app,
        work.path(),
        &["add", "--text", "over", "--ends-at", "2020-01-01T00:00:00Z"],
    )
    .await;
    assert!(ended.status.success(), "{}", stderr(&ended));
    let bad = announcement_cli(
        &app,
        work.path(),
        &["add", "--text", "x", "--ends-at", "soon"],
    )
    .await;
    assert!(!bad.status.success());
    let listed = announcement_cli(&app, work.path(), &["list"]).await;
    assert!(
        stdout(&listed).contains("Maintenance tonight"),
        "{}",
        stdout(&listed)
    );
    assert_eq!(stdout(&listed).lines().count(), 2);

    // Only the one not ended is shown, with every documented field.
    let shown = announcements(&app, &ann).await;
    assert_eq!(shown.len(), 1, "{shown:?}");
    let one = &shown[0];
    assert_eq!(one["id"], id.as_str());
    let content = one["content"].as_str().expect("html");
    assert!(content.starts_with("<p>") && content.contains("href=\"https://status.example/\""));
    assert_eq!(one["starts_at"], "2030-01-01T20:00:00.000Z");
    assert_eq!(one["ends_at"], "2030-01-01T22:00:00.000Z");
    assert_eq!(one["all_day"], false);
    assert!(one["published_at"].is_string() && one["updated_at"].is_string());
    assert_eq!(one["read"], false);
    for empty in ["mentions", "statuses", "emojis", "reactions"] {
        assert_eq!(one[empty], json!([]), "{empty}");
    }
    assert_eq!(one["tags"][0]["name"], "perch");

    // Dismissing is one's own.
    let path = format!("/api/v1/announcements/{id}/dismiss");
    let (status, body, _) = call(&app, Method::POST, &path, Some(&ann.token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({}));
    assert_eq!(announcements(&app, &ann).await[0]["read"], true);
    assert_eq!(announcements(&app, &ben).await[0]["read"], false);
    let (status, _, _) = call(
        &app,
        Method::POST,
        "/api/v1/announcements/12345/dismiss",
        Some(&ann.token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Reactions: Unicode emoji and local custom ones, counted, `me` the
    // viewer's; anything else is refused.
    perch_domain::emojis::add_local(&app.api.domain, "blobcat", "https://x.example/b.png", None)
        .await
        .expect("emoji");
    assert_eq!(
        reaction(&app, &ann, Method::PUT, &id, "👍").await,
        StatusCode::OK
    );
    assert_eq!(
        reaction(&app, &ann, Method::PUT, &id, "👍").await,
        StatusCode::OK
    );
    assert_eq!(
        reaction(&app, &ben, Method::PUT, &id, "👍").await,
        StatusCode::OK
    );
    assert_eq!(
        reaction(&app, &ben, Method::PUT, &id, "blobcat").await,
        StatusCode::OK
    );
    for refused in ["nope", "unknowncat", "👍x"] {
        assert_eq!(
            reaction(&app, &ann, Method::PUT, &id, refused).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{refused}"
        );
    }
    let reactions = announcements(&app, &ann).await[0]["reactions"].clone();
    assert_eq!(
        reactions,
        json!([
            {"name": "👍", "count": 2, "me": true, "url": null, "static_url": null},
            {"name": "blobcat", "count": 1, "me": false,
             "url": "https://x.example/b.png", "static_url": "https://x.example/b.png"},
        ])
    );
    assert_eq!(
        reaction(&app, &ann, Method::DELETE, &id, "👍").await,
        StatusCode::OK
    );
    assert_eq!(
        reaction(&app, &ann, Method::DELETE, &id, "👍").await,
        StatusCode::NOT_FOUND
    );
    let reactions = announcements(&app, &ann).await[0]["reactions"].clone();
    assert_eq!(reactions[0]["count"], 1);
    assert_eq!(reactions[0]["me"], false);

    // Removed by the staff: gone for everyone.
    let removed = announcement_cli(&app, work.path(), &["remove", "--id", &id]).await;
    assert!(removed.status.success(), "{}", stderr(&removed));
    assert!(announcements(&app, &ben).await.is_empty());
    let again = announcement_cli(&app, work.path(), &["remove", "--id", &id]).await;
    assert!(!again.status.success());
}

#[tokio::test]
async fn the_user_stream_hears_announcements_their_reactions_and_deletions() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let mut ws = connect(
        &app.base_url,
        &format!("stream=user&access_token={}", ann.token),
    )
    .await;
    send_and_sync(&mut ws, json!({"type": "subscribe", "stream": "user"})).await;

    // The CLI publishes through this same domain function.
    let row = perch_domain::announcements::add(
        &app.api.domain,
        perch_domain::announcements::NewAnnouncement {
            text: "Hello everyone",
            starts_at: None,
            ends_at: None,
            all_day: false,
        },
    )
    .await
    .expect("published");
    let id = row.id.to_string();
    let heard = next_event(&mut ws, json!(["user"]), "announcement").await;
    assert_eq!(heard["id"], id.as_str());
    assert_eq!(heard["content"], "<p>Hello everyone</p>");
    assert_eq!(heard["read"], false);

    assert_eq!(
        reaction(&app, &ann, Method::PUT, &id, "🎉").await,
        StatusCode::OK
    );
    let heard = next_event(&mut ws, json!(["user"]), "announcement.reaction").await;
    assert_eq!(
        heard,
        json!({"name": "🎉", "count": 1, "announcement_id": id.as_str()})
    );
    assert_eq!(
        reaction(&app, &ann, Method::DELETE, &id, "🎉").await,
        StatusCode::OK
    );
    let heard = next_event(&mut ws, json!(["user"]), "announcement.reaction").await;
    assert_eq!(heard["count"], 0);

    assert!(
        perch_domain::announcements::remove(&app.api.domain, row.id)
            .await
            .expect("removed")
    );
    let frame = next_frame(&mut ws).await;
    assert_eq!(frame["event"], "announcement.delete", "{frame}");
    assert_eq!(frame["payload"], id.as_str(), "the bare id");
}
