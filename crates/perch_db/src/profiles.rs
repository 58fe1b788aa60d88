//! Profiles as their owners edit them (display name, note, flags, metadata
//! fields, images), remote accounts looked up by `username@domain`, and the
//! relationships between one account and a set of others as clients ask for
//! them.

use perch_core::time::UnixMillis;

use crate::accounts::AccountRow;
use crate::{Db, Result, Tx};

/// A profile metadata pair (a row of `account_fields`).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct FieldRow {
    pub name: String,
    /// HTML, as shown on the profile.
    pub value: String,
    /// The plain text a local owner typed; `None` for remote accounts.
    pub value_source: Option<String>,
    pub verified_at: Option<i64>,
}

/// Changes to a local profile; `None` leaves a value as it is.
#[derive(Clone, Debug, Default)]
pub struct ProfileUpdate<'a> {
    pub display_name: Option<&'a str>,
    /// The note as HTML and as typed.
    pub note: Option<(&'a str, &'a str)>,
    pub locked: Option<bool>,
    pub bot: Option<bool>,
    pub discoverable: Option<bool>,
    /// Replaces every field, in this order.
    pub fields: Option<&'a [FieldRow]>,
    pub avatar_url: Option<&'a str>,
    pub header_url: Option<&'a str>,
    /// The user's posting defaults (`source[…]`): a visibility, whether
    /// media start sensitive, and a language (empty: none chosen).
    pub default_visibility: Option<i16>,
    pub default_sensitive: Option<bool>,
    pub default_language: Option<&'a str>,
}

/// Apply `update` to the local account `account_id` in `tx`. Returns false
/// when there is no such local account.
pub async fn update(
    tx: &mut Tx,
    account_id: i64,
    update: &ProfileUpdate<'_>,
    now: UnixMillis,
) -> Result<bool> {
    let updated = on_tx!(tx, conn => {
        let rows = sqlx::query(
            "UPDATE accounts SET display_name = COALESCE($2, display_name), \
               note = COALESCE($3, note), note_source = COALESCE($4, note_source), \
               locked = COALESCE($5, locked), bot = COALESCE($6, bot), \
               discoverable = COALESCE($7, discoverable), \
               avatar_url = COALESCE($8, avatar_url), header_url = COALESCE($9, header_url), \
               updated_at = $10 \
             WHERE id = $1 AND domain IS NULL",
        )
        .bind(account_id)
        .bind(update.display_name)
        .bind(update.note.map(|(html, _)| html))
        .bind(update.note.map(|(_, source)| source))
        .bind(update.locked)
        .bind(update.bot)
        .bind(update.discoverable)
        .bind(update.avatar_url)
        .bind(update.header_url)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        let posting = update.default_visibility.is_some()
            || update.default_sensitive.is_some()
            || update.default_language.is_some();
        if rows == 1 && posting {
            sqlx::query(
                "UPDATE users SET default_visibility = COALESCE($2, default_visibility), \
                   default_sensitive = COALESCE($3, default_sensitive), \
                   default_language = CASE WHEN $4 IS NULL THEN default_language \
                     WHEN $4 = '' THEN NULL ELSE $4 END \
                 WHERE account_id = $1",
            )
            .bind(account_id)
            .bind(update.default_visibility)
            .bind(update.default_sensitive)
            .bind(update.default_language)
            .execute(&mut *conn)
            .await?;
        }
        if let (1, Some(fields)) = (rows, update.fields) {
            sqlx::query("DELETE FROM account_fields WHERE account_id = $1")
                .bind(account_id)
                .execute(&mut *conn)
                .await?;
            for (ordinal, field) in (0_i32..).zip(fields) {
                sqlx::query(
                    "INSERT INTO account_fields \
                       (account_id, ordinal, name, value, value_source, verified_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(account_id)
                .bind(ordinal)
                .bind(&field.name)
                .bind(&field.value)
                .bind(&field.value_source)
                .bind(field.verified_at)
                .execute(&mut *conn)
                .await?;
            }
        }
        rows == 1
    });
    Ok(updated)
}

/// An account's metadata fields, in display order.
pub async fn fields_of(db: &Db, account_id: i64) -> Result<Vec<FieldRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(FIELDS_OF)
            .bind(account_id)
            .fetch_all(pool)
            .await?
    }))
}

/// [`fields_of`], in a transaction.
pub async fn fields_of_in(tx: &mut Tx, account_id: i64) -> Result<Vec<FieldRow>> {
    Ok(on_tx!(tx, conn => {
        sqlx::query_as(FIELDS_OF)
            .bind(account_id)
            .fetch_all(&mut *conn)
            .await?
    }))
}

const FIELDS_OF: &str = "SELECT name, value, value_source, verified_at FROM account_fields \
                         WHERE account_id = $1 ORDER BY ordinal";

/// The note of an account as its owner typed it (empty for remote accounts).
pub async fn note_source(db: &Db, account_id: i64) -> Result<Option<String>> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar("SELECT note_source FROM accounts WHERE id = $1")
            .bind(account_id)
            .fetch_optional(pool)
            .await?
    }))
}

/// A known remote account by `username@domain`, case-insensitively. Written
/// to match the `accounts_username_domain` index.
pub async fn find_remote(db: &Db, username: &str, domain: &str) -> Result<Option<AccountRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", account_columns!(),
            " FROM accounts WHERE lower(username) = lower($1) \
               AND COALESCE(lower(domain), '') = lower($2) AND domain IS NOT NULL"
        ))
        .bind(username)
        .bind(domain)
        .fetch_optional(pool)
        .await?
    }))
}

/// How one account (`me`) relates to another (`id`), from follows, follow
/// requests, blocks, mutes and `me`'s blocks of servers.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct RelationshipRow {
    pub id: i64,
    /// `me` follows `id`.
    pub following: bool,
    /// The settings of the follow, or of the request until it is accepted.
    pub showing_reblogs: bool,
    pub notifying: bool,
    /// `id` follows `me`.
    pub followed_by: bool,
    /// `me` asked to follow `id`.
    pub requested: bool,
    /// `id` asked to follow `me`.
    pub requested_by: bool,
    pub blocking: bool,
    pub blocked_by: bool,
    pub muting: bool,
    /// `me` mutes `id` and its notifications too.
    pub muting_notifications: bool,
    /// `me` blocks `id`'s server.
    pub domain_blocking: bool,
    /// `me`'s private note about `id` (empty: none).
    pub note: String,
}

/// The columns of [`RelationshipRow`] for the accounts `a`, seen by `$1`.
macro_rules! relationship_select {
    () => {
        "SELECT a.id, f.id IS NOT NULL AS following, \
           COALESCE(f.show_reblogs, r.show_reblogs, FALSE) AS showing_reblogs, \
           COALESCE(f.notify, r.notify, FALSE) AS notifying, \
           EXISTS (SELECT 1 FROM follows b \
                   WHERE b.account_id = a.id AND b.target_account_id = $1) AS followed_by, \
           r.id IS NOT NULL AS requested, \
           EXISTS (SELECT 1 FROM follow_requests q \
                   WHERE q.account_id = a.id AND q.target_account_id = $1) AS requested_by, \
           EXISTS (SELECT 1 FROM blocks k \
                   WHERE k.account_id = $1 AND k.target_account_id = a.id) AS blocking, \
           EXISTS (SELECT 1 FROM blocks k \
                   WHERE k.account_id = a.id AND k.target_account_id = $1) AS blocked_by, \
           m.account_id IS NOT NULL AS muting, \
           COALESCE(m.hide_notifications, FALSE) AS muting_notifications, \
           EXISTS (SELECT 1 FROM account_domain_blocks d \
                   WHERE d.account_id = $1 AND d.domain = a.domain) AS domain_blocking, \
           COALESCE((SELECT n.comment FROM account_notes n \
                     WHERE n.account_id = $1 AND n.target_account_id = a.id), '') AS note \
         FROM accounts a \
         LEFT JOIN follows f ON f.account_id = $1 AND f.target_account_id = a.id \
         LEFT JOIN follow_requests r ON r.account_id = $1 AND r.target_account_id = a.id \
         LEFT JOIN mutes m ON m.account_id = $1 AND m.target_account_id = a.id "
    };
}

/// Relationships of `me` with each of `ids` that exists, in one query, in
/// no particular order. The id list is bound as one parameter: an array on
/// PostgreSQL, a JSON array (read with `json_each`) on SQLite, which has no
/// arrays.
pub async fn relationships(db: &Db, me: i64, ids: &[i64]) -> Result<Vec<RelationshipRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(match db {
        Db::Sqlite(pool) => {
            let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            sqlx::query_as(concat!(
                relationship_select!(),
                "WHERE a.id IN (SELECT value FROM json_each($2))"
            ))
            .bind(me)
            .bind(format!("[{list}]"))
            .fetch_all(pool)
            .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_as(concat!(relationship_select!(), "WHERE a.id = ANY($2)"))
                .bind(me)
                .bind(ids)
                .fetch_all(pool)
                .await?
        }
    })
}

/// Set `account_id`'s private note about `target_id`; an empty one
/// removes it.
pub async fn set_note(
    db: &Db,
    account_id: i64,
    target_id: i64,
    comment: &str,
    now: UnixMillis,
) -> Result<()> {
    on_db!(db, pool => {
        if comment.is_empty() {
            sqlx::query("DELETE FROM account_notes WHERE account_id = $1 AND target_account_id = $2")
                .bind(account_id)
                .bind(target_id)
                .execute(pool)
                .await?;
        } else {
            sqlx::query(
                "INSERT INTO account_notes (account_id, target_account_id, comment, updated_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, target_account_id) \
                 DO UPDATE SET comment = excluded.comment, updated_at = excluded.updated_at",
            )
            .bind(account_id)
            .bind(target_id)
            .bind(comment)
            .bind(now)
            .execute(pool)
            .await?;
        }
    });
    Ok(())
}
