//! Polls through the client API, on one instance: posting a status with a
//! poll (JSON and form bodies) within the advertised limits, the Poll
//! entity on statuses and at /api/v1/polls/:id, votes and their errors,
//! who may see and vote, hidden totals, edits, and the end of a poll,
//! which notifies its author and voters once (and reaches their streams).

use perch_core::time::now_millis;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::statuses::{User, call, post_status, user};
use crate::support::{TestApp, spawn_app};

/// A poll of alice's: tea or coffee, for an hour.
async fn tea_or_coffee(app: &TestApp, alice: &User, extra: Value) -> Value {
    let mut poll = json!({"options": ["tea", "coffee"], "expires_in": 3600});
    if let (Some(poll), Some(extra)) = (poll.as_object_mut(), extra.as_object()) {
        poll.extend(extra.clone());
    }
    post_status(
        app,
        &alice.token,
        json!({"status": "Tea or coffee?", "poll": poll}),
    )
    .await
}

fn poll_id(status: &Value) -> String {
    status["poll"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a poll: {status}"))
        .to_owned()
}

async fn vote(app: &TestApp, voter: &User, poll: &str, choices: Value) -> (StatusCode, Value) {
    let (status, body, _) = call(
        app,
        Method::POST,
        &format!("/api/v1/polls/{poll}/votes"),
        Some(&voter.token),
        Some(json!({ "choices": choices })),
    )
    .await;
    (status, body)
}

async fn get(app: &TestApp, path: &str, token: Option<&str>) -> (StatusCode, Value) {
    let (status, body, _) = call(app, Method::GET, path, token, None).await;
    (status, body)
}

/// End every poll as an hour and more from now would.
async fn end_polls(app: &TestApp) -> u64 {
    perch_domain::polls::close_expired(&app.apub.domain, now_millis() + 2 * 3600 * 1000)
        .await
        .expect("polls ended")
}

fn tiny_png() -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image::RgbImage::new(4, 4))
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("encodes");
    out.into_inner()
}

async fn poll_notifications(app: &TestApp, who: &User) -> Vec<Value> {
    let (status, list) = get(app, "/api/v1/notifications?types[]=poll", Some(&who.token)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list.as_array().expect("a list").clone()
}

#[tokio::test]
async fn a_poll_is_posted_shown_and_voted_in() {
    let app = spawn_app().await;
    let alice = user(&app, "alice").await;
    let bob = user(&app, "bob").await;
    let posted = tea_or_coffee(&app, &alice, json!({})).await;
    let poll = &posted["poll"];
    assert_eq!(
        poll["options"],
        json!([
            {"title": "tea", "votes_count": 0},
            {"title": "coffee", "votes_count": 0},
        ])
    );
    assert_eq!(poll["multiple"], false);
    assert_eq!(poll["expired"], false);
    assert_eq!(poll["votes_count"], 0);
    assert_eq!(poll["voters_count"], 0);
    assert_eq!(poll["emojis"], json!([]));
    assert_eq!(poll["voted"], true, "one's own poll counts as voted in");
    assert_eq!(poll["own_votes"], json!([]));
    let expires_at = poll["expires_at"].as_str().expect("an end");
    let end = chrono::DateTime::parse_from_rfc3339(expires_at).expect("ISO 8601");
    let hour_from_now = now_millis() + 3600 * 1000;
    assert!(
        (end.timestamp_millis() - hour_from_now).abs() < 60_000,
        "{expires_at}"
    );
    assert!(
        expires_at.ends_with(".000Z") || expires_at.len() == 24,
        "{expires_at}"
    );

    let id = poll_id(&posted);
    let (status, seen) = get(&app, &format!("/api/v1/polls/{id}"), Some(&bob.token)).await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(seen["voted"], false);
    let (status, anonymous) = get(&app, &format!("/api/v1/polls/{id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{anonymous}");
    assert!(anonymous.get("voted").is_none(), "{anonymous}");

    let (status, voted) = vote(&app, &bob, &id, json!([1])).await;
    assert_eq!(status, StatusCode::OK, "{voted}");
    assert_eq!(voted["id"], json!(id));
    assert_eq!(voted["votes_count"], 1);
    assert_eq!(voted["voters_count"], 1);
    assert_eq!(voted["options"][1]["votes_count"], 1);
    assert_eq!(voted["voted"], true);
    assert_eq!(voted["own_votes"], json!([1]));

    // The status shows the totals wherever it is rendered.
    let path = format!("/api/v1/statuses/{}", posted["id"].as_str().expect("id"));
    let (_, status_now) = get(&app, &path, Some(&alice.token)).await;
    assert_eq!(status_now["poll"]["options"][1]["votes_count"], 1);
    let (_, home) = get(&app, "/api/v1/timelines/home", Some(&alice.token)).await;
    assert_eq!(home[0]["poll"]["votes_count"], 1, "{home}");

    // Voting again is refused and changes nothing.
    let (status, again) = vote(&app, &bob, &id, json!([0])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{again}");
    assert_eq!(
        again["error"],
        "Validation failed: You have already voted on this poll"
    );
    let (_, seen) = get(&app, &format!("/api/v1/polls/{id}"), Some(&bob.token)).await;
    assert_eq!(seen["votes_count"], 1);
}

#[tokio::test]
async fn a_form_body_posts_a_multiple_choice_poll_and_votes_in_it() {
    let app = spawn_app().await;
    let alice = user(&app, "alice").await;
    let bob = user(&app, "bob").await;
    let response = app
        .client
        .post(app.url("/api/v1/statuses"))
        .bearer_auth(&alice.token)
        .form(&[
            ("status", "Which days?"),
            ("poll[options][]", "Monday"),
            ("poll[options][]", "Tuesday"),
            ("poll[options][]", "Friday"),
            ("poll[expires_in]", "600"),
            ("poll[multiple]", "true"),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    let posted: Value = response.json().await.expect("json");
    assert_eq!(posted["poll"]["multiple"], true);
    assert_eq!(posted["poll"]["options"][2]["title"], "Friday");
    let id = poll_id(&posted);

    let response = app
        .client
        .post(app.url(&format!("/api/v1/polls/{id}/votes")))
        .bearer_auth(&bob.token)
        .form(&[("choices[]", "0"), ("choices[]", "2")])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    let voted: Value = response.json().await.expect("json");
    assert_eq!(voted["votes_count"], 2);
    assert_eq!(voted["voters_count"], 1);
    assert_eq!(voted["own_votes"], json!([0, 2]));
    assert_eq!(voted["options"][1]["votes_count"], 0);
}

#[tokio::test]
async fn a_poll_outside_the_limits_is_refused_and_nothing_is_stored() {
    let app = spawn_app().await;
    let alice = user(&app, "alice").await;
    let (_, instance) = get(&app, "/api/v2/instance", None).await;
    let limits = &instance["configuration"]["polls"];
    let max_options = limits["max_options"].as_u64().expect("max_options") as usize;
    let max_characters = limits["max_characters_per_option"].as_u64().expect("chars") as usize;
    let min = limits["min_expiration"].as_i64().expect("min");
    let max = limits["max_expiration"].as_i64().expect("max");
    let too_many: Vec<String> = (0..=max_options).map(|i| format!("option {i}")).collect();
    let long = "x".repeat(max_characters + 1);
    let cases = [
        (
            json!({"options": ["alone"], "expires_in": 3600}),
            "Validation failed: Poll options must have more than one item",
        ),
        (
            json!({"options": too_many, "expires_in": 3600}),
            "Validation failed: Poll options can't contain more than 4 items",
        ),
        (
            json!({"options": ["a", long], "expires_in": 3600}),
            "Validation failed: Poll options cannot be longer than 50 characters each",
        ),
        (
            json!({"options": ["a", "a"], "expires_in": 3600}),
            "Validation failed: Poll options contain duplicate items",
        ),
        (
            json!({"options": ["a", "b"], "expires_in": min - 1}),
            "Validation failed: Poll expires at is too soon",
        ),
        (
            json!({"options": ["a", "b"], "expires_in": max + 1}),
            "Validation failed: Poll expires at is too far into the future",
        ),
        (
            json!({"options": ["a", "b"]}),
            "Validation failed: Poll expires at can't be blank",
        ),
        (
            json!({"options": ["a", "b"], "expires_in": 600.5}),
            "Validation failed: Poll expires in is not a number",
        ),
    ];
    for (poll, error) in cases {
        let (status, body, _) = call(
            &app,
            Method::POST,
            "/api/v1/statuses",
            Some(&alice.token),
            Some(json!({"status": "A question", "poll": poll})),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{poll}: {body}");
        assert_eq!(body["error"], error, "{poll}");
    }
    // At the limits it is fine, as a string too.
    let at_limits: Vec<String> = (0..max_options)
        .map(|i| format!("{i}{}", "y".repeat(max_characters - 1)))
        .collect();
    let ok = post_status(
        &app,
        &alice.token,
        json!({"status": "At the limits", "poll": {"options": at_limits, "expires_in": min.to_string()}}),
    )
    .await;
    assert_eq!(
        ok["poll"]["options"].as_array().map(Vec::len),
        Some(max_options)
    );

    // Media and a poll do not go together.
    let upload = app
        .client
        .post(app.url("/api/v2/media"))
        .bearer_auth(&alice.token)
        .multipart(reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(tiny_png()).file_name("a.png"),
        ))
        .send()
        .await
        .expect("sent");
    assert!(upload.status().is_success(), "{}", upload.status());
    let media: Value = upload.json().await.expect("json");
    let (status, body, _) = call(
        &app,
        Method::POST,
        "/api/v1/statuses",
        Some(&alice.token),
        Some(json!({
            "status": "A picture and a question",
            "media_ids": [media["id"]],
            "poll": {"options": ["a", "b"], "expires_in": 3600},
        })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (_, mine) = get(
        &app,
        &format!("/api/v1/accounts/{}/statuses", alice.id),
        Some(&alice.token),
    )
    .await;
    assert_eq!(
        mine.as_array().map(Vec::len),
        Some(1),
        "only the valid poll was stored: {mine}"
    );
}

#[tokio::test]
async fn votes_are_checked_as_mastodon_checks_them() {
    let app = spawn_app().await;
    let alice = user(&app, "alice").await;
    let bob = user(&app, "bob").await;
    let carol = user(&app, "carol").await;
    let posted = tea_or_coffee(&app, &alice, json!({})).await;
    let id = poll_id(&posted);
    let unprocessable = [
        (
            &alice,
            json!([0]),
            "Validation failed: You cannot vote in your own polls",
        ),
        (
            &bob,
            json!([2]),
            "Validation failed: The chosen vote option does not exist",
        ),
        (
            &bob,
            json!([-1]),
            "Validation failed: The chosen vote option does not exist",
        ),
        (
            &bob,
            json!(["tea"]),
            "Validation failed: The chosen vote option does not exist",
        ),
        (
            &bob,
            json!([0, 1]),
            "Validation failed: This poll allows only one choice",
        ),
        (&bob, json!([]), "Validation failed: Choices can't be blank"),
    ];
    for (voter, choices, error) in unprocessable {
        let (status, body) = vote(&app, voter, &id, choices.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{choices}: {body}"
        );
        assert_eq!(body["error"], error, "{choices}");
    }
    let (_, seen) = get(&app, &format!("/api/v1/polls/{id}"), Some(&bob.token)).await;
    assert_eq!(seen["votes_count"], 0, "no refused vote counted: {seen}");

    // A poll nobody may see is not found: unknown, on a followers-only
    // status of someone not followed, or by someone who blocks the voter.
    let (status, _) = vote(&app, &bob, "12345", json!([0])).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let private = post_status(
        &app,
        &alice.token,
        json!({"status": "Followers only", "visibility": "private",
               "poll": {"options": ["yes", "no"], "expires_in": 3600}}),
    )
    .await;
    let private_id = poll_id(&private);
    let (status, body) = vote(&app, &bob, &private_id, json!([0])).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["error"], "Record not found");
    let (status, _) = get(
        &app,
        &format!("/api/v1/polls/{private_id}"),
        Some(&bob.token),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(&app, &format!("/api/v1/polls/{private_id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, body, _) = call(
        &app,
        Method::POST,
        &format!("/api/v1/accounts/{}/block", carol.id),
        Some(&alice.token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = vote(&app, &carol, &id, json!([0])).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a blocked account does not vote"
    );

    // An ended poll takes no more votes.
    assert_eq!(end_polls(&app).await, 2);
    let (status, body) = vote(&app, &bob, &id, json!([0])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        body["error"],
        "Validation failed: The poll has already ended"
    );
}

#[tokio::test]
async fn hidden_totals_show_once_the_poll_ends() {
    let app = spawn_app().await;
    let alice = user(&app, "alice").await;
    let bob = user(&app, "bob").await;
    let posted = tea_or_coffee(
        &app,
        &alice,
        json!({"hide_totals": true, "expires_in": 3600.0}),
    )
    .await;
    let id = poll_id(&posted);
    let (_, voted) = vote(&app, &bob, &id, json!([0])).await;
    assert_eq!(voted["options"][0]["votes_count"], Value::Null, "{voted}");
    assert_eq!(voted["votes_count"], 1);
    end_polls(&app).await;
    let (_, ended) = get(&app, &format!("/api/v1/polls/{id}"), Some(&bob.token)).await;
    assert_eq!(ended["expired"], true);
    assert_eq!(ended["options"][0]["votes_count"], 1, "{ended}");
}

#[tokio::test]
async fn the_end_of_a_poll_notifies_its_author_and_voters_once() {
    let app = spawn_app().await;
    let alice = user(&app, "alice").await;
    let bob = user(&app, "bob").await;
    let carol = user(&app, "carol").await;
    let dave = user(&app, "dave").await;
    let posted = tea_or_coffee(&app, &alice, json!({})).await;
    let id = poll_id(&posted);
    assert_eq!(vote(&app, &bob, &id, json!([0])).await.0, StatusCode::OK);
    assert_eq!(vote(&app, &carol, &id, json!([1])).await.0, StatusCode::OK);

    // Not yet: its time is not up.
    perch_domain::polls::close_expired(&app.apub.domain, now_millis())
        .await
        .expect("pass");
    assert!(poll_notifications(&app, &bob).await.is_empty());

    assert_eq!(end_polls(&app).await, 1);
    for who in [&alice, &bob, &carol] {
        let notes = poll_notifications(&app, who).await;
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(notes[0]["type"], "poll");
        assert_eq!(notes[0]["status"]["id"], posted["id"]);
        assert_eq!(notes[0]["status"]["poll"]["expired"], true);
        assert_eq!(notes[0]["account"]["id"], json!(alice.id));
    }
    assert!(
        poll_notifications(&app, &dave).await.is_empty(),
        "not a voter"
    );

    // Once only.
    assert_eq!(end_polls(&app).await, 0);
    assert_eq!(poll_notifications(&app, &bob).await.len(), 1);
    let (_, ended) = get(&app, &format!("/api/v1/polls/{id}"), Some(&bob.token)).await;
    assert_eq!(ended["expired"], true);
    assert_eq!(ended["votes_count"], 2);
}

#[tokio::test]
async fn an_edit_keeps_the_poll_and_its_votes() {
    let app = spawn_app().await;
    let alice = user(&app, "alice").await;
    let bob = user(&app, "bob").await;
    let posted = tea_or_coffee(&app, &alice, json!({})).await;
    let id = poll_id(&posted);
    assert_eq!(vote(&app, &bob, &id, json!([0])).await.0, StatusCode::OK);
    let path = format!("/api/v1/statuses/{}", posted["id"].as_str().expect("id"));
    // Clients send the poll again with the edit.
    let (status, edited, _) = call(
        &app,
        Method::PUT,
        &path,
        Some(&alice.token),
        Some(json!({"status": "Tea or coffee, really?",
                    "poll": {"options": ["tea", "coffee"], "expires_in": 3600}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["content"], "<p>Tea or coffee, really?</p>");
    assert_eq!(edited["poll"]["id"], json!(id));
    assert_eq!(edited["poll"]["options"][0]["votes_count"], 1);

    // A poll is not added by an edit.
    let plain = post_status(&app, &alice.token, json!({"status": "No question"})).await;
    let (status, body, _) = call(
        &app,
        Method::PUT,
        &format!("/api/v1/statuses/{}", plain["id"].as_str().expect("id")),
        Some(&alice.token),
        Some(json!({"status": "Now a question?",
                    "poll": {"options": ["yes", "no"], "expires_in": 3600}})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (_, unchanged) = get(
        &app,
        &format!("/api/v1/statuses/{}", plain["id"].as_str().expect("id")),
        Some(&alice.token),
    )
    .await;
    assert_eq!(unchanged["content"], "<p>No question</p>");
    assert_eq!(unchanged["poll"], Value::Null);
}

#[tokio::test]
async fn the_end_of_a_poll_reaches_a_voters_stream() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;

    let app = spawn_app().await;
    let alice = user(&app, "alice").await;
    let bob = user(&app, "bob").await;
    let posted = tea_or_coffee(&app, &alice, json!({})).await;
    assert_eq!(
        vote(&app, &bob, &poll_id(&posted), json!([1])).await.0,
        StatusCode::OK
    );
    let mut ws = crate::streaming::connect(
        &app.base_url,
        &format!("stream=user&access_token={}", bob.token),
    )
    .await;
    assert_eq!(end_polls(&app).await, 1);
    let deadline = std::time::Duration::from_secs(20);
    let notification = loop {
        let message = tokio::time::timeout(deadline, ws.next())
            .await
            .expect("a frame within the deadline")
            .expect("the connection is open")
            .expect("a valid frame");
        let Message::Text(text) = message else {
            continue;
        };
        let frame: Value = serde_json::from_str(text.as_str()).expect("JSON frame");
        if frame["event"] == "notification" {
            assert_eq!(frame["stream"], json!(["user"]), "{frame}");
            break serde_json::from_str::<Value>(frame["payload"].as_str().expect("payload"))
                .expect("JSON payload");
        }
    };
    assert_eq!(notification["type"], "poll");
    assert_eq!(notification["status"]["id"], posted["id"]);
    assert_eq!(notification["status"]["poll"]["expired"], true);
}
