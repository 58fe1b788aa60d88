//! Filters through the client API: v2 filters with their keywords and
//! statuses and v1 filters made, read, changed and deleted by their owner
//! only, refused when invalid or past the limits, and taken with an
//! account's deletion. How they apply to what is read is in `applied`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::statuses::{User, call, post_status, user};
use crate::support::{TestApp, spawn_app};

mod applied;

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
    let (status, answer) = send(app, who, method.clone(), path, body).await;
    assert_eq!(status, StatusCode::OK, "{method} {path}: {answer}");
    answer
}

async fn get(app: &TestApp, who: &User, path: &str) -> Value {
    ok(app, who, Method::GET, path, None).await
}

/// A form-encoded request, as many apps send them.
async fn form(app: &TestApp, who: &User, method: Method, path: &str, body: &str) -> Value {
    let response = app
        .client
        .request(method, app.url(path))
        .bearer_auth(&who.token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned())
        .send()
        .await
        .expect("sent");
    let status = response.status();
    let answer: Value = response.json().await.expect("JSON");
    assert_eq!(status, StatusCode::OK, "{path}: {answer}");
    answer
}

async fn new_filter(app: &TestApp, who: &User, body: Value) -> Value {
    ok(app, who, Method::POST, "/api/v2/filters", Some(body)).await
}

async fn follow(app: &TestApp, follower: &User, target: &User) {
    let path = format!("/api/v1/accounts/{}/follow", target.id);
    ok(app, follower, Method::POST, &path, None).await;
}

fn id(value: &Value) -> String {
    value["id"].as_str().expect("a string id").to_owned()
}

/// The statuses of a list: content, and the ids of the filters in their
/// `filtered`.
fn seen(list: &Value) -> Vec<(String, Vec<String>)> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|status| {
            let proper = if status["reblog"].is_object() {
                &status["reblog"]
            } else {
                status
            };
            (
                proper["content"].as_str().expect("content").to_owned(),
                filters_of(status),
            )
        })
        .collect()
}

fn filters_of(status: &Value) -> Vec<String> {
    status["filtered"]
        .as_array()
        .expect("filtered is a list")
        .iter()
        .map(|result| id(&result["filter"]))
        .collect()
}

fn no_filters() -> Vec<String> {
    Vec::new()
}

#[tokio::test]
async fn v2_filters_are_made_read_changed_and_deleted_by_their_owner() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;

    // JSON, with keywords.
    let filter = new_filter(
        &app,
        &ann,
        json!({
            "title": "Spoilers",
            "context": ["home", "public"],
            "filter_action": "hide",
            "keywords_attributes": [
                {"keyword": "finale"},
                {"keyword": "ending", "whole_word": false}
            ]
        }),
    )
    .await;
    let mut keys: Vec<&str> = filter
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "context",
            "expires_at",
            "filter_action",
            "id",
            "keywords",
            "statuses",
            "title"
        ]
    );
    assert_eq!(filter["title"], "Spoilers");
    assert_eq!(filter["context"], json!(["home", "public"]));
    assert_eq!(filter["filter_action"], "hide");
    assert_eq!(filter["expires_at"], Value::Null);
    assert_eq!(filter["statuses"], json!([]));
    let keywords = filter["keywords"].as_array().expect("keywords");
    assert_eq!(keywords.len(), 2);
    assert_eq!(keywords[0]["keyword"], "finale");
    assert_eq!(keywords[0]["whole_word"], true, "whole words by default");
    assert_eq!(keywords[1]["whole_word"], false);
    assert!(keywords[0]["id"].is_string());
    let filter_id = id(&filter);
    let path = format!("/api/v2/filters/{filter_id}");

    // A form, nested Rails' way, and with an expiry.
    let formed = form(
        &app,
        &ann,
        Method::POST,
        "/api/v2/filters",
        "title=Politics&context[]=notifications&context[]=thread&expires_in=3600\
         &keywords_attributes[0][keyword]=election&keywords_attributes[0][whole_word]=false\
         &keywords_attributes[1][keyword]=vote",
    )
    .await;
    assert_eq!(formed["context"], json!(["notifications", "thread"]));
    assert_eq!(formed["filter_action"], "warn");
    assert!(
        formed["expires_at"]
            .as_str()
            .expect("expires")
            .ends_with('Z')
    );
    assert_eq!(formed["keywords"][0]["keyword"], "election");
    assert_eq!(formed["keywords"][0]["whole_word"], false);
    assert_eq!(formed["keywords"][1]["keyword"], "vote");

    let list = get(&app, &ann, "/api/v2/filters").await;
    let ids: Vec<String> = list.as_array().expect("list").iter().map(id).collect();
    assert_eq!(ids, [filter_id.clone(), id(&formed)]);
    assert_eq!(get(&app, &ann, &path).await, filter);

    // Changed: settings, one keyword changed, one removed, one added.
    let first = id(&keywords[0]);
    let second = id(&keywords[1]);
    let changed = ok(
        &app,
        &ann,
        Method::PUT,
        &path,
        Some(json!({
            "title": "TV",
            "filter_action": "blur",
            "context": ["home"],
            "keywords_attributes": [
                {"id": first, "keyword": "season finale"},
                {"id": second, "_destroy": true},
                {"keyword": "cliffhanger"}
            ]
        })),
    )
    .await;
    assert_eq!(changed["title"], "TV");
    assert_eq!(changed["filter_action"], "blur");
    assert_eq!(changed["context"], json!(["home"]));
    let words: Vec<&str> = changed["keywords"]
        .as_array()
        .expect("keywords")
        .iter()
        .map(|k| k["keyword"].as_str().expect("keyword"))
        .collect();
    assert_eq!(words, ["season finale", "cliffhanger"]);

    // The nested keyword resource.
    let keywords_path = format!("{path}/keywords");
    let added = ok(
        &app,
        &ann,
        Method::POST,
        &keywords_path,
        Some(json!({"keyword": "recap", "whole_word": false})),
    )
    .await;
    assert_eq!(added["keyword"], "recap");
    assert_eq!(
        get(&app, &ann, &keywords_path)
            .await
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    let keyword_path = format!("/api/v2/filters/keywords/{}", id(&added));
    assert_eq!(get(&app, &ann, &keyword_path).await, added);
    let renamed = ok(
        &app,
        &ann,
        Method::PUT,
        &keyword_path,
        Some(json!({"keyword": "recaps"})),
    )
    .await;
    assert_eq!(renamed["keyword"], "recaps");
    assert_eq!(renamed["whole_word"], false, "unchanged when not given");
    assert_eq!(
        ok(&app, &ann, Method::DELETE, &keyword_path, None).await,
        json!({})
    );
    assert_eq!(
        send(&app, &ann, Method::GET, &keyword_path, None).await.0,
        StatusCode::NOT_FOUND
    );

    // The nested status resource.
    let bens = post_status(&app, &ben.token, json!({"status": "a post"})).await;
    let statuses_path = format!("{path}/statuses");
    let filtered = ok(
        &app,
        &ann,
        Method::POST,
        &statuses_path,
        Some(json!({"status_id": bens["id"]})),
    )
    .await;
    assert_eq!(filtered["status_id"], bens["id"]);
    assert!(filtered["id"].is_string());
    assert_eq!(
        get(&app, &ann, &statuses_path).await,
        json!([filtered.clone()])
    );
    let status_path = format!("/api/v2/filters/statuses/{}", id(&filtered));
    assert_eq!(get(&app, &ann, &status_path).await, filtered);
    let (status, body) = send(
        &app,
        &ann,
        Method::POST,
        &statuses_path,
        Some(json!({"status_id": bens["id"]})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body) = send(
        &app,
        &ann,
        Method::POST,
        &statuses_path,
        Some(json!({"status_id": "123"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"].is_string(), "{body}");
    assert_eq!(
        get(&app, &ann, &path).await["statuses"],
        json!([filtered.clone()])
    );

    // Nobody else reads or changes them.
    for (method, target) in [
        (Method::GET, path.clone()),
        (Method::PUT, path.clone()),
        (Method::DELETE, path.clone()),
        (Method::GET, keywords_path.clone()),
        (Method::POST, keywords_path.clone()),
        (Method::GET, format!("/api/v2/filters/keywords/{first}")),
        (Method::DELETE, format!("/api/v2/filters/keywords/{first}")),
        (Method::GET, status_path.clone()),
        (Method::DELETE, status_path.clone()),
        (Method::GET, format!("/api/v1/filters/{first}")),
    ] {
        let (status, body) = send(
            &app,
            &ben,
            method.clone(),
            &target,
            Some(json!({"title": "mine", "keyword": "x"})),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {target}: {body}");
        assert!(body["error"].is_string(), "{body}");
    }
    assert_eq!(get(&app, &ben, "/api/v2/filters").await, json!([]));
    assert_eq!(get(&app, &ann, &path).await["title"], "TV");

    // A keyword of another filter is not this filter's.
    let other_keyword = id(&formed["keywords"][0]);
    let (status, _) = send(
        &app,
        &ann,
        Method::PUT,
        &path,
        Some(json!({"keywords_attributes": [{"id": other_keyword, "_destroy": true}]})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        get(&app, &ann, &format!("/api/v2/filters/{}", id(&formed))).await,
        formed
    );

    // Deleted, with its keywords and statuses.
    assert_eq!(
        ok(&app, &ann, Method::DELETE, &status_path, None).await,
        json!({})
    );
    assert_eq!(ok(&app, &ann, Method::DELETE, &path, None).await, json!({}));
    assert_eq!(
        send(&app, &ann, Method::GET, &path, None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        send(
            &app,
            &ann,
            Method::GET,
            &format!("/api/v2/filters/keywords/{first}"),
            None
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, &ann, "/api/v2/filters")
            .await
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn invalid_filters_are_refused_whole() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    for body in [
        json!({"context": ["home"]}),
        json!({"title": "  ", "context": ["home"]}),
        json!({"title": "x"}),
        json!({"title": "x", "context": []}),
        json!({"title": "x", "context": ["home", "explore"]}),
        json!({"title": "x", "context": ["home"], "filter_action": "drop"}),
        json!({"title": "x", "context": ["home"], "expires_in": -5}),
        json!({"title": "x", "context": ["home"], "expires_in": "soon"}),
        json!({"title": "x", "context": ["home"], "keywords_attributes": [{"keyword": "ok"}, {"keyword": " "}]}),
        json!({"title": "x".repeat(300), "context": ["home"]}),
    ] {
        let (status, answer) = send(
            &app,
            &ann,
            Method::POST,
            "/api/v2/filters",
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {answer}");
        assert!(
            answer["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{answer}"
        );
    }
    // Nothing of them was kept.
    assert_eq!(get(&app, &ann, "/api/v2/filters").await, json!([]));
    assert_eq!(
        send(&app, &ann, Method::GET, "/api/v2/filters/nonsense", None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    // Tokens need the filters scopes.
    let reader = app.token_with_scopes("ann", "read:statuses").await;
    let (status, _, _) = call(&app, Method::GET, "/api/v2/filters", Some(&reader), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let filters_only = app.token_with_scopes("ann", "read:filters").await;
    let (status, _, _) = call(
        &app,
        Method::GET,
        "/api/v1/filters",
        Some(&filters_only),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = call(
        &app,
        Method::POST,
        "/api/v2/filters",
        Some(&filters_only),
        Some(json!({"title": "x", "context": ["home"]})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_account_has_at_most_a_hundred_filters_and_a_thousand_keywords() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let many: Vec<Value> = (0..1000)
        .map(|n| json!({"keyword": format!("word{n}")}))
        .collect();
    let big = new_filter(
        &app,
        &ann,
        json!({"title": "big", "context": ["home"], "keywords_attributes": many}),
    )
    .await;
    let (status, body) = send(
        &app,
        &ann,
        Method::POST,
        &format!("/api/v2/filters/{}/keywords", id(&big)),
        Some(json!({"keyword": "one more"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"].as_str().expect("error").contains("1000"),
        "{body}"
    );
    // The filter that would pass the limit is not kept at all.
    let (status, _) = send(
        &app,
        &ann,
        Method::POST,
        "/api/v2/filters",
        Some(json!({"title": "x", "context": ["home"], "keywords_attributes": [{"keyword": "y"}]})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    for n in 1..100 {
        new_filter(
            &app,
            &ann,
            json!({"title": format!("f{n}"), "context": ["public"]}),
        )
        .await;
    }
    let (status, body) = send(
        &app,
        &ann,
        Method::POST,
        "/api/v2/filters",
        Some(json!({"title": "f100", "context": ["public"]})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        get(&app, &ann, "/api/v2/filters")
            .await
            .as_array()
            .map(Vec::len),
        Some(100)
    );
}

#[tokio::test]
async fn v1_filters_are_filters_of_one_keyword() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let v1 = form(
        &app,
        &ann,
        Method::POST,
        "/api/v1/filters",
        "phrase=spoiler&context[]=home&context[]=public&irreversible=true&whole_word=false",
    )
    .await;
    let mut keys: Vec<&str> = v1
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "context",
            "expires_at",
            "id",
            "irreversible",
            "phrase",
            "whole_word"
        ]
    );
    assert_eq!(v1["phrase"], "spoiler");
    assert_eq!(v1["context"], json!(["home", "public"]));
    assert_eq!(v1["irreversible"], true);
    assert_eq!(v1["whole_word"], false);
    assert_eq!(v1["expires_at"], Value::Null);

    // It is a v2 filter with one keyword, whose id is the v1 filter's.
    let v2 = get(&app, &ann, "/api/v2/filters").await;
    assert_eq!(v2[0]["title"], "spoiler");
    assert_eq!(v2[0]["filter_action"], "hide");
    assert_eq!(v2[0]["keywords"][0]["id"], v1["id"]);
    let path = format!("/api/v1/filters/{}", id(&v1));
    assert_eq!(get(&app, &ann, &path).await, v1);
    assert_eq!(
        get(&app, &ann, "/api/v1/filters").await,
        json!([v1.clone()])
    );

    let changed = ok(
        &app,
        &ann,
        Method::PUT,
        &path,
        Some(json!({"phrase": "spoilers", "context": ["thread"], "irreversible": false, "expires_in": 600})),
    )
    .await;
    assert_eq!(changed["id"], v1["id"]);
    assert_eq!(changed["phrase"], "spoilers");
    assert_eq!(changed["context"], json!(["thread"]));
    assert_eq!(changed["irreversible"], false);
    assert!(changed["expires_at"].is_string());
    let v2 = get(&app, &ann, "/api/v2/filters").await;
    assert_eq!(v2[0]["title"], "spoilers");
    assert_eq!(v2[0]["filter_action"], "warn");

    // A v2 filter of two keywords is two v1 filters, whose shared settings
    // a v1 app may not change.
    let two = new_filter(
        &app,
        &ann,
        json!({"title": "Two", "context": ["home"],
               "keywords_attributes": [{"keyword": "one"}, {"keyword": "two"}]}),
    )
    .await;
    let listed = get(&app, &ann, "/api/v1/filters").await;
    let phrases: Vec<&str> = listed
        .as_array()
        .expect("list")
        .iter()
        .map(|f| f["phrase"].as_str().expect("phrase"))
        .collect();
    assert_eq!(phrases, ["spoilers", "one", "two"]);
    let one = format!("/api/v1/filters/{}", id(&two["keywords"][0]));
    let (status, body) = send(
        &app,
        &ann,
        Method::PUT,
        &one,
        Some(json!({"context": ["public"]})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let renamed = ok(
        &app,
        &ann,
        Method::PUT,
        &one,
        Some(json!({"whole_word": false})),
    )
    .await;
    assert_eq!(renamed["whole_word"], false);
    assert_eq!(renamed["phrase"], "one");

    // Deleting a v1 filter takes its keyword, and the filter once empty.
    assert_eq!(ok(&app, &ann, Method::DELETE, &one, None).await, json!({}));
    let two_now = get(&app, &ann, &format!("/api/v2/filters/{}", id(&two))).await;
    assert_eq!(two_now["keywords"].as_array().map(Vec::len), Some(1));
    assert_eq!(ok(&app, &ann, Method::DELETE, &path, None).await, json!({}));
    assert_eq!(
        send(&app, &ann, Method::GET, &path, None).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&app, &ann, "/api/v2/filters")
            .await
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    for body in [
        json!({"context": ["home"]}),
        json!({"phrase": "x"}),
        json!({"phrase": "x", "context": ["nowhere"]}),
    ] {
        let (status, answer) = send(&app, &ann, Method::POST, "/api/v1/filters", Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    }
}

#[tokio::test]
async fn a_deleted_account_takes_its_filters_with_it() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;
    let bens = post_status(&app, &ben.token, json!({"status": "hello"})).await;
    let filter = new_filter(
        &app,
        &ann,
        json!({"title": "x", "context": ["home"], "keywords_attributes": [{"keyword": "y"}]}),
    )
    .await;
    ok(
        &app,
        &ann,
        Method::POST,
        &format!("/api/v2/filters/{}/statuses", id(&filter)),
        Some(json!({"status_id": bens["id"]})),
    )
    .await;
    let (status, body) = send(
        &app,
        &ann,
        Method::POST,
        "/api/v1/accounts/delete",
        Some(json!({"password": crate::statuses::PASSWORD})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let ann_id: i64 = ann.id.parse().expect("id");
    let left = perch_db::testing::rows_naming_account(&app.db, ann_id).await;
    assert!(
        !left
            .iter()
            .any(|(column, _)| column.starts_with("filters.")),
        "{left:?}"
    );
    // Ben's status, which her filter named, is untouched.
    let (status, _, _) = call(
        &app,
        Method::GET,
        &format!("/api/v1/statuses/{}", id(&bens)),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}
