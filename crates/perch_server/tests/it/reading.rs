//! What clients read at once: several statuses by id, the account's
//! preferences, and the count of unread notifications.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::statuses::{call, post_status, user};
use crate::support::spawn_app;

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|s| s["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn statuses_are_read_several_at_once_as_far_as_one_may_see_them() {
    let app = spawn_app().await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    let public = post_status(&app, &ben.token, json!({"status": "public"})).await;
    let private = post_status(
        &app,
        &ben.token,
        json!({"status": "private", "visibility": "private"}),
    )
    .await;
    let mine = post_status(&app, &ann.token, json!({"status": "mine"})).await;
    let (p, q, m) = (
        public["id"].as_str().expect("id"),
        private["id"].as_str().expect("id"),
        mine["id"].as_str().expect("id"),
    );

    let path = format!("/api/v1/statuses?id[]={m}&id[]={q}&id[]=999&id[]={p}&id[]={m}&id[]=x");
    let (status, body, _) = call(&app, Method::GET, &path, Some(&ann.token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        ids(&body),
        [m, p],
        "in the order asked, each once, none hidden"
    );
    assert_eq!(body[0]["account"]["id"], ann.id.as_str());
    let (_, body, _) = call(&app, Method::GET, &path, Some(&ben.token), None).await;
    assert_eq!(ids(&body), [m, q, p]);
    let (status, body, _) = call(&app, Method::GET, &path, None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&body), [m, p]);
    let (_, body, _) = call(
        &app,
        Method::GET,
        "/api/v1/statuses",
        Some(&ann.token),
        None,
    )
    .await;
    assert_eq!(body, json!([]));
    let many: String = (1..=41).map(|n| format!("id[]={n}&")).collect();
    let (status, body, _) = call(
        &app,
        Method::GET,
        &format!("/api/v1/statuses?{many}"),
        Some(&ann.token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}
