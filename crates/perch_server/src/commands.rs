//! The CLI's subcommands, apart from argument parsing (in `main.rs`), so that
//! each reads as a short script of library calls.

use std::io::BufRead;

use anyhow::{Context, bail};
use perch_core::account::{Email, Password, Username};
use perch_core::role::Role;
use perch_core::time::now_millis;
use perch_db::{accounts, users};
use perch_domain::accounts::{NewAccount, create_local_account};
use rand::Rng;
use rand::distributions::Alphanumeric;

use crate::app::{connect, connect_and_migrate, prepare_data_dir};
use crate::config::Config;
use crate::ids::LeasedIds;
use crate::{Application, telemetry};

/// `perch serve`: run until SIGINT or SIGTERM.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    telemetry::init(&config.log);
    raise_open_files_limit();
    let app = Application::build(config).await?;
    app.run_until_stopped(shutdown_signal()).await
}

/// Raises the soft limit on open files to the hard limit. Every client
/// connection holds a descriptor, and the usual soft limit (1,024) would
/// refuse clients past about a thousand open WebSockets, while the hard
/// limit is commonly far higher.
fn raise_open_files_limit() {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let raised = Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        if let Err(error) = setrlimit(Resource::Nofile, raised) {
            tracing::warn!(%error, "the open-files limit could not be raised");
        }
    }
    let now = getrlimit(Resource::Nofile).current;
    tracing::info!(open_files = ?now, "open-files limit");
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// `perch migrate`: apply pending migrations and say how many.
pub async fn migrate(config: Config) -> anyhow::Result<()> {
    telemetry::init(&config.log);
    prepare_data_dir(&config.data_dir)?;
    let db = connect(&config).await?;
    let applied = db.migrate().await?;
    println!("{applied} migration(s) applied; the database is up to date");
    db.close().await;
    Ok(())
}

/// What `perch user create` was asked to do.
pub struct CreateUser {
    pub username: String,
    pub email: String,
    pub password_from_stdin: bool,
    pub role: Role,
}

/// `perch user create`: a local account with its key pair. Without
/// `--password-stdin`, a random password is generated and printed once.
pub async fn create_user(config: Config, request: CreateUser) -> anyhow::Result<()> {
    telemetry::init(&config.log);
    let username = Username::parse(&request.username).context("--username")?;
    let email = Email::parse(&request.email).context("--email")?;
    let (password, generated) = if request.password_from_stdin {
        (read_password_line()?, None)
    } else {
        let generated: String = rand::thread_rng()
            .sample_iter(Alphanumeric)
            .take(24)
            .map(char::from)
            .collect();
        (generated.clone(), Some(generated))
    };
    let password = Password::parse(&password).context("password")?;

    prepare_data_dir(&config.data_dir)?;
    let db = connect_and_migrate(&config).await?;
    let ids = LeasedIds::acquire(&db).await?;
    let new = NewAccount {
        username,
        email,
        password,
        role: request.role,
        approved: true,
        locale: "en".to_owned(),
        phone: None,
        reason: None,
    };
    let created = create_local_account(&db, &ids.generator(), &config.public_url, new).await;
    ids.release(&db).await;
    db.close().await;
    let account = created?;
    let role = request.role;
    println!(
        "created {role} @{}@{} (id {})",
        account.username,
        config.domain(),
        account.id
    );
    if let Some(password) = generated {
        println!("password: {password}");
    }
    Ok(())
}

fn read_password_line() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        bail!("--password-stdin: no password on standard input");
    }
    Ok(password)
}

/// `perch user role`: give a local user a role (the operator's command:
/// any role, the owner's included).
pub async fn set_user_role(config: Config, username: &str, role: Role) -> anyhow::Result<()> {
    telemetry::init(&config.log);
    prepare_data_dir(&config.data_dir)?;
    let db = connect_and_migrate(&config).await?;
    let result = async {
        let account = accounts::find_local_by_username(&db, username)
            .await?
            .with_context(|| format!("no local user @{username}"))?;
        users::set_role(&db, account.id, role).await?;
        anyhow::Ok(())
    }
    .await;
    db.close().await;
    result?;
    println!("@{username} is now {role}");
    Ok(())
}

/// `perch user list`: local users, oldest first.
pub async fn list_users(config: Config) -> anyhow::Result<()> {
    telemetry::init(&config.log);
    prepare_data_dir(&config.data_dir)?;
    let db = connect_and_migrate(&config).await?;
    let users = accounts::list_local_users(&db).await;
    db.close().await;
    let users = users?;
    println!(
        "ID                   USERNAME                       EMAIL                            ROLE       APPROVED"
    );
    for user in &users {
        println!(
            "{:<20} {:<30} {:<32} {:<10} {}",
            user.id,
            user.username,
            user.email,
            user.role,
            if user.approved { "yes" } else { "no" },
        );
    }
    println!("{} user(s)", users.len());
    Ok(())
}

/// `perch user approve`: let a waiting sign-up sign in.
pub async fn approve_user(config: Config, username: &str) -> anyhow::Result<()> {
    let op = Operator::open(&config).await?;
    let outcome = async {
        let account = accounts::find_local_by_username(&op.db, username)
            .await?
            .with_context(|| format!("no local user named {username}"))?;
        let approved = match perch_domain::moderation::approve(&op.domain, account.id).await {
            Ok(()) => true,
            Err(perch_domain::DomainError::Forbidden(_)) => false,
            Err(error) => return Err(error.into()),
        };
        anyhow::Ok((account.username, approved))
    }
    .await;
    op.close().await;
    let (name, approved) = outcome?;
    if approved {
        println!("approved @{name}");
    } else {
        println!("@{name} was already approved");
    }
    Ok(())
}

/// `perch user delete`: delete a local account, as its owner would through
/// the API.
pub async fn delete_user(config: Config, username: &str) -> anyhow::Result<()> {
    let op = Operator::open(&config).await?;
    let api_config = crate::app::api_config(&config);
    let outcome = async {
        let account = accounts::find_local_by_username(&op.db, username)
            .await?
            .filter(|account| account.deleted_at.is_none())
            .with_context(|| format!("no local user named {username}"))?;
        let files = perch_api::media_files::StoredFiles(&api_config);
        perch_domain::accounts::delete_local(&op.domain, &files, account.id).await?;
        anyhow::Ok(account.username)
    }
    .await;
    op.close().await;
    println!("deleted @{}", outcome?);
    Ok(())
}

/// `perch emoji add`: store the picture and add (or replace) the emoji.
pub async fn add_emoji(
    config: Config,
    shortcode: &str,
    file: &std::path::Path,
    category: Option<&str>,
) -> anyhow::Result<()> {
    if !perch_db::emojis::is_shortcode(shortcode) {
        anyhow::bail!("--shortcode: 2 to 64 letters, digits or underscores, without colons");
    }
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let op = Operator::open(&config).await?;
    let api_config = crate::app::api_config(&config);
    let outcome = async {
        let url = perch_api::media_files::store_emoji(&api_config, shortcode, bytes)
            .await
            .with_context(|| format!("--file {}", file.display()))?;
        let previous = perch_db::emojis::named(&op.db, None, &[shortcode.to_owned()]).await?;
        let row = perch_domain::emojis::add_local(&op.domain, shortcode, &url, category).await?;
        // A replaced picture is no longer used.
        let files = perch_api::media_files::StoredFiles(&api_config);
        for old in previous.iter().filter(|old| old.image_url != row.image_url) {
            perch_domain::media::MediaFiles::remove(&files, &old.image_url).await;
        }
        anyhow::Ok(row)
    }
    .await;
    op.close().await;
    let row = outcome?;
    println!(":{}: {}", row.shortcode, row.image_url);
    Ok(())
}

/// `perch emoji list`.
pub async fn list_emojis(config: Config) -> anyhow::Result<()> {
    let op = Operator::open(&config).await?;
    let rows = perch_db::emojis::local(&op.db).await;
    op.close().await;
    for row in rows? {
        match &row.category {
            Some(category) => println!(":{}: {} ({category})", row.shortcode, row.image_url),
            None => println!(":{}: {}", row.shortcode, row.image_url),
        }
    }
    Ok(())
}

/// `perch emoji remove`.
pub async fn remove_emoji(config: Config, shortcode: &str) -> anyhow::Result<()> {
    let op = Operator::open(&config).await?;
    let api_config = crate::app::api_config(&config);
    let outcome = async {
        let row = perch_domain::emojis::remove_local(&op.domain, shortcode)
            .await?
            .with_context(|| format!("no custom emoji :{shortcode}:"))?;
        let files = perch_api::media_files::StoredFiles(&api_config);
        perch_domain::media::MediaFiles::remove(&files, &row.image_url).await;
        anyhow::Ok(row)
    }
    .await;
    op.close().await;
    println!("removed :{}:", outcome?.shortcode);
    Ok(())
}

/// What `perch rule` was asked to do.
pub enum RuleAction {
    Add { text: String, hint: String },
    List,
    Remove { id: i64 },
}

/// `perch rule add|list|remove`: the server's rules, which clients show at
/// sign-up and users cite in reports.
pub async fn rules(config: Config, action: RuleAction) -> anyhow::Result<()> {
    telemetry::init(&config.log);
    prepare_data_dir(&config.data_dir)?;
    let db = connect_and_migrate(&config).await?;
    let outcome = async {
        match action {
            RuleAction::Add { text, hint } => {
                let text = text.trim();
                if text.is_empty() || text.chars().count() > 300 {
                    bail!("--text: a rule is 1 to 300 characters");
                }
                let ids = LeasedIds::acquire(&db).await?;
                let added = perch_db::reports::add_rule(
                    &db,
                    ids.generator().next_id().as_i64(),
                    text,
                    hint.trim(),
                    now_millis(),
                )
                .await;
                ids.release(&db).await;
                println!("added rule {}", added?.id);
            }
            RuleAction::List => {
                for rule in perch_db::reports::rules(&db).await? {
                    println!("{:<20} {}", rule.id, rule.text);
                }
            }
            RuleAction::Remove { id } => {
                if !perch_db::reports::delete_rule(&db, id, now_millis()).await? {
                    bail!("no rule {id}");
                }
                println!("removed rule {id}");
            }
        }
        anyhow::Ok(())
    }
    .await;
    db.close().await;
    outcome
}

/// `perch token-keys rotate`: retire the signing keys in use and make a
/// new one.
pub async fn rotate_token_keys(config: Config) -> anyhow::Result<()> {
    telemetry::init(&config.log);
    prepare_data_dir(&config.data_dir)?;
    let db = connect_and_migrate(&config).await?;
    let outcome = async {
        let retired = perch_db::jwt_keys::retire_active(&db, now_millis()).await?;
        let issuer = config.public_url.as_str().trim_end_matches('/').to_owned();
        let keys = perch_api::auth::tokens::TokenKeys::load_or_create(
            &db,
            issuer.clone(),
            format!("{issuer}/api"),
        )
        .await?;
        anyhow::Ok((retired, keys.signing_kid()))
    }
    .await;
    db.close().await;
    let (retired, kid) = outcome?;
    println!("retired {retired} key(s); new tokens are signed with key {kid}");
    Ok(())
}

/// `perch queue stats`: the delivery queue, per server, the inbound
/// queue and the push queue.
pub async fn queue_stats(config: Config) -> anyhow::Result<()> {
    telemetry::init(&config.log);
    prepare_data_dir(&config.data_dir)?;
    let db = connect_and_migrate(&config).await?;
    let now = now_millis();
    let stats = perch_db::deliveries::stats(&db, now).await;
    let inbound = perch_db::inbound::stats(&db).await;
    let pushes = perch_db::push::pending(&db).await;
    db.close().await;
    let (totals, hosts) = stats?;
    let (waiting, retrying) = inbound?;
    println!(
        "pending {}  in flight {}  delivered {}  failed {}",
        totals.pending, totals.in_flight, totals.delivered, totals.failed
    );
    if !hosts.is_empty() {
        println!("HOST                                     PENDING  FAILED  FAILURES  STATE");
    }
    for host in &hosts {
        let state = match (host.unavailable_since, host.circuit_open_until) {
            (Some(_), _) => "unavailable".to_owned(),
            (None, Some(until)) if until > now => {
                format!("circuit open for {}s", (until - now) / 1000)
            }
            _ => "ok".to_owned(),
        };
        println!(
            "{:<40} {:>7} {:>7} {:>9}  {state}",
            host.host,
            host.pending,
            host.failed,
            host.consecutive_failures.unwrap_or(0)
        );
    }
    println!("received: waiting {waiting}  being retried {retrying}");
    println!("web push: waiting {}", pushes?);
    Ok(())
}

/// `perch queue retry [--host HOST]`.
pub async fn queue_retry(config: Config, host: Option<&str>) -> anyhow::Result<()> {
    telemetry::init(&config.log);
    prepare_data_dir(&config.data_dir)?;
    let db = connect_and_migrate(&config).await?;
    let touched = perch_db::deliveries::retry_now(&db, host, now_millis()).await;
    db.close().await;
    let touched = touched?;
    match host {
        Some(host) => println!("{touched} job(s) for {host} are due now"),
        None => println!("{touched} job(s) are due now"),
    }
    Ok(())
}

/// `perch config check`: validate the configuration (already done by
/// loading it), the data directory and the database connection, and show the
/// effective settings.
pub async fn check_config(config: Config) -> anyhow::Result<()> {
    println!("public URL:        {}", config.public_url);
    println!("federation domain: {}", config.domain());
    println!("listen address:    {}", config.bind);
    println!("data directory:    {}", config.data_dir.display());
    println!(
        "database:          {}",
        perch_db::redact_url(&config.database_url)
    );
    println!(
        "private addresses: {}",
        if config.allow_private_addresses {
            "allowed (development only)"
        } else {
            "refused"
        }
    );
    println!("log filter:        {}", config.log);
    let proxies = config.trusted_proxies.ranges();
    println!(
        "trusted proxies:   {}",
        if proxies.is_empty() {
            "none".to_owned()
        } else {
            proxies.join(", ")
        }
    );
    let keep = config.retention;
    println!(
        "retention:         activity ids {} days, deliveries {} days, {} home feed entries",
        keep.activity_ids.as_secs() / 86_400,
        keep.deliveries.as_secs() / 86_400,
        keep.home_feed_entries
    );
    prepare_data_dir(&config.data_dir)?;
    let db = connect(&config).await?;
    db.ping().await?;
    db.close().await;
    println!("configuration OK: data directory writable, database reachable");
    Ok(())
}

/// What `perch admin account` does to an account.
#[derive(Clone, Copy, Debug)]
pub enum AccountCommand {
    Act(perch_domain::moderation::Action),
    Undo(perch_domain::moderation::Undo),
}

impl std::str::FromStr for AccountCommand {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        use perch_domain::moderation::{Action, Undo};
        Ok(match name {
            "unsuspend" => AccountCommand::Undo(Undo::Unsuspend),
            "unsilence" => AccountCommand::Undo(Undo::Unsilence),
            "enable" => AccountCommand::Undo(Undo::Enable),
            "unsensitive" => AccountCommand::Undo(Undo::Unsensitive),
            other => match Action::parse(other) {
                Some(action) if action != Action::None => AccountCommand::Act(action),
                _ => {
                    return Err(format!(
                        "unknown action {other:?} (suspend, silence, disable, sensitive, \
                         unsuspend, unsilence, enable, unsensitive)"
                    ));
                }
            },
        })
    }
}

/// What a `perch admin …` command works with: the database, a lease of
/// ids and the domain layer (the same rules as `perch serve`), acting as
/// the instance actor with the owner's standing.
pub(crate) struct Operator {
    pub(crate) db: perch_db::Db,
    ids: LeasedIds,
    pub(crate) domain: perch_domain::Domain,
    actor: accounts::AccountRow,
}

impl Operator {
    pub(crate) async fn open(config: &Config) -> anyhow::Result<Self> {
        telemetry::init(&config.log);
        prepare_data_dir(&config.data_dir)?;
        let db = connect_and_migrate(config).await?;
        let ids = LeasedIds::acquire(&db).await?;
        let opened = async {
            let domain = crate::app::domain_for_commands(config, &db, ids.generator()).await?;
            let actor = perch_db::actors::find_instance_actor(&db)
                .await?
                .context("the instance actor is missing")?;
            anyhow::Ok((domain, actor))
        }
        .await;
        match opened {
            Ok((domain, actor)) => Ok(Self {
                db,
                ids,
                domain,
                actor,
            }),
            Err(error) => {
                ids.release(&db).await;
                db.close().await;
                Err(error)
            }
        }
    }

    pub(crate) async fn close(self) {
        self.ids.release(&self.db).await;
        self.db.close().await;
    }
}

/// An account by `username` (local) or `user@domain` (remote, known here).
async fn account_by_acct(db: &perch_db::Db, acct: &str) -> anyhow::Result<accounts::AccountRow> {
    let acct = acct.trim().trim_start_matches('@');
    let found = match acct.split_once('@') {
        Some((user, host)) => {
            perch_db::profiles::find_remote(db, user, &host.to_ascii_lowercase()).await?
        }
        None => accounts::find_local_by_username(db, acct).await?,
    };
    found.with_context(|| format!("no account @{acct} known here"))
}

/// `perch admin account --account ACCT --action ACTION`: a moderator's
/// action, taken with the operator's (the owner's) standing.
pub async fn admin_account(
    config: Config,
    acct: &str,
    command: AccountCommand,
) -> anyhow::Result<()> {
    let op = Operator::open(&config).await?;
    let outcome = async {
        let (db, domain) = (&op.db, &op.domain);
        let target = account_by_acct(db, acct).await?;
        let operator = &op.actor;
        match command {
            AccountCommand::Act(action) => {
                perch_domain::moderation::act(domain, operator, Role::Owner, &target, action, None)
                    .await?;
            }
            AccountCommand::Undo(undo) => {
                perch_domain::moderation::undo(domain, operator, Role::Owner, &target, undo)
                    .await?;
            }
        }
        anyhow::Ok(())
    }
    .await;
    op.close().await;
    outcome?;
    println!("done: {command:?} @{}", acct.trim_start_matches('@'));
    Ok(())
}

/// What `perch admin domain-block` was asked to do.
pub enum DomainBlockCommand {
    Add {
        domain: String,
        severity: perch_core::federation::Severity,
        reject_media: bool,
        reject_reports: bool,
        comment: String,
    },
    Remove {
        domain: String,
    },
    List,
}

/// `perch admin domain-block add|remove|list`: the instance's blocks of
/// other servers. Running servers read a change within ten seconds.
pub async fn admin_domain_block(config: Config, command: DomainBlockCommand) -> anyhow::Result<()> {
    let op = Operator::open(&config).await?;
    let outcome = async {
        let (db, domain) = (&op.db, &op.domain);
        match command {
            DomainBlockCommand::Add {
                domain: host,
                severity,
                reject_media,
                reject_reports,
                comment,
            } => {
                let settings = perch_domain::federation::BlockSettings {
                    severity,
                    reject_media,
                    reject_reports,
                    private_comment: comment,
                    public_comment: String::new(),
                    obfuscate: false,
                };
                let row = perch_domain::federation::block(domain, &host, &settings).await?;
                println!("blocked {} ({})", row.domain, row.severity);
            }
            DomainBlockCommand::Remove { domain: host } => {
                let host = perch_domain::blocks::normalize_domain(&host)
                    .with_context(|| format!("--domain: {host:?} is not a domain"))?;
                let row = perch_db::domain_blocks::find_by_domain(db, &host)
                    .await?
                    .with_context(|| format!("{host} is not blocked"))?;
                perch_domain::federation::unblock(domain, &row).await?;
                println!("unblocked {host}");
            }
            DomainBlockCommand::List => {
                for row in perch_db::domain_blocks::all_blocks(db).await? {
                    println!(
                        "{:<40} {:<8} media {:<8} reports {}",
                        row.domain,
                        row.severity,
                        if row.reject_media { "rejected" } else { "kept" },
                        if row.reject_reports {
                            "rejected"
                        } else {
                            "kept"
                        },
                    );
                }
            }
        }
        anyhow::Ok(())
    }
    .await;
    op.close().await;
    outcome
}

/// `perch admin reports`: the open reports, newest first.
pub async fn admin_reports(config: Config) -> anyhow::Result<()> {
    telemetry::init(&config.log);
    prepare_data_dir(&config.data_dir)?;
    let db = connect_and_migrate(&config).await?;
    let outcome = async {
        let page = perch_db::page::Page::newest(200);
        let rows =
            perch_db::reports::page(&db, perch_db::reports::ReportFilter::default(), &page).await?;
        for row in &rows {
            let name = |id: i64| {
                let db = &db;
                async move {
                    match accounts::find_by_id(db, perch_core::id::Id::from_i64(id)).await {
                        Ok(Some(a)) => match a.domain {
                            Some(d) => format!("@{}@{d}", a.username),
                            None => format!("@{}", a.username),
                        },
                        _ => id.to_string(),
                    }
                }
            };
            println!(
                "{:<20} {:<10} {} reports {}: {}",
                row.id,
                row.category,
                name(row.account_id).await,
                name(row.target_account_id).await,
                row.comment.replace('\n', " "),
            );
        }
        println!("{} open report(s)", rows.len());
        anyhow::Ok(())
    }
    .await;
    db.close().await;
    outcome
}

/// `perch admin report --id ID [--reopen]`: resolve a report, with the
/// owner's standing, or open it again.
pub async fn admin_resolve_report(config: Config, id: i64, resolve: bool) -> anyhow::Result<()> {
    let op = Operator::open(&config).await?;
    let outcome = async {
        let by = resolve.then_some(&op.actor);
        if !perch_domain::reports::resolve(&op.domain, id, by).await? {
            bail!("no report {id}");
        }
        anyhow::Ok(())
    }
    .await;
    op.close().await;
    outcome?;
    println!(
        "report {id} {}",
        if resolve { "resolved" } else { "reopened" }
    );
    Ok(())
}

/// What `perch admin domain-allow` was asked to do.
pub enum DomainAllowCommand {
    Add { domain: String },
    Remove { domain: String },
    List,
}

/// `perch admin domain-allow add|remove|list`: the servers the instance
/// federates with in allow-list mode.
pub async fn admin_domain_allow(config: Config, command: DomainAllowCommand) -> anyhow::Result<()> {
    let op = Operator::open(&config).await?;
    let outcome = async {
        let (db, domain) = (&op.db, &op.domain);
        match command {
            DomainAllowCommand::Add { domain: host } => {
                let row = perch_domain::federation::allow(domain, &host).await?;
                println!("allowed {}", row.domain);
            }
            DomainAllowCommand::Remove { domain: host } => {
                let row = perch_domain::federation::disallow(domain, &host)
                    .await
                    .with_context(|| format!("--domain {host}: not allowed"))?;
                println!("no longer allowed: {}", row.domain);
            }
            DomainAllowCommand::List => {
                for row in perch_db::domain_blocks::all_allows(db).await? {
                    println!("{}", row.domain);
                }
            }
        }
        anyhow::Ok(())
    }
    .await;
    op.close().await;
    outcome
}
