//! Filters applied: `warn` marking and `hide` leaving out statuses in the
//! home, public, account and thread contexts and in notifications, for
//! their owner only; expiry, whole words, filtered statuses and reblogs;
//! and the `user` and public streams.

use reqwest::Method;
use serde_json::{Value, json};

use super::{filters_of, follow, get, id, new_filter, no_filters, ok, seen};
use crate::statuses::{User, call, post_status, user};
use crate::streaming::{connect, send_and_sync};
use crate::support::spawn_app;

#[tokio::test]
async fn warn_marks_and_hide_leaves_out_in_the_filters_contexts() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;
    let cat = user(&app, "cat").await;
    follow(&app, &ann, &ben).await;
    follow(&app, &cat, &ben).await;
    let warn = new_filter(
        &app,
        &ann,
        json!({"title": "Finales", "context": ["home", "thread"], "filter_action": "warn",
               "keywords_attributes": [{"keyword": "finale"}]}),
    )
    .await;
    let hide = new_filter(
        &app,
        &ann,
        json!({"title": "Secrets", "context": ["home", "public", "notifications", "thread", "account"],
               "filter_action": "hide",
               "keywords_attributes": [{"keyword": "secret"}]}),
    )
    .await;
    let (warn_id, hide_id) = (id(&warn), id(&hide));
    let plain = post_status(&app, &ben.token, json!({"status": "a plain post"})).await;
    post_status(&app, &ben.token, json!({"status": "the <finale> tonight"})).await;
    let hidden = post_status(
        &app,
        &ben.token,
        json!({"status": "nothing to see", "spoiler_text": "a Secret"}),
    )
    .await;

    // Home: the warned one marked, the hidden one left out.
    let home = get(&app, &ann, "/api/v1/timelines/home").await;
    assert_eq!(
        seen(&home),
        [
            (
                "<p>the &lt;finale&gt; tonight</p>".to_owned(),
                vec![warn_id.clone()]
            ),
            ("<p>a plain post</p>".to_owned(), no_filters()),
        ]
    );
    let result = &home[0]["filtered"][0];
    assert_eq!(result["keyword_matches"], json!(["finale"]));
    assert_eq!(result["status_matches"], Value::Null);
    assert_eq!(result["filter"]["title"], "Finales");
    assert_eq!(result["filter"]["filter_action"], "warn");
    assert_eq!(result["filter"]["context"], json!(["home", "thread"]));

    // Public: the warn filter is not of it.
    let public = get(&app, &ann, "/api/v1/timelines/public").await;
    assert_eq!(
        seen(&public),
        [
            ("<p>the &lt;finale&gt; tonight</p>".to_owned(), no_filters()),
            ("<p>a plain post</p>".to_owned(), no_filters()),
        ]
    );
    // Nor the account's profile.
    let profile = get(&app, &ann, &format!("/api/v1/accounts/{}/statuses", ben.id)).await;
    assert_eq!(seen(&profile).len(), 2);

    // Others' filters are theirs: cat and nobody signed in see everything.
    let cats = get(&app, &cat, "/api/v1/timelines/home").await;
    assert_eq!(seen(&cats).len(), 3);
    assert!(seen(&cats).iter().all(|(_, f)| f.is_empty()));
    let (_, anonymous, _) = call(&app, Method::GET, "/api/v1/timelines/public", None, None).await;
    assert_eq!(anonymous.as_array().map(Vec::len), Some(3));

    // Asked for by id, the hidden status shows, marked.
    let path = format!("/api/v1/statuses/{}", id(&hidden));
    let one = get(&app, &ann, &path).await;
    assert_eq!(filters_of(&one), [hide_id.as_str()]);
    assert_eq!(one["filtered"][0]["keyword_matches"], json!(["secret"]));
    assert_eq!(
        filters_of(&get(&app, &ann, &format!("/api/v1/statuses/{}", id(&plain))).await),
        no_filters()
    );
    assert_eq!(filters_of(&get(&app, &cat, &path).await), no_filters());

    // A thread: replies a hide filter matches are left out.
    let reply = |text: &str| json!({"status": text, "in_reply_to_id": plain["id"]});
    post_status(&app, &cat.token, reply("a secret reply")).await;
    post_status(&app, &cat.token, reply("the finale reply")).await;
    let context = get(
        &app,
        &ann,
        &format!("/api/v1/statuses/{}/context", id(&plain)),
    )
    .await;
    assert_eq!(
        seen(&context["descendants"]),
        [("<p>the finale reply</p>".to_owned(), vec![warn_id.clone()])]
    );
    let cats_context = get(
        &app,
        &cat,
        &format!("/api/v1/statuses/{}/context", id(&plain)),
    )
    .await;
    assert_eq!(seen(&cats_context["descendants"]).len(), 2);

    // Notifications: one whose status is hidden is left out.
    post_status(&app, &cat.token, json!({"status": "@ann hello"})).await;
    post_status(&app, &cat.token, json!({"status": "@ann a secret for you"})).await;
    let notifications = get(&app, &ann, "/api/v1/notifications?types[]=mention").await;
    let texts: Vec<&str> = notifications
        .as_array()
        .expect("list")
        .iter()
        .map(|n| n["status"]["content"].as_str().expect("content"))
        .collect();
    assert_eq!(texts.len(), 1, "{notifications}");
    assert!(texts[0].contains("hello"));
    assert_eq!(notifications[0]["status"]["filtered"], json!([]));
    // Grouped, the same: the hidden mention's group is left out.
    let grouped = get(&app, &ann, "/api/v2/notifications?types[]=mention").await;
    let groups = grouped["notification_groups"].as_array().expect("groups");
    assert_eq!(groups.len(), 1, "{grouped}");
    let shown: Vec<&str> = grouped["statuses"]
        .as_array()
        .expect("statuses")
        .iter()
        .map(|s| s["content"].as_str().expect("content"))
        .collect();
    assert!(shown.len() == 1 && shown[0].contains("hello"), "{grouped}");

    // Bookmarks mark with every filter, and leave nothing out.
    ok(
        &app,
        &ann,
        Method::POST,
        &format!("/api/v1/statuses/{}/bookmark", id(&hidden)),
        None,
    )
    .await;
    let bookmarks = get(&app, &ann, "/api/v1/bookmarks").await;
    assert_eq!(filters_of(&bookmarks[0]), [hide_id.as_str()]);

    // A deleted filter no longer applies.
    ok(
        &app,
        &ann,
        Method::DELETE,
        &format!("/api/v2/filters/{hide_id}"),
        None,
    )
    .await;
    let home = seen(&get(&app, &ann, "/api/v1/timelines/home").await);
    assert!(
        home.iter()
            .any(|(content, _)| content == "<p>nothing to see</p>"),
        "{home:?}"
    );
}

#[tokio::test]
async fn expired_filters_and_whole_words() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;
    follow(&app, &ann, &ben).await;
    post_status(&app, &ben.token, json!({"status": "concatenate"})).await;
    post_status(&app, &ben.token, json!({"status": "my CAT, asleep"})).await;
    post_status(&app, &ben.token, json!({"status": "bobcats"})).await;
    let whole = new_filter(
        &app,
        &ann,
        json!({"title": "whole", "context": ["home"],
               "keywords_attributes": [{"keyword": "cat", "whole_word": true}]}),
    )
    .await;
    let partial = new_filter(
        &app,
        &ann,
        json!({"title": "partial", "context": ["home"],
               "keywords_attributes": [{"keyword": "cats", "whole_word": false}]}),
    )
    .await;
    let (whole_id, partial_id) = (id(&whole), id(&partial));
    assert_eq!(
        seen(&get(&app, &ann, "/api/v1/timelines/home").await),
        [
            ("<p>bobcats</p>".to_owned(), vec![partial_id.clone()]),
            ("<p>my CAT, asleep</p>".to_owned(), vec![whole_id.clone()]),
            ("<p>concatenate</p>".to_owned(), no_filters()),
        ]
    );

    // Expired (at once), a filter does nothing; without an expiry again,
    // it applies again.
    let path = format!("/api/v2/filters/{whole_id}");
    let expired = ok(
        &app,
        &ann,
        Method::PUT,
        &path,
        Some(json!({"expires_in": 0})),
    )
    .await;
    assert!(expired["expires_at"].is_string());
    let home = get(&app, &ann, "/api/v1/timelines/home").await;
    assert_eq!(filters_of(&home[1]), no_filters());
    let hide = new_filter(
        &app,
        &ann,
        json!({"title": "gone", "context": ["home"], "filter_action": "hide", "expires_in": 0,
               "keywords_attributes": [{"keyword": "concatenate"}]}),
    )
    .await;
    assert_eq!(
        get(&app, &ann, "/api/v1/timelines/home")
            .await
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    // Expired filters are still listed.
    assert_eq!(
        get(&app, &ann, &format!("/api/v2/filters/{}", id(&hide))).await["title"],
        "gone"
    );
    let renewed = ok(
        &app,
        &ann,
        Method::PUT,
        &path,
        Some(json!({"expires_in": null})),
    )
    .await;
    assert_eq!(renewed["expires_at"], Value::Null);
    let home = get(&app, &ann, "/api/v1/timelines/home").await;
    assert_eq!(filters_of(&home[1]), [whole_id]);
}

#[tokio::test]
async fn status_filters_match_the_status_and_its_reblogs() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;
    let cat = user(&app, "cat").await;
    follow(&app, &ann, &cat).await;
    let bens = post_status(&app, &ben.token, json!({"status": "ben's take"})).await;
    ok(
        &app,
        &cat,
        Method::POST,
        &format!("/api/v1/statuses/{}/reblog", id(&bens)),
        None,
    )
    .await;
    let filter = new_filter(
        &app,
        &ann,
        json!({"title": "that one", "context": ["home", "public"]}),
    )
    .await;
    let filter_id = id(&filter);
    let row = ok(
        &app,
        &ann,
        Method::POST,
        &format!("/api/v2/filters/{filter_id}/statuses"),
        Some(json!({"status_id": bens["id"]})),
    )
    .await;

    // Cat's reblog, in ann's home: marked, and so is the original in it.
    let home = get(&app, &ann, "/api/v1/timelines/home").await;
    assert_eq!(home.as_array().map(Vec::len), Some(1));
    assert_eq!(filters_of(&home[0]), [filter_id.as_str()]);
    assert_eq!(filters_of(&home[0]["reblog"]), [filter_id.as_str()]);
    assert_eq!(home[0]["filtered"][0]["status_matches"], json!([row["id"]]));
    assert_eq!(home[0]["filtered"][0]["keyword_matches"], Value::Null);
    let public = get(&app, &ann, "/api/v1/timelines/public").await;
    assert_eq!(filters_of(&public[0]), [filter_id.as_str()]);

    // Hidden: neither shows.
    ok(
        &app,
        &ann,
        Method::PUT,
        &format!("/api/v2/filters/{filter_id}"),
        Some(json!({"filter_action": "hide"})),
    )
    .await;
    assert_eq!(get(&app, &ann, "/api/v1/timelines/home").await, json!([]));
    assert_eq!(get(&app, &ann, "/api/v1/timelines/public").await, json!([]));
    // Ben's profile is not a context of the filter.
    let profile = get(&app, &ann, &format!("/api/v1/accounts/{}/statuses", ben.id)).await;
    assert_eq!(filters_of(&profile[0]), no_filters());
}

#[tokio::test]
async fn streams_leave_out_what_hide_filters_match_and_mark_what_warn_filters_match() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;
    let cat = user(&app, "cat").await;
    follow(&app, &ann, &ben).await;
    follow(&app, &cat, &ben).await;
    let warn = new_filter(
        &app,
        &ann,
        json!({"title": "warn", "context": ["home"],
               "keywords_attributes": [{"keyword": "finale"}]}),
    )
    .await;
    new_filter(
        &app,
        &ann,
        json!({"title": "hide", "context": ["home", "public"], "filter_action": "hide",
               "keywords_attributes": [{"keyword": "secret"}]}),
    )
    .await;
    let query = |who: &User, stream: &str| format!("stream={stream}&access_token={}", who.token);
    let mut ann_home = connect(&app.base_url, &query(&ann, "user")).await;
    let mut ann_public = connect(&app.base_url, &query(&ann, "public")).await;
    let mut cat_home = connect(&app.base_url, &query(&cat, "user")).await;
    // Once a frame is answered, each connection has finished opening.
    for ws in [&mut ann_home, &mut ann_public, &mut cat_home] {
        send_and_sync(ws, json!({"type": "subscribe", "stream": "public"})).await;
    }
    // Public statuses reach the user streams' public subscriptions too;
    // each stream is read for its own frames below.
    post_status(&app, &ben.token, json!({"status": "a secret"})).await;
    post_status(&app, &ben.token, json!({"status": "the finale"})).await;
    post_status(&app, &ben.token, json!({"status": "plain"})).await;

    // Ann's home stream: the hidden one never comes, the warned one marked.
    let first = next_update(&mut ann_home, json!(["user"])).await;
    assert_eq!(first["content"], "<p>the finale</p>");
    assert_eq!(filters_of(&first), [id(&warn)]);
    assert_eq!(first["filtered"][0]["keyword_matches"], json!(["finale"]));
    let second = next_update(&mut ann_home, json!(["user"])).await;
    assert_eq!(second["content"], "<p>plain</p>");
    assert_eq!(second["filtered"], json!([]));

    // Her public stream: hidden too, and the warn filter is not of it.
    let first = next_update(&mut ann_public, json!(["public"])).await;
    assert_eq!(first["content"], "<p>the finale</p>");
    assert_eq!(first["filtered"], json!([]));

    // Cat's filters are not hers: everything comes.
    let first = next_update(&mut cat_home, json!(["user"])).await;
    assert_eq!(first["content"], "<p>a secret</p>");
    assert_eq!(first["filtered"], json!([]));
}

/// The next `update` on `stream`, skipping other streams' frames.
async fn next_update(ws: &mut crate::streaming::Ws, stream: Value) -> Value {
    loop {
        let frame = crate::streaming::next_frame(ws).await;
        if frame["stream"] == stream && frame["event"] == "update" {
            let payload = frame["payload"].as_str().expect("payload is a string");
            return serde_json::from_str(payload).expect("a status");
        }
    }
}
