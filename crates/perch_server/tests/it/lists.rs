//! Lists through the client API and the streaming API: made, renamed and
//! deleted by their owner; members that are accounts the owner follows
//! (and leave when the follow ends); a timeline of the members' statuses
//! by the list's replies policy; exclusive lists' members out of the home
//! timeline; and the `list` stream.

use futures_util::SinkExt;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::statuses::{User, call, post_status, user};
use crate::streaming::{connect, next_event, next_frame, send_and_sync};
use crate::support::{TestApp, spawn_app};

async fn send(
    app: &TestApp,
    who: &User,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let (status, body, _) = call(app, method, path, Some(&who.token), body).await;
    (status, body)
}

async fn ok(app: &TestApp, who: &User, method: Method, path: &str, body: Option<Value>) -> Value {
    let (status, answer) = send(app, who, method, path, body).await;
    assert_eq!(status, StatusCode::OK, "{path}: {answer}");
    answer
}

async fn follow(app: &TestApp, follower: &User, target: &User) {
    let path = format!("/api/v1/accounts/{}/follow", target.id);
    ok(app, follower, Method::POST, &path, None).await;
}

async fn new_list(app: &TestApp, who: &User, body: Value) -> String {
    let list = ok(app, who, Method::POST, "/api/v1/lists", Some(body)).await;
    list["id"].as_str().expect("id").to_owned()
}

async fn add(app: &TestApp, who: &User, list: &str, members: &[&User]) -> (StatusCode, Value) {
    let ids: Vec<&str> = members.iter().map(|m| m.id.as_str()).collect();
    let path = format!("/api/v1/lists/{list}/accounts");
    send(
        app,
        who,
        Method::POST,
        &path,
        Some(json!({"account_ids": ids})),
    )
    .await
}

fn field(list: &Value, name: &str) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|item| match &item[name] {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        })
        .collect()
}

async fn timeline(app: &TestApp, who: &User, list: &str) -> Vec<String> {
    let path = format!("/api/v1/timelines/list/{list}");
    field(&ok(app, who, Method::GET, &path, None).await, "content")
}

async fn home(app: &TestApp, who: &User) -> Vec<String> {
    field(
        &ok(app, who, Method::GET, "/api/v1/timelines/home", None).await,
        "content",
    )
}

#[tokio::test]
async fn lists_are_made_renamed_and_deleted_by_their_owner_only() {
    let app = spawn_app().await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);

    let made = ok(
        &app,
        &ann,
        Method::POST,
        "/api/v1/lists",
        Some(json!({"title": "Friends"})),
    )
    .await;
    assert_eq!(
        made,
        json!({"id": made["id"], "title": "Friends", "replies_policy": "list", "exclusive": false})
    );
    let id = made["id"].as_str().expect("a string id").to_owned();
    // Forms work as JSON does.
    let form = app
        .client
        .post(app.url("/api/v1/lists"))
        .bearer_auth(&ann.token)
        .form(&[
            ("title", "Work"),
            ("replies_policy", "none"),
            ("exclusive", "true"),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(form.status(), StatusCode::OK);
    let work: Value = form.json().await.expect("json");
    assert_eq!(
        (work["replies_policy"].as_str(), work["exclusive"].as_bool()),
        (Some("none"), Some(true))
    );

    for bad in [
        json!({}),
        json!({"title": "  "}),
        json!({"title": "x", "replies_policy": "all"}),
    ] {
        let (status, body) =
            send(&app, &ann, Method::POST, "/api/v1/lists", Some(bad.clone())).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        assert!(
            body["error"]
                .as_str()
                .is_some_and(|e| e.starts_with("Validation failed")),
            "{body}"
        );
    }
    let all = ok(&app, &ann, Method::GET, "/api/v1/lists", None).await;
    assert_eq!(field(&all, "title"), ["Friends", "Work"]);

    let path = format!("/api/v1/lists/{id}");
    let renamed = ok(
        &app,
        &ann,
        Method::PUT,
        &path,
        Some(json!({"title": "Close friends", "replies_policy": "followed"})),
    )
    .await;
    assert_eq!(renamed["title"], "Close friends");
    assert_eq!(renamed["replies_policy"], "followed");
    assert_eq!(renamed["exclusive"], false, "what is not given stays");
    let (status, _) = send(&app, &ann, Method::PUT, &path, Some(json!({"title": ""}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(ok(&app, &ann, Method::GET, &path, None).await, renamed);

    // Someone else's list does not exist for ben.
    for method in [Method::GET, Method::PUT, Method::DELETE] {
        let (status, body) = send(&app, &ben, method, &path, Some(json!({"title": "mine"}))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_eq!(body, json!({"error": "Record not found"}));
    }
    let (status, _) = send(
        &app,
        &ben,
        Method::GET,
        &format!("/api/v1/timelines/list/{id}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        ok(&app, &ben, Method::GET, "/api/v1/lists", None).await,
        json!([])
    );

    assert_eq!(ok(&app, &ann, Method::DELETE, &path, None).await, json!({}));
    assert_eq!(
        send(&app, &ann, Method::GET, &path, None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(&app, &ann, Method::GET, "/api/v1/lists/nope", None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    // Scopes: read:lists to read, write:lists to change.
    let reader = app.token_with_scopes("ann", "read:lists").await;
    assert_eq!(app.get("/api/v1/lists", &reader).await.0, StatusCode::OK);
    let (status, _) = app
        .send(
            Method::POST,
            "/api/v1/lists",
            &reader,
            Some(json!({"title": "no"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn members_are_followed_accounts_whose_statuses_fill_the_list() {
    let app = spawn_app().await;
    let (ann, ben, cat, dan) = (
        user(&app, "ann").await,
        user(&app, "ben").await,
        user(&app, "cat").await,
        user(&app, "dan").await,
    );
    follow(&app, &ann, &ben).await;
    follow(&app, &ann, &cat).await;
    post_status(&app, &ben.token, json!({"status": "ben before"})).await;
    let list = new_list(&app, &ann, json!({"title": "Ben"})).await;

    // Not followed: refused, and nothing of the request is added.
    let (status, body) = add(&app, &ann, &list, &[&cat, &dan]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = add(&app, &ann, &list, &[&ben]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = add(&app, &ann, &list, &[&ben]).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "adding a member again changes nothing"
    );
    let (status, _) = send(
        &app,
        &ann,
        Method::POST,
        &format!("/api/v1/lists/{list}/accounts"),
        Some(json!({"account_ids": ["999999"]})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let members_path = format!("/api/v1/lists/{list}/accounts");
    let members = ok(&app, &ann, Method::GET, &members_path, None).await;
    assert_eq!(field(&members, "id"), [ben.id.as_str()]);
    let in_lists = ok(
        &app,
        &ann,
        Method::GET,
        &format!("/api/v1/accounts/{}/lists", ben.id),
        None,
    )
    .await;
    assert_eq!(field(&in_lists, "id"), [list.as_str()]);
    assert_eq!(
        ok(
            &app,
            &ann,
            Method::GET,
            &format!("/api/v1/accounts/{}/lists", cat.id),
            None
        )
        .await,
        json!([])
    );

    // What ben posted before joining is there, and what he posts now.
    post_status(&app, &cat.token, json!({"status": "cat now"})).await;
    post_status(&app, &ben.token, json!({"status": "ben now"})).await;
    post_status(
        &app,
        &ben.token,
        json!({"status": "ben for followers", "visibility": "private"}),
    )
    .await;
    post_status(
        &app,
        &ben.token,
        json!({"status": "@ann ben direct", "visibility": "direct"}),
    )
    .await;
    assert_eq!(
        timeline(&app, &ann, &list).await,
        [
            "<p>ben for followers</p>",
            "<p>ben now</p>",
            "<p>ben before</p>"
        ]
    );

    // Paged by Link headers.
    let (_, page, headers) = call(
        &app,
        Method::GET,
        &format!("/api/v1/timelines/list/{list}?limit=2"),
        Some(&ann.token),
        None,
    )
    .await;
    assert_eq!(
        field(&page, "content"),
        ["<p>ben for followers</p>", "<p>ben now</p>"]
    );
    let link = headers["link"].to_str().expect("ascii");
    let next = link
        .split(", ")
        .find(|l| l.ends_with("rel=\"next\""))
        .and_then(|l| l.trim_start_matches('<').split('>').next())
        .expect("next");
    let older: Value = app
        .client
        .get(next)
        .bearer_auth(&ann.token)
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(field(&older, "content"), ["<p>ben before</p>"]);

    // Members page by the Link header too.
    let (status, _) = add(&app, &ann, &list, &[&cat]).await;
    assert_eq!(status, StatusCode::OK);
    let (_, first, headers) = call(
        &app,
        Method::GET,
        &format!("{members_path}?limit=1"),
        Some(&ann.token),
        None,
    )
    .await;
    assert_eq!(field(&first, "id"), [cat.id.as_str()], "latest added first");
    assert!(headers["link"].to_str().expect("ascii").contains("max_id="));
    let everyone = ok(
        &app,
        &ann,
        Method::GET,
        &format!("{members_path}?limit=0"),
        None,
    )
    .await;
    assert_eq!(field(&everyone, "id"), [cat.id.clone(), ben.id.clone()]);

    // Taken out: gone from the list and its timeline.
    let removed = ok(
        &app,
        &ann,
        Method::DELETE,
        &members_path,
        Some(json!({"account_ids": [cat.id]})),
    )
    .await;
    assert_eq!(removed, json!({}));
    assert!(
        !timeline(&app, &ann, &list)
            .await
            .contains(&"<p>cat now</p>".to_owned())
    );

    // Unfollowing takes ben out of every list of ann's.
    ok(
        &app,
        &ann,
        Method::POST,
        &format!("/api/v1/accounts/{}/unfollow", ben.id),
        None,
    )
    .await;
    assert_eq!(
        ok(&app, &ann, Method::GET, &members_path, None).await,
        json!([])
    );
    assert_eq!(timeline(&app, &ann, &list).await, Vec::<String>::new());
    assert_eq!(
        ok(
            &app,
            &ann,
            Method::GET,
            &format!("/api/v1/accounts/{}/lists", ben.id),
            None
        )
        .await,
        json!([])
    );
}

#[tokio::test]
async fn the_replies_policy_decides_which_replies_a_list_shows() {
    let app = spawn_app().await;
    let (ann, ben, cat, dan) = (
        user(&app, "ann").await,
        user(&app, "ben").await,
        user(&app, "cat").await,
        user(&app, "dan").await,
    );
    follow(&app, &ann, &ben).await;
    follow(&app, &ann, &cat).await;
    let followed = new_list(
        &app,
        &ann,
        json!({"title": "f", "replies_policy": "followed"}),
    )
    .await;
    let members = new_list(&app, &ann, json!({"title": "l", "replies_policy": "list"})).await;
    let with_cat = new_list(&app, &ann, json!({"title": "lc", "replies_policy": "list"})).await;
    let none = new_list(&app, &ann, json!({"title": "n", "replies_policy": "none"})).await;
    for list in [&followed, &members, &none] {
        assert_eq!(add(&app, &ann, list, &[&ben]).await.0, StatusCode::OK);
    }
    assert_eq!(
        add(&app, &ann, &with_cat, &[&ben, &cat]).await.0,
        StatusCode::OK
    );

    let mut parents = Vec::new();
    for (who, text) in [
        (&ann, "by ann"),
        (&ben, "by ben"),
        (&cat, "by cat"),
        (&dan, "by dan"),
    ] {
        parents.push((
            text,
            post_status(&app, &who.token, json!({"status": text})).await,
        ));
    }
    for (text, parent) in &parents {
        post_status(
            &app,
            &ben.token,
            json!({"status": format!("re {text}"), "in_reply_to_id": parent["id"]}),
        )
        .await;
    }
    let replies = |list: Vec<String>| -> Vec<String> {
        list.into_iter()
            .filter(|c| c.starts_with("<p>re "))
            .collect()
    };
    assert_eq!(
        replies(timeline(&app, &ann, &followed).await),
        ["<p>re by cat</p>", "<p>re by ben</p>", "<p>re by ann</p>"]
    );
    assert_eq!(
        replies(timeline(&app, &ann, &members).await),
        ["<p>re by ben</p>", "<p>re by ann</p>"]
    );
    assert_eq!(
        replies(timeline(&app, &ann, &with_cat).await),
        ["<p>re by cat</p>", "<p>re by ben</p>", "<p>re by ann</p>"]
    );
    assert_eq!(
        replies(timeline(&app, &ann, &none).await),
        ["<p>re by ben</p>", "<p>re by ann</p>"]
    );
}

#[tokio::test]
async fn an_exclusive_lists_members_are_left_out_of_the_home_timeline() {
    let app = spawn_app().await;
    let (ann, ben, cat) = (
        user(&app, "ann").await,
        user(&app, "ben").await,
        user(&app, "cat").await,
    );
    follow(&app, &ann, &ben).await;
    follow(&app, &ann, &cat).await;
    let list = new_list(&app, &ann, json!({"title": "Ben", "exclusive": true})).await;
    assert_eq!(add(&app, &ann, &list, &[&ben]).await.0, StatusCode::OK);
    post_status(&app, &ben.token, json!({"status": "by ben"})).await;
    post_status(&app, &cat.token, json!({"status": "by cat"})).await;
    post_status(&app, &ann.token, json!({"status": "by ann"})).await;

    assert_eq!(home(&app, &ann).await, ["<p>by ann</p>", "<p>by cat</p>"]);
    assert_eq!(timeline(&app, &ann, &list).await, ["<p>by ben</p>"]);
    // Ben's followers who have no such list still see him at home.
    let dan = user(&app, "dan").await;
    follow(&app, &dan, &ben).await;
    assert_eq!(home(&app, &dan).await, ["<p>by ben</p>"]);

    // Live, the same: ann's user stream hears cat, not ben.
    let mut ws = connect(
        &app.base_url,
        &format!("stream=user&access_token={}", ann.token),
    )
    .await;
    // Once a frame is answered, the connection has finished opening (its
    // presence is announced) and the posts do not race with it.
    send_and_sync(&mut ws, json!({"type": "subscribe", "stream": "user"})).await;
    post_status(&app, &ben.token, json!({"status": "ben live"})).await;
    post_status(&app, &cat.token, json!({"status": "cat live"})).await;
    let update = next_event(&mut ws, json!(["user"]), "update").await;
    assert_eq!(update["content"], "<p>cat live</p>");

    let path = format!("/api/v1/lists/{list}");
    ok(
        &app,
        &ann,
        Method::PUT,
        &path,
        Some(json!({"exclusive": false})),
    )
    .await;
    assert_eq!(
        home(&app, &ann).await,
        [
            "<p>cat live</p>",
            "<p>ben live</p>",
            "<p>by ann</p>",
            "<p>by cat</p>",
            "<p>by ben</p>"
        ]
    );
}

#[tokio::test]
async fn the_list_stream_carries_the_members_new_statuses_to_the_owner() {
    let app = spawn_app().await;
    let (ann, ben, cat) = (
        user(&app, "ann").await,
        user(&app, "ben").await,
        user(&app, "cat").await,
    );
    follow(&app, &ann, &ben).await;
    follow(&app, &ann, &cat).await;
    let list = new_list(&app, &ann, json!({"title": "Ben"})).await;
    assert_eq!(add(&app, &ann, &list, &[&ben]).await.0, StatusCode::OK);

    // Chosen in the query…
    let mut by_query = connect(
        &app.base_url,
        &format!("stream=list&list={list}&access_token={}", ann.token),
    )
    .await;
    // …or by a subscribe frame, the list's id as a string or a number.
    let mut multiplexed = connect(&app.base_url, &format!("access_token={}", ann.token)).await;
    send_and_sync(
        &mut multiplexed,
        json!({"type": "subscribe", "stream": "list", "list": list.parse::<i64>().expect("id")}),
    )
    .await;

    post_status(&app, &cat.token, json!({"status": "not a member"})).await;
    let posted = post_status(&app, &ben.token, json!({"status": "member"})).await;
    for ws in [&mut by_query, &mut multiplexed] {
        let update = next_event(ws, json!(["list", list]), "update").await;
        assert_eq!(update["id"], posted["id"]);
    }

    // Nobody else may listen to ann's list.
    let mut bens = connect(&app.base_url, &format!("access_token={}", ben.token)).await;
    bens.send(Message::text(
        json!({"type": "subscribe", "stream": "list", "list": list}).to_string(),
    ))
    .await
    .expect("sent");
    let refused = next_frame(&mut bens).await;
    assert_eq!(refused["status"], 404, "{refused}");
    let url = format!(
        "{}/api/v1/streaming?stream=list&list={list}&access_token={}",
        app.base_url.replacen("http", "ws", 1),
        ben.token
    );
    assert!(tokio_tungstenite::connect_async(url).await.is_err());
    let mut no_list = connect(&app.base_url, &format!("access_token={}", ann.token)).await;
    no_list
        .send(Message::text(
            json!({"type": "subscribe", "stream": "list"}).to_string(),
        ))
        .await
        .expect("sent");
    assert_eq!(next_frame(&mut no_list).await["status"], 400);
}
