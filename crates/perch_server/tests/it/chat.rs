//! Chat with real WebSocket clients: messages with receipts both ways,
//! client ids that do not duplicate, typing that leaves no row, reconnection
//! by sequence number, several devices, presence, frame errors, and chat
//! across two processes on PostgreSQL.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::statuses::{User, user};
use crate::support::{ServedPerch, TestApp, spawn_app};

pub(crate) type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const DEADLINE: Duration = Duration::from_secs(20);

pub(crate) async fn connect(base_url: &str, token: &str, extra: &str) -> Ws {
    let url = format!(
        "{}/api/v1/streaming?stream=user&access_token={token}{extra}",
        base_url.replacen("http", "ws", 1)
    );
    let (ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connects");
    ws
}

pub(crate) async fn next_frame(ws: &mut Ws) -> Value {
    loop {
        let message = tokio::time::timeout(DEADLINE, ws.next())
            .await
            .expect("a frame within the deadline")
            .expect("open")
            .expect("valid");
        match message {
            Message::Text(text) => return serde_json::from_str(text.as_str()).expect("JSON"),
            Message::Close(frame) => panic!("closed: {frame:?}"),
            _ => {}
        }
    }
}

/// The next frame of `event`, its payload parsed. Other events on the way
/// (a sender's own copy of its message, presence) are passed over, a few at
/// most.
pub(crate) async fn next_of(ws: &mut Ws, event: &str) -> (Value, Value) {
    for _ in 0..8 {
        let frame = next_frame(ws).await;
        if frame["event"] != event {
            continue;
        }
        let payload = serde_json::from_str(frame["payload"].as_str().expect("payload"))
            .expect("payload JSON");
        return (frame, payload);
    }
    panic!("no {event} frame among the next ones");
}

pub(crate) async fn send(ws: &mut Ws, frame: Value) {
    ws.send(Message::text(frame.to_string()))
        .await
        .expect("sent");
}

pub(crate) async fn open_chat(app: &TestApp, me: &User, other: &User) -> String {
    let response = app
        .client
        .post(app.url(&format!("/api/v1/pleroma/chats/by-account-id/{}", other.id)))
        .bearer_auth(&me.token)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    let chat: Value = response.json().await.expect("json");
    assert_eq!(chat["account"]["id"], other.id.as_str());
    chat["id"].as_str().expect("id").to_owned()
}

pub(crate) async fn rest_send(app: &TestApp, me: &User, chat: &str, content: &str) -> Value {
    let response = app
        .client
        .post(app.url(&format!("/api/v1/pleroma/chats/{chat}/messages")))
        .bearer_auth(&me.token)
        .json(&json!({ "content": content }))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

async fn rest_get(app: &TestApp, me: &User, path: &str) -> Value {
    let response = app
        .client
        .get(app.url(path))
        .bearer_auth(&me.token)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

/// Rows of `ben`'s event log and of the chat's messages.
async fn rows(app: &TestApp, account: &User, chat: &str) -> (i64, i64) {
    let account_id = account.id.parse().expect("id");
    let chat_id = chat.parse().expect("id");
    (
        perch_db::user_events::count(&app.db, account_id)
            .await
            .expect("count"),
        perch_db::chats::message_count(&app.db, chat_id)
            .await
            .expect("count"),
    )
}

#[tokio::test]
async fn two_users_chat_with_receipts_flowing_both_ways() {
    let app = spawn_app().await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    let chat = open_chat(&app, &ann, &ben).await;
    let mut ann_ws = connect(&app.base_url, &ann.token, "").await;
    let mut ben_ws = connect(&app.base_url, &ben.token, "").await;

    send(
        &mut ann_ws,
        json!({"type": "chat_message", "chat_id": chat, "content": "hi <ben>", "client_id": "c1"}),
    )
    .await;
    // Ann gets the ack and her own copy, in either order.
    let mut ack = None;
    let mut own = None;
    while ack.is_none() || own.is_none() {
        let frame = next_frame(&mut ann_ws).await;
        let payload: Value = serde_json::from_str(frame["payload"].as_str().unwrap()).unwrap();
        match frame["event"].as_str() {
            Some("ack") => ack = Some(payload),
            Some("chat_message") => own = Some((frame["seq"].clone(), payload)),
            Some("presence") => {}
            other => panic!("unexpected {other:?}: {frame}"),
        }
    }
    let ack = ack.unwrap();
    let (_, own) = own.unwrap();
    assert_eq!(ack["client_id"], "c1");
    assert_eq!(ack["created"], true);
    let id = ack["id"].as_str().unwrap().to_owned();
    assert_eq!(own["id"], id.as_str());
    assert_eq!(own["status"], "sent");

    let (frame, received) = next_of(&mut ben_ws, "chat_message").await;
    assert!(frame["seq"].is_i64(), "log events are numbered: {frame}");
    assert_eq!(received["id"], id.as_str());
    assert_eq!(received["content"], "<p>hi &lt;ben&gt;</p>");
    assert_eq!(received["unread"], true);
    assert_eq!(received["account_id"], ann.id.as_str());

    // Ben's device acknowledges it; then Ben reads it.
    send(
        &mut ben_ws,
        json!({"type": "delivered", "chat_id": chat, "message_id": id}),
    )
    .await;
    for ws in [&mut ann_ws, &mut ben_ws] {
        let (_, receipt) = next_of(ws, "chat_receipt").await;
        assert_eq!(receipt["status"], "delivered");
        assert_eq!(receipt["message_ids"], json!([id]));
    }
    send(
        &mut ben_ws,
        json!({"type": "seen", "chat_id": chat, "last_read_id": id}),
    )
    .await;
    for ws in [&mut ann_ws, &mut ben_ws] {
        let (_, receipt) = next_of(ws, "chat_receipt").await;
        assert_eq!(receipt["status"], "seen");
    }
    let messages = rest_get(
        &app,
        &ann,
        &format!("/api/v1/pleroma/chats/{chat}/messages"),
    )
    .await;
    assert_eq!(messages[0]["status"], "seen");
    assert!(messages[0]["delivered_at"].is_string() && messages[0]["seen_at"].is_string());

    // Resending the client id creates nothing.
    send(
        &mut ann_ws,
        json!({"type": "chat_message", "chat_id": chat, "content": "hi <ben>", "client_id": "c1"}),
    )
    .await;
    let (_, again) = next_of(&mut ann_ws, "ack").await;
    assert_eq!(again["id"], id.as_str());
    assert_eq!(again["created"], false);
    assert_eq!(rows(&app, &ann, &chat).await.1, 1);

    // The other way: Ben answers through the REST API, Ann reads it there.
    let reply = rest_send(&app, &ben, &chat, "hello ann").await;
    let (_, got) = next_of(&mut ann_ws, "chat_message").await;
    assert_eq!(got["id"], reply["id"]);
    let view = rest_get(&app, &ann, &format!("/api/v1/pleroma/chats/{chat}")).await;
    assert_eq!(view["unread"], 1);
    let response = app
        .client
        .post(app.url(&format!("/api/v1/pleroma/chats/{chat}/read")))
        .bearer_auth(&ann.token)
        .json(&json!({"last_read_id": reply["id"]}))
        .send()
        .await
        .expect("sent");
    let view: Value = response.json().await.expect("json");
    assert_eq!(view["unread"], 0);
    let (_, receipt) = next_of(&mut ben_ws, "chat_receipt").await;
    assert_eq!(receipt["status"], "seen");
    assert_eq!(receipt["message_ids"], json!([reply["id"]]));
    let chats = rest_get(&app, &ben, "/api/v1/pleroma/chats").await;
    assert_eq!(chats[0]["last_message"]["id"], reply["id"]);
}

#[tokio::test]
async fn typing_reaches_the_peer_and_leaves_no_row() {
    let app = spawn_app().await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    let chat = open_chat(&app, &ann, &ben).await;
    let mut ann_ws = connect(&app.base_url, &ann.token, "").await;
    let mut ben_ws = connect(&app.base_url, &ben.token, "").await;
    let before = (rows(&app, &ann, &chat).await, rows(&app, &ben, &chat).await);
    send(&mut ann_ws, json!({"type": "typing", "chat_id": chat})).await;
    let (_, typing) = next_of(&mut ben_ws, "typing").await;
    assert_eq!(typing["chat_id"], chat.as_str());
    assert_eq!(typing["account_id"], ann.id.as_str());
    assert!(typing["expires_in"].as_u64().is_some_and(|s| s > 0));
    let after = (rows(&app, &ann, &chat).await, rows(&app, &ben, &chat).await);
    assert_eq!(after, before, "typing is never stored");
}

#[tokio::test]
async fn both_members_sending_at_once_lose_nothing_and_number_everything() {
    let app = spawn_app().await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    let chat = open_chat(&app, &ann, &ben).await;
    // Each message locks the chat's row and both members' rows; the two
    // directions interleave, eight requests in flight, and none may fail
    // (a deadlock between them would be an error here).
    const EACH: usize = 20;
    let sends = (0..EACH).flat_map(|n| {
        [(&ann, format!("ann {n}")), (&ben, format!("ben {n}"))].map(|(me, text)| {
            let (app, chat) = (&app, &chat);
            async move { rest_send(app, me, chat, &text).await }
        })
    });
    let sent: Vec<Value> = futures_util::stream::iter(sends)
        .buffer_unordered(8)
        .collect()
        .await;
    assert_eq!(sent.len(), 2 * EACH);
    let mut ids: Vec<&str> = sent.iter().map(|m| m["id"].as_str().expect("id")).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 2 * EACH, "every message stored once");

    // Each member's log numbers every message once, with no gap.
    for member in [&ann, &ben] {
        let log = perch_db::user_events::since(&app.db, member.id.parse().expect("id"), 0, 100)
            .await
            .expect("log");
        let seqs: Vec<i64> = log.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (1..=2 * EACH as i64).collect::<Vec<_>>());
        assert!(log.iter().all(|e| e.event == "chat_message"));
    }
    // A client that saw none of it gets all of it, in order, rendered.
    let mut ws = connect(&app.base_url, &ben.token, "&last_seq=0").await;
    let mut replayed = Vec::new();
    while replayed.len() < 2 * EACH {
        let (frame, payload) = next_of(&mut ws, "chat_message").await;
        replayed.push((frame["seq"].as_i64().expect("seq"), payload["id"].clone()));
    }
    let seqs: Vec<i64> = replayed.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(seqs, (1..=2 * EACH as i64).collect::<Vec<_>>());
    let mut replayed_ids: Vec<&str> = replayed
        .iter()
        .map(|(_, id)| id.as_str().expect("id"))
        .collect();
    replayed_ids.sort_unstable();
    assert_eq!(replayed_ids, ids);
}

#[tokio::test]
async fn a_reconnecting_client_gets_exactly_what_it_missed() {
    let app = spawn_app().await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    let chat = open_chat(&app, &ann, &ben).await;
    let mut ben_ws = connect(&app.base_url, &ben.token, "").await;
    rest_send(&app, &ann, &chat, "one").await;
    let (frame, _) = next_of(&mut ben_ws, "chat_message").await;
    let seen = frame["seq"].as_i64().expect("seq");
    ben_ws.close(None).await.expect("closed");

    let two = rest_send(&app, &ann, &chat, "two").await;
    let three = rest_send(&app, &ann, &chat, "three").await;
    let mut ben_ws = connect(&app.base_url, &ben.token, &format!("&last_seq={seen}")).await;
    let (first, payload) = next_of(&mut ben_ws, "chat_message").await;
    assert_eq!(
        (first["seq"].as_i64(), &payload["id"]),
        (Some(seen + 1), &two["id"])
    );
    let (second, payload) = next_of(&mut ben_ws, "chat_message").await;
    assert_eq!(
        (second["seq"].as_i64(), &payload["id"]),
        (Some(seen + 2), &three["id"])
    );
    // Nothing twice: the next frame is the next new message.
    let four = rest_send(&app, &ann, &chat, "four").await;
    let (next, payload) = next_of(&mut ben_ws, "chat_message").await;
    assert_eq!(
        (next["seq"].as_i64(), &payload["id"]),
        (Some(seen + 3), &four["id"])
    );

    // A number the log never had asks the client to resync.
    let mut lost = connect(&app.base_url, &ben.token, "&last_seq=999999").await;
    let (resync, payload) = next_of(&mut lost, "resync").await;
    assert_eq!(payload["seq"], seen + 3);
    assert_eq!(resync["seq"], seen + 3);
}

#[tokio::test]
async fn an_event_the_streaming_hub_missed_still_reaches_the_client() {
    let app = spawn_app().await;
    let ben = user(&app, "ben").await;
    let ben_id: i64 = ben.id.parse().expect("id");
    let mut ben_ws = connect(&app.base_url, &ben.token, "").await;
    // The connection answers frames only once it has read where the log
    // stands.
    send(&mut ben_ws, json!({ "type": "ping" })).await;
    assert_eq!(next_frame(&mut ben_ws).await["event"], "pong");

    let mut tx = app.db.begin().await.expect("begin");
    let live = perch_db::user_events::append_to(
        &mut tx,
        &[ben_id],
        "chat_update",
        r#"{"note":"stored while the hub was flooded"}"#,
        perch_core::time::now_millis(),
    )
    .await
    .expect("appended");
    tx.commit().await.expect("committed");
    // The event, then more events than the channel holds, with no await in
    // between: the hub (on this thread) sees none of it before the channel
    // has overwritten the stored event's announcement.
    app.bus.hear(&live);
    let noise = perch_db::live::LiveEvent::Typing {
        chat_id: 0,
        from: 0,
        to: 0,
    };
    for _ in 0..perch_db::live::Bus::CAPACITY + 100 {
        app.bus.hear(&[noise]);
    }

    let (frame, payload) = next_of(&mut ben_ws, "chat_update").await;
    assert_eq!(payload["note"], "stored while the hub was flooded");
    let seq = frame["seq"].as_i64().expect("seq");
    // Caught up once: the next event is the next number, not a repeat.
    let mut tx = app.db.begin().await.expect("begin");
    let live = perch_db::user_events::append_to(
        &mut tx,
        &[ben_id],
        "chat_update",
        r#"{"note":"heard live"}"#,
        perch_core::time::now_millis(),
    )
    .await
    .expect("appended");
    tx.commit().await.expect("committed");
    app.bus.hear(&live);
    let (frame, payload) = next_of(&mut ben_ws, "chat_update").await;
    assert_eq!(
        (frame["seq"].as_i64(), &payload["note"]),
        (Some(seq + 1), &json!("heard live"))
    );
}

#[tokio::test]
async fn every_device_receives_and_presence_reaches_partners() {
    let app = spawn_app().await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    let chat = open_chat(&app, &ann, &ben).await;
    // Presence goes to those one has written to.
    rest_send(&app, &ben, &chat, "hello").await;
    let mut ann_ws = connect(&app.base_url, &ann.token, "").await;
    let mut phone = connect(&app.base_url, &ben.token, "").await;
    let (_, online) = next_of(&mut ann_ws, "presence").await;
    assert_eq!(
        (online["account_id"].as_str(), online["online"].as_bool()),
        (Some(ben.id.as_str()), Some(true))
    );
    let mut laptop = connect(&app.base_url, &ben.token, "").await;
    let sent = rest_send(&app, &ann, &chat, "to all devices").await;
    for device in [&mut phone, &mut laptop] {
        let (_, got) = next_of(device, "chat_message").await;
        assert_eq!(got["id"], sent["id"]);
    }
    phone.close(None).await.expect("closed");
    laptop.close(None).await.expect("closed");
    let (_, offline) = next_of(&mut ann_ws, "presence").await;
    assert_eq!(
        offline["online"], false,
        "offline once the last device left: {offline}"
    );
    assert!(offline["last_seen_at"].is_string());

    // Hidden presence tells nobody.
    let response = app
        .client
        .put(app.url("/api/v1/perch/presence"))
        .bearer_auth(&ben.token)
        .json(&json!({"hidden": true}))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    let mut hidden = connect(&app.base_url, &ben.token, "").await;
    send(
        &mut hidden,
        json!({"type": "chat_message", "chat_id": chat, "content": "quietly"}),
    )
    .await;
    let frame = next_frame(&mut ann_ws).await;
    assert_eq!(
        frame["event"], "chat_message",
        "no presence before the message: {frame}"
    );
}

#[tokio::test]
async fn bad_chat_frames_get_error_frames() {
    let app = spawn_app().await;
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    let cat = user(&app, "cat").await;
    let chat = open_chat(&app, &ann, &ben).await;
    let mut cat_ws = connect(&app.base_url, &cat.token, "").await;
    for (frame, status) in [
        (
            json!({"type": "chat_message", "chat_id": chat, "content": "not mine"}),
            404,
        ),
        (json!({"type": "chat_message", "content": "where"}), 400),
        (json!({"type": "warp"}), 400),
    ] {
        send(&mut cat_ws, frame.clone()).await;
        let answer = next_frame(&mut cat_ws).await;
        assert_eq!(answer["status"], status, "{frame}: {answer}");
    }
    let mut ann_ws = connect(&app.base_url, &ann.token, "").await;
    send(
        &mut ann_ws,
        json!({"type": "chat_message", "chat_id": chat, "content": "x".repeat(5001)}),
    )
    .await;
    let answer = next_frame(&mut ann_ws).await;
    assert_eq!(answer["status"], 422, "{answer}");
    assert_eq!(rows(&app, &ann, &chat).await.1, 0);

    // Frames beyond the rate are refused, not queued without end.
    for _ in 0..60 {
        send(&mut ann_ws, json!({"type": "ping"})).await;
    }
    let mut refused = 0;
    for _ in 0..60 {
        let frame = next_frame(&mut ann_ws).await;
        if frame["status"] == 429 {
            refused += 1;
        } else {
            assert_eq!(frame["event"], "pong", "{frame}");
        }
    }
    assert!(refused > 0, "a burst of 60 frames is over the limit");
}

#[tokio::test]
async fn chat_crosses_processes() {
    let app = spawn_app().await;
    if !app.database_url.starts_with("postgres") {
        return;
    }
    let (ann, ben) = (user(&app, "ann").await, user(&app, "ben").await);
    let chat = open_chat(&app, &ann, &ben).await;
    let dir = tempfile::tempdir().expect("dir");
    let other = ServedPerch::start(
        dir.path(),
        &[
            ("PERCH_DATABASE_URL", app.database_url.as_str()),
            ("PERCH_PUBLIC_URL", app.base_url.as_str()),
        ],
    );
    let mut ben_ws = connect(&other.base_url, &ben.token, "").await;
    let mut ann_ws = connect(&app.base_url, &ann.token, "").await;
    let sent = rest_send(&app, &ann, &chat, "across").await;
    let (_, got) = next_of(&mut ben_ws, "chat_message").await;
    assert_eq!(got["id"], sent["id"]);
    send(&mut ben_ws, json!({"type": "seen", "chat_id": chat})).await;
    let (_, receipt) = next_of(&mut ann_ws, "chat_receipt").await;
    assert_eq!(receipt["status"], "seen");
    send(&mut ben_ws, json!({"type": "typing", "chat_id": chat})).await;
    let (_, typing) = next_of(&mut ann_ws, "typing").await;
    assert_eq!(typing["account_id"], ben.id.as_str());
}
