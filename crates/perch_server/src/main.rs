//! The `perch` command.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use perch_core::federation::Severity;
use perch_core::role::Role;
use perch_server::announcements::AnnouncementCommand;
use perch_server::commands::{
    self, AccountCommand, CreateUser, DomainAllowCommand, DomainBlockCommand, RuleAction,
};
use perch_server::config::Config;

/// Perch: a federated ActivityPub server with a Mastodon-compatible API.
#[derive(Parser)]
#[command(name = "perch", version, propagate_version = true)]
struct Cli {
    /// Configuration file (TOML); `PERCH_*` environment variables override it.
    /// Defaults to ./perch.toml when that file exists.
    #[arg(long, global = true, env = "PERCH_CONFIG", value_name = "PATH")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default when no command is given)
    Serve,
    /// Apply pending database migrations and exit
    Migrate,
    /// Manage local users
    #[command(subcommand)]
    User(UserCommand),
    /// Inspect the configuration
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Manage the keys that sign access tokens
    #[command(subcommand)]
    TokenKeys(TokenKeysCommand),
    /// Inspect and nudge the delivery queue; see the inbound one
    #[command(subcommand)]
    Queue(QueueCommand),
    /// The server's rules, shown to clients and cited in reports
    #[command(subcommand)]
    Rule(RuleCommand),
    /// Moderation from the command line, with the owner's standing
    #[command(subcommand)]
    Admin(AdminCommand),
    /// The server's custom emoji (`:shortcode:` in statuses)
    #[command(subcommand)]
    Emoji(EmojiCommand),
    /// Announcements to every local user, shown by their apps
    #[command(subcommand)]
    Announcement(AnnouncementArgs),
}

#[derive(Subcommand)]
enum AnnouncementArgs {
    /// Publish an announcement now (plain text; links and hashtags are
    /// linked); prints its id
    Add {
        #[arg(long)]
        text: String,
        /// When the event it announces starts (RFC 3339)
        #[arg(long)]
        starts_at: Option<String>,
        /// When it ends (RFC 3339); past it, the announcement is no longer shown
        #[arg(long)]
        ends_at: Option<String>,
        /// The event lasts whole days
        #[arg(long)]
        all_day: bool,
    },
    /// List the announcements: id, start, end, text
    List,
    /// Delete an announcement
    Remove {
        #[arg(long)]
        id: i64,
    },
}

#[derive(Subcommand)]
enum EmojiCommand {
    /// Add a custom emoji, or replace its picture (PNG, GIF, WebP or JPEG,
    /// 256 KiB at most)
    Add {
        #[arg(long)]
        shortcode: String,
        #[arg(long)]
        file: PathBuf,
        #[arg(long)]
        category: Option<String>,
    },
    /// List the custom emoji
    List,
    /// Remove a custom emoji
    Remove {
        #[arg(long)]
        shortcode: String,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Act on an account: suspend, silence, disable, sensitive, or undo one
    /// (unsuspend, unsilence, enable, unsensitive)
    Account {
        /// `username` for a local account, `user@domain` for a remote one
        #[arg(long)]
        account: String,
        #[arg(long)]
        action: AccountCommand,
    },
    /// The instance's blocks of other servers
    #[command(subcommand)]
    DomainBlock(DomainBlockArgs),
    /// The open reports, newest first
    Reports,
    /// Mark a report resolved (`--reopen`: open again)
    Report {
        #[arg(long)]
        id: i64,
        #[arg(long)]
        reopen: bool,
    },
    /// The servers allowed in allow-list mode (PERCH_FEDERATION_MODE=allowlist)
    #[command(subcommand)]
    DomainAllow(DomainAllowArgs),
}

#[derive(Subcommand)]
enum DomainAllowArgs {
    /// Allow a server and its subdomains
    Add {
        #[arg(long)]
        domain: String,
    },
    /// Take an allowance back
    Remove {
        #[arg(long)]
        domain: String,
    },
    /// List the allowed servers
    List,
}

#[derive(Subcommand)]
enum DomainBlockArgs {
    /// Block a server and its subdomains
    Add {
        #[arg(long)]
        domain: String,
        /// noop, silence or suspend
        #[arg(long, default_value = "suspend")]
        severity: Severity,
        #[arg(long)]
        reject_media: bool,
        #[arg(long)]
        reject_reports: bool,
        /// A note for the moderators
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Lift a block
    Remove {
        #[arg(long)]
        domain: String,
    },
    /// List the blocks
    List,
}

#[derive(Subcommand)]
enum RuleCommand {
    /// Add a rule at the end of the list
    Add {
        #[arg(long)]
        text: String,
        /// A longer explanation, shown beside the rule
        #[arg(long, default_value = "")]
        hint: String,
    },
    /// List the rules in force, in order
    List,
    /// Retire a rule (reports that cite it keep it)
    Remove {
        #[arg(long)]
        id: i64,
    },
}

#[derive(Subcommand)]
enum QueueCommand {
    /// Jobs pending, in flight, delivered and failed, and per server the
    /// failures, open circuits and unavailable servers; then the received
    /// activities waiting to be applied
    Stats,
    /// Make pending jobs due now and give failed ones another try, for one
    /// server (`--host example.social`) or all
    Retry {
        #[arg(long)]
        host: Option<String>,
    },
}

#[derive(Subcommand)]
enum TokenKeysCommand {
    /// Start signing with a new key; tokens signed with the old one stay
    /// valid until they expire. Running servers sign with the new key after
    /// a restart.
    Rotate,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a local user
    Create {
        /// Letters, digits and underscores, at most 30
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        /// Read the password from the first line of standard input;
        /// without it a random password is generated and printed
        #[arg(long)]
        password_stdin: bool,
        /// The user's role: owner, admin, moderator or user
        #[arg(long, default_value = "user", value_parser = parse_role)]
        role: Role,
        /// The same as --role admin
        #[arg(long, conflicts_with = "role")]
        admin: bool,
    },
    /// List local users
    List,
    /// Give a local user a role: owner, admin, moderator or user
    Role {
        #[arg(long)]
        username: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// Approve a sign-up waiting for an administrator (PERCH_REGISTRATIONS=approval)
    Approve {
        #[arg(long)]
        username: String,
    },
    /// Delete a local account: everything of it goes, and the servers that
    /// know it are told (when `perch serve` next runs its delivery queue)
    Delete {
        #[arg(long)]
        username: String,
    },
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validate the configuration, the data directory and the database
    /// connection, and print the effective settings
    Check,
}

fn parse_role(name: &str) -> Result<Role, String> {
    name.parse()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(error) => return fail(&anyhow::Error::new(error)),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return fail(&anyhow::Error::new(error).context("starting the runtime")),
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => commands::serve(config).await,
            Command::Migrate => commands::migrate(config).await,
            Command::User(UserCommand::Create {
                username,
                email,
                password_stdin,
                role,
                admin,
            }) => {
                let request = CreateUser {
                    username,
                    email,
                    password_from_stdin: password_stdin,
                    role: if admin { Role::Admin } else { role },
                };
                commands::create_user(config, request).await
            }
            Command::User(UserCommand::List) => commands::list_users(config).await,
            Command::User(UserCommand::Role { username, role }) => {
                commands::set_user_role(config, &username, role).await
            }
            Command::User(UserCommand::Approve { username }) => {
                commands::approve_user(config, &username).await
            }
            Command::User(UserCommand::Delete { username }) => {
                commands::delete_user(config, &username).await
            }
            Command::Config(ConfigCommand::Check) => commands::check_config(config).await,
            Command::Admin(AdminCommand::Account { account, action }) => {
                commands::admin_account(config, &account, action).await
            }
            Command::Admin(AdminCommand::DomainBlock(args)) => {
                let command = match args {
                    DomainBlockArgs::Add {
                        domain,
                        severity,
                        reject_media,
                        reject_reports,
                        comment,
                    } => DomainBlockCommand::Add {
                        domain,
                        severity,
                        reject_media,
                        reject_reports,
                        comment,
                    },
                    DomainBlockArgs::Remove { domain } => DomainBlockCommand::Remove { domain },
                    DomainBlockArgs::List => DomainBlockCommand::List,
                };
                commands::admin_domain_block(config, command).await
            }
            Command::Admin(AdminCommand::Reports) => commands::admin_reports(config).await,
            Command::Admin(AdminCommand::Report { id, reopen }) => {
                commands::admin_resolve_report(config, id, !reopen).await
            }
            Command::Admin(AdminCommand::DomainAllow(args)) => {
                let command = match args {
                    DomainAllowArgs::Add { domain } => DomainAllowCommand::Add { domain },
                    DomainAllowArgs::Remove { domain } => DomainAllowCommand::Remove { domain },
                    DomainAllowArgs::List => DomainAllowCommand::List,
                };
                commands::admin_domain_allow(config, command).await
            }
            Command::Emoji(EmojiCommand::Add {
                shortcode,
                file,
                category,
            }) => commands::add_emoji(config, &shortcode, &file, category.as_deref()).await,
            Command::Emoji(EmojiCommand::List) => commands::list_emojis(config).await,
            Command::Announcement(args) => {
                let command = match args {
                    AnnouncementArgs::Add {
                        text,
                        starts_at,
                        ends_at,
                        all_day,
                    } => AnnouncementCommand::Add {
                        text,
                        starts_at,
                        ends_at,
                        all_day,
                    },
                    AnnouncementArgs::List => AnnouncementCommand::List,
                    AnnouncementArgs::Remove { id } => AnnouncementCommand::Remove { id },
                };
                perch_server::announcements::announcement(config, command).await
            }
            Command::Emoji(EmojiCommand::Remove { shortcode }) => {
                commands::remove_emoji(config, &shortcode).await
            }
            Command::Rule(rule) => {
                let action = match rule {
                    RuleCommand::Add { text, hint } => RuleAction::Add { text, hint },
                    RuleCommand::List => RuleAction::List,
                    RuleCommand::Remove { id } => RuleAction::Remove { id },
                };
                commands::rules(config, action).await
            }
            Command::Queue(QueueCommand::Stats) => commands::queue_stats(config).await,
            Command::Queue(QueueCommand::Retry { host }) => {
                commands::queue_retry(config, host.as_deref()).await
            }
            Command::TokenKeys(TokenKeysCommand::Rotate) => {
                commands::rotate_token_keys(config).await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

/// One line on stderr, the whole cause chain, and exit status 1.
fn fail(error: &anyhow::Error) -> ExitCode {
    eprintln!("error: {error:#}");
    ExitCode::FAILURE
}
