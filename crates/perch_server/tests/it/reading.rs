//! What clients read at once: several statuses by id, the account's
//! preferences (and the posting defaults set through the credentials),
//! and the count of unread notifications.

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

#[tokio::test]
async fn preferences_have_mastodons_keys_and_agree_with_the_credentials() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let (status, preferences, _) = call(
        &app,
        Method::GET,
        "/api/v1/preferences",
        Some(&ann.token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preferences}");
    let keys: Vec<&str> = preferences
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "posting:default:language",
            "posting:default:sensitive",
            "posting:default:visibility",
            "reading:expand:media",
            "reading:expand:spoilers"
        ]
    );
    let (_, me, _) = call(
        &app,
        Method::GET,
        "/api/v1/accounts/verify_credentials",
        Some(&ann.token),
        None,
    )
    .await;
    assert_eq!(
        preferences["posting:default:visibility"],
        me["source"]["privacy"]
    );
    assert_eq!(
        preferences["posting:default:sensitive"],
        me["source"]["sensitive"]
    );
    assert_eq!(
        preferences["posting:default:language"],
        me["source"]["language"]
    );
    assert_eq!(preferences["reading:expand:media"], "default");
    assert_eq!(preferences["reading:expand:spoilers"], false);

    // A locked account's posts are for followers unless it says otherwise:
    // its preferences, its credentials and its posts agree.
    app.create_locked_user("lou", crate::statuses::PASSWORD)
        .await;
    let lou = app.token("lou").await;
    let (_, preferences) = app.get("/api/v1/preferences", &lou).await;
    assert_eq!(preferences["posting:default:visibility"], "private");
    let (_, me) = app.get("/api/v1/accounts/verify_credentials", &lou).await;
    assert_eq!(me["source"]["privacy"], "private");
    let posted = app.post_status(&lou, json!({"status": "by default"})).await;
    assert_eq!(posted["visibility"], "private");

    let (status, _, _) = call(&app, Method::GET, "/api/v1/preferences", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let writer = app.token_with_scopes("ann", "write").await;
    assert_eq!(
        app.get("/api/v1/preferences", &writer).await.0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn posting_defaults_are_kept_from_the_credentials_and_start_every_post() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let patch = |form: Vec<(&'static str, &'static str)>| {
        let request = app
            .client
            .patch(app.url("/api/v1/accounts/update_credentials"))
            .bearer_auth(&ann.token)
            .form(&form);
        async move {
            let response = request.send().await.expect("sent");
            let status = response.status();
            (status, response.json::<Value>().await.expect("json"))
        }
    };
    let (status, me) = patch(vec![
        ("source[privacy]", "unlisted"),
        ("source[sensitive]", "true"),
        ("source[language]", "DE"),
    ])
    .await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["source"]["privacy"], "unlisted", "{me}");
    assert_eq!(me["source"]["sensitive"], true);
    assert_eq!(me["source"]["language"], "de");
    let (_, preferences) = app.get("/api/v1/preferences", &ann.token).await;
    assert_eq!(preferences["posting:default:visibility"], "unlisted");
    assert_eq!(preferences["posting:default:sensitive"], true);
    assert_eq!(preferences["posting:default:language"], "de");
    let posted = post_status(&app, &ann.token, json!({"status": "by default"})).await;
    assert_eq!(posted["visibility"], "unlisted", "{posted}");
    assert_eq!(posted["sensitive"], true);
    assert_eq!(posted["language"], "de");
    let chosen = post_status(
        &app,
        &ann.token,
        json!({"status": "chosen", "visibility": "public", "sensitive": false, "language": "fr"}),
    )
    .await;
    assert_eq!(
        (
            &chosen["visibility"],
            &chosen["sensitive"],
            &chosen["language"]
        ),
        (&json!("public"), &json!(false), &json!("fr"))
    );

    // JSON bodies set them too; an empty language clears the choice, and
    // what the other settings were stays.
    let response = app
        .client
        .patch(app.url("/api/v1/accounts/update_credentials"))
        .bearer_auth(&ann.token)
        .json(&json!({"source": {"privacy": "private", "language": ""}}))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    let me: Value = response.json().await.expect("json");
    assert_eq!(me["source"]["privacy"], "private", "{me}");
    assert_eq!(me["source"]["sensitive"], true, "{me}");
    assert_eq!(
        me["source"]["language"], "en",
        "the user's own, again: {me}"
    );

    // No post starts direct, and a language must be one; nothing is kept
    // of a refused change.
    for (key, value) in [
        ("source[privacy]", "direct"),
        ("source[privacy]", "everyone"),
        ("source[language]", "english"),
    ] {
        let (status, body) = patch(vec![(key, value), ("display_name", "Not kept")]).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{key}={value}: {body}"
        );
        assert!(body["error"].is_string(), "{body}");
    }
    let (_, me) = app
        .get("/api/v1/accounts/verify_credentials", &ann.token)
        .await;
    assert_eq!(me["source"]["privacy"], "private");
    assert_ne!(me["display_name"], "Not kept");
}

#[tokio::test]
async fn the_unread_count_counts_past_the_notifications_marker() {
    let app = spawn_app().await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    let count = |query: &'static str| {
        let token = ann.token.clone();
        let app = &app;
        async move {
            let path = format!("/api/v1/notifications/unread_count{query}");
            let (status, body, _) = call(app, Method::GET, &path, Some(&token), None).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body["count"].as_i64().expect("a number")
        }
    };
    assert_eq!(count("").await, 0);

    let mine = post_status(&app, &ann.token, json!({"status": "hello"})).await;
    let path = format!(
        "/api/v1/statuses/{}/favourite",
        mine["id"].as_str().expect("id")
    );
    call(&app, Method::POST, &path, Some(&ben.token), None).await;
    let follow = format!("/api/v1/accounts/{}/follow", ann.id);
    call(&app, Method::POST, &follow, Some(&ben.token), None).await;
    post_status(&app, &ben.token, json!({"status": "@ann hi"})).await;
    assert_eq!(count("").await, 3, "no marker: all are unread");
    assert_eq!(count("?limit=2").await, 2);
    assert_eq!(count("?types[]=mention").await, 1);
    assert_eq!(count("?exclude_types[]=mention").await, 2);

    // Read up to the second newest: one is left.
    let (_, listed, _) = call(
        &app,
        Method::GET,
        "/api/v1/notifications",
        Some(&ann.token),
        None,
    )
    .await;
    let second = listed[1]["id"].as_str().expect("id").to_owned();
    let (status, markers, _) = call(
        &app,
        Method::POST,
        "/api/v1/markers",
        Some(&ann.token),
        Some(json!({"notifications": {"last_read_id": second}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{markers}");
    assert_eq!(count("").await, 1);
    let newest = listed[0]["id"].as_str().expect("id").to_owned();
    call(
        &app,
        Method::POST,
        "/api/v1/markers",
        Some(&ann.token),
        Some(json!({"notifications": {"last_read_id": newest}})),
    )
    .await;
    assert_eq!(count("").await, 0);

    let reader = app.token_with_scopes("ann", "read:statuses").await;
    assert_eq!(
        app.get("/api/v1/notifications/unread_count", &reader)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
}
