//! The instance's blocks and allowances of other servers (an admin's, for
//! everyone here; a user's own blocks are in `blocks`), and the marks a
//! block leaves on the accounts of the server it names.

use perch_core::federation::{DomainBlock, Severity};
use perch_core::time::UnixMillis;

use crate::page::Page;
use crate::{Db, Result, Tx};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DomainBlockRow {
    pub id: i64,
    pub domain: String,
    pub severity: String,
    pub reject_media: bool,
    pub reject_reports: bool,
    pub private_comment: String,
    pub public_comment: String,
    pub obfuscate: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl DomainBlockRow {
    /// The severity; a name this version does not know counts as the
    /// hardest.
    pub fn severity(&self) -> Severity {
        self.severity.parse().unwrap_or(Severity::Suspend)
    }

    pub fn rule(&self) -> DomainBlock {
        DomainBlock {
            domain: self.domain.clone(),
            severity: self.severity(),
            reject_media: self.reject_media,
            reject_reports: self.reject_reports,
        }
    }
}

macro_rules! block_columns {
    () => {
        "id, domain, severity, reject_media, reject_reports, private_comment, public_comment, \
         obfuscate, created_at, updated_at"
    };
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DomainAllowRow {
    pub id: i64,
    pub domain: String,
    pub created_at: i64,
}

/// Every block, for the policy.
pub async fn all_blocks(db: &Db) -> Result<Vec<DomainBlockRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!("SELECT ", block_columns!(), " FROM instance_domain_blocks ORDER BY id"))
            .fetch_all(pool)
            .await?
    }))
}

/// Every allowance, for the policy.
pub async fn all_allows(db: &Db) -> Result<Vec<DomainAllowRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as("SELECT id, domain, created_at FROM instance_domain_allows ORDER BY id")
            .fetch_all(pool)
            .await?
    }))
}

/// A page of blocks, newest first.
pub async fn page(db: &Db, page: &Page) -> Result<Vec<DomainBlockRow>> {
    let (lower, upper) = (page.lower(), page.upper());
    let rows = on_db!(db, pool => {
        if page.ascending() {
            sqlx::query_as(concat!(
                "SELECT ", block_columns!(), " FROM instance_domain_blocks \
                 WHERE id > $1 AND id < $2 ORDER BY id ASC LIMIT $3"
            ))
            .bind(lower).bind(upper).bind(page.limit).fetch_all(pool).await?
        } else {
            sqlx::query_as(concat!(
                "SELECT ", block_columns!(), " FROM instance_domain_blocks \
                 WHERE id > $1 AND id < $2 ORDER BY id DESC LIMIT $3"
            ))
            .bind(lower).bind(upper).bind(page.limit).fetch_all(pool).await?
        }
    });
    Ok(page.finish(rows))
}

pub async fn find(db: &Db, id: i64) -> Result<Option<DomainBlockRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!("SELECT ", block_columns!(), " FROM instance_domain_blocks WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
    }))
}

/// Store a new block; false when the domain is blocked already.
pub async fn insert(tx: &mut Tx, row: &DomainBlockRow) -> Result<bool> {
    let inserted = on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO instance_domain_blocks (id, domain, severity, reject_media, \
             reject_reports, private_comment, public_comment, obfuscate, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
        )
        .bind(row.id).bind(&row.domain).bind(&row.severity).bind(row.reject_media)
        .bind(row.reject_reports).bind(&row.private_comment).bind(&row.public_comment)
        .bind(row.obfuscate).bind(row.created_at).bind(row.updated_at)
        .execute(&mut *conn).await?.rows_affected()
    });
    Ok(inserted == 1)
}

/// Replace a block's settings (not its domain).
pub async fn update(tx: &mut Tx, row: &DomainBlockRow) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(
            "UPDATE instance_domain_blocks SET severity = $2, reject_media = $3, \
             reject_reports = $4, private_comment = $5, public_comment = $6, obfuscate = $7, \
             updated_at = $8 WHERE id = $1",
        )
        .bind(row.id).bind(&row.severity).bind(row.reject_media).bind(row.reject_reports)
        .bind(&row.private_comment).bind(&row.public_comment).bind(row.obfuscate)
        .bind(row.updated_at)
        .execute(&mut *conn).await?;
    });
    Ok(())
}

pub async fn delete(tx: &mut Tx, id: i64) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query("DELETE FROM instance_domain_blocks WHERE id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

/// Mark the accounts of `domain` and its subdomains silenced or suspended
/// (`severity`) as of `at`, those not marked already; a suspension also
/// takes their statuses out of every home feed. `at` is the block's
/// creation time, so that lifting the block lifts only its own marks.
pub async fn mark_accounts(
    tx: &mut Tx,
    domain: &str,
    severity: Severity,
    at: UnixMillis,
) -> Result<()> {
    let pattern = format!("%.{domain}");
    macro_rules! mark {
        ($column:literal) => {
            on_tx!(tx, conn => {
                sqlx::query(concat!(
                    "UPDATE accounts SET ", $column, " = $3 WHERE ", $column, " IS NULL \
                     AND (domain = $1 OR domain LIKE $2)"
                ))
                .bind(domain).bind(&pattern).bind(at)
                .execute(&mut *conn).await?;
            })
        };
    }
    match severity {
        Severity::Noop => {}
        Severity::Silence => mark!("silenced_at"),
        Severity::Suspend => {
            mark!("suspended_at");
            on_tx!(tx, conn => {
                sqlx::query(
                    "DELETE FROM home_feed WHERE status_id IN ( \
                       SELECT s.id FROM statuses s JOIN accounts a ON a.id = s.account_id \
                       WHERE a.domain = $1 OR a.domain LIKE $2)",
                )
                .bind(domain).bind(&pattern)
                .execute(&mut *conn).await?;
            });
        }
    }
    Ok(())
}

/// Forget the media of `domain` and its subdomains, for a block that
/// rejects it: the accounts' avatars and headers, and the attachments of
/// their statuses (kept by reference only, so no file goes). The text stays.
pub async fn clear_media(tx: &mut Tx, domain: &str) -> Result<()> {
    let pattern = format!("%.{domain}");
    on_tx!(tx, conn => {
        sqlx::query(
            "UPDATE accounts SET avatar_url = NULL, header_url = NULL \
             WHERE (domain = $1 OR domain LIKE $2) \
             AND (avatar_url IS NOT NULL OR header_url IS NOT NULL)",
        )
        .bind(domain).bind(&pattern)
        .execute(&mut *conn).await?;
        sqlx::query(
            "DELETE FROM media_attachments WHERE remote_url IS NOT NULL AND account_id IN ( \
               SELECT id FROM accounts WHERE domain = $1 OR domain LIKE $2)",
        )
        .bind(domain).bind(&pattern)
        .execute(&mut *conn).await?;
    });
    Ok(())
}

/// Lift the marks a block of `domain` made at `at` (see [`mark_accounts`]);
/// marks a moderator set on an account by itself stay.
pub async fn unmark_accounts(tx: &mut Tx, domain: &str, at: UnixMillis) -> Result<()> {
    let pattern = format!("%.{domain}");
    for column in ["silenced_at", "suspended_at"] {
        let sql = format!(
            "UPDATE accounts SET {column} = NULL WHERE {column} = $3 \
             AND (domain = $1 OR domain LIKE $2)"
        );
        on_tx!(tx, conn => {
            sqlx::query(&sql)
                .bind(domain).bind(&pattern).bind(at)
                .execute(&mut *conn).await?;
        });
    }
    Ok(())
}

/// Allow a server (allow-list mode); false when it was allowed.
pub async fn insert_allow(db: &Db, id: i64, domain: &str, now: UnixMillis) -> Result<bool> {
    let inserted = on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO instance_domain_allows (id, domain, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(id).bind(domain).bind(now)
        .execute(pool).await?.rows_affected()
    });
    Ok(inserted == 1)
}

pub async fn find_allow(db: &Db, id: i64) -> Result<Option<DomainAllowRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as("SELECT id, domain, created_at FROM instance_domain_allows WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await?
    }))
}

pub async fn find_allow_by_domain(db: &Db, domain: &str) -> Result<Option<DomainAllowRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as("SELECT id, domain, created_at FROM instance_domain_allows WHERE domain = $1")
            .bind(domain)
            .fetch_optional(pool)
            .await?
    }))
}

pub async fn delete_allow(db: &Db, id: i64) -> Result<bool> {
    let deleted = on_db!(db, pool => {
        sqlx::query("DELETE FROM instance_domain_allows WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(deleted == 1)
}

pub async fn find_by_domain(db: &Db, domain: &str) -> Result<Option<DomainBlockRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!("SELECT ", block_columns!(), " FROM instance_domain_blocks WHERE domain = $1"))
            .bind(domain)
            .fetch_optional(pool)
            .await?
    }))
}
