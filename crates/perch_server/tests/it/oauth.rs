//! OAuth 2 and access tokens, end to end over HTTP.

use reqwest::StatusCode;
use reqwest::header::{LOCATION, WWW_AUTHENTICATE};
use serde_json::{Value, json};

use crate::support::{TestApp, spawn_app};

const PASSWORD: &str = "correct horse battery staple";
const REDIRECT: &str = "https://client.example/callback";

pub struct Client {
    pub id: String,
    pub secret: String,
}

pub async fn register_app(app: &TestApp, scopes: &str) -> Client {
    let response = app
        .client
        .post(app.url("/api/v1/apps"))
        .json(&json!({
            "client_name": "Test client",
            "redirect_uris": REDIRECT,
            "scopes": scopes,
            "website": "https://client.example",
        }))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    Client {
        id: body["client_id"].as_str().expect("client_id").to_owned(),
        secret: body["client_secret"]
            .as_str()
            .expect("client_secret")
            .to_owned(),
    }
}

pub async fn token_request(app: &TestApp, form: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.url("/oauth/token"))
        .form(form)
        .send()
        .await
        .expect("sent")
}

pub async fn password_token(app: &TestApp, client: &Client, login: &str, scope: &str) -> Value {
    let response = token_request(
        app,
        &[
            ("grant_type", "password"),
            ("client_id", &client.id),
            ("client_secret", &client.secret),
            ("username", login),
            ("password", PASSWORD),
            ("scope", scope),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.expect("json")
}

pub async fn get_with(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("sent")
}

fn access(token: &Value) -> &str {
    token["access_token"].as_str().expect("access_token")
}

#[tokio::test]
async fn apps_register_from_json_form_and_multipart() {
    let app = spawn_app().await;
    let json_app = register_app(&app, "read write follow push").await;
    assert_eq!(json_app.secret.len(), 43);

    let form = app
        .client
        .post(app.url("/api/v1/apps"))
        .form(&[
            ("client_name", "Form client"),
            ("redirect_uris", "urn:ietf:wg:oauth:2.0:oob"),
            ("scopes", "read write"),
        ])
        .send()
        .await
        .expect("sent");
    assert_eq!(form.status(), StatusCode::OK);
    let body: Value = form.json().await.expect("json");
    assert_eq!(body["name"], "Form client");
    assert_eq!(body["scopes"], json!(["read", "write"]));
    assert_eq!(body["redirect_uri"], "urn:ietf:wg:oauth:2.0:oob");
    assert!(body["id"].is_string());
    assert_eq!(body["client_secret_expires_at"], 0);

    let multipart = reqwest::multipart::Form::new()
        .text("client_name", "Multipart client")
        .text("redirect_uris[]", REDIRECT)
        .text("redirect_uris[]", "urn:ietf:wg:oauth:2.0:oob");
    let response = app
        .client
        .post(app.url("/api/v1/apps"))
        .multipart(multipart)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body["redirect_uris"],
        json!([REDIRECT, "urn:ietf:wg:oauth:2.0:oob"])
    );
    assert_eq!(body["scopes"], json!(["read"]), "Mastodon's default scope");

    for (payload, message) in [
        (json!({"redirect_uris": REDIRECT}), "name can't be blank"),
        (json!({"client_name": "x"}), "Redirect URI can't be blank"),
        (
            json!({"client_name": "x", "redirect_uris": "not a uri"}),
            "absolute URI",
        ),
        (
            json!({"client_name": "x", "redirect_uris": REDIRECT, "scopes": "read fly"}),
            "unknown scope",
        ),
    ] {
        let response = app
            .client
            .post(app.url("/api/v1/apps"))
            .json(&payload)
            .send()
            .await
            .expect("sent");
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{payload}"
        );
        let body: Value = response.json().await.expect("json");
        assert!(
            body["error"].as_str().expect("error").contains(message),
            "{body}"
        );
    }
}

#[tokio::test]
async fn password_grant_by_email_or_username() {
    let app = spawn_app().await;
    app.create_user("alice", PASSWORD).await;
    let client = register_app(&app, "read write follow").await;

    for login in ["alice@example.com", "ALICE"] {
        let token = password_token(&app, &client, login, "read write").await;
        assert_eq!(token["token_type"], "Bearer");
        assert_eq!(token["scope"], "read write");
        assert_eq!(token["expires_in"], 3600);
        assert!(token["created_at"].is_i64());
        assert!(
            token["refresh_token"]
                .as_str()
                .is_some_and(|t| t.len() == 43)
        );

        let me = get_with(&app, "/api/v1/accounts/verify_credentials", access(&token)).await;
        assert_eq!(me.status(), StatusCode::OK);
        let me: Value = me.json().await.expect("json");
        assert_eq!(me["username"], "alice");
        assert_eq!(me["acct"], "alice");
        assert!(me["source"].is_object());
    }

    // Unknown user and wrong password: the same answer.
    let mut answers = Vec::new();
    for (login, password) in [("nobody", PASSWORD), ("alice", "wrong password!")] {
        let response = token_request(
            &app,
            &[
                ("grant_type", "password"),
                ("client_id", &client.id),
                ("client_secret", &client.secret),
                ("username", login),
                ("password", password),
            ],
        )
        .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        answers.push(response.json::<Value>().await.expect("json"));
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0]["error"], "invalid_grant");

    let bad_secret = token_request(
        &app,
        &[
            ("grant_type", "password"),
            ("client_id", &client.id),
            ("client_secret", "not the secret"),
            ("username", "alice"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(bad_secret.status(), StatusCode::UNAUTHORIZED);
    let body: Value = bad_secret.json().await.expect("json");
    assert_eq!(body["error"], "invalid_client");
}

#[tokio::test]
async fn scopes_are_granted_as_asked_and_enforced() {
    let app = spawn_app().await;
    app.create_user("bob", PASSWORD).await;
    let client = register_app(&app, "read write").await;

    let response = token_request(
        &app,
        &[
            ("grant_type", "password"),
            ("client_id", &client.id),
            ("client_secret", &client.secret),
            ("username", "bob"),
            ("password", PASSWORD),
            ("scope", "read push"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"], "invalid_scope");

    let narrow = password_token(&app, &client, "bob", "read:statuses").await;
    assert_eq!(narrow["scope"], "read:statuses");
    let response = get_with(&app, "/api/v1/accounts/verify_credentials", access(&narrow)).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body["error"],
        "This action is outside the authorized scopes"
    );

    let accounts = password_token(&app, &client, "bob", "read:accounts").await;
    let response = get_with(
        &app,
        "/api/v1/accounts/verify_credentials",
        access(&accounts),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn client_credentials_tokens_act_for_the_app_only() {
    let app = spawn_app().await;
    let client = register_app(&app, "read write").await;
    let response = token_request(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &client.id),
            ("client_secret", &client.secret),
            ("scope", "read"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let token: Value = response.json().await.expect("json");
    assert!(token.get("refresh_token").is_none());

    let response = get_with(&app, "/api/v1/apps/verify_credentials", access(&token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["name"], "Test client");
    assert!(body.get("client_secret").is_none());

    let response = get_with(&app, "/api/v1/accounts/verify_credentials", access(&token)).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// The authorization-code flow with PKCE, as a browser-based app runs it.
#[tokio::test]
async fn authorization_code_with_pkce() {
    let app = spawn_app().await;
    app.create_user("carol", PASSWORD).await;
    let client = register_app(&app, "read write").await;
    // S256 challenge of the verifier, computed independently (Python hashlib).
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gXFRWFjXk";
    let challenge = "xvYq-ZtbqEnMsCbY2tIISDDg6dhHltH1NMl8O7_GU2M";
    let query = [
        ("response_type", "code"),
        ("client_id", client.id.as_str()),
        ("redirect_uri", REDIRECT),
        ("scope", "read"),
        ("state", "xyz"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];

    let page = app
        .client
        .get(app.url("/oauth/authorize"))
        .query(&query)
        .send()
        .await
        .expect("sent");
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
    let html = page.text().await.expect("text");
    assert!(html.contains("Test client") && html.contains("name=\"password\""));

    // A wrong password shows the form again.
    let mut form: Vec<(&str, &str)> = query.to_vec();
    form.extend([("username", "carol"), ("password", "not the password")]);
    let again = app
        .client
        .post(app.url("/oauth/authorize"))
        .form(&form)
        .send()
        .await
        .expect("sent");
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);

    let mut form: Vec<(&str, &str)> = query.to_vec();
    form.extend([("username", "carol"), ("password", PASSWORD)]);
    let redirect = app
        .client
        .post(app.url("/oauth/authorize"))
        .form(&form)
        .send()
        .await
        .expect("sent");
    assert_eq!(redirect.status(), StatusCode::FOUND);
    let location =
        url::Url::parse(redirect.headers()[LOCATION].to_str().expect("ascii")).expect("URL");
    assert!(location.as_str().starts_with(REDIRECT));
    let params: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(params["state"], "xyz");
    let code = params["code"].clone();

    let exchange = |verifier: &'static str, code: String| {
        let client_id = client.id.clone();
        let app = &app;
        async move {
            token_request(
                app,
                &[
                    ("grant_type", "authorization_code"),
                    ("client_id", &client_id),
                    ("redirect_uri", REDIRECT),
                    ("code", &code),
                    ("code_verifier", verifier),
                ],
            )
            .await
        }
    };
    let wrong = exchange(
        "a-wrong-verifier-a-wrong-verifier-a-wrong-ver",
        code.clone(),
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    // The failed attempt spent the code: codes are single-use.
    let spent = exchange(verifier, code).await;
    assert_eq!(spent.status(), StatusCode::BAD_REQUEST);

    let redirect = app
        .client
        .post(app.url("/oauth/authorize"))
        .form(&form)
        .send()
        .await
        .expect("sent");
    let location =
        url::Url::parse(redirect.headers()[LOCATION].to_str().expect("ascii")).expect("URL");
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .expect("code")
        .1
        .into_owned();
    let response = exchange(verifier, code.clone()).await;
    let status = response.status();
    let token: Value = response.json().await.expect("json");
    assert_eq!(status, StatusCode::OK, "{token}");
    assert_eq!(token["scope"], "read");
    let me = get_with(&app, "/api/v1/accounts/verify_credentials", access(&token)).await;
    assert_eq!(me.status(), StatusCode::OK);
    let again = exchange(verifier, code).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST, "a code works once");

    // An unregistered redirect URI gets an error page, never a redirect.
    let mut evil = query.to_vec();
    evil[2] = ("redirect_uri", "https://evil.example/steal");
    let page = app
        .client
        .get(app.url("/oauth/authorize"))
        .query(&evil)
        .send()
        .await
        .expect("sent");
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);
    assert!(page.headers().get(LOCATION).is_none());
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    let app = spawn_app().await;
    app.create_user("dave", PASSWORD).await;
    let client = register_app(&app, "read").await;
    let first = password_token(&app, &client, "dave", "read").await;
    let refresh = |token: String| {
        let (id, secret) = (client.id.clone(), client.secret.clone());
        let app = &app;
        async move {
            token_request(
                app,
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", &id),
                    ("client_secret", &secret),
                    ("refresh_token", &token),
                ],
            )
            .await
        }
    };

    let response = refresh(first["refresh_token"].as_str().expect("refresh").to_owned()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let second: Value = response.json().await.expect("json");
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_ne!(second["access_token"], first["access_token"]);
    assert_eq!(second["scope"], "read");
    let me = get_with(&app, "/api/v1/accounts/verify_credentials", access(&second)).await;
    assert_eq!(me.status(), StatusCode::OK);

    // The first refresh token again: reuse. Everything of the family dies.
    let reuse = refresh(first["refresh_token"].as_str().expect("refresh").to_owned()).await;
    assert_eq!(reuse.status(), StatusCode::BAD_REQUEST);
    for token in [&first, &second] {
        let response = get_with(&app, "/api/v1/accounts/verify_credentials", access(token)).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let dead = refresh(
        second["refresh_token"]
            .as_str()
            .expect("refresh")
            .to_owned(),
    )
    .await;
    assert_eq!(dead.status(), StatusCode::BAD_REQUEST);

    // Using a token records that its session was used.
    let payload = access(&second).split('.').nth(1).expect("claims");
    let claims: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
            .expect("base64"),
    )
    .expect("json");
    let sid: i64 = claims["sid"]
        .as_str()
        .expect("sid")
        .parse()
        .expect("number");
    let session = perch_db::oauth::find_session(&app.db, sid)
        .await
        .expect("query");
    assert!(
        session.expect("session").last_used_at.is_some(),
        "last use recorded"
    );

    // Another sign-in is a separate family and still works.
    let other = password_token(&app, &client, "dave", "read").await;
    let me = get_with(&app, "/api/v1/accounts/verify_credentials", access(&other)).await;
    assert_eq!(me.status(), StatusCode::OK);
}

#[tokio::test]
async fn revocation_takes_effect_at_once() {
    let app = spawn_app().await;
    app.create_user("erin", PASSWORD).await;
    let client = register_app(&app, "read").await;

    for kind in ["access_token", "refresh_token"] {
        let token = password_token(&app, &client, "erin", "read").await;
        let me = get_with(&app, "/api/v1/accounts/verify_credentials", access(&token)).await;
        assert_eq!(me.status(), StatusCode::OK);
        let response = app
            .client
            .post(app.url("/oauth/revoke"))
            .form(&[
                ("client_id", client.id.as_str()),
                ("client_secret", client.secret.as_str()),
                ("token", token[kind].as_str().expect("token")),
            ])
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), StatusCode::OK);
        let me = get_with(&app, "/api/v1/accounts/verify_credentials", access(&token)).await;
        assert_eq!(
            me.status(),
            StatusCode::UNAUTHORIZED,
            "revoked by its {kind}"
        );
        let body: Value = me.json().await.expect("json");
        assert_eq!(body["error"], "The access token was revoked");
    }
}

#[tokio::test]
async fn missing_and_malformed_tokens_get_401_with_a_challenge() {
    let app = spawn_app().await;
    let response = app
        .get_response("/api/v1/accounts/verify_credentials")
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        response.headers()[WWW_AUTHENTICATE]
            .to_str()
            .expect("ascii")
            .starts_with("Bearer")
    );
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"], "This method requires an authenticated user");

    for header in ["Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer "] {
        let response = app
            .client
            .get(app.url("/api/v1/accounts/verify_credentials"))
            .header("authorization", header)
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{header}");
        assert!(response.headers().contains_key(WWW_AUTHENTICATE));
    }
}

#[tokio::test]
async fn authorization_server_metadata() {
    let app = spawn_app().await;
    let response = app
        .get_response("/.well-known/oauth-authorization-server")
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["issuer"], app.base_url);
    assert_eq!(
        body["token_endpoint"],
        format!("{}/oauth/token", app.base_url)
    );
    assert_eq!(
        body["authorization_endpoint"],
        format!("{}/oauth/authorize", app.base_url)
    );
    assert_eq!(
        body["revocation_endpoint"],
        format!("{}/oauth/revoke", app.base_url)
    );
    assert_eq!(body["code_challenge_methods_supported"], json!(["S256"]));
    let scopes = body["scopes_supported"].as_array().expect("scopes");
    for scope in [
        "read",
        "write",
        "follow",
        "push",
        "read:statuses",
        "admin:read",
    ] {
        assert!(scopes.contains(&json!(scope)), "{scope}");
    }
}

/// `/oauth/token` takes JSON and multipart as well as forms, and client
/// credentials by HTTP Basic as well as in the body.
#[tokio::test]
async fn the_token_endpoint_accepts_json_multipart_and_basic_auth() {
    let app = spawn_app().await;
    app.create_user("judy", PASSWORD).await;
    let client = register_app(&app, "read").await;

    let json = app
        .client
        .post(app.url("/oauth/token"))
        .json(&json!({
            "grant_type": "password",
            "client_id": client.id,
            "client_secret": client.secret,
            "username": "judy",
            "password": PASSWORD,
            "scope": "read",
        }))
        .send()
        .await
        .expect("sent");
    assert_eq!(json.status(), StatusCode::OK);

    let multipart = reqwest::multipart::Form::new()
        .text("grant_type", "password")
        .text("client_id", client.id.clone())
        .text("client_secret", client.secret.clone())
        .text("username", "judy@example.com")
        .text("password", PASSWORD);
    let response = app
        .client
        .post(app.url("/oauth/token"))
        .multipart(multipart)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), StatusCode::OK);
    let token: Value = response.json().await.expect("json");
    assert_eq!(token["scope"], "read");

    let basic = app
        .client
        .post(app.url("/oauth/token"))
        .basic_auth(&client.id, Some(&client.secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("sent");
    assert_eq!(basic.status(), StatusCode::OK);

    let unsupported = token_request(
        &app,
        &[
            ("grant_type", "implicit"),
            ("client_id", &client.id),
            ("client_secret", &client.secret),
        ],
    )
    .await;
    assert_eq!(unsupported.status(), StatusCode::BAD_REQUEST);
    let body: Value = unsupported.json().await.expect("json");
    assert_eq!(body["error"], "unsupported_grant_type");
}
