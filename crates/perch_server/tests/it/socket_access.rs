//! What an access token allows over a WebSocket: each frame needs the scope
//! its REST twin needs, each event the read scope of what it carries, and a
//! socket ends when its token's access does (revocation, a password change,
//! expiry).

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::chat::{Ws, connect, next_frame, next_of, open_chat, rest_send, send};
use crate::oauth::{Client, password_token, register_app};
use crate::statuses::{PASSWORD, user};
use crate::support::{TestApp, spawn_app, spawn_app_with};

const DEADLINE: Duration = Duration::from_secs(20);

/// The next error frame (`{"error": …, "status": …}`), passing over events.
async fn next_error(ws: &mut Ws) -> Value {
    for _ in 0..8 {
        let frame = next_frame(ws).await;
        if frame.get("error").is_some() {
            return frame;
        }
    }
    panic!("no error frame among the next ones");
}

/// The close code the server ends the socket with, skipping what it sends
/// before; the deadline covers the server's periodic access check.
pub(crate) async fn close_code(ws: &mut Ws) -> u16 {
    loop {
        let message = tokio::time::timeout(DEADLINE, ws.next())
            .await
            .expect("closed within the deadline");
        match message {
            Some(Ok(Message::Close(Some(frame)))) => return u16::from(frame.code),
            Some(Ok(Message::Close(None))) | None => return u16::from(CloseCode::Status),
            Some(Ok(_)) => {}
            Some(Err(error)) => panic!("not closed cleanly: {error}"),
        }
    }
}

/// A second token for `name`, of the given scopes, and the app that holds it.
async fn token_with(app: &TestApp, name: &str, scope: &str) -> (String, Client) {
    let client = register_app(app, "read write follow").await;
    let token = password_token(app, &client, name, scope).await;
    (
        token["access_token"].as_str().expect("token").to_owned(),
        client,
    )
}

async fn message_count(app: &TestApp, chat: &str) -> i64 {
    perch_db::chats::message_count(&app.db, chat.parse().expect("id"))
        .await
        .expect("count")
}

#[tokio::test]
async fn socket_frames_and_events_need_the_scopes_of_their_rest_twins() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;
    let chat = open_chat(&app, &ann, &ben).await;
    let (narrow, _) = token_with(&app, "ann", "read:notifications").await;

    // A token for notifications cannot send a chat message as ann.
    let mut socket = connect(&app.base_url, &narrow, "").await;
    send(
        &mut socket,
        json!({"type": "chat_message", "chat_id": chat, "content": "not mine to send"}),
    )
    .await;
    let error = next_error(&mut socket).await;
    assert_eq!(error["status"], 403, "{error}");
    assert_eq!(
        error["error"],
        "This action is outside the authorized scopes"
    );
    assert_eq!(message_count(&app, &chat).await, 0);
    send(&mut socket, json!({"type": "typing", "chat_id": chat})).await;
    assert_eq!(next_error(&mut socket).await["status"], 403);

    // Nor subscribe to what needs read:statuses, at the handshake or later.
    send(
        &mut socket,
        json!({"type": "subscribe", "stream": "public"}),
    )
    .await;
    assert_eq!(next_error(&mut socket).await["status"], 403);
    let url = format!(
        "{}/api/v1/streaming?stream=public&access_token={narrow}",
        app.base_url.replacen("http", "ws", 1)
    );
    let refused = tokio_tungstenite::connect_async(url)
        .await
        .expect_err("refused");
    match refused {
        tokio_tungstenite::tungstenite::Error::Http(response) => {
            assert_eq!(response.status(), StatusCode::FORBIDDEN);
        }
        other => panic!("not an HTTP refusal: {other}"),
    }

    // Nor does it read chat: ben's message reaches ann's full socket, and
    // the narrow one (offered the same events in the same pass) gets only
    // the answer to its ping.
    let mut full = connect(&app.base_url, &ann.token, "").await;
    rest_send(&app, &ben, &chat, "for the chat clients of ann").await;
    let (_, message) = next_of(&mut full, "chat_message").await;
    assert_eq!(
        message["content"], "<p>for the chat clients of ann</p>",
        "{message}"
    );
    send(&mut socket, json!({"type": "ping"})).await;
    let next = next_frame(&mut socket).await;
    assert_eq!(next["event"], "pong", "{next}");

    // A token with write:chats sends.
    let (writer, _) = token_with(&app, "ann", "read:chats write:chats").await;
    let mut chat_socket = connect(&app.base_url, &writer, "").await;
    send(
        &mut chat_socket,
        json!({"type": "chat_message", "chat_id": chat, "content": "mine", "client_id": "c1"}),
    )
    .await;
    let (_, ack) = next_of(&mut chat_socket, "ack").await;
    assert_eq!(ack["client_id"], "c1", "{ack}");
    assert_eq!(message_count(&app, &chat).await, 2);
}

#[tokio::test]
async fn a_revoked_token_ends_its_socket() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let (token, client) = token_with(&app, "ann", "read write").await;
    let mut revoked = connect(&app.base_url, &token, "").await;
    let mut other = connect(&app.base_url, &ann.token, "").await;

    let response = app
        .client
        .post(app.url("/oauth/revoke"))
        .form(&[
            ("client_id", client.id.as_str()),
            ("client_secret", client.secret.as_str()),
            ("token", token.as_str()),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        close_code(&mut revoked).await,
        perch_api::streaming::CLOSE_ACCESS_ENDED
    );

    // The account's other session streams on.
    send(&mut other, json!({"type": "ping"})).await;
    assert_eq!(next_frame(&mut other).await["event"], "pong");
}

#[tokio::test]
async fn a_password_change_ends_the_sockets_of_the_other_sessions() {
    let app = spawn_app().await;
    let ann = user(&app, "ann").await;
    let (elsewhere, _) = token_with(&app, "ann", "read write").await;
    let mut kept = connect(&app.base_url, &ann.token, "").await;
    let mut ended = connect(&app.base_url, &elsewhere, "").await;

    let response = app
        .client
        .post(app.url("/api/v1/perch/password"))
        .bearer_auth(&ann.token)
        .json(&json!({
            "current_password": PASSWORD,
            "new_password": "a brand new passphrase 42",
        }))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        close_code(&mut ended).await,
        perch_api::streaming::CLOSE_ACCESS_ENDED
    );
    send(&mut kept, json!({"type": "ping"})).await;
    assert_eq!(next_frame(&mut kept).await["event"], "pong");
}

#[tokio::test]
async fn a_socket_ends_when_its_token_expires() {
    let app = spawn_app_with(|config| config.access_token_ttl = Duration::from_secs(2)).await;
    let ann = user(&app, "ann").await;
    let mut socket = connect(&app.base_url, &ann.token, "").await;
    assert_eq!(
        close_code(&mut socket).await,
        perch_api::streaming::CLOSE_ACCESS_ENDED
    );
}
