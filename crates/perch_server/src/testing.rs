//! Complete Perch servers for tests, shared by perch_server's integration
//! tests and the federation tests; compiled only with the `testing` feature.
//!
//! A [`TestServer`] serves on 127.0.0.1 port 0 with its own throwaway
//! database (SQLite, or PostgreSQL when `PERCH_TEST_POSTGRES_URL` names a
//! server: see `perch_db::testing`) and its own data directory, with
//! `Config::for_development`'s settings (private addresses allowed, open
//! registrations, generous rate limits). It can be stopped and started again
//! on the same address and database, as a restarted server would be.
//!
//! By default its delivery and inbound workers are off: tests run the queues
//! with [`drain`], so what crossed the wire, and what was applied, is known
//! when an assertion runs. [`TestServer::start_with`] changes the
//! configuration (turning the workers on, for instance) before it starts.
//!
//! Accounts are made directly, as `perch user create` does, and access
//! tokens come from the real OAuth endpoints.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use perch_apub::ApubState;
use perch_core::account::{Email, Password, Username};
use perch_core::id::IdGenerator;
pub use perch_core::role::Role;
use perch_db::Db;
use perch_db::live::Bus;
use perch_db::testing::TestDatabase;
use perch_domain::accounts::{NewAccount, create_local_account};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::Application;
use crate::config::Config;

/// The password [`TestServer::token`] signs in with.
pub const PASSWORD: &str = "correct horse battery staple";

/// How long [`TestServer::stop`] and [`TestServer::shutdown`] wait.
const STOP_DEADLINE: Duration = Duration::from_secs(30);

/// How many rounds [`drain`] runs before it gives up.
const DRAIN_ROUNDS: usize = 20;

/// A running server with its own database and data directory.
pub struct TestServer {
    /// 127.0.0.1 and the port the server was given.
    pub address: SocketAddr,
    /// `http://` and the address.
    pub base_url: String,
    /// host:port, the federation domain.
    pub domain: String,
    pub db: Db,
    /// The database's URL, for running the `perch` binary against it.
    pub database_url: String,
    pub ids: Arc<IdGenerator>,
    /// The live-event bus (tests publish through it and listen to it).
    pub bus: Bus,
    /// The federation side's state ([`drain`] runs its queues).
    pub apub: ApubState,
    /// The client API's state ([`drain`] runs its push queue).
    pub api: perch_api::ApiState,
    /// The limit on concurrent image decodes (tests read its peak).
    pub image_decodes: Arc<perch_api::images::limit::DecodeLimit>,
    /// A client that does not follow redirects.
    pub client: reqwest::Client,
    config: Config,
    stop: CancellationToken,
    server: Option<JoinHandle<anyhow::Result<()>>>,
    _database: TestDatabase,
    _data_dir: tempfile::TempDir,
}

impl TestServer {
    /// Start a server with the default settings.
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    /// Start a server after `adjust` has changed its configuration.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> TestServer {
        let database = TestDatabase::create().await;
        let data_dir = tempfile::tempdir().expect("temporary data dir");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
        let address = listener.local_addr().expect("bound address");
        let base_url = format!("http://{address}");
        let mut config = Config {
            bind: address,
            instance_title: format!("Perch {address}"),
            delivery_worker: false,
            inbox_worker: false,
            ..Config::for_development(
                base_url.parse().expect("valid URL"),
                data_dir.path(),
                database.url(),
            )
        };
        adjust(&mut config);
        let app = Application::build_with_listener(config.clone(), listener)
            .await
            .expect("server builds");
        let stop = CancellationToken::new();
        TestServer {
            address,
            domain: address.to_string(),
            base_url,
            db: app.db().clone(),
            database_url: database.url().to_owned(),
            ids: app.ids(),
            bus: app.apub().bus.clone(),
            apub: app.apub().clone(),
            api: app.api().clone(),
            image_decodes: app.api().image_decodes.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("HTTP client"),
            config,
            server: Some(tokio::spawn(
                app.run_until_stopped(stop.clone().cancelled_owned()),
            )),
            stop,
            _database: database,
            _data_dir: data_dir,
        }
    }

    /// Stop serving (the port refuses connections) and wait until stopped,
    /// which must be cleanly. The database and data directory stay for
    /// [`TestServer::start_again`].
    pub async fn stop(&mut self) {
        self.wait_for_stop().await.expect("a clean stop");
    }

    /// Stop the way a signal does, wait for the server to finish and say
    /// how it ended.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        self.wait_for_stop().await
    }

    async fn wait_for_stop(&mut self) -> anyhow::Result<()> {
        self.stop.cancel();
        let Some(server) = self.server.take() else {
            return Ok(());
        };
        tokio::time::timeout(STOP_DEADLINE, server)
            .await
            .expect("server stops within the deadline")
            .expect("server task did not panic")
    }

    /// Serve again on the same address and database, as a restarted server
    /// would.
    pub async fn start_again(&mut self) {
        let listener = TcpListener::bind(self.address)
            .await
            .expect("the same address binds again");
        let app = Application::build_with_listener(self.config.clone(), listener)
            .await
            .expect("server builds again");
        self.db = app.db().clone();
        self.ids = app.ids();
        self.bus = app.apub().bus.clone();
        self.apub = app.apub().clone();
        self.api = app.api().clone();
        self.image_decodes = app.api().image_decodes.clone();
        self.stop = CancellationToken::new();
        self.server = Some(tokio::spawn(
            app.run_until_stopped(self.stop.clone().cancelled_owned()),
        ));
    }

    /// The data directory (media), for running the `perch` binary with it.
    pub fn data_dir(&self) -> &std::path::Path {
        self._data_dir.path()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A GET without credentials, answered as it is.
    pub async fn get_response(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// A local user; returns the account id.
    pub async fn create_user(&self, username: &str, password: &str) -> i64 {
        self.create_account(username, password, Role::User, false)
            .await
    }

    /// A local user whose followers need approval; returns the account id.
    pub async fn create_locked_user(&self, username: &str, password: &str) -> i64 {
        self.create_account(username, password, Role::User, true)
            .await
    }

    /// A local user with administrator rights; returns the account id.
    pub async fn create_admin(&self, username: &str, password: &str) -> i64 {
        self.create_with_role(username, password, Role::Admin).await
    }

    /// A local user with `role`; returns the account id.
    pub async fn create_with_role(&self, username: &str, password: &str, role: Role) -> i64 {
        self.create_account(username, password, role, false).await
    }

    async fn create_account(
        &self,
        username: &str,
        password: &str,
        role: Role,
        locked: bool,
    ) -> i64 {
        let new = NewAccount {
            username: Username::parse(username).expect("valid username"),
            email: Email::parse(&format!("{username}@example.com")).expect("valid email"),
            password: Password::parse(password).expect("valid password"),
            role,
            approved: true,
            locale: "en".to_owned(),
            phone: None,
            reason: None,
        };
        // The public URL, which a test may have pointed elsewhere (at a
        // proxy in front of the server): actors' ids live under it.
        let id = create_local_account(&self.db, &self.ids, &self.config.public_url, new)
            .await
            .expect("account created")
            .id;
        if locked {
            perch_db::accounts::set_locked(&self.db, id, true)
                .await
                .expect("account locked");
        }
        id
    }

    /// An access token with the `read write follow` scopes for `username`,
    /// whose password is [`PASSWORD`]: an application registered through
    /// `/api/v1/apps`, then the password grant at `/oauth/token`.
    pub async fn token(&self, username: &str) -> String {
        self.token_with_scopes(username, "read write follow").await
    }

    /// [`TestServer::token`] with other scopes (`admin:read admin:write`…).
    pub async fn token_with_scopes(&self, username: &str, scopes: &str) -> String {
        let app: Value = self
            .client
            .post(self.url("/api/v1/apps"))
            .json(&json!({
                "client_name": "perch tests",
                "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                "scopes": scopes,
            }))
            .send()
            .await
            .expect("request sent")
            .json()
            .await
            .expect("a JSON application");
        let token: Value = self
            .client
            .post(self.url("/oauth/token"))
            .json(&json!({
                "grant_type": "password",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "username": username,
                "password": PASSWORD,
                "scope": scopes,
            }))
            .send()
            .await
            .expect("request sent")
            .json()
            .await
            .expect("a JSON token");
        token["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access token for {username}: {token}"))
            .to_owned()
    }

    /// A GET with `token`, answered with JSON (`null` when the body is not).
    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path, token, None).await
    }

    /// A POST with `token` and no body, answered with JSON.
    pub async fn post(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.send(Method::POST, path, token, None).await
    }

    /// A request with `token` and a JSON body (or none), answered with JSON.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Post a status; returns it.
    pub async fn post_status(&self, token: &str, body: Value) -> Value {
        let (status, posted) = self
            .send(Method::POST, "/api/v1/statuses", token, Some(body))
            .await;
        assert_eq!(status, StatusCode::OK, "{posted}");
        posted
    }

    /// Resolve `user@domain` through this server's search, as a client
    /// would; returns the local id of the (remote) account.
    pub async fn resolve(&self, token: &str, acct: &str) -> String {
        let body: Value = self
            .client
            .get(self.url("/api/v2/search"))
            .bearer_auth(token)
            .query(&[("q", acct), ("resolve", "true"), ("type", "accounts")])
            .send()
            .await
            .expect("request sent")
            .json()
            .await
            .expect("JSON search results");
        body["accounts"][0]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{acct} did not resolve: {body}"))
            .to_owned()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Run every server's delivery queue, inbound queue, push queue and due
/// scheduled statuses until a whole round does nothing: what was delivered
/// is applied, and its answers
/// (an Accept to a Follow) are delivered and applied too. Bounded in rounds.
pub async fn drain(servers: &[&TestServer]) {
    for _ in 0..DRAIN_ROUNDS {
        let mut attempted = 0;
        for server in servers {
            attempted += perch_apub::delivery::run_due(&server.apub, "test-drain")
                .await
                .expect("delivery pass");
            attempted += perch_apub::inbox::queue::run_due(&server.apub, "test-drain")
                .await
                .expect("inbound pass");
            attempted += perch_api::push::run_due(&server.api)
                .await
                .expect("push pass");
            attempted += perch_api::statuses::scheduled::run_due(
                &server.api,
                perch_core::time::now_millis(),
            )
            .await
            .expect("scheduled statuses pass");
        }
        if attempted == 0 {
            return;
        }
    }
    panic!("delivery queues did not settle within {DRAIN_ROUNDS} rounds");
}

/// The headers of `body` POSTed to `inbox` as another server delivers it:
/// `Content-Type`, then `Host`, `Date` (`at`), `Digest` and a `Signature`
/// by `key`.
pub fn signed_delivery(
    key: &perch_apub::signatures::SigningKey,
    inbox: &url::Url,
    body: &[u8],
    at: std::time::SystemTime,
) -> reqwest::header::HeaderMap {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::CONTENT_TYPE,
        reqwest::header::HeaderValue::from_static("application/activity+json"),
    );
    perch_apub::signatures::sign_request(key, &Method::POST, inbox, &mut headers, Some(body), at)
        .expect("the request signs");
    headers
}

/// Deliver `body` to `inbox`, signed by `key` now; the answer's status.
pub async fn deliver(
    client: &reqwest::Client,
    key: &perch_apub::signatures::SigningKey,
    inbox: &url::Url,
    body: &[u8],
) -> StatusCode {
    let headers = signed_delivery(key, inbox, body, std::time::SystemTime::now());
    client
        .post(inbox.clone())
        .headers(headers)
        .body(body.to_vec())
        .send()
        .await
        .expect("the delivery is sent")
        .status()
}
