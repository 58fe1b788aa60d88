//! Reports (a user's, or a remote server's Flag) and the instance's rules
//! they cite.

use perch_core::time::UnixMillis;

use crate::page::Page;
use crate::statuses::StatusRow;
use crate::{Db, Result, Tx};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ReportRow {
    pub id: i64,
    /// Who reported: a local account, or the sender of a Flag.
    pub account_id: i64,
    pub target_account_id: i64,
    pub uri: Option<String>,
    pub comment: String,
    pub category: String,
    pub forwarded: bool,
    pub assigned_account_id: Option<i64>,
    pub action_taken_at: Option<i64>,
    pub action_taken_by_account_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! report_columns {
    () => {
        "id, account_id, target_account_id, uri, comment, category, forwarded, \
         assigned_account_id, action_taken_at, action_taken_by_account_id, created_at, \
         updated_at"
    };
}

/// A report to store.
#[derive(Clone, Debug)]
pub struct NewReport<'a> {
    pub id: i64,
    pub account_id: i64,
    pub target_account_id: i64,
    pub uri: Option<&'a str>,
    pub comment: &'a str,
    pub category: &'a str,
    pub forwarded: bool,
    pub status_ids: &'a [i64],
    pub rule_ids: &'a [i64],
    pub created_at: UnixMillis,
}

/// Store a report with its statuses and rules; false when a report with
/// the same Flag id exists (a redelivery).
pub async fn insert(tx: &mut Tx, new: &NewReport<'_>) -> Result<bool> {
    let inserted = on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO reports (id, account_id, target_account_id, uri, comment, category, \
             forwarded, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
             ON CONFLICT DO NOTHING",
        )
        .bind(new.id)
        .bind(new.account_id)
        .bind(new.target_account_id)
        .bind(new.uri)
        .bind(new.comment)
        .bind(new.category)
        .bind(new.forwarded)
        .bind(new.created_at)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    if inserted == 0 {
        return Ok(false);
    }
    for status_id in new.status_ids {
        on_tx!(tx, conn => {
            sqlx::query(
                "INSERT INTO report_statuses (report_id, status_id, uri, url, content, \
                 spoiler_text, sensitive, visibility, language, in_reply_to_uri, created_at) \
                 SELECT $1, id, uri, url, content, spoiler_text, sensitive, visibility, \
                 language, in_reply_to_uri, created_at FROM statuses WHERE id = $2 \
                 ON CONFLICT DO NOTHING",
            )
            .bind(new.id)
            .bind(status_id)
            .execute(&mut *conn)
            .await?;
        });
    }
    for rule_id in new.rule_ids {
        on_tx!(tx, conn => {
            sqlx::query(
                "INSERT INTO report_rules (report_id, rule_id) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(new.id)
            .bind(rule_id)
            .execute(&mut *conn)
            .await?;
        });
    }
    Ok(true)
}

pub async fn find(db: &Db, id: i64) -> Result<Option<ReportRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!("SELECT ", report_columns!(), " FROM reports WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
    }))
}

/// The reports about `target_account_id`, newest first, at most `limit`.
pub async fn about(db: &Db, target_account_id: i64, limit: i64) -> Result<Vec<ReportRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", report_columns!(),
            " FROM reports WHERE target_account_id = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(target_account_id)
        .bind(limit)
        .fetch_all(pool)
        .await?
    }))
}

/// The ids of the statuses a report points at, oldest first.
pub async fn status_ids(db: &Db, report_id: i64) -> Result<Vec<i64>> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT status_id FROM report_statuses WHERE report_id = $1 ORDER BY status_id",
        )
        .bind(report_id)
        .fetch_all(pool)
        .await?
    }))
}

/// The statuses a report points at, oldest first: each as it stands, or,
/// when its author deleted it since, as it was when reported (without its
/// counts, media or mentions).
pub async fn statuses(db: &Db, report_id: i64) -> Result<Vec<StatusRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT rs.status_id AS id, r.target_account_id AS account_id, rs.uri, \
             COALESCE(s.url, rs.url) AS url, COALESCE(s.content, rs.content) AS content, \
             s.source_text, COALESCE(s.spoiler_text, rs.spoiler_text) AS spoiler_text, \
             COALESCE(s.sensitive, rs.sensitive) AS sensitive, \
             COALESCE(s.visibility, rs.visibility) AS visibility, \
             COALESCE(s.language, rs.language) AS language, COALESCE(s.local, FALSE) AS local, \
             s.in_reply_to_id, s.in_reply_to_account_id, \
             COALESCE(s.in_reply_to_uri, rs.in_reply_to_uri) AS in_reply_to_uri, \
             CAST(NULL AS BIGINT) AS reblog_of_id, COALESCE(s.replies_count, 0) AS replies_count, \
             COALESCE(s.reblogs_count, 0) AS reblogs_count, \
             COALESCE(s.favourites_count, 0) AS favourites_count, rs.created_at, s.edited_at, \
             COALESCE(s.updated_at, rs.created_at) AS updated_at \
             FROM report_statuses rs JOIN reports r ON r.id = rs.report_id \
             LEFT JOIN statuses s ON s.id = rs.status_id \
             WHERE rs.report_id = $1 ORDER BY rs.status_id",
        )
        .bind(report_id)
        .fetch_all(pool)
        .await?
    }))
}

/// The ids of the rules a report cites.
pub async fn rule_ids(db: &Db, report_id: i64) -> Result<Vec<i64>> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT rule_id FROM report_rules WHERE report_id = $1 ORDER BY rule_id",
        )
        .bind(report_id)
        .fetch_all(pool)
        .await?
    }))
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct RuleRow {
    pub id: i64,
    pub text: String,
    pub hint: String,
    pub position: i32,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The rules in force, in their order.
pub async fn rules(db: &Db) -> Result<Vec<RuleRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT id, text, hint, position, created_at, updated_at FROM instance_rules \
             WHERE deleted_at IS NULL ORDER BY position, id",
        )
        .fetch_all(pool)
        .await?
    }))
}

/// Every rule ever set, retired ones too (reports cite them).
pub async fn all_rules(db: &Db) -> Result<Vec<RuleRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT id, text, hint, position, created_at, updated_at FROM instance_rules \
             ORDER BY position, id",
        )
        .fetch_all(pool)
        .await?
    }))
}

/// Add a rule at the end of the list.
pub async fn add_rule(
    db: &Db,
    id: i64,
    text: &str,
    hint: &str,
    now: UnixMillis,
) -> Result<RuleRow> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "INSERT INTO instance_rules (id, text, hint, position, created_at, updated_at) \
             SELECT $1, $2, $3, COALESCE(MAX(position), 0) + 1, $4, $4 FROM instance_rules \
             RETURNING id, text, hint, position, created_at, updated_at",
        )
        .bind(id)
        .bind(text)
        .bind(hint)
        .bind(now)
        .fetch_one(pool)
        .await?
    }))
}

/// Retire a rule (reports that cite it keep it); false when there was none.
pub async fn delete_rule(db: &Db, id: i64, now: UnixMillis) -> Result<bool> {
    let changed = on_db!(db, pool => {
        sqlx::query(
            "UPDATE instance_rules SET deleted_at = $2, updated_at = $2 \
             WHERE id = $1 AND deleted_at IS NULL",
        )
        .bind(id)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(changed == 1)
}

/// Which reports a moderator lists.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReportFilter {
    /// Resolved ones instead of the open ones.
    pub resolved: bool,
    /// Only those made by this account.
    pub account_id: Option<i64>,
    /// Only those about this account.
    pub target_account_id: Option<i64>,
}

/// A page of reports, newest first.
pub async fn page(db: &Db, filter: ReportFilter, page: &Page) -> Result<Vec<ReportRow>> {
    let (lower, upper) = (page.lower(), page.upper());
    macro_rules! query {
        ($order:literal) => {
            on_db!(db, pool => {
                sqlx::query_as(concat!(
                    "SELECT ", report_columns!(), " FROM reports \
                     WHERE id > $1 AND id < $2 AND (action_taken_at IS NOT NULL) = $4 \
                     AND ($5 IS NULL OR account_id = $5) \
                     AND ($6 IS NULL OR target_account_id = $6) \
                     ORDER BY id ", $order, " LIMIT $3"
                ))
                .bind(lower).bind(upper).bind(page.limit).bind(filter.resolved)
                .bind(filter.account_id).bind(filter.target_account_id)
                .fetch_all(pool).await?
            })
        };
    }
    let rows = if page.ascending() {
        query!("ASC")
    } else {
        query!("DESC")
    };
    Ok(page.finish(rows))
}

/// Assign a report to a moderator, or to nobody; false when there is no
/// such report.
pub async fn assign(db: &Db, id: i64, assignee: Option<i64>, now: UnixMillis) -> Result<bool> {
    let changed = on_db!(db, pool => {
        sqlx::query("UPDATE reports SET assigned_account_id = $2, updated_at = $3 WHERE id = $1")
            .bind(id)
            .bind(assignee)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(changed == 1)
}

/// Mark a report resolved by `by` (`Some`) or open again (`None`); false
/// when there is no such report.
pub async fn set_resolved(db: &Db, id: i64, by: Option<i64>, now: UnixMillis) -> Result<bool> {
    let changed = on_db!(db, pool => {
        sqlx::query(
            "UPDATE reports SET action_taken_at = CASE WHEN $2 IS NULL THEN NULL ELSE $3 END, \
             action_taken_by_account_id = $2, updated_at = $3 WHERE id = $1",
        )
        .bind(id)
        .bind(by)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected()
    });
    Ok(changed == 1)
}
