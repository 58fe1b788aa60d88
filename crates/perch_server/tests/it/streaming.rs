//! Mastodon's streaming API with real WebSocket clients: authentication
//! three ways, subscribe frames, event framing, who receives what, error
//! frames, a slow reader cut off while others carry on, and events crossing
//! from one `perch` process to another on PostgreSQL.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use perch_db::live::LiveEvent;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::statuses::{User, post_status, user};
use crate::support::{ServedPerch, TestApp, spawn_app};

pub(crate) type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const DEADLINE: Duration = Duration::from_secs(20);

fn ws_url(base_url: &str, query: &str) -> String {
    format!(
        "{}/api/v1/streaming?{query}",
        base_url.replacen("http", "ws", 1)
    )
}

pub(crate) async fn connect(base_url: &str, query: &str) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(ws_url(base_url, query))
        .await
        .expect("WebSocket connects");
    ws
}

/// The next text frame as JSON, answering nothing else; fails after the
/// deadline.
pub(crate) async fn next_frame(ws: &mut Ws) -> Value {
    loop {
        let message = tokio::time::timeout(DEADLINE, ws.next())
            .await
            .expect("a frame within the deadline")
            .expect("the connection is open")
            .expect("a valid frame");
        match message {
            Message::Text(text) => return serde_json::from_str(text.as_str()).expect("JSON frame"),
            Message::Close(frame) => panic!("closed: {frame:?}"),
            _ => {}
        }
    }
}

/// The next event frame's payload, parsed, after checking its framing.
pub(crate) async fn next_event(ws: &mut Ws, stream: Value, event: &str) -> Value {
    let frame = next_frame(ws).await;
    assert_eq!(frame["stream"], stream, "{frame}");
    assert_eq!(frame["event"], event, "{frame}");
    let payload = frame["payload"].as_str().expect("payload is a string");
    serde_json::from_str(payload).unwrap_or_else(|_| Value::String(payload.to_owned()))
}

/// Send a frame, then an invalid one, and wait for the error that answers
/// the latter: frames are handled in order, so the first has taken effect.
pub(crate) async fn send_and_sync(ws: &mut Ws, frame: Value) {
    ws.send(Message::text(frame.to_string()))
        .await
        .expect("sent");
    ws.send(Message::text("sync")).await.expect("sent");
    let answer = next_frame(ws).await;
    assert_eq!(answer["status"], 400, "{answer}");
}

async fn follow(app: &TestApp, follower: &User, target: &User) {
    let response = app
        .client
        .post(app.url(&format!("/api/v1/accounts/{}/follow", target.id)))
        .bearer_auth(&follower.token)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn update_and_notification_events_arrive_for_a_follow_and_a_post() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;
    follow(&app, &ben, &ann).await;
    let mut ws = connect(
        &app.base_url,
        &format!("stream=user&access_token={}", ben.token),
    )
    .await;

    follow(&app, &ann, &ben).await;
    let notification = next_event(&mut ws, json!(["user"]), "notification").await;
    assert_eq!(notification["type"], "follow");
    assert_eq!(notification["account"]["id"], ann.id.as_str());

    let posted = post_status(&app, &ann.token, json!({"status": "live"})).await;
    let update = next_event(&mut ws, json!(["user"]), "update").await;
    assert_eq!(update["id"], posted["id"]);
    assert_eq!(update["account"]["id"], ann.id.as_str());

    let path = format!("/api/v1/statuses/{}", posted["id"].as_str().unwrap());
    app.client
        .delete(app.url(&path))
        .bearer_auth(&ann.token)
        .send()
        .await
        .expect("sent");
    let frame = next_frame(&mut ws).await;
    assert_eq!(frame["event"], "delete");
    assert_eq!(
        frame["payload"], posted["id"],
        "a delete's payload is the bare id"
    );
}

#[tokio::test]
async fn a_token_offered_as_protocol_is_echoed_and_frames_subscribe() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let mut request = ws_url(&app.base_url, "")
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        HeaderValue::from_str(&ann.token).expect("header"),
    );
    let (mut ws, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connects");
    assert_eq!(
        response
            .headers()
            .get("sec-websocket-protocol")
            .map(|v| v.to_str().unwrap()),
        Some(ann.token.as_str()),
        "the offered protocol must be echoed"
    );
    send_and_sync(
        &mut ws,
        json!({"type": "subscribe", "stream": "hashtag", "tag": "Perch"}),
    )
    .await;
    send_and_sync(
        &mut ws,
        json!({"type": "subscribe", "stream": "public:local"}),
    )
    .await;
    let posted = post_status(&app, &ann.token, json!({"status": "on the public stream"})).await;
    let update = next_event(&mut ws, json!(["public:local"]), "update").await;
    assert_eq!(update["id"], posted["id"]);

    send_and_sync(
        &mut ws,
        json!({"type": "unsubscribe", "stream": "public:local"}),
    )
    .await;
    send_and_sync(&mut ws, json!({"type": "subscribe", "stream": "user"})).await;
    let second = post_status(&app, &ann.token, json!({"status": "only home now"})).await;
    let update = next_event(&mut ws, json!(["user"]), "update").await;
    assert_eq!(
        update["id"], second["id"],
        "unsubscribed streams send nothing"
    );
}

#[tokio::test]
async fn private_statuses_never_reach_the_public_stream() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let follower = user(&app, "fol").await;
    follow(&app, &follower, &ann).await;
    let mut public = connect(&app.base_url, "stream=public").await;
    let mut home = connect(
        &app.base_url,
        &format!("stream=user&access_token={}", follower.token),
    )
    .await;
    let mut posted = Vec::new();
    for visibility in ["private", "unlisted", "direct", "public"] {
        let status = post_status(
            &app,
            &ann.token,
            json!({"status": visibility, "visibility": visibility}),
        )
        .await;
        posted.push(status["id"].as_str().unwrap().to_owned());
    }
    // One author's events go out in the order they were made, so the first
    // public event is the last post.
    let update = next_event(&mut public, json!(["public"]), "update").await;
    assert_eq!(update["id"], posted[3].as_str());
    assert_eq!(update["visibility"], "public");
    // The follower's home stream has the private, unlisted and public ones.
    for expected in [&posted[0], &posted[1], &posted[3]] {
        let update = next_event(&mut home, json!(["user"]), "update").await;
        assert_eq!(update["id"], expected.as_str());
    }
}

#[tokio::test]
async fn bad_requests_and_frames_get_errors() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/api/v1/streaming?stream=user"))
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.expect("json");
    assert!(body["error"].is_string());

    let mut ws = connect(&app.base_url, "").await;
    for (frame, status) in [
        ("not json", 400),
        (r#"{"type":"subscribe","stream":"user"}"#, 401),
        (r#"{"type":"subscribe","stream":"nonsense"}"#, 400),
        (r#"{"type":"subscribe","stream":"hashtag"}"#, 400),
        (r#"{"type":"dance"}"#, 400),
    ] {
        ws.send(Message::text(frame)).await.expect("sent");
        let answer = next_frame(&mut ws).await;
        assert_eq!(answer["status"], status, "{frame}: {answer}");
        assert!(answer["error"].is_string());
    }
    let health = app.get_response("/api/v1/streaming/health").await;
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.text().await.expect("text"), "OK");
}

#[tokio::test]
async fn a_slow_reader_is_disconnected_while_others_are_unaffected() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let posted = post_status(&app, &ann.token, json!({"status": "x".repeat(400)})).await;
    let id: i64 = posted["id"].as_str().unwrap().parse().unwrap();

    // The slow reader's socket buffer is tiny and it reads nothing.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("buffer size");
    let stream = socket.connect(app.address).await.expect("connects");
    let (mut slow, _) = tokio_tungstenite::client_async(
        ws_url(&app.base_url, "stream=public"),
        MaybeTlsStream::Plain(stream),
    )
    .await
    .expect("WebSocket");
    let mut fast = connect(&app.base_url, "stream=public").await;

    // Bounded: enough frames to overflow the queue and the socket buffers.
    const EVENTS: usize = 6000;
    let reader = tokio::spawn(async move {
        let mut received = 0;
        while received < EVENTS {
            let frame = next_frame(&mut fast).await;
            assert_eq!(frame["event"], "update");
            received += 1;
        }
        received
    });
    let author: i64 = posted["account"]["id"].as_str().unwrap().parse().unwrap();
    let events = vec![LiveEvent::StatusCreated { id, author }; EVENTS];
    app.bus.publish(&events).await;
    assert_eq!(
        reader.await.expect("reader"),
        EVENTS,
        "the fast reader got every event"
    );

    // The slow one finds, after what was buffered, the close frame.
    let mut buffered = 0;
    let close = loop {
        let message = tokio::time::timeout(DEADLINE, slow.next())
            .await
            .expect("within the deadline")
            .expect("a frame before the end");
        match message {
            Ok(Message::Text(_)) => buffered += 1,
            Ok(Message::Close(frame)) => break frame,
            Ok(_) => {}
            Err(error) => panic!("the connection failed instead of closing: {error}"),
        }
    };
    let close = close.expect("a close frame with a code");
    assert_eq!(
        u16::from(close.code),
        perch_api::streaming::CLOSE_TOO_SLOW,
        "{close:?}"
    );
    assert!(
        buffered < EVENTS,
        "the slow reader was cut off, not fed everything"
    );
}

#[tokio::test]
async fn events_cross_from_one_process_to_another() {
    let app = spawn_app().await;
    if !app.database_url.starts_with("postgres") {
        // SQLite serves one process; there is nothing to cross.
        return;
    }
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;
    follow(&app, &ben, &ann).await;
    let dir = tempfile::tempdir().expect("dir");
    let other = ServedPerch::start(
        dir.path(),
        &[
            ("PERCH_DATABASE_URL", app.database_url.as_str()),
            ("PERCH_PUBLIC_URL", app.base_url.as_str()),
            ("PERCH_ALLOW_PRIVATE_ADDRESSES", "true"),
        ],
    );
    // Ben listens on the other process; Ann posts through this one.
    let mut ws = connect(
        &other.base_url,
        &format!("stream=user&access_token={}", ben.token),
    )
    .await;
    let posted = post_status(&app, &ann.token, json!({"status": "across processes"})).await;
    let update = next_event(&mut ws, json!(["user"]), "update").await;
    assert_eq!(update["id"], posted["id"]);
    follow(&app, &ann, &ben).await;
    let notification = next_event(&mut ws, json!(["user"]), "notification").await;
    assert_eq!(notification["type"], "follow");
}

#[tokio::test]
async fn a_client_ping_is_answered() {
    let app = spawn_app().await;
    let mut ws = connect(&app.base_url, "stream=public").await;
    ws.send(Message::Ping(b"are you there".to_vec().into()))
        .await
        .expect("sent");
    loop {
        let message = tokio::time::timeout(DEADLINE, ws.next())
            .await
            .expect("within the deadline")
            .expect("open")
            .expect("valid");
        if let Message::Pong(data) = message {
            assert_eq!(&data[..], b"are you there");
            break;
        }
    }
}

#[tokio::test]
async fn a_token_in_the_authorization_header_is_accepted() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;
    let mut request = ws_url(&app.base_url, "stream=user:notification")
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {}", ann.token)).expect("header"),
    );
    let (mut ws, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connects");
    assert!(response.headers().get("sec-websocket-protocol").is_none());
    follow(&app, &ben, &ann).await;
    let notification = next_event(&mut ws, json!(["user:notification"]), "notification").await;
    assert_eq!(notification["type"], "follow");
    assert_eq!(notification["account"]["id"], ben.id.as_str());
}

#[tokio::test]
async fn subscriptions_per_connection_are_capped() {
    use perch_api::streaming::MAX_SUBSCRIPTIONS;
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let mut ws = connect(&app.base_url, &format!("access_token={}", ann.token)).await;
    let subscribe = |tag: &str| {
        Message::text(json!({"type": "subscribe", "stream": "hashtag", "tag": tag}).to_string())
    };
    // Paced under the per-connection frame rate (a burst of 30, then 10 a
    // second), so that no frame is refused for coming too fast.
    let mut pace = tokio::time::interval(Duration::from_millis(110));
    for i in 0..MAX_SUBSCRIPTIONS {
        if i >= 25 {
            pace.tick().await;
        }
        ws.send(subscribe(&format!("t{i}"))).await.expect("sent");
    }
    // Subscribes are silent when they work: the first answer is the refusal.
    ws.send(subscribe("onetoomany")).await.expect("sent");
    let refused = next_frame(&mut ws).await;
    assert_eq!(refused["status"], 400, "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("Too many subscriptions")),
        "{refused}"
    );
    // A stream already subscribed is no new subscription; after an
    // unsubscribe there is room again, on the same open connection.
    ws.send(subscribe("t0")).await.expect("sent");
    ws.send(Message::text(
        json!({"type": "unsubscribe", "stream": "hashtag", "tag": "t1"}).to_string(),
    ))
    .await
    .expect("sent");
    send_and_sync(
        &mut ws,
        json!({"type": "subscribe", "stream": "hashtag", "tag": "onetoomany"}),
    )
    .await;
    let posted = post_status(&app, &ann.token, json!({"status": "at last #onetoomany"})).await;
    let update = next_event(&mut ws, json!(["hashtag", "onetoomany"]), "update").await;
    assert_eq!(update["id"], posted["id"]);
}

#[tokio::test]
async fn the_media_streams_carry_only_public_statuses_with_attachments() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let mut ws = connect(&app.base_url, "stream=public:media").await;
    send_and_sync(
        &mut ws,
        json!({"type": "subscribe", "stream": "public:local:media"}),
    )
    .await;
    send_and_sync(
        &mut ws,
        json!({"type": "subscribe", "stream": "public:remote:media"}),
    )
    .await;
    post_status(&app, &ann.token, json!({"status": "words alone"})).await;
    let bytes = crate::media::picture(32, 24, image::ImageFormat::Png);
    let response = crate::media::upload(&app, &ann.token, bytes, "a.png", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let media: Value = response.json().await.expect("json");
    let pictured = post_status(
        &app,
        &ann.token,
        json!({"status": "a picture", "media_ids": [media["id"]]}),
    )
    .await;
    // Events arrive in order: the status without media, posted first,
    // would come first if these streams carried it.
    let update = next_event(&mut ws, json!(["public:media"]), "update").await;
    assert_eq!(update["id"], pictured["id"], "{update}");
    let update = next_event(&mut ws, json!(["public:local:media"]), "update").await;
    assert_eq!(update["id"], pictured["id"], "{update}");
    // Nothing remote was posted: the next frame answers this bad one.
    ws.send(Message::text("sync")).await.expect("sent");
    assert_eq!(next_frame(&mut ws).await["status"], 400);
}

#[tokio::test]
async fn the_local_hashtag_stream_leaves_out_what_other_servers_post() {
    use perch_server::testing::{PASSWORD, TestServer, drain};
    let (here, there) = (TestServer::start().await, TestServer::start().await);
    here.create_user("ann", PASSWORD).await;
    there.create_user("rae", PASSWORD).await;
    let (ann, rae) = (here.token("ann").await, there.token("rae").await);
    // Ann follows rae, so rae's posts reach this server.
    let rae_id = here.resolve(&ann, &format!("rae@{}", there.domain)).await;
    let (status, _) = here
        .post(&format!("/api/v1/accounts/{rae_id}/follow"), &ann)
        .await;
    assert_eq!(status, StatusCode::OK);
    drain(&[&here, &there]).await;

    // Frames name the hashtag as the client spelled it.
    let mut ws = connect(&here.base_url, "stream=hashtag&tag=birds").await;
    send_and_sync(
        &mut ws,
        json!({"type": "subscribe", "stream": "hashtag:local", "tag": "Birds"}),
    )
    .await;
    let remote = there
        .post_status(&rae, json!({"status": "a heron #birds"}))
        .await;
    drain(&[&here, &there]).await;
    let local = here
        .post_status(&ann, json!({"status": "a robin #Birds"}))
        .await;
    // In order: the remote post on the hashtag stream only, then the local
    // one on both.
    let first = next_event(&mut ws, json!(["hashtag", "birds"]), "update").await;
    assert_eq!(first["uri"], remote["uri"], "{first}");
    let second = next_event(&mut ws, json!(["hashtag", "birds"]), "update").await;
    assert_eq!(second["id"], local["id"], "{second}");
    let third = next_event(&mut ws, json!(["hashtag:local", "Birds"]), "update").await;
    assert_eq!(third["id"], local["id"], "{third}");
}
