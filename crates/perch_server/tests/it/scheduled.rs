//! Scheduled statuses through the client API: made with `scheduled_at`,
//! listed, moved and cancelled, refused too soon or beyond Mastodon's
//! limits, and published when due (the job run on demand with the time
//! the test wants) as any other post is, once, whatever restarts and
//! however many passes race for it.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::statuses::{User, call, post_status, user};
use crate::support::{TestApp, spawn_app};

fn at(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Millis, true)
}

async fn schedule(app: &TestApp, who: &User, body: Value) -> (StatusCode, Value) {
    let (status, body, _) = call(
        app,
        Method::POST,
        "/api/v1/statuses",
        Some(&who.token),
        Some(body),
    )
    .await;
    (status, body)
}

async fn scheduled_list(app: &TestApp, who: &User) -> Vec<Value> {
    let (status, body, _) = call(
        app,
        Method::GET,
        "/api/v1/scheduled_statuses",
        Some(&who.token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().expect("a list").clone()
}

async fn statuses_of(app: &TestApp, who: &User) -> Vec<Value> {
    let path = format!("/api/v1/accounts/{}/statuses", who.id);
    let (status, body, _) = call(app, Method::GET, &path, Some(&who.token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body.as_array().expect("a list").clone()
}

/// Publish what is due at `time`, as the worker would then; how many.
async fn run_at(app: &TestApp, time: DateTime<Utc>) -> usize {
    perch_api::statuses::scheduled::run_due(&app.api, time.timestamp_millis())
        .await
        .expect("a pass")
}

async fn upload_png(app: &TestApp, who: &User) -> Value {
    let png = image::RgbImage::from_pixel(2, 2, image::Rgb([10, 20, 30]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(png)
        .write_to(&mut bytes, image::ImageFormat::Png)
        .expect("encodes");
    let form = Form::new().part("file", Part::bytes(bytes.into_inner()).file_name("dot.png"));
    let response = app
        .client
        .post(app.url("/api/v2/media"))
        .bearer_auth(&who.token)
        .multipart(form)
        .send()
        .await
        .expect("sent");
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.expect("JSON")
}

#[tokio::test]
async fn a_scheduled_status_waits_then_is_published_like_any_other() {
    let app = spawn_app().await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    let media = upload_png(&app, &ann).await;
    let when = Utc::now() + Duration::hours(2);
    let (code, scheduled) = schedule(
        &app,
        &ann,
        json!({
            "status": "@ben later",
            "scheduled_at": at(when),
            "media_ids": [media["id"]],
            "spoiler_text": "cw",
            "language": "en",
        }),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{scheduled}");
    let id = scheduled["id"].as_str().expect("a string id").to_owned();
    assert_eq!(scheduled["scheduled_at"], at(when));
    let params = &scheduled["params"];
    assert_eq!(params["text"], "@ben later");
    assert_eq!(params["media_ids"], json!([media["id"]]));
    assert_eq!(params["sensitive"], true);
    assert_eq!(params["spoiler_text"], "cw");
    assert_eq!(params["visibility"], "public");
    assert_eq!(params["language"], "en");
    for null in ["poll", "in_reply_to_id", "scheduled_at", "idempotency"] {
        assert!(params[null].is_null(), "{null}: {params}");
    }
    assert!(params["application_id"].is_string());
    assert_eq!(params["with_rate_limit"], false);
    assert_eq!(scheduled["media_attachments"][0]["id"], media["id"]);
    assert!(statuses_of(&app, &ann).await.is_empty(), "not posted yet");

    // Listed, read and moved.
    let listed = scheduled_list(&app, &ann).await;
    assert_eq!(listed, std::slice::from_ref(&scheduled));
    assert!(scheduled_list(&app, &ben).await.is_empty());
    let path = format!("/api/v1/scheduled_statuses/{id}");
    let (code, shown, _) = call(&app, Method::GET, &path, Some(&ann.token), None).await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(shown, scheduled);
    let (code, body, _) = call(&app, Method::GET, &path, Some(&ben.token), None).await;
    assert_eq!(code, StatusCode::NOT_FOUND, "{body}");
    let later = when + Duration::hours(1);
    let (code, moved, _) = call(
        &app,
        Method::PUT,
        &path,
        Some(&ann.token),
        Some(json!({"scheduled_at": at(later)})),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{moved}");
    assert_eq!(moved["scheduled_at"], at(later));
    let (code, body, _) = call(
        &app,
        Method::PUT,
        &path,
        Some(&ann.token),
        Some(json!({"scheduled_at": at(Utc::now() + Duration::minutes(1))})),
    )
    .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"].is_string());

    // Its upload is kept for it.
    let (code, body, _) = call(
        &app,
        Method::POST,
        "/api/v1/statuses",
        Some(&ann.token),
        Some(json!({"status": "now", "media_ids": [media["id"]]})),
    )
    .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // Not before its time; at its time, once, with a mention notification.
    assert_eq!(run_at(&app, when).await, 0);
    assert_eq!(run_at(&app, later).await, 1);
    assert_eq!(run_at(&app, later).await, 0);
    assert!(scheduled_list(&app, &ann).await.is_empty());
    let posted = statuses_of(&app, &ann).await;
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert!(
        posted[0]["content"]
            .as_str()
            .expect("html")
            .contains("later")
    );
    assert_eq!(posted[0]["spoiler_text"], "cw");
    assert_eq!(posted[0]["media_attachments"][0]["id"], media["id"]);
    let (_, notifications, _) = call(
        &app,
        Method::GET,
        "/api/v1/notifications",
        Some(&ben.token),
        None,
    )
    .await;
    assert_eq!(notifications[0]["type"], "mention", "{notifications}");
    assert_eq!(notifications[0]["status"]["id"], posted[0]["id"]);
    let (code, _, _) = call(&app, Method::GET, &path, Some(&ann.token), None).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn too_soon_invalid_and_past_times_and_cancelling() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    for bad in [at(Utc::now() + Duration::minutes(4)), "tomorrow".to_owned()] {
        let (code, body) =
            schedule(&app, &ann, json!({"status": "soon", "scheduled_at": bad})).await;
        assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        assert!(body["error"].is_string());
    }
    // A time passed already posts now, as Mastodon does.
    let (code, body) = schedule(
        &app,
        &ann,
        json!({"status": "past", "scheduled_at": at(Utc::now() - Duration::hours(1))}),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert!(body["content"].as_str().expect("a status").contains("past"));
    // What a post would refuse, scheduling refuses too.
    let (code, body) = schedule(
        &app,
        &ann,
        json!({"status": "", "scheduled_at": at(Utc::now() + Duration::hours(1))}),
    )
    .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    let when = Utc::now() + Duration::hours(1);
    let (_, scheduled) = schedule(
        &app,
        &ann,
        json!({"status": "never", "scheduled_at": at(when), "poll": {"options": ["a", "b"], "expires_in": 3600}}),
    )
    .await;
    assert_eq!(scheduled["params"]["poll"]["options"], json!(["a", "b"]));
    assert_eq!(scheduled["params"]["poll"]["expires_in"], 3600);
    let path = format!(
        "/api/v1/scheduled_statuses/{}",
        scheduled["id"].as_str().expect("id")
    );
    let (code, body, _) = call(&app, Method::DELETE, &path, Some(&ann.token), None).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(body, json!({}));
    let (code, _, _) = call(&app, Method::DELETE, &path, Some(&ann.token), None).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    assert_eq!(run_at(&app, when + Duration::minutes(1)).await, 0);
    assert_eq!(statuses_of(&app, &ann).await.len(), 1, "only the past one");
}

#[tokio::test]
async fn a_day_holds_twenty_five_and_pages_are_linked() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    // Noon, two days ahead (UTC), then the day after.
    let day = (Utc::now() + Duration::days(2))
        .date_naive()
        .and_hms_opt(12, 0, 0)
        .expect("noon")
        .and_utc();
    for n in 0..25 {
        let (code, body) = schedule(
            &app,
            &ann,
            json!({"status": format!("n{n}"), "scheduled_at": at(day + Duration::minutes(n))}),
        )
        .await;
        assert_eq!(code, StatusCode::OK, "{n}: {body}");
    }
    let (code, body) = schedule(
        &app,
        &ann,
        json!({"status": "one too many", "scheduled_at": at(day + Duration::hours(1))}),
    )
    .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"].as_str().expect("error").contains("25"));
    let (code, body) = schedule(
        &app,
        &ann,
        json!({"status": "next day", "scheduled_at": at(day + Duration::days(1))}),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{body}");

    let (code, page, headers) = call(
        &app,
        Method::GET,
        "/api/v1/scheduled_statuses?limit=10",
        Some(&ann.token),
        None,
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(page.as_array().map(Vec::len), Some(10));
    let link = headers["link"].to_str().expect("ascii");
    assert!(
        link.contains("rel=\"next\"") && link.contains("max_id="),
        "{link}"
    );
    assert_eq!(page[0]["params"]["text"], "next day", "newest first");
}

#[tokio::test]
async fn due_statuses_survive_a_restart_and_racing_passes_publish_each_once() {
    let mut app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let when = Utc::now() + Duration::hours(1);
    for n in 0..3 {
        let (code, body) = schedule(
            &app,
            &ann,
            json!({"status": format!("queued {n}"), "scheduled_at": at(when)}),
        )
        .await;
        assert_eq!(code, StatusCode::OK, "{body}");
    }
    app.stop().await;
    app.start_again().await;
    assert_eq!(scheduled_list(&app, &ann).await.len(), 3);

    let due = when + Duration::seconds(1);
    let (first, second) = tokio::join!(run_at(&app, due), run_at(&app, due));
    assert_eq!(first + second, 3, "each claimed by one pass");
    assert_eq!(run_at(&app, due).await, 0);
    let posted = statuses_of(&app, &ann).await;
    assert_eq!(posted.len(), 3, "{posted:?}");
    assert!(scheduled_list(&app, &ann).await.is_empty());
    // Posting still works as before.
    post_status(&app, &ann.token, json!({"status": "now"})).await;
}
