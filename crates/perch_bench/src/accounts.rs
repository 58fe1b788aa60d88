//! Many local accounts at once, each with an access token, made the way an
//! app makes them: one application and its client-credentials token, then
//! `POST /api/v1/accounts` for each account, whose answer is the new
//! account's access token, and `verify_credentials` for its id.
//!
//! The server must allow it: [`SIGN_UP_SETTINGS`] opens registrations and
//! lifts the per-address sign-up limit (every request comes from
//! 127.0.0.1). Each sign-up hashes a password (argon2id) and makes an
//! RSA-2048 key pair on the server, which bounds how fast this goes.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::server::PASSWORD;

/// Settings for a server that [`sign_up_many`] is used on.
pub const SIGN_UP_SETTINGS: [(&str, &str); 2] = [
    ("PERCH_REGISTRATIONS", "open"),
    ("PERCH_SIGN_UPS_PER_IP", "1000000"),
];

/// A local account and an access token of it (scopes `read write follow`).
#[derive(Clone, Debug)]
pub struct Account {
    pub id: String,
    pub token: String,
}

/// Signs up `count` accounts named `{prefix}{n}`, `concurrency` at a time;
/// the n-th at index n.
pub async fn sign_up_many(
    client: &reqwest::Client,
    base: &str,
    prefix: &str,
    count: usize,
    concurrency: usize,
    deadline: Instant,
) -> anyhow::Result<Vec<Account>> {
    let app_token = app_token(client, base).await?;
    let mut accounts: Vec<Option<Account>> = vec![None; count];
    let attempts = futures_util::stream::iter(0..count)
        .map(|n| {
            let (app_token, username) = (&app_token, format!("{prefix}{n}"));
            async move { (n, sign_up(client, base, app_token, &username).await) }
        })
        .buffer_unordered(concurrency.max(1));
    futures_util::pin_mut!(attempts);
    while let Some((n, outcome)) = attempts.next().await {
        accounts[n] = Some(outcome.with_context(|| format!("signing up {prefix}{n}"))?);
        if Instant::now() > deadline {
            bail!("the time limit came before {count} accounts were signed up");
        }
    }
    accounts
        .into_iter()
        .map(|a| a.context("an account is missing"))
        .collect()
}

/// An application's token without a user, which may sign users up.
async fn app_token(client: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    let app: Value = client
        .post(format!("{base}/api/v1/apps"))
        .json(&json!({
            "client_name": "perch-bench",
            "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
            "scopes": "read write follow",
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token: Value = client
        .post(format!("{base}/oauth/token"))
        .json(&json!({
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "scope": "read write follow",
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    token["access_token"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no application token: {token}"))
}

async fn sign_up(
    client: &reqwest::Client,
    base: &str,
    app_token: &str,
    username: &str,
) -> anyhow::Result<Account> {
    let answer = client
        .post(format!("{base}/api/v1/accounts"))
        .bearer_auth(app_token)
        .timeout(Duration::from_secs(60))
        .json(&json!({
            "username": username,
            "email": format!("{username}@bench.example"),
            "password": PASSWORD,
            "agreement": true,
        }))
        .send()
        .await?;
    let status = answer.status();
    let body: Value = answer.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("sign-up answered {status}: {body}");
    }
    let token = body["access_token"]
        .as_str()
        .with_context(|| format!("no access token in {body}"))?
        .to_owned();
    let me: Value = client
        .get(format!("{base}/api/v1/accounts/verify_credentials"))
        .bearer_auth(&token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = me["id"]
        .as_str()
        .with_context(|| format!("no id in {me}"))?
        .to_owned();
    Ok(Account { id, token })
}
