//! Direct conversations through the client API: one per account and
//! thread, read by its author and unread by its recipients, paged by its
//! newest status, read and removed per account, kept in step as statuses
//! are deleted, kept out by blocks, and sent to the `direct` stream (from
//! one process to another on PostgreSQL too).

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::statuses::{User, call, post_status, user};
use crate::streaming::{connect, next_event};
use crate::support::{ServedPerch, TestApp, spawn_app};

async fn get(app: &TestApp, who: &User, path: &str) -> (Value, Option<String>) {
    let (status, body, headers) = call(app, Method::GET, path, Some(&who.token), None).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    let link = headers
        .get("link")
        .and_then(|l| l.to_str().ok())
        .map(str::to_owned);
    (body, link)
}

async fn conversations(app: &TestApp, who: &User) -> Vec<Value> {
    let (list, _) = get(app, who, "/api/v1/conversations").await;
    list.as_array().expect("a list").clone()
}

async fn direct(app: &TestApp, who: &User, text: &str, reply_to: Option<&Value>) -> Value {
    let mut body = json!({"status": text, "visibility": "direct"});
    if let Some(parent) = reply_to {
        body["in_reply_to_id"] = parent["id"].clone();
    }
    post_status(app, &who.token, body).await
}

async fn delete_status(app: &TestApp, who: &User, status: &Value) {
    let path = format!("/api/v1/statuses/{}", status["id"].as_str().expect("id"));
    let (code, body, _) = call(app, Method::DELETE, &path, Some(&who.token), None).await;
    assert_eq!(code, StatusCode::OK, "{body}");
}

/// The path and query of the `rel` URL in a `Link` header.
fn link_target(link: &str, rel: &str) -> String {
    let part = link
        .split(", ")
        .find(|p| p.ends_with(&format!("rel=\"{rel}\"")))
        .unwrap_or_else(|| panic!("no {rel} in {link}"));
    let url = part.trim_start_matches('<').split('>').next().expect("url");
    let url = reqwest::Url::parse(url).expect("absolute");
    format!("{}?{}", url.path(), url.query().unwrap_or_default())
}

fn account_ids(conversation: &Value) -> Vec<&str> {
    conversation["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .map(|a| a["id"].as_str().expect("id"))
        .collect()
}

#[tokio::test]
async fn a_direct_thread_is_one_conversation_for_each_participant() {
    let app = spawn_app().await;
    let (ann, ben, cat) = (
        user(&app, "ann").await,
        user(&app, "ben").await,
        user(&app, "cat").await,
    );
    let first = direct(&app, &ann, "@ben psst", None).await;

    let anns = conversations(&app, &ann).await;
    assert_eq!(anns.len(), 1, "{anns:?}");
    let conversation = &anns[0];
    assert!(conversation["id"].is_string());
    assert_eq!(conversation["unread"], false, "the author has read it");
    assert_eq!(account_ids(conversation), [ben.id.as_str()]);
    assert_eq!(conversation["last_status"]["id"], first["id"]);
    let bens = conversations(&app, &ben).await;
    assert_eq!(bens.len(), 1);
    assert_eq!(bens[0]["unread"], true, "the recipient has not");
    assert_eq!(account_ids(&bens[0]), [ann.id.as_str()]);
    assert!(conversations(&app, &cat).await.is_empty());

    // A reply joins the conversation; now ann has something to read.
    let reply = direct(&app, &ben, "@ann hello", Some(&first)).await;
    let anns = conversations(&app, &ann).await;
    assert_eq!(anns.len(), 1, "{anns:?}");
    assert_eq!(anns[0]["id"], conversation["id"]);
    assert_eq!(anns[0]["last_status"]["id"], reply["id"]);
    assert_eq!(anns[0]["unread"], true);
    let bens = conversations(&app, &ben).await;
    assert_eq!(bens.len(), 1);
    assert_eq!(bens[0]["unread"], false);

    // The same people outside the thread: another conversation, listed
    // first (by its newest status), paged with Link headers.
    let again = direct(&app, &ann, "@ben again", None).await;
    let anns = conversations(&app, &ann).await;
    assert_eq!(anns.len(), 2);
    assert_eq!(anns[0]["last_status"]["id"], again["id"]);
    assert_eq!(anns[1]["id"], conversation["id"]);
    let (page, link) = get(&app, &ann, "/api/v1/conversations?limit=1").await;
    assert_eq!(page[0]["last_status"]["id"], again["id"]);
    let next = link_target(&link.expect("a Link header"), "next");
    let (page, link) = get(&app, &ann, &next).await;
    assert_eq!(page.as_array().map(Vec::len), Some(1));
    assert_eq!(page[0]["id"], conversation["id"]);
    let prev = link_target(&link.expect("a Link header"), "prev");
    let (page, _) = get(&app, &ann, &prev).await;
    assert_eq!(page[0]["last_status"]["id"], again["id"]);
    let (page, _) = get(
        &app,
        &ann,
        &format!(
            "/api/v1/conversations?since_id={}",
            reply["id"].as_str().expect("id")
        ),
    )
    .await;
    assert_eq!(page.as_array().map(Vec::len), Some(1));

    // Reading marks it read, for ann only.
    let id = conversation["id"].as_str().expect("id");
    let path = format!("/api/v1/conversations/{id}/read");
    let (code, read, _) = call(&app, Method::POST, &path, Some(&ann.token), None).await;
    assert_eq!(code, StatusCode::OK, "{read}");
    assert_eq!(read["unread"], false);
    assert_eq!(read["id"], conversation["id"]);
    assert_eq!(read["last_status"]["id"], reply["id"]);
    // Someone else's conversation is not there for them.
    let (code, body, _) = call(&app, Method::POST, &path, Some(&cat.token), None).await;
    assert_eq!(code, StatusCode::NOT_FOUND, "{body}");
    assert!(body["error"].is_string());

    // Deleting the newest status shows the one before it; deleting the
    // only one removes the conversation.
    delete_status(&app, &ben, &reply).await;
    let anns = conversations(&app, &ann).await;
    let thread = anns
        .iter()
        .find(|c| c["id"] == conversation["id"])
        .expect("still there");
    assert_eq!(thread["last_status"]["id"], first["id"]);
    delete_status(&app, &ann, &again).await;
    assert_eq!(conversations(&app, &ann).await.len(), 1);
    assert_eq!(conversations(&app, &ben).await.len(), 1);

    // Removing is for oneself: ben's goes, ann's stays.
    let bens = conversations(&app, &ben).await;
    let path = format!(
        "/api/v1/conversations/{}",
        bens[0]["id"].as_str().expect("id")
    );
    let (code, body, _) = call(&app, Method::DELETE, &path, Some(&ben.token), None).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(body, json!({}));
    assert!(conversations(&app, &ben).await.is_empty());
    assert_eq!(conversations(&app, &ann).await.len(), 1);
    let (code, _, _) = call(&app, Method::DELETE, &path, Some(&ben.token), None).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_group_conversation_lists_everyone_else_and_a_block_keeps_one_out() {
    let app = spawn_app().await;
    let (ann, ben, cat) = (
        user(&app, "ann").await,
        user(&app, "ben").await,
        user(&app, "cat").await,
    );
    direct(&app, &ann, "@ben @cat all of us", None).await;
    let bens = conversations(&app, &ben).await;
    let mut others = account_ids(&bens[0]);
    others.sort_unstable();
    let mut expected = [ann.id.as_str(), cat.id.as_str()];
    expected.sort_unstable();
    assert_eq!(others, expected);

    // Ben blocks cat: cat's direct status makes no conversation for him.
    let path = format!("/api/v1/accounts/{}/block", cat.id);
    let (code, body, _) = call(&app, Method::POST, &path, Some(&ben.token), None).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    direct(&app, &cat, "@ben @ann are you there", None).await;
    assert_eq!(conversations(&app, &ben).await.len(), 1);
    assert_eq!(conversations(&app, &cat).await.len(), 2);

    // Cat deletes her account: her conversations go, and so does ann's
    // that held only her statuses; the one ann wrote in stays.
    let mut anns = conversations(&app, &ann).await;
    assert_eq!(anns.len(), 2, "{anns:?}");
    let cats: Vec<String> = conversations(&app, &cat)
        .await
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_owned())
        .collect();
    let (code, body, _) = call(
        &app,
        Method::POST,
        "/api/v1/accounts/delete",
        Some(&cat.token),
        Some(json!({"password": crate::statuses::PASSWORD})),
    )
    .await;
    assert_eq!(code, StatusCode::ACCEPTED, "{body}");
    let cat_id: i64 = cat.id.parse().expect("id");
    for id in &cats {
        let id: i64 = id.parse().expect("id");
        let left = perch_db::conversations::find(&app.db, cat_id, id)
            .await
            .expect("read");
        assert!(left.is_none(), "{left:?}");
    }
    anns.retain(|c| c["last_status"]["account"]["id"] == ann.id.as_str());
    let ids = |list: &[Value]| -> Vec<(Value, Value)> {
        list.iter()
            .map(|c| (c["id"].clone(), c["last_status"]["id"].clone()))
            .collect()
    };
    assert_eq!(ids(&conversations(&app, &ann).await), ids(&anns));
    assert_eq!(anns.len(), 1);
    let (code, body, _) = call(&app, Method::GET, "/api/v1/conversations", None, None).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn the_direct_stream_hears_each_participant_s_conversation() {
    let app = spawn_app().await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    let mut bens = connect(
        &app.base_url,
        &format!("stream=direct&access_token={}", ben.token),
    )
    .await;
    let mut anns = connect(
        &app.base_url,
        &format!("stream=direct&access_token={}", ann.token),
    )
    .await;
    // Each connection has finished opening once it answers a bad frame.
    for ws in [&mut bens, &mut anns] {
        crate::streaming::send_and_sync(ws, json!({"type": "subscribe", "stream": "direct"})).await;
    }
    let posted = direct(&app, &ann, "@ben live", None).await;

    let heard = next_event(&mut bens, json!(["direct"]), "conversation").await;
    let listed = conversations(&app, &ben).await;
    assert_eq!(heard["id"], listed[0]["id"]);
    assert_eq!(heard["unread"], true);
    assert_eq!(account_ids(&heard), [ann.id.as_str()]);
    assert_eq!(heard["last_status"]["id"], posted["id"]);
    let own = next_event(&mut anns, json!(["direct"]), "conversation").await;
    assert_eq!(own["unread"], false);
    assert_eq!(account_ids(&own), [ben.id.as_str()]);

    // A deletion reaches the stream as Mastodon sends it.
    delete_status(&app, &ann, &posted).await;
    let frame = crate::streaming::next_frame(&mut bens).await;
    assert_eq!(frame["event"], "delete", "{frame}");
    assert_eq!(frame["payload"], posted["id"]);
    assert!(conversations(&app, &ben).await.is_empty());
}

#[tokio::test]
async fn a_conversation_event_crosses_from_one_process_to_another() {
    let app = spawn_app().await;
    if !app.database_url.starts_with("postgres") {
        // SQLite serves one process; there is nothing to cross.
        return;
    }
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    let dir = tempfile::tempdir().expect("dir");
    let other = ServedPerch::start(
        dir.path(),
        &[
            ("PERCH_DATABASE_URL", app.database_url.as_str()),
            ("PERCH_PUBLIC_URL", app.base_url.as_str()),
            ("PERCH_ALLOW_PRIVATE_ADDRESSES", "true"),
        ],
    );
    let mut ws = connect(
        &other.base_url,
        &format!("stream=direct&access_token={}", ben.token),
    )
    .await;
    crate::streaming::send_and_sync(&mut ws, json!({"type": "subscribe", "stream": "direct"}))
        .await;
    let posted = direct(&app, &ann, "@ben across processes", None).await;
    let heard = next_event(&mut ws, json!(["direct"]), "conversation").await;
    assert_eq!(heard["last_status"]["id"], posted["id"]);
    assert_eq!(heard["unread"], true);
}
