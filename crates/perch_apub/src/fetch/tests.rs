//! The fetcher against real HTTP servers on 127.0.0.1.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap as AxumHeaders, StatusCode, header as axum_header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;

use super::*;

const AP_ACCEPT: &str = r#"application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams""#;
const SIGNATURE_HEADER: &str = "x-test-signature";

/// What the test server saw.
#[derive(Default)]
struct Seen {
    requests: AtomicUsize,
    /// (path, value of the test signature header) of each signed request.
    signatures: Mutex<Vec<(String, String)>>,
    /// Bodies posted to `/inbox`.
    inbox: Mutex<Vec<Vec<u8>>>,
}

struct TestServer {
    port: u16,
    seen: Arc<Seen>,
}

impl TestServer {
    async fn start() -> Self {
        let seen = Arc::new(Seen::default());
        let app = Router::new()
            .route("/json", get(json))
            .route("/ld", get(ld_json))
            .route("/html", get(html))
            .route("/untyped", get(untyped))
            .route("/invalid", get(invalid_json))
            .route("/status/{code}", get(status).post(status))
            .route("/sized/{bytes}", get(sized))
            .route("/stream/{bytes}", get(streamed))
            .route("/redirect/{hops}", get(redirect_chain))
            .route("/to", get(redirect_to).post(redirect_to))
            .route("/slow", get(never).post(never))
            .route("/inbox", post(inbox))
            .route("/inbox-chatty", post(chatty_inbox))
            .layer(middleware::from_fn_with_state(seen.clone(), record))
            .with_state(seen.clone());
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("bind");
        let port = listener.local_addr().expect("address").port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { port, seen }
    }

    fn url(&self, host: &str, path: &str) -> Url {
        Url::parse(&format!("http://{host}:{}{path}", self.port)).expect("url")
    }

    /// A URL on `host` that redirects (with `status`) to `target`.
    fn redirect_url(&self, host: &str, status: u16, target: &str) -> Url {
        let mut url = self.url(host, "/to");
        url.query_pairs_mut()
            .append_pair("status", &status.to_string())
            .append_pair("to", target);
        url
    }

    fn requests(&self) -> usize {
        self.seen.requests.load(Ordering::SeqCst)
    }

    fn signatures(&self) -> Vec<(String, String)> {
        self.seen.signatures.lock().expect("lock").clone()
    }
}

async fn record(State(seen): State<Arc<Seen>>, request: Request, next: Next) -> Response {
    seen.requests.fetch_add(1, Ordering::SeqCst);
    if let Some(value) = request.headers().get(SIGNATURE_HEADER) {
        let value = value.to_str().unwrap_or_default().to_owned();
        let path = request.uri().path().to_owned();
        seen.signatures.lock().expect("lock").push((path, value));
    }
    next.run(request).await
}

fn typed(content_type: &'static str, body: impl Into<Body>) -> Response {
    ([(axum_header::CONTENT_TYPE, content_type)], body.into()).into_response()
}

async fn json() -> Response {
    typed(
        "application/activity+json",
        r#"{"id":"https://remote.test/1"}"#,
    )
}

async fn ld_json() -> Response {
    typed(
        r#"application/ld+json; profile="https://www.w3.org/ns/activitystreams""#,
        r#"{"id":"https://remote.test/2"}"#,
    )
}

async fn html() -> Response {
    typed("text/html; charset=utf-8", "<p>not an actor</p>")
}

async fn untyped() -> Response {
    Response::new(Body::from(r#"{"id":"https://remote.test/3"}"#))
}

async fn invalid_json() -> Response {
    typed("application/activity+json", "{not json")
}

async fn status(Path(code): Path<u16>) -> Response {
    let status = StatusCode::from_u16(code).expect("status");
    (status, typed("application/activity+json", "{}")).into_response()
}

/// A JSON string of exactly `bytes` bytes.
fn json_string(bytes: usize) -> Vec<u8> {
    let mut body = vec![b'a'; bytes.max(2)];
    body[0] = b'"';
    body[bytes.max(2) - 1] = b'"';
    body
}

/// A body of known length: sent with `Content-Length`.
async fn sized(Path(bytes): Path<usize>) -> Response {
    typed("application/json", json_string(bytes))
}

/// A body of unknown length: sent chunked, without `Content-Length`.
async fn streamed(Path(bytes): Path<usize>) -> Response {
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = json_string(bytes)
        .chunks(100)
        .map(|chunk| Ok(chunk.to_vec()))
        .collect();
    typed(
        "application/json",
        Body::from_stream(futures_util::stream::iter(chunks)),
    )
}

async fn redirect_chain(Path(hops): Path<usize>) -> Response {
    if hops == 0 {
        return json().await;
    }
    let location = format!("/redirect/{}", hops - 1);
    (StatusCode::FOUND, [(axum_header::LOCATION, location)]).into_response()
}

async fn redirect_to(Query(query): Query<HashMap<String, String>>) -> Response {
    let status = query
        .get("status")
        .and_then(|s| s.parse().ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::FOUND);
    match query.get("to") {
        Some(location) => (status, [(axum_header::LOCATION, location.clone())]).into_response(),
        None => status.into_response(),
    }
}

async fn never() -> Response {
    std::future::pending::<Response>().await
}

async fn inbox(State(seen): State<Arc<Seen>>, headers: AxumHeaders, body: Bytes) -> StatusCode {
    assert_eq!(
        headers
            .get(axum_header::CONTENT_TYPE)
            .expect("content type"),
        "application/activity+json"
    );
    seen.inbox.lock().expect("lock").push(body.to_vec());
    StatusCode::ACCEPTED
}

async fn chatty_inbox() -> Response {
    typed("text/plain", vec![b'x'; 4 * 1024 * 1024])
}

/// One call of the signer: method, URL, body.
type SignCall = (Method, String, Option<Vec<u8>>);

/// Signs by writing the URL it was given into a header, and remembers each
/// call.
#[derive(Default)]
struct RecordingSigner {
    calls: Mutex<Vec<SignCall>>,
}

impl RecordingSigner {
    fn calls(&self) -> Vec<SignCall> {
        self.calls.lock().expect("lock").clone()
    }
}

impl RequestSigner for RecordingSigner {
    fn sign(
        &self,
        method: &Method,
        url: &Url,
        headers: &mut HeaderMap,
        body: Option<&[u8]>,
    ) -> Result<(), String> {
        assert!(headers.get(SIGNATURE_HEADER).is_none(), "stale signature");
        let value = HeaderValue::from_str(url.as_str()).map_err(|e| e.to_string())?;
        headers.insert(SIGNATURE_HEADER, value);
        self.calls.lock().expect("lock").push((
            method.clone(),
            url.to_string(),
            body.map(<[u8]>::to_vec),
        ));
        Ok(())
    }
}

struct FailingSigner;

impl RequestSigner for FailingSigner {
    fn sign(&self, _: &Method, _: &Url, _: &mut HeaderMap, _: Option<&[u8]>) -> Result<(), String> {
        Err("no key".to_owned())
    }
}

fn policy(allow_private_addresses: bool) -> FetchPolicy {
    FetchPolicy {
        allow_private_addresses,
        max_body_bytes: 1024,
        ..FetchPolicy::for_domain("perch.test")
    }
}

/// Private addresses refused, plain http allowed: as in production.
fn strict() -> Fetcher {
    Fetcher::new(policy(false)).expect("fetcher")
}

/// As `PERCH_ALLOW_PRIVATE_ADDRESSES` does.
fn relaxed() -> Fetcher {
    Fetcher::new(policy(true)).expect("fetcher")
}

/// Private addresses refused, plain http allowed, and `public.test` plays a
/// public server on 127.0.0.1; `private.test` resolves to 127.0.0.1 and is
/// judged by that address, as a name from DNS would be.
fn public_net() -> Fetcher {
    let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
    Fetcher::with_static_hosts(
        policy(false),
        &[
            ("public.test", loopback, true),
            ("private.test", loopback, false),
        ],
    )
    .expect("fetcher")
}

async fn fetch_json(fetcher: &Fetcher, url: &Url) -> Result<Value, FetchError> {
    fetcher.get_json(url, AP_ACCEPT, None).await
}

async fn post_to(fetcher: &Fetcher, url: &Url) -> Result<u16, FetchError> {
    fetcher
        .post(url, "application/activity+json", b"{}".to_vec(), None)
        .await
}

#[tokio::test]
async fn private_targets_are_refused_before_connecting() {
    let server = TestServer::start().await;
    for host in ["127.0.0.1", "localhost", "[::1]"] {
        let url = server.url(host, "/json");
        assert!(fetch_json(&strict(), &url).await.is_err(), "{url}");
        assert!(post_to(&strict(), &url).await.is_err(), "{url}");
    }
    for host in [
        "127.0.0.1",
        "localhost",
        "LocalHost.",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "0.0.0.0",
        "private.test",
    ] {
        let url = server.url(host, "/json");
        let error = fetch_json(&public_net(), &url).await.expect_err("refused");
        assert!(
            matches!(error, FetchError::ForbiddenAddress(_)),
            "{url}: {error}"
        );
        assert!(error.to_string().contains("private address"), "{error}");
        let error = post_to(&public_net(), &url).await.expect_err("refused");
        assert!(
            matches!(error, FetchError::ForbiddenAddress(_)),
            "{url}: {error}"
        );
    }
    assert_eq!(server.requests(), 0);
}

#[tokio::test]
async fn private_targets_are_reached_when_allowed() {
    let server = TestServer::start().await;
    for host in ["127.0.0.1", "localhost"] {
        let document = fetch_json(&relaxed(), &server.url(host, "/json"))
            .await
            .expect("fetched");
        assert_eq!(document["id"], "https://remote.test/1");
    }
    let document = fetch_json(&public_net(), &server.url("public.test", "/json"))
        .await
        .expect("fetched");
    assert_eq!(document["id"], "https://remote.test/1");
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn without_the_setting_only_https_is_fetched() {
    let server = TestServer::start().await;
    let error = fetch_json(
        &strict(),
        &Url::parse("http://remote.test/actor").expect("url"),
    )
    .await
    .expect_err("refused");
    assert!(matches!(error, FetchError::Scheme(_)), "{error}");
    let error = fetch_json(&strict(), &server.url("127.0.0.1", "/json"))
        .await
        .expect_err("refused");
    assert!(matches!(error, FetchError::ForbiddenAddress(_)), "{error}");
    assert_eq!(server.requests(), 0);
}

#[tokio::test]
async fn urls_with_credentials_or_other_schemes_are_refused() {
    let server = TestServer::start().await;
    let with_password = Url::parse(&format!(
        "http://user:secret@127.0.0.1:{}/json",
        server.port
    ))
    .expect("url");
    let error = fetch_json(&relaxed(), &with_password)
        .await
        .expect_err("refused");
    assert!(matches!(error, FetchError::Scheme(_)), "{error}");
    assert!(!error.to_string().contains("secret"), "{error}");
    for url in [
        "ftp://127.0.0.1/x",
        "file:///etc/passwd",
        "data:text/plain,hi",
    ] {
        let error = fetch_json(&relaxed(), &Url::parse(url).expect("url"))
            .await
            .expect_err("refused");
        assert!(matches!(error, FetchError::Scheme(_)), "{url}: {error}");
    }
    assert_eq!(server.requests(), 0);
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused() {
    let server = TestServer::start().await;
    let fetcher = relaxed();
    // The streamed answers really come without a length.
    let raw = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
        .get(server.url("127.0.0.1", "/stream/4096"))
        .send()
        .await
        .expect("response");
    assert_eq!(raw.content_length(), None);
    assert!(raw.headers().get(axum_header::CONTENT_LENGTH).is_none());

    for path in ["/sized/1024", "/stream/1024"] {
        let value = fetch_json(&fetcher, &server.url("127.0.0.1", path))
            .await
            .expect("at the limit");
        assert_eq!(value.as_str().map(str::len), Some(1022), "{path}");
    }
    for path in [
        "/sized/1025",
        "/sized/100000",
        "/stream/1025",
        "/stream/100000",
    ] {
        let error = fetch_json(&fetcher, &server.url("127.0.0.1", path))
            .await
            .expect_err("too large");
        assert!(
            matches!(error, FetchError::TooLarge(1024)),
            "{path}: {error}"
        );
    }
}

#[tokio::test]
async fn redirects_are_limited() {
    let server = TestServer::start().await;
    let fetcher = relaxed();
    fetch_json(&fetcher, &server.url("127.0.0.1", "/redirect/3"))
        .await
        .expect("three redirects are followed");
    assert_eq!(server.requests(), 4);
    let error = fetch_json(&fetcher, &server.url("127.0.0.1", "/redirect/4"))
        .await
        .expect_err("four are too many");
    assert!(matches!(error, FetchError::TooManyRedirects(3)), "{error}");
    // The fourth redirect is not followed.
    assert_eq!(server.requests(), 8);
}

#[tokio::test]
async fn redirects_to_other_schemes_are_refused() {
    let server = TestServer::start().await;
    for target in [
        "file:///etc/passwd",
        "ftp://127.0.0.1/actor",
        "gopher://127.0.0.1/",
    ] {
        let url = server.redirect_url("127.0.0.1", 302, target);
        let error = fetch_json(&relaxed(), &url).await.expect_err("refused");
        assert!(matches!(error, FetchError::Scheme(_)), "{target}: {error}");
    }
    assert_eq!(server.requests(), 3);
}

#[tokio::test]
async fn redirects_to_private_addresses_are_refused() {
    let server = TestServer::start().await;
    let fetcher = public_net();
    let port = server.port;
    let targets = [
        format!("http://127.0.0.1:{port}/json"),
        format!("http://[::1]:{port}/json"),
        format!("http://localhost:{port}/json"),
        format!("http://private.test:{port}/json"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
    ];
    for target in &targets {
        for status in [301, 302, 303, 307, 308] {
            let url = server.redirect_url("public.test", status, target);
            let error = fetch_json(&fetcher, &url).await.expect_err("refused");
            assert!(
                matches!(error, FetchError::ForbiddenAddress(_)),
                "{status} to {target}: {error}"
            );
        }
    }
    // Only the redirecting requests arrived.
    assert_eq!(server.requests(), targets.len() * 5);

    let to_public = format!("http://public.test:{port}/json");
    let url = server.redirect_url("public.test", 302, &to_public);
    fetch_json(&fetcher, &url)
        .await
        .expect("a public target is fine");
}

#[tokio::test]
async fn statuses_are_mapped() {
    let server = TestServer::start().await;
    let fetcher = relaxed();
    let fetch = |code: u16| {
        let url = server.url("127.0.0.1", &format!("/status/{code}"));
        let fetcher = fetcher.clone();
        async move { fetch_json(&fetcher, &url).await }
    };
    assert!(matches!(fetch(404).await, Err(FetchError::NotFound)));
    assert!(matches!(fetch(410).await, Err(FetchError::Gone)));
    assert!(fetch(203).await.is_ok());
    for code in [300, 304, 400, 401, 403, 429, 500, 503] {
        let result = fetch(code).await;
        assert!(
            matches!(result, Err(FetchError::Status(c)) if c == code),
            "{code}: {result:?}"
        );
    }
    // A redirect without a Location is reported as its status.
    let result = fetch_json(&fetcher, &server.url("127.0.0.1", "/to?status=302")).await;
    assert!(matches!(result, Err(FetchError::Status(302))), "{result:?}");
}

#[tokio::test]
async fn only_json_is_accepted() {
    let server = TestServer::start().await;
    let fetcher = relaxed();
    let document = fetch_json(&fetcher, &server.url("127.0.0.1", "/ld"))
        .await
        .expect("JSON-LD with a profile");
    assert_eq!(document["id"], "https://remote.test/2");
    for path in ["/html", "/untyped"] {
        let error = fetch_json(&fetcher, &server.url("127.0.0.1", path))
            .await
            .expect_err("not JSON");
        assert!(
            matches!(error, FetchError::ContentType(_)),
            "{path}: {error}"
        );
    }
    let error = fetch_json(&fetcher, &server.url("127.0.0.1", "/invalid"))
        .await
        .expect_err("invalid");
    assert!(matches!(error, FetchError::Decode(_)), "{error}");
}

#[tokio::test]
async fn each_get_hop_is_signed_for_its_own_url() {
    let server = TestServer::start().await;
    let signer = RecordingSigner::default();
    let start = server.url("127.0.0.1", "/redirect/2");
    relaxed()
        .get_json::<Value>(&start, AP_ACCEPT, Some(&signer))
        .await
        .expect("fetched");
    let expected: Vec<String> = ["/redirect/2", "/redirect/1", "/redirect/0"]
        .iter()
        .map(|path| server.url("127.0.0.1", path).to_string())
        .collect();
    let calls = signer.calls();
    assert_eq!(
        calls
            .iter()
            .map(|(_, url, _)| url.clone())
            .collect::<Vec<_>>(),
        expected
    );
    assert!(
        calls
            .iter()
            .all(|(m, _, body)| *m == Method::GET && body.is_none())
    );
    // Each hop carried the signature made for it.
    for (path, signed_url) in server.signatures() {
        assert_eq!(Url::parse(&signed_url).expect("url").path(), path);
    }
    assert_eq!(server.signatures().len(), 3);
}

#[tokio::test]
async fn deliveries_follow_only_method_preserving_redirects() {
    let server = TestServer::start().await;
    let fetcher = relaxed();
    let inbox = server.url("127.0.0.1", "/inbox");
    let body = br#"{"type":"Follow"}"#.to_vec();

    let signer = RecordingSigner::default();
    let moved = server.redirect_url("127.0.0.1", 308, inbox.as_str());
    let status = fetcher
        .post(
            &moved,
            "application/activity+json",
            body.clone(),
            Some(&signer),
        )
        .await
        .expect("delivered");
    assert_eq!(status, 202);
    let calls = signer.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].1, moved.to_string());
    assert_eq!(calls[1].1, inbox.to_string());
    assert!(
        calls
            .iter()
            .all(|(m, _, b)| *m == Method::POST && b.as_deref() == Some(&body[..]))
    );
    assert_eq!(*server.seen.inbox.lock().expect("lock"), vec![body.clone()]);

    // A 302 would turn the POST into a GET: reported, not followed.
    let found = server.redirect_url("127.0.0.1", 302, inbox.as_str());
    let status = fetcher
        .post(&found, "application/activity+json", body.clone(), None)
        .await
        .expect("answered");
    assert_eq!(status, 302);
    assert_eq!(server.seen.inbox.lock().expect("lock").len(), 1);
}

#[tokio::test]
async fn delivery_statuses_and_large_answers() {
    let server = TestServer::start().await;
    let fetcher = relaxed();
    for (path, expected) in [
        ("/inbox-chatty", 200),
        ("/status/410", 410),
        ("/status/500", 500),
    ] {
        let url = server.url("127.0.0.1", path);
        assert_eq!(
            post_to(&fetcher, &url).await.expect("status"),
            expected,
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_failing_signer_stops_the_request() {
    let server = TestServer::start().await;
    let error = relaxed()
        .get_json::<Value>(
            &server.url("127.0.0.1", "/json"),
            AP_ACCEPT,
            Some(&FailingSigner),
        )
        .await
        .expect_err("not signed");
    assert!(matches!(error, FetchError::Sign(_)), "{error}");
    assert_eq!(server.requests(), 0);
}

#[tokio::test]
async fn the_deadline_covers_the_whole_exchange() {
    let server = TestServer::start().await;
    let fetcher = Fetcher::new(FetchPolicy {
        request_timeout: Duration::from_millis(200),
        ..policy(true)
    })
    .expect("fetcher");
    let error = fetch_json(&fetcher, &server.url("127.0.0.1", "/slow"))
        .await
        .expect_err("timed out");
    assert!(matches!(error, FetchError::Timeout), "{error}");
    let error = post_to(&fetcher, &server.url("127.0.0.1", "/slow"))
        .await
        .expect_err("timed out");
    assert!(matches!(error, FetchError::Timeout), "{error}");
}

#[test]
fn policy_defaults() {
    let policy = FetchPolicy::for_domain("perch.example");
    assert!(!policy.allow_private_addresses);
    assert_eq!(policy.connect_timeout, Duration::from_secs(5));
    assert_eq!(policy.request_timeout, Duration::from_secs(15));
    assert_eq!(policy.max_body_bytes, 1024 * 1024);
    assert_eq!(policy.max_redirects, 3);
    assert_eq!(
        policy.user_agent,
        format!(
            "Perch/{} (+https://perch.example/)",
            env!("CARGO_PKG_VERSION")
        )
    );
}
