//! `POST /api/v1/accounts`: sign-up rules, each validation error, and the
//! registration modes.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::oauth::{Client, get_with, register_app, token_request};
use crate::support::{TestApp, spawn_app, spawn_app_with};
use perch_server::config::RegistrationMode;

pub async fn app_token(app: &TestApp, client: &Client, scope: &str) -> String {
    let response = token_request(
        app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &client.id),
            ("client_secret", &client.secret),
            ("scope", scope),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    body["access_token"].as_str().expect("token").to_owned()
}

pub async fn sign_up(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/accounts"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("sent")
}

pub fn valid(username: &str) -> Value {
    json!({
        "username": username,
        "email": format!("{username}@example.com"),
        "password": "a fine long password",
        "agreement": true,
        "locale": "en",
    })
}

#[tokio::test]
async fn open_sign_up_returns_a_working_token() {
    let app = spawn_app().await;
    let client = register_app(&app, "read write follow push").await;
    let token = app_token(&app, &client, "read write follow push").await;

    let response = sign_up(&app, &token, valid("newcomer")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(
        body["scope"], "read write follow push",
        "in the order asked for"
    );
    let user_token = body["access_token"].as_str().expect("token");
    let me = get_with(&app, "/api/v1/accounts/verify_credentials", user_token).await;
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.expect("json");
    assert_eq!(me["username"], "newcomer");
    assert_eq!(me["acct"], "newcomer");

    // Form-encoded with agreement as Rails writes it.
    let response = app
        .client
        .post(app.url("/api/v1/accounts"))
        .bearer_auth(&token)
        .form(&[
            ("username", "formed"),
            ("email", "formed@example.com"),
            ("password", "another fine password"),
            ("agreement", "1"),
            ("locale", "pt-BR"),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn every_invalid_field_is_reported_at_once() {
    let app = spawn_app().await;
    let client = register_app(&app, "read write").await;
    let token = app_token(&app, &client, "write").await;
    let first = sign_up(
        &app,
        &token,
        json!({
            "username": "taken", "email": "taken@example.com", "password": "a fine long password",
            "agreement": true, "phone": "+14155550100",
        }),
    )
    .await;
    assert_eq!(first.status(), StatusCode::OK);

    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({"username": ""}), "username", "ERR_BLANK"),
        (json!({"username": "no spaces"}), "username", "ERR_INVALID"),
        (
            json!({"username": "x".repeat(31)}),
            "username",
            "ERR_TOO_LONG",
        ),
        (json!({"username": "Admin"}), "username", "ERR_RESERVED"),
        (json!({"username": "TAKEN"}), "username", "ERR_TAKEN"),
        (json!({"email": ""}), "email", "ERR_BLANK"),
        (json!({"email": "not-an-address"}), "email", "ERR_INVALID"),
        (json!({"email": "Taken@Example.com"}), "email", "ERR_TAKEN"),
        (json!({"password": ""}), "password", "ERR_BLANK"),
        (json!({"password": "short"}), "password", "ERR_TOO_SHORT"),
        (
            json!({"password": "p".repeat(129)}),
            "password",
            "ERR_TOO_LONG",
        ),
        (json!({"agreement": false}), "agreement", "ERR_ACCEPTED"),
        (json!({"locale": "english"}), "locale", "ERR_INCLUSION"),
        (json!({"phone": "555-0100"}), "phone", "ERR_INVALID"),
        (json!({"phone": "+14155550100"}), "phone", "ERR_TAKEN"),
        (
            json!({"reason": "r".repeat(1001)}),
            "reason",
            "ERR_TOO_LONG",
        ),
    ];
    for (change, field, code) in cases {
        let mut body = valid("candidate");
        for (key, value) in change.as_object().expect("object") {
            body[key] = value.clone();
        }
        let response = sign_up(&app, &token, body).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field} {code}"
        );
        let body: Value = response.json().await.expect("json");
        assert!(
            body["error"]
                .as_str()
                .expect("error")
                .starts_with("Validation failed"),
            "{body}"
        );
        assert_eq!(body["details"][field][0]["error"], code, "{body}");
        assert_eq!(
            body["details"].as_object().expect("details").len(),
            1,
            "{body}"
        );
    }

    let response = sign_up(
        &app,
        &token,
        json!({"username": "", "email": "bad", "password": "x"}),
    )
    .await;
    let body: Value = response.json().await.expect("json");
    let fields: Vec<&String> = body["details"]
        .as_object()
        .expect("details")
        .keys()
        .collect();
    assert_eq!(fields, ["agreement", "email", "password", "username"]);

    // Nothing of the refused sign-ups was stored.
    let taken = perch_db::users::taken(&app.db, "candidate", "candidate@example.com", None)
        .await
        .expect("query");
    assert!(!taken.username && !taken.email);
}

#[tokio::test]
async fn sign_up_needs_a_token_with_write_accounts() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/v1/accounts"))
        .json(&valid("anonymous"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let client = register_app(&app, "read write").await;
    let read_only = app_token(&app, &client, "read").await;
    let response = sign_up(&app, &read_only, valid("reader")).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn approval_mode_holds_the_account_until_approved() {
    let app = spawn_app_with(|c| c.registrations = RegistrationMode::Approval).await;
    let client = register_app(&app, "read write admin:write").await;
    let token = app_token(&app, &client, "read write").await;
    let response = sign_up(&app, &token, valid("patient")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    let user_token = body["access_token"].as_str().expect("token");

    let me = get_with(&app, "/api/v1/accounts/verify_credentials", user_token).await;
    assert_eq!(me.status(), StatusCode::FORBIDDEN);
    let me: Value = me.json().await.expect("json");
    assert_eq!(me["error"], "Your login is currently pending approval");

    let response = token_request(
        &app,
        &[
            ("grant_type", "password"),
            ("client_id", &client.id),
            ("client_secret", &client.secret),
            ("username", "patient"),
            ("password", "a fine long password"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body["error_description"],
        "Your login is currently pending approval"
    );

    let instance: Value = app
        .get_response("/api/v2/instance")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(instance["registrations"]["enabled"], true);
    assert_eq!(instance["registrations"]["approval_required"], true);

    // An administrator approves; the same token then works.
    let patient = perch_db::accounts::find_local_by_username(&app.db, "patient")
        .await
        .expect("query")
        .expect("stored");
    app.create_user("plain", "a fine long password").await;
    app.create_admin("boss", "a fine long password").await;
    let approve_path = format!("/api/v1/admin/accounts/{}/approve", patient.id);
    let plain = password_token_for(&app, &client, "plain", "read write admin:write").await;
    let refused = app
        .client
        .post(app.url(&approve_path))
        .bearer_auth(&plain)
        .send()
        .await
        .expect("sent");
    assert_eq!(
        refused.status(),
        StatusCode::FORBIDDEN,
        "only administrators approve"
    );
    let boss = password_token_for(&app, &client, "boss", "read write admin:write").await;
    let approved = app
        .client
        .post(app.url(&approve_path))
        .bearer_auth(&boss)
        .send()
        .await
        .expect("sent");
    assert_eq!(approved.status(), StatusCode::OK);
    let approved: Value = approved.json().await.expect("json");
    assert_eq!(approved["approved"], true);
    assert_eq!(approved["account"]["username"], "patient");
    let me = get_with(&app, "/api/v1/accounts/verify_credentials", user_token).await;
    assert_eq!(me.status(), StatusCode::OK);
}

async fn password_token_for(app: &TestApp, client: &Client, login: &str, scope: &str) -> String {
    let response = token_request(
        app,
        &[
            ("grant_type", "password"),
            ("client_id", &client.id),
            ("client_secret", &client.secret),
            ("username", login),
            ("password", "a fine long password"),
            ("scope", scope),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    body["access_token"].as_str().expect("token").to_owned()
}

#[tokio::test]
async fn closed_registrations_refuse_sign_up() {
    let app = spawn_app_with(|c| c.registrations = RegistrationMode::Closed).await;
    let client = register_app(&app, "read write").await;
    let token = app_token(&app, &client, "write").await;
    let response = sign_up(&app, &token, valid("latecomer")).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let instance: Value = app
        .get_response("/api/v1/instance")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(instance["registrations"], false);
}

#[tokio::test]
async fn sign_ups_are_limited_per_address() {
    let app = spawn_app_with(|c| c.sign_ups_per_ip = 2).await;
    let client = register_app(&app, "read write").await;
    let token = app_token(&app, &client, "write").await;
    // Refused sign-ups do not count.
    let refused = sign_up(&app, &token, json!({"username": "x"})).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    for name in ["first", "second"] {
        assert_eq!(
            sign_up(&app, &token, valid(name)).await.status(),
            StatusCode::OK,
            "{name}"
        );
    }
    let third = sign_up(&app, &token, valid("third")).await;
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(third.headers().contains_key(reqwest::header::RETRY_AFTER));
    let taken = perch_db::users::taken(&app.db, "third", "third@example.com", None)
        .await
        .expect("query");
    assert!(!taken.username, "nothing stored for a limited sign-up");
}

/// `perch user approve` does what the admin API does.
#[tokio::test]
async fn the_cli_approves_waiting_sign_ups() {
    let app = spawn_app_with(|c| c.registrations = RegistrationMode::Approval).await;
    let client = register_app(&app, "read write").await;
    let token = app_token(&app, &client, "read write").await;
    let response = sign_up(&app, &token, valid("waiting")).await;
    let body: Value = response.json().await.expect("json");
    let user_token = body["access_token"].as_str().expect("token").to_owned();
    let me = get_with(&app, "/api/v1/accounts/verify_credentials", &user_token).await;
    assert_eq!(me.status(), StatusCode::FORBIDDEN);

    let dir = tempfile::tempdir().expect("temporary dir");
    let approve = |username: &'static str| {
        let mut command = crate::support::perch(dir.path());
        command
            .args(["user", "approve", "--username", username])
            .env("PERCH_DATABASE_URL", &app.database_url)
            .env("PERCH_DATA_DIR", dir.path().join("data"));
        command
    };
    let output = tokio::task::spawn_blocking({
        let command = approve("Waiting");
        move || crate::support::run_with_stdin(command, "")
    })
    .await
    .expect("ran");
    assert!(
        output.status.success(),
        "{}",
        crate::support::stderr(&output)
    );
    assert_eq!(crate::support::stdout(&output).trim(), "approved @waiting");
    let me = get_with(&app, "/api/v1/accounts/verify_credentials", &user_token).await;
    assert_eq!(me.status(), StatusCode::OK);

    let output = tokio::task::spawn_blocking({
        let command = approve("nobody");
        move || crate::support::run_with_stdin(command, "")
    })
    .await
    .expect("ran");
    assert_eq!(output.status.code(), Some(1));
    assert!(crate::support::stderr(&output).contains("no local user named nobody"));
}

#[tokio::test]
async fn a_moderator_rejects_a_waiting_sign_up_and_nothing_of_it_remains() {
    let app = spawn_app_with(|c| c.registrations = RegistrationMode::Approval).await;
    let client = register_app(&app, "read write admin:read admin:write").await;
    let token = app_token(&app, &client, "read write").await;
    assert_eq!(
        sign_up(&app, &token, valid("hopeful")).await.status(),
        StatusCode::OK
    );
    let hopeful = perch_db::accounts::find_local_by_username(&app.db, "hopeful")
        .await
        .expect("query")
        .expect("stored");
    app.create_with_role(
        "mo",
        "a fine long password",
        perch_server::testing::Role::Moderator,
    )
    .await;
    let mo = password_token_for(&app, &client, "mo", "read write admin:read admin:write").await;
    let path = format!("/api/v1/admin/accounts/{}", hopeful.id);
    let listed = get_with(&app, "/api/v1/admin/accounts?pending=true", &mo).await;
    let listed: Value = listed.json().await.expect("json");
    assert_eq!(listed[0]["username"], "hopeful", "{listed}");
    assert_eq!(listed[0]["approved"], false);
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(1),
        "only the waiting one"
    );

    let rejected = app
        .client
        .post(app.url(&format!("{path}/reject")))
        .bearer_auth(&mo)
        .send()
        .await
        .expect("sent");
    assert_eq!(rejected.status(), StatusCode::OK);
    assert!(
        perch_db::accounts::find_local_by_username(&app.db, "hopeful")
            .await
            .expect("query")
            .is_none()
    );
    assert_eq!(
        get_with(&app, &path, &mo).await.status(),
        StatusCode::NOT_FOUND
    );
    // An approved account is not a sign-up to reject.
    let mo_id = perch_db::accounts::find_local_by_username(&app.db, "mo")
        .await
        .expect("query")
        .expect("stored")
        .id;
    let refused = app
        .client
        .post(app.url(&format!("/api/v1/admin/accounts/{mo_id}/reject")))
        .bearer_auth(&mo)
        .send()
        .await
        .expect("sent");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}
