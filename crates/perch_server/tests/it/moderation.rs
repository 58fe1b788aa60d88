//! Moderators' actions on accounts through Mastodon's admin API: suspend
//! (the account's sessions and sockets end, its content is no longer
//! served, and it comes back when unsuspended), silence (out of public
//! timelines, notifying only its followers), disable, sensitive; and who
//! may act on whom.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::statuses::{PASSWORD, User, call, post_status, user};
use crate::support::{TestApp, spawn_app};
use perch_server::testing::Role;

const SCOPES: &str = "read write follow admin:read admin:write";

/// A signed-in user of `role` with the admin scopes.
async fn staff(app: &TestApp, name: &str, role: Role) -> User {
    let id = app.create_with_role(name, PASSWORD, role).await;
    let client = crate::oauth::register_app(app, SCOPES).await;
    let token = crate::oauth::password_token(app, &client, name, SCOPES).await;
    User {
        id: id.to_string(),
        token: token["access_token"].as_str().expect("token").to_owned(),
    }
}

async fn act(app: &TestApp, who: &User, target: &User, kind: &str) -> (StatusCode, Value) {
    let path = format!("/api/v1/admin/accounts/{}/action", target.id);
    let (status, body, _) = call(
        app,
        Method::POST,
        &path,
        Some(&who.token),
        Some(json!({"type": kind})),
    )
    .await;
    (status, body)
}

async fn undo(app: &TestApp, who: &User, target: &User, what: &str) -> Value {
    let path = format!("/api/v1/admin/accounts/{}/{what}", target.id);
    let (status, body, _) = call(app, Method::POST, &path, Some(&who.token), None).await;
    assert_eq!(status, StatusCode::OK, "{what}: {body}");
    body
}

async fn status_of(app: &TestApp, path: &str, token: &str) -> StatusCode {
    call(app, Method::GET, path, Some(token), None).await.0
}

async fn timeline_ids(app: &TestApp, path: &str, who: &User) -> Vec<Value> {
    let (_, body, _) = call(app, Method::GET, path, Some(&who.token), None).await;
    body.as_array()
        .expect("a list")
        .iter()
        .map(|s| s["id"].clone())
        .collect()
}

#[tokio::test]
async fn a_suspended_account_is_gone_until_unsuspended() {
    let app = spawn_app().await;
    let mo = staff(&app, "mo", Role::Moderator).await;
    let ann = user(&app, "ann").await;
    let ben = user(&app, "ben").await;
    let follow = format!("/api/v1/accounts/{}/follow", ann.id);
    assert_eq!(
        call(&app, Method::POST, &follow, Some(&ben.token), None)
            .await
            .0,
        StatusCode::OK
    );
    let posted = post_status(&app, &ann.token, json!({"status": "soon gone"})).await;
    let status_path = format!("/api/v1/statuses/{}", posted["id"].as_str().unwrap());
    let mut socket = crate::chat::connect(&app.base_url, &ann.token, "").await;

    let (status, body) = act(&app, &mo, &ann, "suspend").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({}));
    // Her socket closes, her sessions end, and she cannot sign in.
    assert_eq!(
        crate::socket_access::close_code(&mut socket).await,
        perch_api::streaming::CLOSE_ACCESS_ENDED
    );
    assert_eq!(
        status_of(&app, "/api/v1/accounts/verify_credentials", &ann.token).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(sign_in(&app, "ann").await, StatusCode::BAD_REQUEST);
    // Her content is no longer served: not the status, not in timelines,
    // not over ActivityPub.
    assert_eq!(
        status_of(&app, &status_path, &ben.token).await,
        StatusCode::NOT_FOUND
    );
    for path in ["/api/v1/timelines/home", "/api/v1/timelines/public"] {
        assert!(
            !timeline_ids(&app, path, &ben).await.contains(&posted["id"]),
            "{path}"
        );
    }
    let note = app
        .client
        .get(posted["uri"].as_str().unwrap())
        .header("accept", "application/activity+json")
        .send()
        .await
        .expect("sent");
    assert_eq!(note.status(), StatusCode::NOT_FOUND);

    let path = format!("/api/v1/admin/accounts/{}", ann.id);
    let (_, shown, _) = call(&app, Method::GET, &path, Some(&mo.token), None).await;
    assert_eq!(shown["suspended"], true, "{shown}");
    let (_, listed, _) = call(
        &app,
        Method::GET,
        "/api/v1/admin/accounts?suspended=true",
        Some(&mo.token),
        None,
    )
    .await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["id"], ann.id.as_str());

    let shown = undo(&app, &mo, &ann, "unsuspend").await;
    assert_eq!(shown["suspended"], false, "{shown}");
    assert_eq!(
        status_of(&app, &status_path, &ben.token).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn who_may_act_on_whom() {
    let app = spawn_app().await;
    let mo = staff(&app, "mo", Role::Moderator).await;
    let ada = staff(&app, "ada", Role::Admin).await;
    let ulla = user(&app, "ulla").await;
    let other_mo = staff(&app, "mia", Role::Moderator).await;
    for (who, target, expected) in [
        (&mo, &ada, StatusCode::FORBIDDEN),
        (&mo, &other_mo, StatusCode::FORBIDDEN),
        (&mo, &mo, StatusCode::FORBIDDEN),
        (&ulla, &mo, StatusCode::FORBIDDEN),
        (&ada, &other_mo, StatusCode::OK),
    ] {
        let (status, body) = act(&app, who, target, "silence").await;
        assert_eq!(status, expected, "{body}");
    }
    let (status, body) = act(&app, &ada, &ulla, "obliterate").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error"].is_string());
    // A user's token has no admin scope, and a moderator without one fails
    // the same way.
    let (status, _, _) = call(
        &app,
        Method::GET,
        "/api/v1/admin/accounts",
        Some(&ulla.token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn silence_keeps_an_account_out_of_public_view_and_strangers_notifications() {
    let app = spawn_app().await;
    let mo = staff(&app, "mo", Role::Moderator).await;
    let ben = user(&app, "ben").await;
    let ann = user(&app, "ann").await;
    let cat = user(&app, "cat").await;
    let follow = format!("/api/v1/accounts/{}/follow", ben.id);
    assert_eq!(
        call(&app, Method::POST, &follow, Some(&ann.token), None)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(act(&app, &mo, &ben, "silence").await.0, StatusCode::OK);

    let loud = post_status(&app, &ben.token, json!({"status": "@ann @cat hello #news"})).await;
    for path in ["/api/v1/timelines/public", "/api/v1/timelines/tag/news"] {
        assert!(
            !timeline_ids(&app, path, &cat).await.contains(&loud["id"]),
            "{path}"
        );
    }
    assert!(
        timeline_ids(&app, "/api/v1/timelines/home", &ann)
            .await
            .contains(&loud["id"]),
        "followers still see it"
    );
    let (_, notes, _) = call(
        &app,
        Method::GET,
        "/api/v1/notifications",
        Some(&cat.token),
        None,
    )
    .await;
    assert_eq!(notes, json!([]), "a stranger is not notified");
    let (_, notes, _) = call(
        &app,
        Method::GET,
        "/api/v1/notifications",
        Some(&ann.token),
        None,
    )
    .await;
    assert_eq!(notes[0]["type"], "mention", "a follower is: {notes}");

    let shown = undo(&app, &mo, &ben, "unsilence").await;
    assert_eq!(shown["silenced"], false);
    assert!(
        timeline_ids(&app, "/api/v1/timelines/public", &cat)
            .await
            .contains(&loud["id"])
    );
}

#[tokio::test]
async fn disable_and_sensitive_and_their_undoing() {
    let app = spawn_app().await;
    let mo = staff(&app, "mo", Role::Moderator).await;
    let ann = user(&app, "ann").await;
    let posted = post_status(&app, &ann.token, json!({"status": "pictures"})).await;
    assert_eq!(posted["sensitive"], false);

    assert_eq!(act(&app, &mo, &ann, "sensitive").await.0, StatusCode::OK);
    let path = format!("/api/v1/statuses/{}", posted["id"].as_str().unwrap());
    let (_, shown, _) = call(&app, Method::GET, &path, Some(&mo.token), None).await;
    assert_eq!(shown["sensitive"], true, "{shown}");
    undo(&app, &mo, &ann, "unsensitive").await;
    let (_, shown, _) = call(&app, Method::GET, &path, Some(&mo.token), None).await;
    assert_eq!(shown["sensitive"], false);

    assert_eq!(act(&app, &mo, &ann, "disable").await.0, StatusCode::OK);
    assert_eq!(
        status_of(&app, "/api/v1/accounts/verify_credentials", &ann.token).await,
        StatusCode::UNAUTHORIZED,
        "the sessions ended"
    );
    assert_eq!(
        sign_in(&app, "ann").await,
        StatusCode::BAD_REQUEST,
        "no new sign-in"
    );
    let (_, shown, _) = call(
        &app,
        Method::GET,
        &format!("/api/v1/admin/accounts/{}", ann.id),
        Some(&mo.token),
        None,
    )
    .await;
    assert_eq!(shown["disabled"], true, "{shown}");
    let shown = undo(&app, &mo, &ann, "enable").await;
    assert_eq!(shown["disabled"], false);
    // The old sessions ended with the disabling; a new sign-in works.
    let again = user_token(&app, "ann").await;
    assert_eq!(
        status_of(&app, "/api/v1/accounts/verify_credentials", &again).await,
        StatusCode::OK
    );
}

async fn user_token(app: &TestApp, name: &str) -> String {
    let client = crate::oauth::register_app(app, "read").await;
    let token = crate::oauth::password_token(app, &client, name, "read").await;
    token["access_token"].as_str().expect("token").to_owned()
}

/// The status of a password grant for `name`.
async fn sign_in(app: &TestApp, name: &str) -> StatusCode {
    let client = crate::oauth::register_app(app, "read").await;
    crate::oauth::token_request(
        app,
        &[
            ("grant_type", "password"),
            ("client_id", &client.id),
            ("client_secret", &client.secret),
            ("username", name),
            ("password", PASSWORD),
        ],
    )
    .await
    .status()
}

#[tokio::test]
async fn admins_keep_the_servers_blocks_and_moderators_cannot() {
    let app = spawn_app().await;
    let ada = staff(&app, "ada", Role::Admin).await;
    let mo = staff(&app, "mo", Role::Moderator).await;
    let blocks = "/api/v1/admin/domain_blocks";
    let (status, _, _) = call(&app, Method::GET, blocks, Some(&mo.token), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "federation is the admins'");

    let (status, made, _) = call(
        &app,
        Method::POST,
        blocks,
        Some(&ada.token),
        Some(json!({"domain": "Spam.Example", "severity": "suspend", "reject_reports": true, "public_comment": "spam"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{made}");
    for field in [
        "id",
        "domain",
        "digest",
        "created_at",
        "severity",
        "reject_media",
        "reject_reports",
        "private_comment",
        "public_comment",
        "obfuscate",
    ] {
        assert!(made.get(field).is_some(), "{field}: {made}");
    }
    assert_eq!(made["domain"], "spam.example");
    assert_eq!(made["digest"].as_str().map(str::len), Some(64));
    assert_eq!(made["reject_reports"], true);
    for (body, expected) in [
        (
            json!({"domain": "spam.example"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"domain": "other.example", "severity": "obliterate"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"domain": "not a domain"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json!({}), StatusCode::UNPROCESSABLE_ENTITY),
        (
            json!({"domain": app.domain}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let (status, answer, _) = call(
            &app,
            Method::POST,
            blocks,
            Some(&ada.token),
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, expected, "{body}: {answer}");
        assert!(answer["error"].is_string(), "{answer}");
    }
    let path = format!("{blocks}/{}", made["id"].as_str().unwrap());
    let (_, updated, _) = call(
        &app,
        Method::PUT,
        &path,
        Some(&ada.token),
        Some(json!({"severity": "noop"})),
    )
    .await;
    assert_eq!(updated["severity"], "noop");
    assert_eq!(
        updated["reject_reports"], true,
        "unset fields keep their values"
    );
    assert_eq!(updated["public_comment"], "spam");
    let (_, listed, headers) = call(&app, Method::GET, blocks, Some(&ada.token), None).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert!(headers.contains_key("link"));
    let (status, _, _) = call(&app, Method::DELETE, &path, Some(&ada.token), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = call(&app, Method::GET, &path, Some(&ada.token), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
