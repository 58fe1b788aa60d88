//! Start-up and the server's run loop.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::ServiceExt;
use axum::extract::Request;
use axum::http::HeaderName;
use axum::middleware;
use axum::routing::get;
use perch_api::auth::tokens::TokenKeys;
use perch_api::rate_limit::{RateLimiter, SignInLimits};
use perch_api::{ApiConfig, ApiState, RegistrationMode};
use perch_apub::fetch::{FetchPolicy, Fetcher};
use perch_apub::publish::ApubPublisher;
use perch_apub::signatures::DateWindow;
use perch_apub::signer::{SigningKeys, VerifyingKeys};
use perch_apub::{ApubConfig, ApubState};
use perch_core::id::IdGenerator;
use perch_db::{ConnectOptions, Db};
use perch_domain::Domain;
use perch_domain::urls::ActorUrlLayout;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::Layer;
use tower_http::normalize_path::NormalizePathLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::cors;
use crate::ids::LeasedIds;
use crate::ops;

/// How long in-flight requests and workers get to finish after a shutdown
/// signal before the process stops anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// The window of the sign-in attempt limits.
const SIGN_IN_WINDOW: Duration = Duration::from_secs(5 * 60);
/// The window of the sign-up limit.
const SIGN_UP_WINDOW: Duration = Duration::from_secs(30 * 60);

/// Why the server could not start. Each variant reads as one line for the
/// operator.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("PERCH_DATA_DIR: cannot use {path} as the data directory")]
    DataDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Database(#[from] perch_db::Error),
    #[error("cannot lease an id node number")]
    IdLease(#[from] perch_db::nodes::LeaseError),
    #[error("cannot load the access-token signing keys")]
    TokenKeys(#[from] perch_api::auth::tokens::KeyError),
    #[error("cannot set up the instance actor")]
    InstanceActor(#[from] perch_apub::instance_actor::InstanceActorError),
    #[error("cannot build the HTTP client")]
    HttpClient(#[source] perch_apub::fetch::FetchError),
    #[error("cannot load the Web Push (VAPID) key: {0}")]
    PushKey(String),
}

/// A built server: storage is connected and migrated, the port is bound, and
/// nothing is served until [`Application::run_until_stopped`].
pub struct Application {
    config: Arc<Config>,
    listener: TcpListener,
    db: Db,
    ids: LeasedIds,
    api: ApiState,
    apub: ApubState,
}

impl Application {
    /// Bind `config.bind` and build.
    pub async fn build(config: Config) -> Result<Self, StartupError> {
        prepare_data_dir(&config.data_dir)?;
        let listener =
            TcpListener::bind(config.bind)
                .await
                .map_err(|source| StartupError::Bind {
                    addr: config.bind,
                    source,
                })?;
        Self::build_with_listener(config, listener).await
    }

    /// Build on a listener bound by the caller (tests bind port 0 first, so
    /// that the public URL can name the real port).
    pub async fn build_with_listener(
        config: Config,
        listener: TcpListener,
    ) -> Result<Self, StartupError> {
        prepare_data_dir(&config.data_dir)?;
        ops::prometheus();
        let db = connect_and_migrate(&config).await?;
        let ids = LeasedIds::acquire(&db).await?;
        let apub = apub_state(&config, &db, ids.generator()).await?;
        let api = api_state(&config, &db, ids.generator(), apub.clone()).await?;
        Ok(Self {
            config: Arc::new(config),
            listener,
            db,
            ids,
            api,
            apub,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        // A bound TCP listener always has a local address.
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn ids(&self) -> Arc<IdGenerator> {
        self.ids.generator()
    }

    /// The client API's state.
    pub fn api(&self) -> &ApiState {
        &self.api
    }

    /// The federation side's state (tests drain the delivery queue with it).
    pub fn apub(&self) -> &ApubState {
        &self.apub
    }

    /// Serve until `shutdown` completes, then stop accepting connections, let
    /// in-flight requests and background workers finish (up to a grace
    /// period), release the id lease and close the database.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        // One token stops everything: the server, the workers and the
        // WebSocket connections (which the HTTP server does not track).
        let stop = self.api.shutdown.clone();
        let workers = TaskTracker::new();
        let ids = Arc::new(self.ids);
        {
            let (ids, db, stop) = (ids.clone(), self.db.clone(), stop.clone());
            workers.spawn(async move { ids.keep_renewed(db, stop).await });
        }
        // Listening starts before serving, so no event after start-up is
        // missed; the hub subscribes here too, for the same reason.
        if let Some(listener) = self.apub.bus.listen(stop.clone().cancelled_owned()).await? {
            workers.spawn(listener);
        }
        workers.spawn(perch_api::streaming::hub(
            self.api.clone(),
            self.apub.bus.subscribe(),
            stop.clone(),
        ));
        workers.spawn(crate::maintenance::worker(
            self.db.clone(),
            self.api.clone(),
            self.config.retention,
            stop.clone(),
        ));
        workers.spawn(
            self.apub
                .federation_policy
                .clone()
                .keep_fresh(self.db.clone(), stop.clone()),
        );
        if self.config.delivery_worker {
            workers.spawn(perch_api::push::worker(self.api.clone(), stop.clone()));
            workers.spawn(perch_api::statuses::scheduled::worker(
                self.api.clone(),
                stop.clone(),
            ));
        }
        workers.spawn(crate::maintenance::end_mutes(
            self.api.domain.clone(),
            stop.clone(),
        ));
        workers.spawn(crate::maintenance::end_polls(
            self.api.domain.clone(),
            stop.clone(),
        ));
        if self.config.delivery_worker {
            let owner = format!("delivery-{}-{}", std::process::id(), ids.generator().node());
            let (apub, stop) = (self.apub.clone(), stop.clone());
            workers.spawn(perch_apub::delivery::worker(apub, owner, stop));
        }
        if self.config.inbox_worker {
            let owner = format!("inbox-{}-{}", std::process::id(), ids.generator().node());
            let (apub, stop) = (self.apub.clone(), stop.clone());
            workers.spawn(perch_apub::inbox::queue::worker(apub, owner, stop));
        }
        workers.close();

        let router = router(self.db.clone(), self.api.clone(), self.apub.clone());
        let app = NormalizePathLayer::trim_trailing_slash().layer(router);
        let service = ServiceExt::<Request>::into_make_service_with_connect_info::<SocketAddr>(app);
        tracing::info!(
            address = %self.listener.local_addr()?,
            public_url = %self.config.public_url,
            backend = ?self.db.backend(),
            "perch is serving"
        );
        let server = axum::serve(self.listener, service)
            .with_graceful_shutdown(stop.clone().cancelled_owned());

        let signalled = {
            let stop = stop.clone();
            async move {
                shutdown.await;
                tracing::info!("shutdown requested: finishing in-flight requests");
                stop.cancel();
            }
        };
        tokio::spawn(signalled);

        let grace_expired = async {
            stop.cancelled().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        };
        tokio::select! {
            served = server => served?,
            () = grace_expired => tracing::warn!("in-flight requests did not finish in time"),
        }
        stop.cancel();
        if tokio::time::timeout(SHUTDOWN_GRACE, workers.wait())
            .await
            .is_err()
        {
            tracing::warn!("background workers did not stop in time");
        }
        ids.release(&self.db).await;
        self.db.close().await;
        tracing::info!("shutdown complete");
        Ok(())
    }
}

async fn api_state(
    config: &Config,
    db: &Db,
    ids: Arc<IdGenerator>,
    federation: ApubState,
) -> Result<ApiState, StartupError> {
    let issuer = config.public_url.as_str().trim_end_matches('/').to_owned();
    let audience = format!("{issuer}/api");
    let tokens = TokenKeys::load_or_create(db, issuer, audience).await?;
    Ok(ApiState {
        db: db.clone(),
        ids,
        config: Arc::new(api_config(config)),
        tokens: Arc::new(tokens),
        vapid: Arc::new(
            perch_api::push::vapid_key(db)
                .await
                .map_err(|e| StartupError::PushKey(e.message().to_owned()))?,
        ),
        domain: federation.domain.clone(),
        sign_in_limits: Arc::new(SignInLimits::new(
            (config.sign_in_attempts_per_ip, SIGN_IN_WINDOW),
            (config.sign_in_attempts_per_account, SIGN_IN_WINDOW),
        )),
        reauth_limits: Arc::new(SignInLimits::new(
            (config.sign_in_attempts_per_ip, SIGN_IN_WINDOW),
            (config.sign_in_attempts_per_account, SIGN_IN_WINDOW),
        )),
        sign_up_limit: Arc::new(RateLimiter::new(config.sign_ups_per_ip, SIGN_UP_WINDOW)),
        federation,
        streaming: Arc::default(),
        image_decodes: Arc::default(),
        shutdown: CancellationToken::new(),
    })
}

/// The client API's settings, from the server's.
pub(crate) fn api_config(config: &Config) -> ApiConfig {
    ApiConfig {
        public_url: config.public_url.clone(),
        domain: config.domain(),
        registrations: config.registrations,
        public_domain_blocks: config.public_domain_blocks,
        access_token_ttl: config.access_token_ttl,
        refresh_token_ttl: config.refresh_token_ttl,
        contact_email: config.contact_email.clone(),
        title: config.instance_title.clone(),
        description: config.instance_description.clone(),
        data_dir: config.data_dir.clone(),
        max_status_characters: config.max_status_characters as usize,
        trusted_proxies: config.trusted_proxies.clone(),
    }
}

/// The domain layer, for commands that change state outside `perch serve`
/// (`perch admin …`): the same rules, the same publishing to the queue.
pub(crate) async fn domain_for_commands(
    config: &Config,
    db: &Db,
    ids: Arc<IdGenerator>,
) -> Result<Domain, StartupError> {
    Ok(apub_state(config, db, ids).await?.domain)
}

async fn apub_state(
    config: &Config,
    db: &Db,
    ids: Arc<IdGenerator>,
) -> Result<ApubState, StartupError> {
    let layout = ActorUrlLayout::new(config.public_url.clone());
    perch_apub::instance_actor::ensure(db, &ids, &layout, &config.domain()).await?;
    let policy = FetchPolicy {
        allow_private_addresses: config.allow_private_addresses,
        ..FetchPolicy::for_domain(&config.domain())
    };
    let federation_policy = perch_apub::policy::FederationPolicy::new(config.federation_mode);
    federation_policy.reload(db).await?;
    let fetcher = Fetcher::new(policy)
        .map_err(StartupError::HttpClient)?
        .with_federation_policy(federation_policy.clone());
    let bus = perch_db::live::Bus::new(db.clone());
    let delivery_wake = Arc::new(tokio::sync::Notify::new());
    let publisher = Arc::new(ApubPublisher {
        ids: ids.clone(),
        layout: layout.clone(),
    });
    let domain = Domain::new(
        db.clone(),
        ids.clone(),
        layout.clone(),
        &config.domain(),
        publisher,
        bus.clone(),
        delivery_wake.clone(),
    );
    Ok(ApubState {
        db: db.clone(),
        ids,
        config: Arc::new(ApubConfig {
            public_url: config.public_url.clone(),
            domain: config.domain(),
            title: config.instance_title.clone(),
            description: config.instance_description.clone(),
            open_registrations: config.registrations != RegistrationMode::Closed,
            allow_private_addresses: config.allow_private_addresses,
            signature_window: DateWindow {
                max_age: config.signature_max_age,
                max_future: config.signature_max_future,
            },
            delivery_lease_millis: i64::try_from(config.delivery_lease.as_millis())
                .unwrap_or(i64::MAX),
            secure_mode: config.secure_mode,
        }),
        layout,
        fetcher,
        signing_keys: Arc::new(SigningKeys::default()),
        verifying_keys: Arc::new(VerifyingKeys::default()),
        key_refetches: Arc::new(RateLimiter::new(1, perch_apub::inbox::KEY_REFETCH_INTERVAL)),
        key_fetches: Arc::new(RateLimiter::new(
            config.key_fetches_per_minute,
            Duration::from_secs(60),
        )),
        recently_heard: Arc::default(),
        signature_schemes: Arc::default(),
        intake: perch_apub::inbox::intake::Intake::start(db.clone()),
        delivery_wake,
        inbound_wake: Arc::new(tokio::sync::Notify::new()),
        bus,
        domain,
        federation_policy,
    })
}

fn router(db: Db, api: ApiState, apub: ApubState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .route("/health", get(ops::health))
        .route("/metrics", get(ops::metrics))
        .with_state(db)
        .merge(perch_api::router(api))
        .merge(perch_apub::routes::router(apub))
        .fallback(perch_api::fallback)
        .layer(middleware::from_fn(ops::track_requests))
        .layer(middleware::map_response(perch_api::json_charset))
        .layer(middleware::from_fn(cors::cors))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                let id = request
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                // The path only: queries can carry access tokens.
                tracing::info_span!(
                    "request",
                    method = %request.method(),
                    path = %request.uri().path(),
                    request_id = %id,
                )
            }),
        )
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// Create the data directory if needed and prove it is writable.
pub(crate) fn prepare_data_dir(path: &Path) -> Result<(), StartupError> {
    let fail = |source| StartupError::DataDir {
        path: path.display().to_string(),
        source,
    };
    std::fs::create_dir_all(path).map_err(fail)?;
    let probe = path.join(".perch-write-check");
    std::fs::write(&probe, b"ok").map_err(fail)?;
    std::fs::remove_file(&probe).map_err(fail)?;
    Ok(())
}

/// Connect to the configured database and apply pending migrations.
pub(crate) async fn connect_and_migrate(config: &Config) -> Result<Db, perch_db::Error> {
    let db = connect(config).await?;
    let applied = db.migrate().await?;
    if applied > 0 {
        tracing::info!(applied, "database migrations applied");
    }
    Ok(db)
}

pub(crate) async fn connect(config: &Config) -> Result<Db, perch_db::Error> {
    let options = ConnectOptions {
        max_connections: config.database_max_connections,
        ..ConnectOptions::default()
    };
    Db::connect(&config.database_url, &options).await
}
