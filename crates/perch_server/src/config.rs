//! The server's configuration: one typed struct, read from an optional TOML
//! file and `PERCH_*` environment variables (the environment wins), and
//! validated before anything starts.
//!
//! The variable names are a contract with operators and tests; see the
//! README's table.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use perch_api::RegistrationMode;
pub use perch_api::client_ip::TrustedProxies;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::{Deserialize, Deserializer};
use url::Url;

/// The default configuration file, read when it exists.
pub const DEFAULT_CONFIG_FILE: &str = "perch.toml";

/// Every key, as it appears in `perch.toml` (lower case) and, upper-cased with
/// a `PERCH_` prefix, in the environment.
const KEYS: &[&str] = &[
    "public_url",
    "bind",
    "data_dir",
    "database_url",
    "database_max_connections",
    "allow_private_addresses",
    "log",
    "registrations",
    "public_domain_blocks",
    "federation_mode",
    "access_token_ttl",
    "refresh_token_ttl",
    "instance_title",
    "instance_description",
    "contact_email",
    "sign_in_attempts_per_ip",
    "sign_in_attempts_per_account",
    "sign_ups_per_ip",
    "key_fetches_per_minute",
    "trusted_proxies",
    "signature_max_age",
    "signature_max_future",
    "delivery_worker",
    "inbox_worker",
    "secure_mode",
    "max_status_characters",
    "delivery_lease",
    "retain_activity_ids_days",
    "retain_deliveries_days",
    "home_feed_entries",
];

/// Default lifetime of access tokens: a year. Most Mastodon apps never use
/// refresh tokens, so a short lifetime would sign them out; every request
/// checks the token's server-side session, so revocation is immediate
/// whatever the lifetime.
pub const DEFAULT_ACCESS_TOKEN_TTL_SECS: u64 = 365 * 24 * 3600;
/// Default lease of a claimed delivery job: longer than one request may
/// take (15 s), short enough that a crashed process's jobs resume soon.
pub const DEFAULT_DELIVERY_LEASE_SECS: u64 = 60;
/// Default lifetime of a refresh token (each use issues a fresh one).
pub const DEFAULT_REFRESH_TOKEN_TTL_SECS: u64 = 400 * 24 * 3600;

/// Validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// The instance's public base URL (no path, query or fragment).
    pub public_url: Url,
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub database_max_connections: u32,
    /// Federation may reach loopback/private addresses and plain http
    /// (tests and local development only).
    pub allow_private_addresses: bool,
    /// A `tracing` filter, e.g. `info` or `perch_apub=debug,info`.
    pub log: String,
    /// Who may sign up through the API.
    pub registrations: RegistrationMode,
    /// Who may read the servers this one blocks
    /// (`/api/v1/instance/domain_blocks`).
    pub public_domain_blocks: perch_api::DomainBlocksShown,
    /// Federate with every server not blocked, or only with allowed ones.
    pub federation_mode: perch_core::federation::Mode,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub instance_title: String,
    pub instance_description: String,
    pub contact_email: String,
    /// Sign-in attempts allowed per client address in five minutes.
    pub sign_in_attempts_per_ip: u32,
    /// Sign-in attempts allowed per account in five minutes.
    pub sign_in_attempts_per_account: u32,
    /// Accounts created through the API per client address in 30 minutes.
    pub sign_ups_per_ip: u32,
    /// Unknown signing keys fetched per server in a minute, at most.
    pub key_fetches_per_minute: u32,
    /// Reverse proxies whose `X-Forwarded-For` names the client of the
    /// per-address limits.
    pub trusted_proxies: TrustedProxies,
    /// Oldest accepted HTTP-signature date, in seconds before now.
    pub signature_max_age: Duration,
    /// Furthest accepted HTTP-signature date, in seconds after now.
    pub signature_max_future: Duration,
    /// Run the background delivery workers: federation deliveries, Web
    /// Push and the publishing of scheduled statuses (tests turn them off
    /// and drain the queues themselves).
    pub delivery_worker: bool,
    /// Run the inbound queue's worker in this process (tests turn it off
    /// and drain the queue themselves).
    pub inbox_worker: bool,
    /// Secure mode (authorized fetch): actors, objects and collections are
    /// served only to requests signed by a key of a server not blocked.
    pub secure_mode: bool,
    /// Longest status, in characters as Mastodon counts them.
    pub max_status_characters: u32,
    /// How long a claimed delivery job or inbound activity is a worker's
    /// (renewed while it works); a crashed process's work is taken up by
    /// others after this.
    pub delivery_lease: Duration,
    /// How long housekeeping keeps what it purges.
    pub retention: Retention,
}

/// What housekeeping keeps, and for how long (the rest of what it purges
/// has a fixed period: see `maintenance`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// Ids of applied activities, so that a redelivery is not applied
    /// again: senders retry for days (Mastodon for about a week).
    pub activity_ids: Duration,
    /// Delivered and given-up deliveries, shown by `perch queue stats`.
    pub deliveries: Duration,
    /// Entries kept in each home feed (older pages are read from the
    /// statuses themselves) and in each list's timeline.
    pub home_feed_entries: u32,
}

const DAY_SECS: u64 = 24 * 3600;

impl Default for Retention {
    fn default() -> Self {
        Retention {
            activity_ids: Duration::from_secs(14 * DAY_SECS),
            deliveries: Duration::from_secs(7 * DAY_SECS),
            // As Mastodon keeps about 800.
            home_feed_entries: 800,
        }
    }
}

impl Config {
    /// The defaults of every key, for a server at `public_url` storing its
    /// data in `data_dir` and `database_url`, with private addresses
    /// allowed, open registrations and generous rate limits: the settings of
    /// tests and local development. Callers override fields as needed.
    pub fn for_development(public_url: Url, data_dir: &Path, database_url: &str) -> Config {
        let mut config = RawConfig::default()
            .validate()
            .unwrap_or_else(|_| unreachable!("the defaults are valid"));
        config.public_url = public_url;
        config.bind = SocketAddr::from(([127, 0, 0, 1], 0));
        config.data_dir = data_dir.to_owned();
        config.database_url = database_url.to_owned();
        config.database_max_connections = 5;
        config.allow_private_addresses = true;
        config.log = "warn".to_owned();
        config.registrations = RegistrationMode::Open;
        config.sign_in_attempts_per_ip = 1000;
        config.sign_in_attempts_per_account = 1000;
        config.sign_ups_per_ip = 1000;
        config
    }

    /// The federation domain: host, and port when not the scheme's default.
    pub fn domain(&self) -> String {
        match self.public_url.port() {
            Some(port) => format!("{}:{port}", self.public_url.host_str().unwrap_or_default()),
            None => self.public_url.host_str().unwrap_or_default().to_owned(),
        }
    }

    /// Load from `file` (or `perch.toml` when present) and the environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::new();
        match file {
            Some(path) if !path.is_file() => {
                return Err(ConfigError::MissingFile(path.to_owned()));
            }
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None if Path::new(DEFAULT_CONFIG_FILE).is_file() => {
                figment = figment.merge(Toml::file_exact(DEFAULT_CONFIG_FILE));
            }
            None => {}
        }
        figment = figment.merge(Env::prefixed("PERCH_").only(KEYS));
        let raw: RawConfig = figment
            .extract()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        raw.validate()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {0} does not exist")]
    MissingFile(PathBuf),
    #[error("invalid configuration: {0}")]
    Invalid(String),
    #[error("PERCH_PUBLIC_URL: {0}")]
    PublicUrl(String),
    #[error("PERCH_BIND: `{0}` is not a listen address such as 127.0.0.1:8080")]
    Bind(String),
    #[error("PERCH_DATABASE_URL: {0}")]
    DatabaseUrl(String),
    #[error("PERCH_DATABASE_MAX_CONNECTIONS must be at least 1")]
    MaxConnections,
    #[error("PERCH_LOG: `{0}` is not a valid log filter")]
    Log(String),
    #[error("PERCH_REGISTRATIONS: `{0}` is not one of open, approval, closed")]
    Registrations(String),
    #[error("PERCH_PUBLIC_DOMAIN_BLOCKS: `{0}` is not one of none, users, all")]
    PublicDomainBlocks(String),
    #[error("PERCH_FEDERATION_MODE: `{0}` is not one of open, allowlist")]
    FederationMode(String),
    #[error("PERCH_DELIVERY_LEASE must be at least 5 seconds")]
    DeliveryLease,
    #[error("PERCH_MAX_STATUS_CHARACTERS must be between 1 and 100000")]
    MaxStatusCharacters,
    #[error("{0} must be at least 60 seconds")]
    TokenTtl(&'static str),
    #[error("PERCH_TRUSTED_PROXIES: {0}")]
    TrustedProxies(#[from] perch_api::client_ip::BadProxy),
    #[error("{0} must be between {1} and {2}")]
    OutOfRange(&'static str, u32, u32),
}

/// The configuration as written, before validation.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    public_url: Option<String>,
    bind: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    database_max_connections: Option<u32>,
    #[serde(default, deserialize_with = "lenient_bool")]
    allow_private_addresses: Option<bool>,
    log: Option<String>,
    registrations: Option<String>,
    public_domain_blocks: Option<String>,
    federation_mode: Option<String>,
    access_token_ttl: Option<u64>,
    refresh_token_ttl: Option<u64>,
    instance_title: Option<String>,
    instance_description: Option<String>,
    contact_email: Option<String>,
    sign_in_attempts_per_ip: Option<u32>,
    sign_in_attempts_per_account: Option<u32>,
    sign_ups_per_ip: Option<u32>,
    key_fetches_per_minute: Option<u32>,
    trusted_proxies: Option<ProxyList>,
    signature_max_age: Option<u64>,
    signature_max_future: Option<u64>,
    #[serde(default, deserialize_with = "lenient_bool")]
    delivery_worker: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    inbox_worker: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    secure_mode: Option<bool>,
    max_status_characters: Option<u32>,
    delivery_lease: Option<u64>,
    retain_activity_ids_days: Option<u32>,
    retain_deliveries_days: Option<u32>,
    home_feed_entries: Option<u32>,
}

/// Trusted proxies as written: one string of addresses and ranges
/// separated by commas or spaces (as in the environment), or a list.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ProxyList {
    Text(String),
    List(Vec<String>),
}

impl ProxyList {
    fn parse(&self) -> Result<TrustedProxies, perch_api::client_ip::BadProxy> {
        match self {
            ProxyList::Text(text) => TrustedProxies::parse(text),
            ProxyList::List(items) => TrustedProxies::parse(&items.join(",")),
        }
    }
}

/// `value`, or `default` when absent, checked to lie in `min..=max`.
fn in_range(
    name: &'static str,
    value: Option<u32>,
    default: u32,
    (min, max): (u32, u32),
) -> Result<u32, ConfigError> {
    match value {
        None => Ok(default),
        Some(n) if (min..=max).contains(&n) => Ok(n),
        Some(_) => Err(ConfigError::OutOfRange(name, min, max)),
    }
}

impl RawConfig {
    fn retention(&self) -> Result<Retention, ConfigError> {
        let defaults = Retention::default();
        let days = |d: Duration| (d.as_secs() / DAY_SECS) as u32;
        let activity_ids = in_range(
            "PERCH_RETAIN_ACTIVITY_IDS_DAYS",
            self.retain_activity_ids_days,
            days(defaults.activity_ids),
            (1, 3650),
        )?;
        let deliveries = in_range(
            "PERCH_RETAIN_DELIVERIES_DAYS",
            self.retain_deliveries_days,
            days(defaults.deliveries),
            (1, 3650),
        )?;
        Ok(Retention {
            activity_ids: Duration::from_secs(u64::from(activity_ids) * DAY_SECS),
            deliveries: Duration::from_secs(u64::from(deliveries) * DAY_SECS),
            home_feed_entries: in_range(
                "PERCH_HOME_FEED_ENTRIES",
                self.home_feed_entries,
                defaults.home_feed_entries,
                (40, 100_000),
            )?,
        })
    }

    fn validate(self) -> Result<Config, ConfigError> {
        let retention = self.retention()?;
        let public_url = parse_public_url(
            self.public_url
                .as_deref()
                .unwrap_or("http://localhost:8080"),
        )?;
        let bind_text = self.bind.unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let bind = bind_text
            .parse()
            .map_err(|_| ConfigError::Bind(bind_text.clone()))?;
        let data_dir = self.data_dir.unwrap_or_else(|| PathBuf::from("./data"));
        let database_url = self
            .database_url
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("perch.db").display()));
        check_database_url(&database_url)?;
        let database_max_connections = self.database_max_connections.unwrap_or(10);
        if database_max_connections == 0 {
            return Err(ConfigError::MaxConnections);
        }
        let log = self.log.unwrap_or_else(|| "info".to_owned());
        if tracing_subscriber::EnvFilter::builder()
            .parse(&log)
            .is_err()
        {
            return Err(ConfigError::Log(log));
        }
        let registrations = match self.registrations.as_deref().unwrap_or("approval") {
            "open" => RegistrationMode::Open,
            "approval" => RegistrationMode::Approval,
            "closed" => RegistrationMode::Closed,
            other => return Err(ConfigError::Registrations(other.to_owned())),
        };
        let public_domain_blocks = match self.public_domain_blocks.as_deref().unwrap_or("none") {
            "none" => perch_api::DomainBlocksShown::Nobody,
            "users" => perch_api::DomainBlocksShown::Users,
            "all" => perch_api::DomainBlocksShown::Everyone,
            other => return Err(ConfigError::PublicDomainBlocks(other.to_owned())),
        };
        let federation_mode = match self.federation_mode.as_deref() {
            None => perch_core::federation::Mode::Open,
            Some(name) => name
                .parse()
                .map_err(|_| ConfigError::FederationMode(name.to_owned()))?,
        };
        let access_token_ttl = self
            .access_token_ttl
            .unwrap_or(DEFAULT_ACCESS_TOKEN_TTL_SECS);
        if access_token_ttl < 60 {
            return Err(ConfigError::TokenTtl("PERCH_ACCESS_TOKEN_TTL"));
        }
        let refresh_token_ttl = self
            .refresh_token_ttl
            .unwrap_or(DEFAULT_REFRESH_TOKEN_TTL_SECS);
        if refresh_token_ttl < 60 {
            return Err(ConfigError::TokenTtl("PERCH_REFRESH_TOKEN_TTL"));
        }
        let trusted_proxies = match &self.trusted_proxies {
            None => TrustedProxies::default(),
            Some(list) => list.parse()?,
        };
        Ok(Config {
            trusted_proxies,
            retention,
            registrations,
            public_domain_blocks,
            federation_mode,
            access_token_ttl: Duration::from_secs(access_token_ttl),
            refresh_token_ttl: Duration::from_secs(refresh_token_ttl),
            instance_title: self.instance_title.unwrap_or_else(|| "Perch".to_owned()),
            instance_description: self.instance_description.unwrap_or_default(),
            contact_email: self.contact_email.unwrap_or_default(),
            sign_in_attempts_per_ip: self.sign_in_attempts_per_ip.unwrap_or(30).max(1),
            sign_in_attempts_per_account: self.sign_in_attempts_per_account.unwrap_or(10).max(1),
            sign_ups_per_ip: self.sign_ups_per_ip.unwrap_or(5).max(1),
            key_fetches_per_minute: self
                .key_fetches_per_minute
                .unwrap_or(perch_apub::resolve::UNKNOWN_KEY_FETCHES_PER_MINUTE)
                .max(1),
            signature_max_age: Duration::from_secs(self.signature_max_age.unwrap_or(12 * 3600)),
            signature_max_future: Duration::from_secs(self.signature_max_future.unwrap_or(3600)),
            delivery_worker: self.delivery_worker.unwrap_or(true),
            inbox_worker: self.inbox_worker.unwrap_or(true),
            secure_mode: self.secure_mode.unwrap_or(false),
            max_status_characters: match self.max_status_characters {
                None => perch_core::status::DEFAULT_MAX_CHARACTERS as u32,
                Some(n) if (1..=100_000).contains(&n) => n,
                Some(_) => return Err(ConfigError::MaxStatusCharacters),
            },
            delivery_lease: match self.delivery_lease {
                None => Duration::from_secs(DEFAULT_DELIVERY_LEASE_SECS),
                Some(secs) if secs >= 5 => Duration::from_secs(secs),
                Some(_) => return Err(ConfigError::DeliveryLease),
            },
            public_url,
            bind,
            data_dir,
            database_url,
            database_max_connections,
            allow_private_addresses: self.allow_private_addresses.unwrap_or(false),
            log,
        })
    }
}

fn parse_public_url(text: &str) -> Result<Url, ConfigError> {
    let fail = |why: &str| ConfigError::PublicUrl(format!("`{text}` {why}"));
    let url = Url::parse(text).map_err(|e| fail(&format!("is not a valid URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(fail("must start with http:// or https://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(fail("has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(fail("must not contain credentials"));
    }
    if url.path() != "/" {
        return Err(fail(
            "must not have a path: Perch serves from the root of its domain",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(fail("must not have a query or fragment"));
    }
    Ok(url)
}

fn check_database_url(url: &str) -> Result<(), ConfigError> {
    let Some((scheme, rest)) = url.split_once(':') else {
        return Err(ConfigError::DatabaseUrl(format!(
            "`{}` is not a URL: expected sqlite://… or postgres://…",
            perch_db::redact_url(url)
        )));
    };
    match scheme {
        "sqlite" if !rest.trim_start_matches('/').is_empty() => Ok(()),
        "sqlite" => Err(ConfigError::DatabaseUrl(
            "sqlite URL has no file path".into(),
        )),
        "postgres" | "postgresql" => Url::parse(url).map(|_| ()).map_err(|e| {
            ConfigError::DatabaseUrl(format!(
                "`{}` is not a valid URL ({e})",
                perch_db::redact_url(url)
            ))
        }),
        other => Err(ConfigError::DatabaseUrl(format!(
            "unsupported scheme `{other}`: expected sqlite://… or postgres://…"
        ))),
    }
}

/// Booleans as people write them in environment variables: true/false,
/// yes/no, on/off, 1/0.
fn lenient_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flexible {
        Bool(bool),
        Int(i64),
        Text(String),
    }
    let value = Option::<Flexible>::deserialize(deserializer)?;
    let parsed = match value {
        None => return Ok(None),
        Some(Flexible::Bool(b)) => Some(b),
        Some(Flexible::Int(1)) => Some(true),
        Some(Flexible::Int(0)) => Some(false),
        Some(Flexible::Int(_)) => None,
        Some(Flexible::Text(text)) => match text.to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Some(true),
            "false" | "no" | "off" | "0" | "" => Some(false),
            _ => None,
        },
    };
    parsed
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom("expected true or false"))
}

#[cfg(test)]
// figment's Jail fixes the closure's error type.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use figment::Jail;

    fn load_in_jail(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut result = None;
        Jail::expect_with(|jail| {
            jail.clear_env();
            for (name, value) in vars {
                jail.set_env(name, value);
            }
            result = Some(Config::load(None));
            Ok(())
        });
        result.unwrap_or_else(|| Err(ConfigError::Invalid("jail did not run".into())))
    }

    #[test]
    fn defaults() {
        let config = load_in_jail(&[]).expect("defaults are valid");
        assert_eq!(config.public_url.as_str(), "http://localhost:8080/");
        assert_eq!(config.domain(), "localhost:8080");
        assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(config.data_dir, PathBuf::from("./data"));
        assert_eq!(config.database_url, "sqlite://./data/perch.db");
        assert!(!config.allow_private_addresses);
        assert!(!config.secure_mode, "secure mode is off by default");
        assert_eq!(config.log, "info");
        assert_eq!(config.registrations, RegistrationMode::Approval);
        assert_eq!(
            config.access_token_ttl,
            Duration::from_secs(DEFAULT_ACCESS_TOKEN_TTL_SECS)
        );
    }

    #[test]
    fn secure_mode_is_a_setting() {
        let config = load_in_jail(&[("PERCH_SECURE_MODE", "true")]).expect("valid");
        assert!(config.secure_mode);
        let config = load_in_jail(&[("PERCH_SECURE_MODE", "false")]).expect("valid");
        assert!(!config.secure_mode);
    }

    #[test]
    fn retention_periods() {
        let config = load_in_jail(&[]).expect("defaults");
        assert_eq!(config.retention, Retention::default());
        assert_eq!(config.retention.home_feed_entries, 800);
        let config = load_in_jail(&[
            ("PERCH_RETAIN_ACTIVITY_IDS_DAYS", "30"),
            ("PERCH_RETAIN_DELIVERIES_DAYS", "2"),
            ("PERCH_HOME_FEED_ENTRIES", "2000"),
        ])
        .expect("valid");
        assert_eq!(
            config.retention.activity_ids,
            Duration::from_secs(30 * 86_400)
        );
        assert_eq!(config.retention.deliveries, Duration::from_secs(2 * 86_400));
        assert_eq!(config.retention.home_feed_entries, 2000);
        let error = load_in_jail(&[("PERCH_HOME_FEED_ENTRIES", "10")]).expect_err("too few");
        assert_eq!(
            error.to_string(),
            "PERCH_HOME_FEED_ENTRIES must be between 40 and 100000"
        );
        let error =
            load_in_jail(&[("PERCH_RETAIN_ACTIVITY_IDS_DAYS", "0")]).expect_err("zero days");
        assert!(
            error
                .to_string()
                .starts_with("PERCH_RETAIN_ACTIVITY_IDS_DAYS")
        );
    }

    #[test]
    fn environment_overrides_the_file() {
        let mut result = None;
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file(
                "perch.toml",
                "public_url = \"https://file.example\"\nbind = \"0.0.0.0:9000\"\nlog = \"debug\"\n",
            )?;
            jail.set_env("PERCH_PUBLIC_URL", "https://env.example");
            jail.set_env("PERCH_ALLOW_PRIVATE_ADDRESSES", "yes");
            jail.set_env("PERCH_DATA_DIR", "/srv/perch");
            // Other PERCH_ variables (such as the test suite's) are not config.
            jail.set_env("PERCH_TEST_POSTGRES_URL", "postgres://elsewhere/");
            result = Some(Config::load(None));
            Ok(())
        });
        let config = result.expect("ran").expect("valid");
        assert_eq!(config.domain(), "env.example");
        assert_eq!(config.bind.to_string(), "0.0.0.0:9000");
        assert_eq!(config.log, "debug");
        assert!(config.allow_private_addresses);
        assert_eq!(config.database_url, "sqlite:///srv/perch/perch.db");
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let mut result = None;
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file("perch.toml", "publc_url = \"https://typo.example\"\n")?;
            result = Some(Config::load(None));
            Ok(())
        });
        let error = result.expect("ran").expect_err("typo refused").to_string();
        assert!(error.contains("publc_url"), "{error}");
    }

    #[test]
    fn public_url_rules() {
        for (value, why) in [
            ("not a url", "is not a valid URL"),
            ("ftp://example.com", "must start with http"),
            ("https://example.com/perch", "must not have a path"),
            ("https://example.com/?x=1", "must not have a query"),
            (
                "https://user:pw@example.com",
                "must not contain credentials",
            ),
        ] {
            let error = load_in_jail(&[("PERCH_PUBLIC_URL", value)])
                .expect_err(value)
                .to_string();
            assert!(error.starts_with("PERCH_PUBLIC_URL: "), "{error}");
            assert!(error.contains(why), "{value}: {error}");
        }
        let config = load_in_jail(&[("PERCH_PUBLIC_URL", "https://example.com/")]).expect("ok");
        assert_eq!(config.domain(), "example.com");
    }

    #[test]
    fn trusted_proxies() {
        let config = load_in_jail(&[]).expect("defaults");
        assert_eq!(config.trusted_proxies, TrustedProxies::loopback());
        let config =
            load_in_jail(&[("PERCH_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7")]).expect("valid");
        assert_eq!(
            config.trusted_proxies.ranges(),
            vec!["10.0.0.0/8".to_owned(), "192.0.2.7/32".to_owned()]
        );
        let config = load_in_jail(&[("PERCH_TRUSTED_PROXIES", "")]).expect("none");
        assert_eq!(config.trusted_proxies, TrustedProxies::none());
        let error = load_in_jail(&[("PERCH_TRUSTED_PROXIES", "10.0.0.0/8 proxy.example")])
            .expect_err("a name");
        assert_eq!(
            error.to_string(),
            "PERCH_TRUSTED_PROXIES: `proxy.example` is not an IP address or a CIDR range such as 10.0.0.0/8"
        );
        let mut result = None;
        Jail::expect_with(|jail| {
            jail.clear_env();
            jail.create_file("perch.toml", "trusted_proxies = [\"::1\", \"fd00::/8\"]\n")?;
            result = Some(Config::load(None));
            Ok(())
        });
        let config = result.expect("ran").expect("a list in the file");
        assert_eq!(
            config.trusted_proxies.ranges(),
            vec!["::1/128".to_owned(), "fd00::/8".to_owned()]
        );
    }

    #[test]
    fn other_rules() {
        let error = load_in_jail(&[("PERCH_BIND", "localhost")]).expect_err("bad bind");
        assert!(matches!(error, ConfigError::Bind(_)));
        let error = load_in_jail(&[("PERCH_DATABASE_URL", "mysql://x/y")]).expect_err("mysql");
        assert!(
            error.to_string().contains("unsupported scheme `mysql`"),
            "{error}"
        );
        let error = load_in_jail(&[("PERCH_ALLOW_PRIVATE_ADDRESSES", "maybe")]).expect_err("bool");
        assert!(
            error.to_string().contains("expected true or false"),
            "{error}"
        );
        let error = load_in_jail(&[("PERCH_LOG", "[[[")]).expect_err("filter");
        assert!(matches!(error, ConfigError::Log(_)));
        let error = load_in_jail(&[("PERCH_DATABASE_MAX_CONNECTIONS", "0")]).expect_err("zero");
        assert!(matches!(error, ConfigError::MaxConnections));
        let error = load_in_jail(&[("PERCH_REGISTRATIONS", "sometimes")]).expect_err("mode");
        assert!(matches!(error, ConfigError::Registrations(_)));
        let error = load_in_jail(&[("PERCH_ACCESS_TOKEN_TTL", "5")]).expect_err("ttl");
        assert!(matches!(error, ConfigError::TokenTtl(_)));
        let config = load_in_jail(&[
            ("PERCH_REGISTRATIONS", "open"),
            ("PERCH_ACCESS_TOKEN_TTL", "3600"),
        ])
        .expect("valid");
        assert_eq!(config.registrations, RegistrationMode::Open);
        assert_eq!(config.access_token_ttl, Duration::from_secs(3600));
    }
}
