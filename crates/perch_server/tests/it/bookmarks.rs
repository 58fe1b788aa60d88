//! Bookmarks through the client API: kept privately, shown as
//! `bookmarked` to the one who made them, listed by bookmark order, and
//! only for statuses one may read.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::statuses::{User, call, post_status, user};
use crate::support::{TestApp, spawn_app};

async fn act(app: &TestApp, who: &User, id: &str, action: &str) -> (StatusCode, Value) {
    let path = format!("/api/v1/statuses/{id}/{action}");
    let (status, body, _) = call(app, Method::POST, &path, Some(&who.token), None).await;
    (status, body)
}

fn id(status: &Value) -> String {
    status["id"].as_str().expect("id").to_owned()
}

fn contents(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|s| s["content"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn get(app: &TestApp, who: &User, path: &str) -> (Value, Option<String>) {
    let (status, body, headers) = call(app, Method::GET, path, Some(&who.token), None).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    let link = headers
        .get("link")
        .and_then(|l| l.to_str().ok())
        .map(str::to_owned);
    (body, link)
}

/// The path and query of the `rel` URL in a `Link` header.
fn link_target(link: &str, rel: &str) -> String {
    let part = link
        .split(", ")
        .find(|p| p.ends_with(&format!("rel=\"{rel}\"")))
        .unwrap_or_else(|| panic!("no {rel} in {link}"));
    let url = part.trim_start_matches('<').split('>').next().expect("url");
    let url = reqwest::Url::parse(url).expect("absolute");
    format!("{}?{}", url.path(), url.query().unwrap_or_default())
}

#[tokio::test]
async fn bookmarks_are_listed_newest_bookmark_first_for_their_owner_only() {
    let app = spawn_app().await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    let first = post_status(&app, &ben.token, json!({"status": "first"})).await;
    let second = post_status(&app, &ben.token, json!({"status": "second"})).await;
    let third = post_status(&app, &ann.token, json!({"status": "third"})).await;

    // Bookmarked out of posting order: the list keeps bookmarking order.
    for post in [&second, &first, &third] {
        let (status, body) = act(&app, &ann, &id(post), "bookmark").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["bookmarked"], true);
    }
    // Bookmarking again changes nothing, not even the order.
    assert_eq!(
        act(&app, &ann, &id(&second), "bookmark").await.0,
        StatusCode::OK
    );

    let (list, link) = get(&app, &ann, "/api/v1/bookmarks").await;
    assert_eq!(
        contents(&list),
        ["<p>third</p>", "<p>first</p>", "<p>second</p>"]
    );
    assert!(
        list.as_array()
            .expect("list")
            .iter()
            .all(|s| s["bookmarked"] == true)
    );
    assert!(link.is_some());

    // Paged by the Link header.
    let (page, link) = get(&app, &ann, "/api/v1/bookmarks?limit=2").await;
    assert_eq!(contents(&page), ["<p>third</p>", "<p>first</p>"]);
    let next = link_target(&link.expect("link"), "next");
    let (page, link) = get(&app, &ann, &next).await;
    assert_eq!(contents(&page), ["<p>second</p>"]);
    let prev = link_target(&link.expect("link"), "prev");
    let (page, _) = get(&app, &ann, &prev).await;
    assert_eq!(contents(&page), ["<p>third</p>", "<p>first</p>"]);

    // `bookmarked` is the viewer's: ann sees it everywhere, ben nowhere.
    let (seen, _) = get(&app, &ann, &format!("/api/v1/statuses/{}", id(&first))).await;
    assert_eq!(seen["bookmarked"], true);
    let (seen, _) = get(&app, &ben, &format!("/api/v1/statuses/{}", id(&first))).await;
    assert_eq!(seen["bookmarked"], false);
    let (statuses, _) = get(&app, &ann, &format!("/api/v1/accounts/{}/statuses", ben.id)).await;
    assert!(
        statuses
            .as_array()
            .expect("list")
            .iter()
            .all(|s| s["bookmarked"] == true)
    );
    let (bens, _) = get(&app, &ben, "/api/v1/bookmarks").await;
    assert_eq!(bens, json!([]));

    // A reblog's bookmark is the original's.
    let (_, reblog) = act(&app, &ben, &id(&third), "reblog").await;
    let (_, unbookmarked) = act(&app, &ann, &id(&reblog), "unbookmark").await;
    assert_eq!(unbookmarked["id"], third["id"]);
    assert_eq!(unbookmarked["bookmarked"], false);
    assert_eq!(
        act(&app, &ann, &id(&third), "unbookmark").await.0,
        StatusCode::OK
    );
    let (list, _) = get(&app, &ann, "/api/v1/bookmarks").await;
    assert_eq!(contents(&list), ["<p>first</p>", "<p>second</p>"]);

    // A deleted status leaves the bookmarks.
    let (status, _, _) = call(
        &app,
        Method::DELETE,
        &format!("/api/v1/statuses/{}", id(&first)),
        Some(&ben.token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (list, _) = get(&app, &ann, "/api/v1/bookmarks").await;
    assert_eq!(contents(&list), ["<p>second</p>"]);
}

#[tokio::test]
async fn only_what_one_may_read_can_be_bookmarked_or_stays_listed() {
    let app = spawn_app().await;
    let (ann, ben, cat) = (
        user(&app, "ann").await,
        user(&app, "ben").await,
        user(&app, "cat").await,
    );
    let private = post_status(
        &app,
        &ben.token,
        json!({"status": "followers only", "visibility": "private"}),
    )
    .await;
    let (status, body) = act(&app, &ann, &id(&private), "bookmark").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body, json!({"error": "Record not found"}));
    assert_eq!(
        act(&app, &ann, "123456", "bookmark").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        act(&app, &ann, "not-an-id", "bookmark").await.0,
        StatusCode::NOT_FOUND
    );

    let public = post_status(&app, &cat.token, json!({"status": "public"})).await;
    assert_eq!(
        act(&app, &ann, &id(&public), "bookmark").await.0,
        StatusCode::OK
    );
    // Once its author blocks ann, the status is no longer hers to read.
    let (status, _, _) = call(
        &app,
        Method::POST,
        &format!("/api/v1/accounts/{}/block", ann.id),
        Some(&cat.token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (list, _) = get(&app, &ann, "/api/v1/bookmarks").await;
    assert_eq!(list, json!([]));

    // Reading bookmarks needs read:bookmarks, making them write:bookmarks.
    let reader = app.token_with_scopes("ann", "read:statuses").await;
    let (status, _) = app.get("/api/v1/bookmarks", &reader).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .post(
            &format!("/api/v1/statuses/{}/bookmark", id(&private)),
            &reader,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = call(&app, Method::GET, "/api/v1/bookmarks", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
