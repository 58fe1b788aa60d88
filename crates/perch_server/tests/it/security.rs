//! Two-factor sign-in, password changes, and the rate limits of sign-in
//! and re-authentication.

use perch_core::totp::{self, TotpSecret};
use reqwest::StatusCode;
use reqwest::header::RETRY_AFTER;
use serde_json::Value;

use crate::oauth::{Client, get_with, password_token, register_app, token_request};
use crate::support::{TestApp, spawn_app, spawn_app_with};

const PASSWORD: &str = "correct horse battery staple";

async fn post_with(
    app: &TestApp,
    path: &str,
    token: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .form(form)
        .send()
        .await
        .expect("sent")
}

async fn sign_in(
    app: &TestApp,
    client: &Client,
    login: &str,
    password: &str,
    otp: Option<&str>,
) -> reqwest::Response {
    let mut form = vec![
        ("grant_type", "password"),
        ("client_id", client.id.as_str()),
        ("client_secret", client.secret.as_str()),
        ("username", login),
        ("password", password),
    ];
    if let Some(otp) = otp {
        form.push(("otp", otp));
    }
    token_request(app, &form).await
}

fn now_seconds() -> i64 {
    perch_core::time::now_millis() / 1000
}

#[tokio::test]
async fn two_factor_sign_in() {
    let app = spawn_app().await;
    app.create_user("frank", PASSWORD).await;
    let client = register_app(&app, "read write").await;
    let token = password_token(&app, &client, "frank", "read write").await;
    let token = token["access_token"].as_str().expect("token").to_owned();

    let wrong = post_with(
        &app,
        "/api/v1/perch/two_factor/setup",
        &token,
        &[("password", "nope nope nope")],
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let setup = post_with(
        &app,
        "/api/v1/perch/two_factor/setup",
        &token,
        &[("password", PASSWORD)],
    )
    .await;
    assert_eq!(setup.status(), StatusCode::OK);
    let setup: Value = setup.json().await.expect("json");
    let secret =
        TotpSecret::from_base32(setup["secret"].as_str().expect("secret")).expect("base32");
    assert!(
        setup["otpauth_uri"]
            .as_str()
            .expect("uri")
            .starts_with("otpauth://totp/")
    );

    // Not in force until confirmed.
    assert_eq!(
        sign_in(&app, &client, "frank", PASSWORD, None)
            .await
            .status(),
        StatusCode::OK
    );
    let bad = post_with(
        &app,
        "/api/v1/perch/two_factor/confirm",
        &token,
        &[("code", "000000")],
    )
    .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let now = now_seconds();
    let confirm = post_with(
        &app,
        "/api/v1/perch/two_factor/confirm",
        &token,
        &[("code", &totp::code_at(&secret, now))],
    )
    .await;
    assert_eq!(confirm.status(), StatusCode::OK);
    let confirm: Value = confirm.json().await.expect("json");
    let recovery: Vec<String> = confirm["recovery_codes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| c.as_str().expect("code").to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);

    // Now the password alone is not enough.
    let response = sign_in(&app, &client, "frank", PASSWORD, None).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body["error_description"],
        "A two-factor authentication code is required"
    );
    let response = sign_in(&app, &client, "frank", PASSWORD, Some("123456")).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    // The code used to confirm cannot be replayed; the next step's code works once.
    let replay = sign_in(
        &app,
        &client,
        "frank",
        PASSWORD,
        Some(&totp::code_at(&secret, now)),
    )
    .await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    let next = totp::code_at(&secret, now + 30);
    assert_eq!(
        sign_in(&app, &client, "frank", PASSWORD, Some(&next))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        sign_in(&app, &client, "frank", PASSWORD, Some(&next))
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );

    // Recovery codes work once each.
    assert_eq!(
        sign_in(&app, &client, "frank", PASSWORD, Some(&recovery[0]))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        sign_in(&app, &client, "frank", PASSWORD, Some(&recovery[0]))
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );

    // The authorization page asks for the code too.
    let response = app
        .client
        .post(app.url("/oauth/authorize"))
        .form(&[
            ("response_type", "code"),
            ("client_id", client.id.as_str()),
            ("redirect_uri", "https://client.example/callback"),
            ("scope", "read"),
            ("username", "frank"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        response
            .text()
            .await
            .expect("html")
            .contains("two-factor authentication code is required")
    );

    let disable = post_with(
        &app,
        "/api/v1/perch/two_factor/disable",
        &token,
        &[("password", PASSWORD)],
    )
    .await;
    assert_eq!(disable.status(), StatusCode::OK);
    assert_eq!(
        sign_in(&app, &client, "frank", PASSWORD, None)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_password_change_ends_every_other_session_at_once() {
    let app = spawn_app().await;
    app.create_user("grace", PASSWORD).await;
    let client = register_app(&app, "read write").await;
    let here = password_token(&app, &client, "grace", "read write").await;
    let elsewhere = password_token(&app, &client, "grace", "read").await;
    let here = here["access_token"].as_str().expect("token");
    let elsewhere = elsewhere["access_token"].as_str().expect("token");

    let refused = post_with(
        &app,
        "/api/v1/perch/password",
        here,
        &[
            ("current_password", "not my password"),
            ("new_password", "a brand new password"),
        ],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let too_short = post_with(
        &app,
        "/api/v1/perch/password",
        here,
        &[("current_password", PASSWORD), ("new_password", "short")],
    )
    .await;
    assert_eq!(too_short.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let changed = post_with(
        &app,
        "/api/v1/perch/password",
        here,
        &[
            ("current_password", PASSWORD),
            ("new_password", "a brand new password"),
        ],
    )
    .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let me = get_with(&app, "/api/v1/accounts/verify_credentials", elsewhere).await;
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    let me = get_with(&app, "/api/v1/accounts/verify_credentials", here).await;
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(
        sign_in(&app, &client, "grace", PASSWORD, None)
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        sign_in(&app, &client, "grace", "a brand new password", None)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn sign_in_attempts_are_rate_limited_per_account() {
    let app = spawn_app_with(|c| {
        c.sign_in_attempts_per_account = 10;
        c.sign_in_attempts_per_ip = 15;
    })
    .await;
    app.create_user("heidi", PASSWORD).await;
    let client = register_app(&app, "read").await;
    for attempt in 1..=10 {
        let response = sign_in(&app, &client, "heidi", "wrong password", None).await;
        assert_eq!(
            response.status(),
            StatusCode::BAD_REQUEST,
            "attempt {attempt}"
        );
    }
    let limited = sign_in(&app, &client, "HEIDI", PASSWORD, None).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = limited.headers()[RETRY_AFTER]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=300).contains(&retry), "{retry}");
    let body: Value = limited.json().await.expect("json");
    assert_eq!(body["error"], "Too many requests");

    // Another account from the same address is still allowed, until the
    // address's own limit runs out.
    app.create_user("ivan", PASSWORD).await;
    for attempt in 12..=15 {
        let response = sign_in(&app, &client, "ivan", PASSWORD, None).await;
        assert_eq!(response.status(), StatusCode::OK, "attempt {attempt}");
    }
    let limited = sign_in(&app, &client, "ivan", PASSWORD, None).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key(RETRY_AFTER));
}

/// A password change from `client` (a forwarded address; the peer itself
/// when `None`) with `current` as the current password; the answer.
async fn change_password_as(
    app: &TestApp,
    token: &str,
    current: &str,
    client: Option<&str>,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url("/api/v1/perch/password"))
        .bearer_auth(token)
        .form(&[
            ("current_password", current),
            ("new_password", "a brand new password"),
        ]);
    if let Some(client) = client {
        request = request.header("x-forwarded-for", client);
    }
    request.send().await.expect("sent")
}

async fn assert_limited(response: reqwest::Response, what: &str) {
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "{what}");
    assert!(response.headers().contains_key(RETRY_AFTER), "{what}");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"], "Too many requests", "{what}");
}

#[tokio::test]
async fn re_authentication_is_rate_limited_per_account_and_address() {
    let app = spawn_app_with(|c| c.sign_in_attempts_per_account = 3).await;
    app.create_user("judy", PASSWORD).await;
    app.create_user("ken", PASSWORD).await;
    let client = register_app(&app, "read write").await;
    let token = password_token(&app, &client, "judy", "read write").await;
    let token = token["access_token"].as_str().expect("token").to_owned();
    for attempt in 1..=3 {
        let response = change_password_as(&app, &token, "a guess", None).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "guess {attempt}");
    }
    // Out of attempts: even the right password is not checked, and neither
    // is any other re-authentication of the account.
    assert_limited(
        change_password_as(&app, &token, PASSWORD, None).await,
        "password change",
    )
    .await;
    for (path, form) in [
        ("/api/v1/perch/two_factor/setup", ("password", PASSWORD)),
        ("/api/v1/perch/two_factor/confirm", ("code", "123456")),
        ("/api/v1/perch/two_factor/disable", ("password", PASSWORD)),
    ] {
        assert_limited(post_with(&app, path, &token, &[form]).await, path).await;
    }
    // The password did not change, and another account is not held back.
    assert_eq!(
        sign_in(&app, &client, "judy", PASSWORD, None)
            .await
            .status(),
        StatusCode::OK
    );
    let ken = password_token(&app, &client, "ken", "read write").await;
    let ken = ken["access_token"].as_str().expect("token");
    assert_eq!(
        change_password_as(&app, ken, "a guess", None)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );

    // Per address: one address guessing for many accounts is stopped too;
    // another client (behind the trusted proxy on loopback) is not. (The
    // three sign-ins use up the peer's own sign-in budget, which is apart.)
    let app = spawn_app_with(|c| c.sign_in_attempts_per_ip = 3).await;
    let client = register_app(&app, "read write").await;
    let mut tokens = Vec::new();
    for name in ["lena", "mark", "nina"] {
        app.create_user(name, PASSWORD).await;
        let token = password_token(&app, &client, name, "read write").await;
        tokens.push(token["access_token"].as_str().expect("token").to_owned());
    }
    let guesser = Some("198.51.100.7");
    for token in &tokens {
        let response = change_password_as(&app, token, "a guess", guesser).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    assert_limited(
        change_password_as(&app, &tokens[0], "a guess", guesser).await,
        "a fourth guess from one address",
    )
    .await;
    let response = change_password_as(&app, &tokens[0], "a guess", Some("198.51.100.8")).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}
