//! Followers made honestly: every remote actor sends a signed `Follow` of
//! the local user `target` to its inbox, as another server would. The
//! server fetches each actor (and its key) from the fake servers, applies
//! the Follow, and answers each with an `Accept` delivery.
//!
//! The requests are signed before any is sent, on every core, so that the
//! generator does not take CPU from the server while it works; the
//! signatures' `Date` is then a few seconds old, well inside any window.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, anyhow};
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method};
use perch_apub::signatures::{SigningKey, sign_request};
use serde_json::json;
use url::Url;

use crate::peers::RemoteActor;
use crate::server::TARGET_USER;

const ACTIVITY_JSON: &str = "application/activity+json";
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// What sending the Follows saw.
#[derive(Debug, Default)]
pub struct Sent {
    pub sent: usize,
    pub accepted: usize,
    /// Answers other than 202, by status.
    pub others: BTreeMap<u16, usize>,
    pub transport_errors: usize,
    pub samples: Vec<String>,
    pub elapsed: Duration,
}

struct Signed {
    headers: HeaderMap,
    body: Vec<u8>,
}

/// Sends one signed Follow of `target` from each of `actors` to the
/// server's inbox for `target`, `concurrency` at a time. `private_pems`
/// are the key pairs the actors' `key` fields index.
pub async fn follow_target(
    server_base: &str,
    actors: &[RemoteActor],
    private_pems: &[String],
    concurrency: usize,
    deadline: Instant,
) -> anyhow::Result<Sent> {
    let server = Url::parse(server_base)?;
    let inbox = server.join(&format!("/users/{TARGET_USER}/inbox"))?;
    let target = server.join(&format!("/users/{TARGET_USER}"))?.to_string();
    let signed = Arc::new(presign(&inbox, &target, actors, private_pems).await?);

    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (client, inbox, signed, next) =
            (client.clone(), inbox.clone(), signed.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut part = Sent::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(request) = signed.get(i) else { break };
                if Instant::now() >= deadline {
                    break;
                }
                part.sent += 1;
                let answer = client
                    .post(inbox.clone())
                    .headers(request.headers.clone())
                    .body(request.body.clone())
                    .send()
                    .await;
                match answer {
                    Ok(answer) if answer.status().as_u16() == 202 => part.accepted += 1,
                    Ok(answer) => {
                        let status = answer.status().as_u16();
                        let text = answer.text().await.unwrap_or_default();
                        *part.others.entry(status).or_default() += 1;
                        if part.samples.len() < 3 {
                            let text: String = text.chars().take(200).collect();
                            part.samples.push(format!("{status}: {text}"));
                        }
                    }
                    Err(error) => {
                        part.transport_errors += 1;
                        if part.samples.len() < 3 {
                            part.samples.push(format!("transport: {error}"));
                        }
                    }
                }
            }
            part
        }));
    }
    let mut total = Sent::default();
    for task in tasks {
        let part = task.await.context("follow sending task")?;
        total.sent += part.sent;
        total.accepted += part.accepted;
        for (status, n) in part.others {
            *total.others.entry(status).or_default() += n;
        }
        total.transport_errors += part.transport_errors;
        total.samples.extend(
            part.samples
                .into_iter()
                .take(5 - total.samples.len().min(5)),
        );
    }
    total.elapsed = started.elapsed();
    Ok(total)
}

/// Every actor's Follow, signed with its own key id, on all cores.
async fn presign(
    inbox: &Url,
    target: &str,
    actors: &[RemoteActor],
    private_pems: &[String],
) -> anyhow::Result<Vec<Signed>> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunk = actors.len().div_ceil(threads).max(1);
    let run = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    let pems = Arc::new(private_pems.to_vec());
    let mut tasks = Vec::new();
    for part in actors.chunks(chunk) {
        let (part, pems, inbox, target) = (
            part.to_vec(),
            pems.clone(),
            inbox.clone(),
            target.to_owned(),
        );
        tasks.push(tokio::task::spawn_blocking(move || {
            part.iter()
                .map(|actor| sign_follow(actor, &pems, &inbox, &target, run))
                .collect::<anyhow::Result<Vec<_>>>()
        }));
    }
    let mut all = Vec::with_capacity(actors.len());
    for task in tasks {
        all.extend(task.await.context("signing task")??);
    }
    Ok(all)
}

fn sign_follow(
    actor: &RemoteActor,
    pems: &[String],
    inbox: &Url,
    target: &str,
    run: u128,
) -> anyhow::Result<Signed> {
    let pem = pems
        .get(actor.key)
        .with_context(|| format!("no key pair {}", actor.key))?;
    let key = SigningKey::from_pem(actor.key_id.clone(), pem).map_err(|e| anyhow!("key: {e}"))?;
    let body = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/follows/{run:x}", actor.uri),
        "type": "Follow",
        "actor": actor.uri,
        "object": target,
    })
    .to_string()
    .into_bytes();
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(ACTIVITY_JSON));
    headers.insert(ACCEPT, HeaderValue::from_static(ACTIVITY_JSON));
    sign_request(
        &key,
        &Method::POST,
        inbox,
        &mut headers,
        Some(&body),
        SystemTime::now(),
    )
    .map_err(|e| anyhow!("signing: {e}"))?;
    Ok(Signed { headers, body })
}

/// `count` RSA-2048 key pairs as (public PEMs, private PEMs), generated on
/// all cores.
pub async fn generate_keys(count: usize) -> anyhow::Result<(Vec<String>, Vec<String>)> {
    let tasks: Vec<_> = (0..count)
        .map(|_| tokio::task::spawn_blocking(perch_core::keys::generate_actor_keys))
        .collect();
    let mut public = Vec::with_capacity(count);
    let mut private = Vec::with_capacity(count);
    for task in tasks {
        let (public_pem, private_pem) = task.await.context("key generation task")??;
        public.push(public_pem);
        private.push(private_pem);
    }
    Ok((public, private))
}
