//! Access tokens that must be refused: forged, tampered, expired, `alg:
//! none`, wrong issuer or audience. Tokens are signed with the server's own
//! key where that makes the test stronger: only the one claim under test is
//! wrong.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use perch_db::jwt_keys;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::oauth::{get_with, password_token, register_app};
use crate::support::{TestApp, spawn_app};

const PASSWORD: &str = "correct horse battery staple";

fn split(token: &str) -> (Value, Value, String) {
    let parts: Vec<&str> = token.split('.').collect();
    let decode = |s: &str| -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s).expect("base64url")).expect("json")
    };
    (decode(parts[0]), decode(parts[1]), parts[2].to_owned())
}

fn join(header: &Value, claims: &Value, signature: &str) -> String {
    let encode = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).expect("json"));
    format!("{}.{}.{signature}", encode(header), encode(claims))
}

/// Sign `claims` with the server's current key, as the server would.
async fn sign_as_server(app: &TestApp, header_kid: &str, claims: &Value) -> String {
    let keys = jwt_keys::all(&app.db).await.expect("keys");
    let key = keys
        .iter()
        .find(|k| k.kid == header_kid)
        .expect("server key");
    let private = STANDARD.decode(&key.private_key).expect("base64");
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(&private)).expect("sign")
}

async fn assert_refused(app: &TestApp, token: &str, what: &str) -> Value {
    let response = get_with(app, "/api/v1/accounts/verify_credentials", token).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{what}");
    response.json().await.expect("json")
}

#[tokio::test]
async fn forged_and_tampered_tokens_are_refused() {
    let app = spawn_app().await;
    let victim = app.create_user("victim", PASSWORD).await;
    let other = app.create_user("other", PASSWORD).await;
    let client = register_app(&app, "read write").await;
    let token = password_token(&app, &client, "other", "read").await;
    let token = token["access_token"].as_str().expect("token").to_owned();
    let (header, claims, signature) = split(&token);
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(claims["sub"], other.to_string());
    for claim in ["iss", "aud", "sub", "exp", "iat", "jti", "scope", "sid"] {
        assert!(claims.get(claim).is_some(), "claim {claim}");
    }
    let kid = header["kid"].as_str().expect("kid").to_owned();

    // The genuine token works.
    let response = get_with(&app, "/api/v1/accounts/verify_credentials", &token).await;
    assert_eq!(response.status(), StatusCode::OK);

    // Payload changed, signature kept.
    let mut tampered = claims.clone();
    tampered["sub"] = json!(victim.to_string());
    assert_refused(&app, &join(&header, &tampered, &signature), "tampered sub").await;
    let mut widened = claims.clone();
    widened["scope"] = json!("read write");
    assert_refused(&app, &join(&header, &widened, &signature), "tampered scope").await;

    // alg: none, with and without a signature.
    let none = json!({"alg": "none", "typ": "JWT", "kid": kid});
    assert_refused(&app, &join(&none, &claims, ""), "alg none").await;
    assert_refused(
        &app,
        &join(&none, &claims, &signature),
        "alg none, old signature",
    )
    .await;

    // Algorithm switch: HS256 keyed with the public key.
    let keys = jwt_keys::all(&app.db).await.expect("keys");
    let public = STANDARD.decode(&keys[0].public_key).expect("base64");
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some(kid.clone());
    let switched =
        jsonwebtoken::encode(&hs, &claims, &EncodingKey::from_secret(&public)).expect("sign");
    assert_refused(&app, &switched, "HS256 with the public key").await;

    // Signed by the server's own key, but one claim wrong.
    let now = claims["iat"].as_i64().expect("iat");
    let mut expired = claims.clone();
    expired["exp"] = json!(now - 3600);
    expired["iat"] = json!(now - 7200);
    let body = assert_refused(&app, &sign_as_server(&app, &kid, &expired).await, "expired").await;
    assert_eq!(body["error"], "The access token expired");
    let mut wrong_audience = claims.clone();
    wrong_audience["aud"] = json!("https://elsewhere.example/api");
    assert_refused(
        &app,
        &sign_as_server(&app, &kid, &wrong_audience).await,
        "wrong aud",
    )
    .await;
    let mut wrong_issuer = claims.clone();
    wrong_issuer["iss"] = json!("https://elsewhere.example");
    assert_refused(
        &app,
        &sign_as_server(&app, &kid, &wrong_issuer).await,
        "wrong iss",
    )
    .await;
    // A well-signed token for a session that does not belong to its subject.
    let mut stolen_session = claims.clone();
    stolen_session["sub"] = json!(victim.to_string());
    assert_refused(
        &app,
        &sign_as_server(&app, &kid, &stolen_session).await,
        "sid/sub mismatch",
    )
    .await;

    // Unknown key id.
    let mut unknown = header.clone();
    unknown["kid"] = json!("no-such-key");
    assert_refused(&app, &join(&unknown, &claims, &signature), "unknown kid").await;

    // Within the leeway, an expiry just passed is still accepted.
    let mut fresh = claims.clone();
    fresh["exp"] = json!(now - 5);
    let response = get_with(
        &app,
        "/api/v1/accounts/verify_credentials",
        &sign_as_server(&app, &kid, &fresh).await,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK, "clock-skew leeway");
}
