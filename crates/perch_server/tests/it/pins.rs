//! Pinned statuses through the client API and the actor's `featured`
//! collection: one's own statuses only, not reblogs nor direct messages,
//! at most five, shown with `pinned` and listed by `pinned=true`.

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

async fn pinned_texts(app: &TestApp, who: &User, viewer: Option<&User>) -> Vec<String> {
    let path = format!("/api/v1/accounts/{}/statuses?pinned=true", who.id);
    let (status, body, _) = call(
        app,
        Method::GET,
        &path,
        viewer.map(|v| v.token.as_str()),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array()
        .expect("list")
        .iter()
        .map(|s| s["content"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn one_pins_up_to_five_of_ones_own_statuses() {
    let app = spawn_app().await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    let mut posts = Vec::new();
    for n in 0..6 {
        posts.push(post_status(&app, &ann.token, json!({"status": format!("post {n}")})).await);
    }

    let (status, pinned) = act(&app, &ann, &id(&posts[0]), "pin").await;
    assert_eq!(status, StatusCode::OK, "{pinned}");
    assert_eq!(pinned["pinned"], true);
    // Pinning again changes nothing.
    assert_eq!(
        act(&app, &ann, &id(&posts[0]), "pin").await.0,
        StatusCode::OK
    );
    for post in &posts[1..5] {
        assert_eq!(act(&app, &ann, &id(post), "pin").await.0, StatusCode::OK);
    }
    let (status, body) = act(&app, &ann, &id(&posts[5]), "pin").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("maximum number")),
        "{body}"
    );
    assert_eq!(
        pinned_texts(&app, &ann, Some(&ben)).await,
        [
            "<p>post 4</p>",
            "<p>post 3</p>",
            "<p>post 2</p>",
            "<p>post 1</p>",
            "<p>post 0</p>"
        ],
        "latest pin first"
    );
    // `pinned` is for the author's eyes.
    let (_, seen, _) = call(
        &app,
        Method::GET,
        &format!("/api/v1/statuses/{}", id(&posts[0])),
        Some(&ben.token),
        None,
    )
    .await;
    assert_eq!(seen["pinned"], false);

    let (status, unpinned) = act(&app, &ann, &id(&posts[0]), "unpin").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(unpinned["pinned"], false);
    assert_eq!(pinned_texts(&app, &ann, None).await.len(), 4);
    assert_eq!(
        act(&app, &ann, &id(&posts[5]), "pin").await.0,
        StatusCode::OK
    );

    // Not someone else's, not a reblog, not a direct message.
    let bens = post_status(&app, &ben.token, json!({"status": "ben's"})).await;
    assert_eq!(
        act(&app, &ann, &id(&bens), "pin").await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let (_, reblog) = act(&app, &ben, &id(&posts[1]), "reblog").await;
    assert_eq!(
        act(&app, &ben, &id(&reblog), "pin").await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let direct = post_status(
        &app,
        &ben.token,
        json!({"status": "@ann psst", "visibility": "direct"}),
    )
    .await;
    let (status, body) = act(&app, &ben, &id(&direct), "pin").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        act(&app, &ann, "12345", "pin").await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_featured_collection_lists_the_pins_anyone_may_read() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let public = post_status(&app, &ann.token, json!({"status": "for all"})).await;
    let private = post_status(
        &app,
        &ann.token,
        json!({"status": "for followers", "visibility": "private"}),
    )
    .await;
    for post in [&public, &private] {
        assert_eq!(act(&app, &ann, &id(post), "pin").await.0, StatusCode::OK);
    }
    let actor: Value = app
        .client
        .get(app.url("/users/ann"))
        .header("Accept", "application/activity+json")
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    let featured = actor["featured"].as_str().expect("featured").to_owned();
    let collection = app
        .client
        .get(&featured)
        .header("Accept", "application/activity+json")
        .send()
        .await
        .expect("sent");
    assert_eq!(collection.status(), StatusCode::OK);
    let collection: Value = collection.json().await.expect("json");
    assert_eq!(collection["id"], featured.as_str());
    assert_eq!(collection["type"], "OrderedCollection");
    assert_eq!(collection["totalItems"], 1, "{collection}");
    assert_eq!(collection["orderedItems"][0]["id"], public["uri"]);
    assert_eq!(collection["orderedItems"][0]["type"], "Note");
}
