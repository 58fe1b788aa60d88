//! Private notes about accounts: set with `POST /api/v1/accounts/:id/note`
//! and shown, to their author only, in the relationship.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::statuses::{call, user};
use crate::support::spawn_app;

#[tokio::test]
async fn a_note_is_kept_in_the_relationship_of_its_author_only() {
    let app = spawn_app().await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    let path = format!("/api/v1/accounts/{}/note", ben.id);
    let (status, relationship, _) = call(
        &app,
        Method::POST,
        &path,
        Some(&ann.token),
        Some(json!({"comment": "met at the conference"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{relationship}");
    assert_eq!(relationship["id"], ben.id.as_str());
    assert_eq!(relationship["note"], "met at the conference");
    assert_eq!(relationship["following"], false);

    let relationships = format!("/api/v1/accounts/relationships?id[]={}", ben.id);
    let (_, seen, _) = call(&app, Method::GET, &relationships, Some(&ann.token), None).await;
    assert_eq!(seen[0]["note"], "met at the conference");
    // Ben's view of ann has no note; nor has ann's of herself.
    let (_, seen, _) = call(
        &app,
        Method::GET,
        &format!("/api/v1/accounts/relationships?id[]={}", ann.id),
        Some(&ben.token),
        None,
    )
    .await;
    assert_eq!(seen[0]["note"], "");

    // Replaced, then removed by an empty comment (a form, as apps send it).
    let (_, replaced, _) = call(
        &app,
        Method::POST,
        &path,
        Some(&ann.token),
        Some(json!({"comment": "colleague"})),
    )
    .await;
    assert_eq!(replaced["note"], "colleague");
    let cleared = app
        .client
        .post(app.url(&path))
        .bearer_auth(&ann.token)
        .form(&[("comment", "")])
        .send()
        .await
        .expect("sent");
    assert_eq!(cleared.status(), StatusCode::OK);
    let cleared: serde_json::Value = cleared.json().await.expect("json");
    assert_eq!(cleared["note"], "");

    let (status, body, _) = call(
        &app,
        Method::POST,
        &path,
        Some(&ann.token),
        Some(json!({"comment": "x".repeat(2001)})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (_, seen, _) = call(&app, Method::GET, &relationships, Some(&ann.token), None).await;
    assert_eq!(seen[0]["note"], "", "a refused note changes nothing");
    let (status, _, _) = call(
        &app,
        Method::POST,
        "/api/v1/accounts/424242/note",
        Some(&ann.token),
        Some(json!({"comment": "nobody"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let reader = app.token_with_scopes("ann", "read").await;
    let (status, _) = app.post(&path, &reader).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
