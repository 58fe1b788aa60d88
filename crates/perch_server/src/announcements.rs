//! `perch announcement add|list|remove`: the staff's announcements to every
//! local user, published through the domain layer as the API would, so
//! that connected clients hear of them (across processes on PostgreSQL).

use anyhow::Context;
use perch_core::time::UnixMillis;
use perch_domain::announcements::NewAnnouncement;

use crate::commands::Operator;
use crate::config::Config;

/// What `perch announcement` was asked to do.
pub enum AnnouncementCommand {
    Add {
        text: String,
        starts_at: Option<String>,
        ends_at: Option<String>,
        all_day: bool,
    },
    List,
    Remove {
        id: i64,
    },
}

fn time(flag: &str, text: Option<&str>) -> anyhow::Result<Option<UnixMillis>> {
    text.map(|text| {
        chrono::DateTime::parse_from_rfc3339(text.trim())
            .map(|t| t.timestamp_millis())
            .with_context(|| format!("{flag}: an RFC 3339 time, such as 2026-12-24T18:00:00Z"))
    })
    .transpose()
}

fn shown(at: Option<UnixMillis>) -> String {
    at.and_then(chrono::DateTime::from_timestamp_millis)
        .map_or_else(|| "-".to_owned(), |t| t.to_rfc3339())
}

/// Run `command`.
pub async fn announcement(config: Config, command: AnnouncementCommand) -> anyhow::Result<()> {
    if let AnnouncementCommand::Add {
        starts_at, ends_at, ..
    } = &command
    {
        time("--starts-at", starts_at.as_deref())?;
        time("--ends-at", ends_at.as_deref())?;
    }
    let op = Operator::open(&config).await?;
    let outcome = run(&op, command).await;
    op.close().await;
    outcome
}

async fn run(op: &Operator, command: AnnouncementCommand) -> anyhow::Result<()> {
    match command {
        AnnouncementCommand::Add {
            text,
            starts_at,
            ends_at,
            all_day,
        } => {
            let row = perch_domain::announcements::add(
                &op.domain,
                NewAnnouncement {
                    text: &text,
                    starts_at: time("--starts-at", starts_at.as_deref())?,
                    ends_at: time("--ends-at", ends_at.as_deref())?,
                    all_day,
                },
            )
            .await?;
            println!("{}", row.id);
        }
        AnnouncementCommand::List => {
            for row in perch_db::announcements::all(&op.db).await? {
                println!(
                    "{}\t{}\t{}\t{}",
                    row.id,
                    shown(row.starts_at),
                    shown(row.ends_at),
                    row.text.replace('\n', " ")
                );
            }
        }
        AnnouncementCommand::Remove { id } => {
            if !perch_domain::announcements::remove(&op.domain, id).await? {
                anyhow::bail!("no announcement {id}");
            }
            println!("removed {id}");
        }
    }
    Ok(())
}
