//! Test support for federation: complete Perch instances started in one
//! process, each on 127.0.0.1 port 0 with its own database (SQLite, or
//! PostgreSQL when the test script provides one) and
//! `PERCH_ALLOW_PRIVATE_ADDRESSES` on. Their delivery and inbound workers
//! are off: tests drain the queues explicitly with [`drain`], so what crossed
//! the wire, and what was applied, is known when an assertion runs.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use perch_apub::ApubState;
use perch_core::account::{Email, Password, Username};
use perch_db::Db;
use perch_db::testing::TestDatabase;
use perch_domain::accounts::{NewAccount, create_local_account};
use perch_server::Application;
use perch_server::config::Config;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

pub const PASSWORD: &str = "correct horse battery staple";

/// A running instance.
pub struct Instance {
    pub base_url: String,
    /// host:port, the federation domain.
    pub domain: String,
    pub db: Db,
    pub apub: ApubState,
    pub client: reqwest::Client,
    ids: std::sync::Arc<perch_core::id::IdGenerator>,
    stop: CancellationToken,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    config: Config,
    _database: TestDatabase,
    _data_dir: tempfile::TempDir,
}

impl Instance {
    pub async fn start() -> Instance {
        let database = TestDatabase::create().await;
        let data_dir = tempfile::tempdir().expect("temporary data dir");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let base_url = format!("http://{address}");
        let config = Config {
            bind: address,
            instance_title: format!("Perch {address}"),
            delivery_worker: false,
            inbox_worker: false,
            ..Config::for_development(
                base_url.parse().expect("url"),
                data_dir.path(),
                database.url(),
            )
        };
        let app = Application::build_with_listener(config.clone(), listener)
            .await
            .expect("instance builds");
        let db = app.db().clone();
        let apub = app.apub().clone();
        let ids = app.ids();
        let stop = CancellationToken::new();
        let server = tokio::spawn(app.run_until_stopped(stop.clone().cancelled_owned()));
        Instance {
            domain: address.to_string(),
            base_url,
            db,
            apub,
            client: reqwest::Client::new(),
            ids,
            stop,
            server: Some(server),
            config,
            _database: database,
            _data_dir: data_dir,
        }
    }

    /// Stop serving (the port refuses connections) and wait until stopped.
    /// The database and data directory stay for [`Instance::start_again`].
    pub async fn stop(&mut self) {
        self.stop.cancel();
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("the server task")
                .expect("a clean stop");
        }
    }

    /// Serve again on the same address and database, as a restarted
    /// server would.
    pub async fn start_again(&mut self) {
        let listener = tokio::net::TcpListener::bind(self.config.bind)
            .await
            .expect("the same address binds again");
        let app = Application::build_with_listener(self.config.clone(), listener)
            .await
            .expect("instance builds again");
        self.db = app.db().clone();
        self.apub = app.apub().clone();
        self.ids = app.ids();
        self.stop = CancellationToken::new();
        self.server = Some(tokio::spawn(
            app.run_until_stopped(self.stop.clone().cancelled_owned()),
        ));
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A local user; returns the account id.
    pub async fn create_user(&self, username: &str, locked: bool) -> i64 {
        let new = NewAccount {
            username: Username::parse(username).expect("username"),
            email: Email::parse(&format!("{username}@example.com")).expect("email"),
            password: Password::parse(PASSWORD).expect("password"),
            admin: false,
            approved: true,
            locale: "en".to_owned(),
            phone: None,
            reason: None,
        };
        let public_url = self.base_url.parse().expect("url");
        let row = create_local_account(&self.db, &self.ids, &public_url, new)
            .await
            .expect("account");
        if locked {
            perch_db::accounts::set_locked(&self.db, row.id, true)
                .await
                .expect("lock");
        }
        row.id
    }

    /// An access token for `username` with every scope.
    pub async fn token(&self, username: &str) -> String {
        let app: Value = self
            .client
            .post(self.url("/api/v1/apps"))
            .json(&json!({
                "client_name": "federation tests",
                "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                "scopes": "read write follow",
            }))
            .send()
            .await
            .expect("sent")
            .json()
            .await
            .expect("json");
        let token: Value = self
            .client
            .post(self.url("/oauth/token"))
            .json(&json!({
                "grant_type": "password",
                "client_id": app["client_id"],
                "client_secret": app["client_secret"],
                "username": username,
                "password": PASSWORD,
                "scope": "read write follow",
            }))
            .send()
            .await
            .expect("sent")
            .json()
            .await
            .expect("json");
        token["access_token"]
            .as_str()
            .expect("access token")
            .to_owned()
    }

    pub async fn get(&self, path: &str, token: &str) -> (reqwest::StatusCode, Value) {
        let response = self
            .client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("sent");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, token: &str) -> (reqwest::StatusCode, Value) {
        let response = self
            .client
            .post(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("sent");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A request with a JSON body (or none), answered with JSON.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (reqwest::StatusCode, Value) {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("sent");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Post a status; returns it.
    pub async fn post_status(&self, token: &str, body: Value) -> Value {
        let (status, posted) = self
            .send(reqwest::Method::POST, "/api/v1/statuses", token, Some(body))
            .await;
        assert_eq!(status, reqwest::StatusCode::OK, "{posted}");
        posted
    }

    /// Resolve `user@domain` through this instance's search, as a client
    /// would; returns the local id of the (remote) account.
    pub async fn resolve(&self, token: &str, acct: &str) -> String {
        let response = self
            .client
            .get(self.url("/api/v2/search"))
            .bearer_auth(token)
            .query(&[("q", acct), ("resolve", "true"), ("type", "accounts")])
            .send()
            .await
            .expect("sent");
        let body: Value = response.json().await.expect("json");
        body["accounts"][0]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{acct} did not resolve: {body}"))
            .to_owned()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Run every instance's delivery queue and inbound queue until a whole
/// round does nothing: what was delivered is applied, and its answers (an
/// Accept to a Follow) are delivered and applied too. Bounded in rounds.
pub async fn drain(instances: &[&Instance]) {
    for _ in 0..20 {
        let mut attempted = 0;
        for instance in instances {
            attempted += perch_apub::delivery::run_due(&instance.apub, "test-drain")
                .await
                .expect("delivery pass");
            attempted += perch_apub::inbox::queue::run_due(&instance.apub, "test-drain")
                .await
                .expect("inbound pass");
        }
        if attempted == 0 {
            return;
        }
    }
    panic!("delivery queues did not settle within 20 rounds");
}
