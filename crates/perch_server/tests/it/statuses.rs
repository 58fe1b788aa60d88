//! Statuses, timelines and notifications through the client API, on one
//! instance: who sees what, counters, idempotency, threads, edits and
//! deletes.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::oauth::{password_token, register_app};
use crate::support::{TestApp, spawn_app};

pub const PASSWORD: &str = "correct horse battery staple";

/// A signed-in local user.
pub struct User {
    pub id: String,
    pub token: String,
}

pub async fn user(app: &TestApp, name: &str) -> User {
    let id = app.create_user(name, PASSWORD).await;
    let client = register_app(app, "read write follow").await;
    let token = password_token(app, &client, name, "read write follow").await;
    User {
        id: id.to_string(),
        token: token["access_token"].as_str().expect("token").to_owned(),
    }
}

pub async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let mut request = app.client.request(method, app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("sent");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body, headers)
}

async fn get(app: &TestApp, path: &str, token: Option<&str>) -> (StatusCode, Value) {
    let (status, body, _) = call(app, reqwest::Method::GET, path, token, None).await;
    (status, body)
}

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
    let (status, body, _) = call(app, reqwest::Method::POST, path, Some(token), Some(body)).await;
    (status, body)
}

pub async fn post_status(app: &TestApp, token: &str, body: Value) -> Value {
    let (status, body) = post(app, "/api/v1/statuses", token, body).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn follow(app: &TestApp, follower: &User, target: &User) {
    let path = format!("/api/v1/accounts/{}/follow", target.id);
    let (status, body) = post(app, &path, &follower.token, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|s| s["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn a_post_has_mastodons_shape_and_reaches_followers_home() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;
    follow(&app, &ben, &ann).await;

    let posted = post_status(
        &app,
        &ann.token,
        json!({"status": "Hello <world> & friends", "spoiler_text": "greeting", "language": "en"}),
    )
    .await;
    for field in [
        "id",
        "uri",
        "url",
        "created_at",
        "account",
        "content",
        "visibility",
        "sensitive",
        "spoiler_text",
        "media_attachments",
        "application",
        "mentions",
        "tags",
        "emojis",
        "reblogs_count",
        "favourites_count",
        "replies_count",
        "reblog",
        "poll",
        "card",
        "language",
        "text",
        "edited_at",
        "in_reply_to_id",
        "in_reply_to_account_id",
        "favourited",
        "reblogged",
        "muted",
        "bookmarked",
        "pinned",
        "filtered",
    ] {
        assert!(posted.get(field).is_some(), "missing {field}: {posted}");
    }
    assert_eq!(posted["visibility"], "public");
    assert_eq!(
        posted["sensitive"], true,
        "a content warning makes it sensitive"
    );
    assert_eq!(posted["language"], "en");
    let content = posted["content"].as_str().expect("content");
    assert!(content.contains("&lt;world&gt; &amp; friends"), "{content}");
    assert!(!content.contains("<world>"));
    assert_eq!(posted["account"]["statuses_count"], 1);

    let (status, home) = get(&app, "/api/v1/timelines/home", Some(&ben.token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        ids(&home),
        vec![posted["id"].as_str().expect("id").to_owned()]
    );
    let (_, own_home) = get(&app, "/api/v1/timelines/home", Some(&ann.token)).await;
    assert_eq!(ids(&own_home).len(), 1);
    let (status, shown) = get(
        &app,
        &format!("/api/v1/statuses/{}", posted["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown["id"], posted["id"]);
}

#[tokio::test]
async fn bad_statuses_are_refused_with_mastodon_errors() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let cases = [
        (json!({"status": "   "}), "Text can't be blank"),
        (json!({"status": "x".repeat(501)}), "character limit of 500"),
        (
            json!({"status": "hi", "visibility": "everyone"}),
            "visibility",
        ),
        (json!({"status": "hi", "language": "english!"}), "Language"),
    ];
    for (body, expected) in cases {
        let (status, answer) = post(&app, "/api/v1/statuses", &ann.token, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert!(
            answer["error"].as_str().expect("error").contains(expected),
            "{answer}"
        );
    }
    let (status, answer) = post(
        &app,
        "/api/v1/statuses",
        &ann.token,
        json!({"status": "hi", "in_reply_to_id": "12345"}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    // Nothing was stored by any of them.
    let (_, home) = get(&app, "/api/v1/timelines/home", Some(&ann.token)).await;
    assert_eq!(home, json!([]));
    let (status, _) = post(
        &app,
        "/api/v1/statuses",
        "not-a-token",
        json!({"status": "hi"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_idempotency_key_creates_one_status() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let mut first = None;
    for _ in 0..3 {
        let response = app
            .client
            .post(app.url("/api/v1/statuses"))
            .bearer_auth(&ann.token)
            .header("Idempotency-Key", "abc-123")
            .form(&[("status", "once")])
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.expect("json");
        let id = body["id"].as_str().expect("id").to_owned();
        assert_eq!(first.get_or_insert(id.clone()), &id);
    }
    let (_, home) = get(&app, "/api/v1/timelines/home", Some(&ann.token)).await;
    assert_eq!(ids(&home).len(), 1);
}

#[tokio::test]
async fn visibility_decides_who_reads() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let follower = user(&app, "fol").await;
    let stranger = user(&app, "str").await;
    follow(&app, &follower, &ann).await;

    let mut posted = Vec::new();
    for visibility in ["public", "unlisted", "private", "direct"] {
        let status = post_status(
            &app,
            &ann.token,
            json!({"status": visibility, "visibility": visibility}),
        )
        .await;
        posted.push(status["id"].as_str().expect("id").to_owned());
    }
    let readable = |token: Option<String>| {
        let app = &app;
        let posted = posted.clone();
        async move {
            let mut seen = Vec::new();
            for (id, visibility) in posted
                .iter()
                .zip(["public", "unlisted", "private", "direct"])
            {
                let (status, _) =
                    get(app, &format!("/api/v1/statuses/{id}"), token.as_deref()).await;
                if status == StatusCode::OK {
                    seen.push(visibility);
                } else {
                    assert_eq!(status, StatusCode::NOT_FOUND);
                }
            }
            seen
        }
    };
    assert_eq!(readable(None).await, ["public", "unlisted"]);
    assert_eq!(
        readable(Some(stranger.token.clone())).await,
        ["public", "unlisted"]
    );
    assert_eq!(
        readable(Some(follower.token.clone())).await,
        ["public", "unlisted", "private"]
    );
    assert_eq!(
        readable(Some(ann.token.clone())).await,
        ["public", "unlisted", "private", "direct"]
    );

    // The public timeline lists the public one only; the follower's home
    // has all but the direct one.
    let (_, public) = get(&app, "/api/v1/timelines/public", None).await;
    assert_eq!(ids(&public), vec![posted[0].clone()]);
    let (_, home) = get(&app, "/api/v1/timelines/home", Some(&follower.token)).await;
    assert_eq!(
        ids(&home),
        vec![posted[2].clone(), posted[1].clone(), posted[0].clone()]
    );
    let account = format!("/api/v1/accounts/{}/statuses", ann.id);
    let (_, by_stranger) = get(&app, &account, Some(&stranger.token)).await;
    assert_eq!(
        ids(&by_stranger),
        vec![posted[1].clone(), posted[0].clone()]
    );
    let (_, local) = get(&app, "/api/v1/timelines/public?local=true", None).await;
    assert_eq!(ids(&local), vec![posted[0].clone()]);
    let (_, remote) = get(&app, "/api/v1/timelines/public?remote=true", None).await;
    assert_eq!(remote, json!([]));
}

#[tokio::test]
async fn likes_and_reblogs_count_once_and_notify() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;
    let cat = user(&app, "cat").await;
    follow(&app, &cat, &ben).await;
    let posted = post_status(&app, &ann.token, json!({"status": "like me"})).await;
    let id = posted["id"].as_str().expect("id");

    for _ in 0..2 {
        let (status, liked) = post(
            &app,
            &format!("/api/v1/statuses/{id}/favourite"),
            &ben.token,
            json!({}),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(liked["favourites_count"], 1);
        assert_eq!(liked["favourited"], true);
    }
    let (_, by) = get(&app, &format!("/api/v1/statuses/{id}/favourited_by"), None).await;
    assert_eq!(ids(&by), vec![ben.id.clone()]);
    let (_, favourites) = get(&app, "/api/v1/favourites", Some(&ben.token)).await;
    assert_eq!(ids(&favourites), vec![id.to_owned()]);

    let (status, reblog) = post(
        &app,
        &format!("/api/v1/statuses/{id}/reblog"),
        &ben.token,
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reblog}");
    assert_eq!(reblog["reblog"]["id"], id);
    assert_eq!(reblog["reblog"]["reblogs_count"], 1);
    assert_eq!(reblog["reblog"]["reblogged"], true);
    let (_, again) = post(
        &app,
        &format!("/api/v1/statuses/{id}/reblog"),
        &ben.token,
        json!({}),
    )
    .await;
    assert_eq!(
        again["id"], reblog["id"],
        "reblogging twice changes nothing"
    );
    // Ben's follower sees the reblog in her home feed.
    let (_, home) = get(&app, "/api/v1/timelines/home", Some(&cat.token)).await;
    assert_eq!(home[0]["reblog"]["id"], id);

    let (_, notes) = get(&app, "/api/v1/notifications", Some(&ann.token)).await;
    let kinds: Vec<&str> = notes
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["reblog", "favourite"]);
    assert_eq!(notes[0]["account"]["id"], ben.id.as_str());
    assert_eq!(notes[0]["status"]["id"], id);
    let (_, only_likes) = get(
        &app,
        "/api/v1/notifications?types[]=favourite",
        Some(&ann.token),
    )
    .await;
    assert_eq!(only_likes.as_array().unwrap().len(), 1);
    let (_, no_likes) = get(
        &app,
        "/api/v1/notifications?exclude_types[]=favourite",
        Some(&ann.token),
    )
    .await;
    assert_eq!(no_likes[0]["type"], "reblog");

    let (_, undone) = post(
        &app,
        &format!("/api/v1/statuses/{id}/unfavourite"),
        &ben.token,
        json!({}),
    )
    .await;
    assert_eq!(undone["favourites_count"], 0);
    assert_eq!(undone["favourited"], false);
    let (_, unreblogged) = post(
        &app,
        &format!("/api/v1/statuses/{id}/unreblog"),
        &ben.token,
        json!({}),
    )
    .await;
    assert_eq!(unreblogged["id"], id);
    assert_eq!(unreblogged["reblogs_count"], 0);
    let (_, home) = get(&app, "/api/v1/timelines/home", Some(&cat.token)).await;
    assert_eq!(home, json!([]));
    let (_, notes) = get(&app, "/api/v1/notifications", Some(&ann.token)).await;
    assert_eq!(notes, json!([]), "taken back, the notifications go too");
}

#[tokio::test]
async fn threads_edits_and_deletes() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;
    let root = post_status(&app, &ann.token, json!({"status": "root"})).await;
    let root_id = root["id"].as_str().expect("id");
    let reply = post_status(
        &app,
        &ben.token,
        json!({"status": "reply", "in_reply_to_id": root_id}),
    )
    .await;
    let reply_id = reply["id"].as_str().expect("id");
    let deeper = post_status(
        &app,
        &ann.token,
        json!({"status": "deeper", "in_reply_to_id": reply_id}),
    )
    .await;
    assert_eq!(reply["in_reply_to_id"], root_id);
    assert_eq!(reply["in_reply_to_account_id"], ann.id.as_str());

    let (_, context) = get(&app, &format!("/api/v1/statuses/{reply_id}/context"), None).await;
    assert_eq!(ids(&context["ancestors"]), vec![root_id.to_owned()]);
    assert_eq!(
        ids(&context["descendants"]),
        vec![deeper["id"].as_str().unwrap().to_owned()]
    );
    let (_, root_now) = get(&app, &format!("/api/v1/statuses/{root_id}"), None).await;
    assert_eq!(root_now["replies_count"], 1);

    let path = format!("/api/v1/statuses/{root_id}");
    let (status, edited, _) = call(
        &app,
        reqwest::Method::PUT,
        &path,
        Some(&ann.token),
        Some(json!({"status": "root, edited"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert!(edited["edited_at"].is_string());
    assert!(edited["content"].as_str().unwrap().contains("root, edited"));
    let (_, history) = get(&app, &format!("/api/v1/statuses/{root_id}/history"), None).await;
    let versions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["content"].as_str().unwrap())
        .collect();
    assert_eq!(versions.len(), 2);
    assert!(versions[0].contains("root") && !versions[0].contains("edited"));
    let (_, source) = get(
        &app,
        &format!("/api/v1/statuses/{root_id}/source"),
        Some(&ann.token),
    )
    .await;
    assert_eq!(source["text"], "root, edited");
    // Someone else's status cannot be edited or deleted.
    let (status, _, _) = call(
        &app,
        reqwest::Method::PUT,
        &path,
        Some(&ben.token),
        Some(json!({"status": "mine"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = call(&app, reqwest::Method::DELETE, &path, Some(&ben.token), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let reply_path = format!("/api/v1/statuses/{reply_id}");
    let (status, deleted, _) = call(
        &app,
        reqwest::Method::DELETE,
        &reply_path,
        Some(&ben.token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        deleted["text"], "reply",
        "the source comes back for redrafting"
    );
    let (status, _) = get(&app, &reply_path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, root_now) = get(&app, &format!("/api/v1/statuses/{root_id}"), None).await;
    assert_eq!(root_now["replies_count"], 0);
    let (_, me) = get(
        &app,
        "/api/v1/accounts/verify_credentials",
        Some(&ben.token),
    )
    .await;
    assert_eq!(me["statuses_count"], 0);
}

#[tokio::test]
async fn timelines_page_with_link_headers() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let mut posted = Vec::new();
    for n in 0..5 {
        let status = post_status(&app, &ann.token, json!({"status": format!("post {n}")})).await;
        posted.push(status["id"].as_str().expect("id").to_owned());
    }
    posted.reverse();
    let (status, page, headers) = call(
        &app,
        reqwest::Method::GET,
        "/api/v1/timelines/home?limit=2",
        Some(&ann.token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&page), posted[..2]);
    let link = headers
        .get("link")
        .expect("Link")
        .to_str()
        .expect("ascii")
        .to_owned();
    let next = link
        .split(", ")
        .find(|l| l.ends_with("rel=\"next\""))
        .and_then(|l| l.strip_prefix('<'))
        .and_then(|l| l.split('>').next())
        .expect("next link")
        .to_owned();
    assert!(next.contains(&format!("max_id={}", posted[1])), "{next}");
    let response = app
        .client
        .get(&next)
        .bearer_auth(&ann.token)
        .send()
        .await
        .expect("sent");
    let second: Value = response.json().await.expect("json");
    assert_eq!(ids(&second), posted[2..4]);
    let (_, newer) = get(
        &app,
        &format!("/api/v1/timelines/home?min_id={}&limit=2", posted[3]),
        Some(&ann.token),
    )
    .await;
    assert_eq!(
        ids(&newer),
        posted[1..3],
        "min_id pages just above, newest first"
    );
}

#[tokio::test]
async fn follows_notify_and_markers_remember() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;
    follow(&app, &ben, &ann).await;
    let (_, notes) = get(&app, "/api/v1/notifications", Some(&ann.token)).await;
    assert_eq!(notes[0]["type"], "follow");
    let id = notes[0]["id"].as_str().expect("id").to_owned();
    let (status, one) = get(
        &app,
        &format!("/api/v1/notifications/{id}"),
        Some(&ann.token),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["account"]["id"], ben.id.as_str());
    let (status, _) = get(
        &app,
        &format!("/api/v1/notifications/{id}"),
        Some(&ben.token),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "one's notifications are one's own"
    );

    let (status, marked) = post(
        &app,
        "/api/v1/markers",
        &ann.token,
        json!({"notifications": {"last_read_id": id}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{marked}");
    assert_eq!(marked["notifications"]["last_read_id"], id.as_str());
    assert_eq!(marked["notifications"]["version"], 0);
    let (_, marked) = post(
        &app,
        "/api/v1/markers",
        &ann.token,
        json!({"notifications": {"last_read_id": id}}),
    )
    .await;
    assert_eq!(marked["notifications"]["version"], 1);
    let (_, markers) = get(
        &app,
        "/api/v1/markers?timeline[]=notifications",
        Some(&ann.token),
    )
    .await;
    assert_eq!(markers["notifications"]["last_read_id"], id.as_str());

    let (status, _) = post(
        &app,
        &format!("/api/v1/notifications/{id}/dismiss"),
        &ann.token,
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (_, notes) = get(&app, "/api/v1/notifications", Some(&ann.token)).await;
    assert_eq!(notes, json!([]));
    let (status, _) = post(&app, "/api/v1/notifications/clear", &ann.token, json!({})).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn text_becomes_links_mentions_and_tags_and_direct_posts_reach_only_the_mentioned() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;
    let cat = user(&app, "cat").await;
    let posted = post_status(
        &app,
        &ann.token,
        json!({"status": "Hi @ben and @nobody, see https://example.com/a-long-path/that-is-cut-for-display #Perch #perch", "visibility": "direct"}),
    )
    .await;
    let content = posted["content"].as_str().expect("content");
    assert!(
        content.contains("class=\"u-url mention\">@<span>ben</span></a>"),
        "{content}"
    );
    assert!(
        content.contains("@nobody"),
        "an unknown mention stays text: {content}"
    );
    assert!(content.contains("<span class=\"ellipsis\">"), "{content}");
    assert!(
        content.contains("rel=\"tag\">#<span>Perch</span>"),
        "{content}"
    );
    assert_eq!(posted["mentions"].as_array().map(Vec::len), Some(1));
    assert_eq!(posted["mentions"][0]["acct"], "ben");
    assert_eq!(
        posted["tags"],
        json!([{"name": "perch", "url": format!("{}/tags/perch", app.base_url)}])
    );

    let id = posted["id"].as_str().unwrap();
    let (status, _) = get(&app, &format!("/api/v1/statuses/{id}"), Some(&ben.token)).await;
    assert_eq!(status, StatusCode::OK, "the mentioned reads it");
    let (status, _) = get(&app, &format!("/api/v1/statuses/{id}"), Some(&cat.token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nobody else does");
    let (_, home) = get(&app, "/api/v1/timelines/home", Some(&ben.token)).await;
    assert_eq!(ids(&home), vec![id.to_owned()]);
    let (_, notes) = get(&app, "/api/v1/notifications", Some(&ben.token)).await;
    assert_eq!(notes[0]["type"], "mention");
    let (_, tagged) = get(&app, "/api/v1/timelines/tag/perch", None).await;
    assert_eq!(tagged, json!([]), "a direct post is on no tag timeline");

    let public = post_status(&app, &cat.token, json!({"status": "public #Perch"})).await;
    let (_, tagged) = get(&app, "/api/v1/timelines/tag/Perch", None).await;
    assert_eq!(
        ids(&tagged),
        vec![public["id"].as_str().unwrap().to_owned()]
    );
}
