//! Blocks, mutes, muted conversations and users' blocks of servers through
//! the client API, on one instance: what each keeps out of timelines,
//! threads, notifications, streams and chat, the lists with their `Link`
//! headers, and what `relationships` says.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::chat::{self, next_frame};
use crate::statuses::{User, call, post_status, user};
use crate::support::{TestApp, spawn_app};

async fn post(app: &TestApp, path: &str, who: &User, body: Value) -> (StatusCode, Value) {
    let (status, body, _) = call(app, Method::POST, path, Some(&who.token), Some(body)).await;
    (status, body)
}

async fn get(app: &TestApp, path: &str, who: &User) -> Value {
    let (status, body, _) = call(app, Method::GET, path, Some(&who.token), None).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

async fn act(app: &TestApp, who: &User, action: &str, other: &User, body: Value) -> Value {
    let path = format!("/api/v1/accounts/{}/{action}", other.id);
    let (status, body) = post(app, &path, who, body).await;
    assert_eq!(status, StatusCode::OK, "{action}: {body}");
    body
}

async fn relationship(app: &TestApp, me: &User, other: &User) -> Value {
    let list = get(
        app,
        &format!("/api/v1/accounts/relationships?id[]={}", other.id),
        me,
    )
    .await;
    list[0].clone()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|s| s["id"].as_str().expect("id").to_owned())
        .collect()
}

/// The ids of the statuses `who` finds in a timeline (or a thread's part).
async fn timeline(app: &TestApp, who: &User, path: &str) -> Vec<String> {
    ids(&get(app, path, who).await)
}

/// `(type, from account id)` of `who`'s notifications, newest first.
async fn notifications(app: &TestApp, who: &User) -> Vec<(String, String)> {
    get(app, "/api/v1/notifications", who)
        .await
        .as_array()
        .expect("a list")
        .iter()
        .map(|n| {
            (
                n["type"].as_str().expect("type").to_owned(),
                n["account"]["id"].as_str().expect("account").to_owned(),
            )
        })
        .collect()
}

fn id_of(status: &Value) -> String {
    status["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn a_block_ends_follows_and_keeps_the_two_apart_everywhere() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;
    let cat = user(&app, "cat").await;
    act(&app, &ann, "follow", &ben, json!({})).await;
    act(&app, &ben, "follow", &ann, json!({})).await;
    act(&app, &ann, "follow", &cat, json!({})).await;
    let bens = post_status(&app, &ben.token, json!({"status": "ben was here #birds"})).await;
    let anns = post_status(&app, &ann.token, json!({"status": "ann's thread"})).await;
    let reply = post_status(
        &app,
        &ben.token,
        json!({"status": "@ann a reply", "in_reply_to_id": id_of(&anns)}),
    )
    .await;
    let boost = format!("/api/v1/statuses/{}/reblog", id_of(&bens));
    let (status, _) = post(&app, &boost, &cat, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        notifications(&app, &ann)
            .await
            .contains(&("mention".to_owned(), ben.id.clone()))
    );
    assert!(
        timeline(&app, &ann, "/api/v1/timelines/home")
            .await
            .contains(&id_of(&bens))
    );

    let answered = act(&app, &ann, "block", &ben, json!({})).await;
    assert_eq!(answered["blocking"], true, "{answered}");
    assert_eq!(answered["following"], false, "the follow ended: {answered}");
    assert_eq!(
        answered["followed_by"], false,
        "and the other way: {answered}"
    );
    let seen_by_ben = relationship(&app, &ben, &ann).await;
    assert_eq!(seen_by_ben["blocked_by"], true, "{seen_by_ben}");
    assert_eq!(seen_by_ben["blocking"], false, "{seen_by_ben}");

    // Nothing of ben reaches ann: not his statuses, nor cat's reblog of
    // one, in any timeline or thread, nor his notifications.
    for path in [
        "/api/v1/timelines/home",
        "/api/v1/timelines/public",
        "/api/v1/timelines/tag/birds",
    ] {
        let found = timeline(&app, &ann, path).await;
        assert!(!found.contains(&id_of(&bens)), "{path}: {found:?}");
        assert!(found.iter().all(|id| *id != id_of(&reply)), "{path}");
    }
    let home = get(&app, "/api/v1/timelines/home", &ann).await;
    assert!(
        home.as_array()
            .unwrap()
            .iter()
            .all(|s| s["reblog"].is_null()),
        "cat's reblog of ben's status is kept out too: {home}"
    );
    let context = get(
        &app,
        &format!("/api/v1/statuses/{}/context", id_of(&anns)),
        &ann,
    )
    .await;
    assert_eq!(context["descendants"], json!([]), "{context}");
    assert!(
        notifications(&app, &ann)
            .await
            .iter()
            .all(|(_, from)| *from != ben.id)
    );
    // A new mention does not notify either.
    post_status(&app, &ben.token, json!({"status": "@ann still there?"})).await;
    assert!(
        notifications(&app, &ann)
            .await
            .iter()
            .all(|(_, from)| *from != ben.id)
    );
    // Others still see ben.
    assert!(
        timeline(&app, &cat, "/api/v1/timelines/public")
            .await
            .contains(&id_of(&bens))
    );

    // Ben can neither read ann, nor follow her, nor chat with her.
    let (status, _, _) = call(
        &app,
        Method::GET,
        &format!("/api/v1/statuses/{}", id_of(&anns)),
        Some(&ben.token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = post(
        &app,
        &format!("/api/v1/accounts/{}/follow", ann.id),
        &ben,
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "This action is not allowed");
    let (status, body) = post(
        &app,
        &format!("/api/v1/pleroma/chats/by-account-id/{}", ann.id),
        &ben,
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // The list, with Mastodon's Link header.
    let (status, list, headers) =
        call(&app, Method::GET, "/api/v1/blocks", Some(&ann.token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&list), vec![ben.id.clone()]);
    let link = headers["link"].to_str().unwrap();
    assert!(link.contains("/api/v1/blocks?limit=40&min_id="), "{link}");

    let answered = act(&app, &ann, "unblock", &ben, json!({})).await;
    assert_eq!(answered["blocking"], false, "{answered}");
    assert!(
        timeline(&app, &ann, "/api/v1/timelines/public")
            .await
            .contains(&id_of(&bens)),
        "unblocked, ben's public statuses are back"
    );
    let list = get(&app, "/api/v1/blocks", &ann).await;
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn a_chat_is_refused_once_blocked_and_typing_does_not_pass() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;
    let chat = chat::open_chat(&app, &ben, &ann).await;
    chat::rest_send(&app, &ben, &chat, "hi").await;
    act(&app, &ann, "block", &ben, json!({})).await;

    let response = app
        .client
        .post(app.url(&format!("/api/v1/pleroma/chats/{chat}/messages")))
        .bearer_auth(&ben.token)
        .json(&json!({"content": "are you there?"}))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // Over the socket too: an error frame, and no typing reaches ann.
    let mut anns = chat::connect(&app.base_url, &ann.token, "").await;
    let mut bens = chat::connect(&app.base_url, &ben.token, "").await;
    chat::send(&mut bens, json!({"type": "typing", "chat_id": chat})).await;
    chat::send(
        &mut bens,
        json!({"type": "chat_message", "chat_id": chat, "content": "hello?"}),
    )
    .await;
    let refused = next_frame(&mut bens).await;
    assert_eq!(refused["status"], 403, "{refused}");
    // Ann hears of a third account's message, and of nothing before it.
    let cat = user(&app, "cat").await;
    let with_cat = chat::open_chat(&app, &cat, &ann).await;
    chat::rest_send(&app, &cat, &with_cat, "cat here").await;
    let frame = next_frame(&mut anns).await;
    assert_eq!(frame["event"], "chat_message", "{frame}");
}

#[tokio::test]
async fn a_blocked_accounts_statuses_stay_out_of_the_blockers_streams() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;
    let cat = user(&app, "cat").await;
    act(&app, &ann, "block", &ben, json!({})).await;
    let public = |who: &User| format!("stream=public&access_token={}", who.token);
    let mut anns = crate::streaming::connect(&app.base_url, &public(&ann)).await;
    let mut cats = crate::streaming::connect(&app.base_url, &public(&cat)).await;

    let bens = post_status(&app, &ben.token, json!({"status": "from ben"})).await;
    // Cat hears of it: the hub has offered it to every connection.
    let heard = public_update(&mut cats).await;
    assert_eq!(heard["id"], bens["id"]);
    let cats_post = post_status(&app, &cat.token, json!({"status": "from cat"})).await;
    // Ann's first public event is cat's, which came after ben's.
    let first = public_update(&mut anns).await;
    assert_eq!(first["id"], cats_post["id"], "{first}");
}

/// The next `update` of the public stream, its payload parsed.
async fn public_update(ws: &mut crate::chat::Ws) -> Value {
    loop {
        let frame = next_frame(ws).await;
        if frame["event"] == "update" && frame["stream"] == json!(["public"]) {
            let payload = frame["payload"].as_str().expect("a payload");
            return serde_json::from_str(payload).expect("JSON");
        }
    }
}

#[tokio::test]
async fn an_empty_chat_tells_nothing_of_presence() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;
    let cat = user(&app, "cat").await;
    // Ann opens a chat with ben and writes nothing; ben never wrote to her,
    // but he did write to cat.
    let chat = chat::open_chat(&app, &ann, &ben).await;
    let with_cat = chat::open_chat(&app, &ben, &cat).await;
    chat::rest_send(&app, &ben, &with_cat, "hi cat").await;
    let mut anns = chat::connect(&app.base_url, &ann.token, "").await;
    let mut cats = chat::connect(&app.base_url, &cat.token, "").await;
    let mut bens = chat::connect(&app.base_url, &ben.token, "").await;
    // Cat hears that ben is online: the hub has told everyone it tells.
    let (_, online) = chat::next_of(&mut cats, "presence").await;
    assert_eq!(online["account_id"], ben.id.as_str(), "{online}");
    // Ben writes to ann now: her first frame is his message, not his
    // presence.
    chat::send(
        &mut bens,
        json!({"type": "chat_message", "chat_id": chat, "content": "hello"}),
    )
    .await;
    let frame = next_frame(&mut anns).await;
    assert_eq!(frame["event"], "chat_message", "{frame}");
}

#[tokio::test]
async fn mutes_hide_statuses_and_maybe_notifications_and_may_expire() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;
    act(&app, &ann, "follow", &ben, json!({})).await;
    let before = post_status(&app, &ben.token, json!({"status": "before the mute"})).await;

    let answered = act(&app, &ann, "mute", &ben, json!({"notifications": false})).await;
    assert_eq!(answered["muting"], true, "{answered}");
    assert_eq!(answered["muting_notifications"], false, "{answered}");
    assert_eq!(answered["following"], true, "a mute keeps the follow");
    let during = post_status(&app, &ben.token, json!({"status": "@ann muted?"})).await;
    let home = timeline(&app, &ann, "/api/v1/timelines/home").await;
    assert!(
        !home.contains(&id_of(&before)) && !home.contains(&id_of(&during)),
        "{home:?}"
    );
    assert!(
        notifications(&app, &ann)
            .await
            .contains(&("mention".to_owned(), ben.id.clone())),
        "notifications=false keeps notifications"
    );

    // Muting again changes how: now notifications are hidden too, also
    // those from before.
    let answered = act(
        &app,
        &ann,
        "mute",
        &ben,
        json!({"notifications": "true", "duration": 3600}),
    )
    .await;
    assert_eq!(answered["muting_notifications"], true, "{answered}");
    post_status(&app, &ben.token, json!({"status": "@ann and now?"})).await;
    assert!(
        notifications(&app, &ann)
            .await
            .iter()
            .all(|(_, from)| *from != ben.id)
    );
    let mutes = get(&app, "/api/v1/mutes", &ann).await;
    assert_eq!(ids(&mutes), vec![ben.id.clone()]);
    let expires = mutes[0]["mute_expires_at"].as_str().expect("an expiry");
    let expires = chrono::DateTime::parse_from_rfc3339(expires).expect("a time");
    let left = expires.timestamp() - chrono::Utc::now().timestamp();
    assert!((3500..=3600).contains(&left), "{left} s left");

    let (status, body) = post(
        &app,
        &format!("/api/v1/accounts/{}/mute", ben.id),
        &ann,
        json!({"duration": "soon"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"].is_string());

    let answered = act(&app, &ann, "unmute", &ben, json!({})).await;
    assert_eq!(answered["muting"], false, "{answered}");
    assert!(
        timeline(&app, &ann, "/api/v1/timelines/home")
            .await
            .contains(&id_of(&during))
    );
    assert_eq!(get(&app, "/api/v1/mutes", &ann).await, json!([]));
}

#[tokio::test]
async fn a_muted_conversation_notifies_no_more() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;
    let root = post_status(&app, &ann.token, json!({"status": "a thread"})).await;
    let first = post_status(
        &app,
        &ben.token,
        json!({"status": "@ann one", "in_reply_to_id": id_of(&root)}),
    )
    .await;
    // Muting from a reply mutes the whole thread.
    let (status, muted) = post(
        &app,
        &format!("/api/v1/statuses/{}/mute", id_of(&first)),
        &ann,
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{muted}");
    assert_eq!(muted["muted"], true, "{muted}");
    let shown = get(&app, &format!("/api/v1/statuses/{}", id_of(&root)), &ann).await;
    assert_eq!(
        shown["muted"], true,
        "the root is in the muted thread: {shown}"
    );
    let shown = get(&app, &format!("/api/v1/statuses/{}", id_of(&root)), &ben).await;
    assert_eq!(shown["muted"], false, "only for ann");

    let count = notifications(&app, &ann).await.len();
    post_status(
        &app,
        &ben.token,
        json!({"status": "@ann two", "in_reply_to_id": id_of(&first)}),
    )
    .await;
    let like = format!("/api/v1/statuses/{}/favourite", id_of(&root));
    assert_eq!(post(&app, &like, &ben, json!({})).await.0, StatusCode::OK);
    assert_eq!(notifications(&app, &ann).await.len(), count, "nothing new");
    // Other threads still notify.
    post_status(&app, &ben.token, json!({"status": "@ann elsewhere"})).await;
    assert_eq!(notifications(&app, &ann).await.len(), count + 1);

    let (status, unmuted) = post(
        &app,
        &format!("/api/v1/statuses/{}/unmute", id_of(&root)),
        &ann,
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(unmuted["muted"], false, "{unmuted}");
    post_status(
        &app,
        &ben.token,
        json!({"status": "@ann three", "in_reply_to_id": id_of(&first)}),
    )
    .await;
    assert_eq!(notifications(&app, &ann).await.len(), count + 2);
}

#[tokio::test]
async fn a_user_blocks_and_unblocks_a_server() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    for domain in ["Spam.Example", "https://other.example/about"] {
        let (status, body) = post(
            &app,
            "/api/v1/domain_blocks",
            &ann,
            json!({"domain": domain}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body, json!({}));
    }
    let (status, list, headers) = call(
        &app,
        Method::GET,
        "/api/v1/domain_blocks",
        Some(&ann.token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        list,
        json!(["other.example", "spam.example"]),
        "newest first"
    );
    assert!(headers["link"].to_str().unwrap().contains("min_id="));

    for bad in [json!({}), json!({"domain": "not a domain"})] {
        let (status, body) = post(&app, "/api/v1/domain_blocks", &ann, bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body["error"].is_string(), "{body}");
    }
    // Blocking this server itself makes no sense.
    let own = json!({"domain": app.domain});
    let (status, _) = post(&app, "/api/v1/domain_blocks", &ann, own).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let (status, _, _) = call(
        &app,
        Method::DELETE,
        "/api/v1/domain_blocks?domain=spam.example",
        Some(&ann.token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        get(&app, "/api/v1/domain_blocks", &ann).await,
        json!(["other.example"])
    );
}

#[tokio::test]
async fn the_lists_need_their_scopes() {
    let app = spawn_app().await;
    app.create_user("ann", crate::statuses::PASSWORD).await;
    let client = crate::oauth::register_app(&app, "read:statuses").await;
    let token = crate::oauth::password_token(&app, &client, "ann", "read:statuses").await;
    let token = token["access_token"].as_str().unwrap();
    for path in ["/api/v1/blocks", "/api/v1/mutes", "/api/v1/domain_blocks"] {
        let (status, body, _) = call(&app, Method::GET, path, Some(token), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
    }
}
