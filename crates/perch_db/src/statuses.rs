//! Statuses: posts and reblogs, what they mention and tag, their edits, and
//! the counters that depend on them (kept in step in the same transaction).
//!
//! A reblog is a status row of its own whose `reblog_of_id` names the
//! original, so home feeds and account timelines page over one table.

use perch_core::time::UnixMillis;

use crate::accounts::AccountRow;
use crate::search::searchable_text;
use crate::{Db, Result, Tx};

/// A row of `statuses`.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StatusRow {
    pub id: i64,
    pub account_id: i64,
    pub uri: String,
    pub url: Option<String>,
    /// Sanitised HTML.
    pub content: String,
    /// The plain text a local author wrote (for editing).
    pub source_text: Option<String>,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub visibility: i16,
    pub language: Option<String>,
    pub local: bool,
    pub in_reply_to_id: Option<i64>,
    pub in_reply_to_account_id: Option<i64>,
    pub in_reply_to_uri: Option<String>,
    pub reblog_of_id: Option<i64>,
    pub replies_count: i64,
    pub reblogs_count: i64,
    pub favourites_count: i64,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub updated_at: i64,
}

/// A status to store.
#[derive(Clone, Debug)]
pub struct NewStatus {
    pub id: i64,
    pub account_id: i64,
    pub uri: String,
    pub url: Option<String>,
    pub content: String,
    pub source_text: Option<String>,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub visibility: i16,
    pub language: Option<String>,
    pub local: bool,
    pub in_reply_to_id: Option<i64>,
    pub in_reply_to_account_id: Option<i64>,
    pub in_reply_to_uri: Option<String>,
    pub reblog_of_id: Option<i64>,
    pub created_at: UnixMillis,
}

/// Store a status with its mentions (account ids) and tags (lower-cased
/// names), and bump the counters it affects: the author's statuses, the
/// parent's replies, the original's reblogs. False when a status with this
/// id or URI exists already (a redelivered Create).
pub async fn insert(
    tx: &mut Tx,
    status: &NewStatus,
    mentions: &[i64],
    tags: &[(i64, String)],
) -> Result<bool> {
    let inserted = on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO statuses (id, account_id, uri, url, content, source_text, \
             spoiler_text, sensitive, visibility, language, local, in_reply_to_id, \
             in_reply_to_account_id, in_reply_to_uri, reblog_of_id, created_at, updated_at, \
             search_text) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16, \
                     $17) \
             ON CONFLICT DO NOTHING",
        )
        .bind(status.id)
        .bind(status.account_id)
        .bind(&status.uri)
        .bind(&status.url)
        .bind(&status.content)
        .bind(&status.source_text)
        .bind(&status.spoiler_text)
        .bind(status.sensitive)
        .bind(status.visibility)
        .bind(&status.language)
        .bind(status.local)
        .bind(status.in_reply_to_id)
        .bind(status.in_reply_to_account_id)
        .bind(&status.in_reply_to_uri)
        .bind(status.reblog_of_id)
        .bind(status.created_at)
        .bind(
            status
                .reblog_of_id
                .is_none()
                .then(|| searchable_text(&status.spoiler_text, &status.content)),
        )
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    if inserted == 0 {
        return Ok(false);
    }
    // A new status has no mentions or tags to replace.
    add_mentions_and_tags(tx, status.id, mentions, tags).await?;
    on_tx!(tx, conn => {
        sqlx::query(
            "UPDATE accounts SET statuses_count = statuses_count + 1, \
             last_status_at = CASE WHEN last_status_at IS NULL OR last_status_at < $1 \
                                   THEN $1 ELSE last_status_at END \
             WHERE id = $2",
        )
        .bind(status.created_at)
        .bind(status.account_id)
        .execute(&mut *conn)
        .await?;
        if let Some(parent) = status.in_reply_to_id {
            sqlx::query("UPDATE statuses SET replies_count = replies_count + 1 WHERE id = $1")
                .bind(parent)
                .execute(&mut *conn)
                .await?;
        }
        if let Some(original) = status.reblog_of_id {
            sqlx::query("UPDATE statuses SET reblogs_count = reblogs_count + 1 WHERE id = $1")
                .bind(original)
                .execute(&mut *conn)
                .await?;
        }
    });
    Ok(true)
}

/// Replace a status's mentions and tags (see [`add_mentions_and_tags`]).
async fn set_mentions_and_tags(
    tx: &mut Tx,
    status_id: i64,
    mentions: &[i64],
    tags: &[(i64, String)],
) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query("DELETE FROM status_mentions WHERE status_id = $1")
            .bind(status_id)
            .execute(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM status_tags WHERE status_id = $1")
            .bind(status_id)
            .execute(&mut *conn)
            .await?;
    });
    add_mentions_and_tags(tx, status_id, mentions, tags).await
}

/// Add mentions and tags to a status. Tag names are created on first use;
/// `tags` holds `(new tag id, lower-cased name)` pairs, the id being used
/// only when the name is new.
async fn add_mentions_and_tags(
    tx: &mut Tx,
    status_id: i64,
    mentions: &[i64],
    tags: &[(i64, String)],
) -> Result<()> {
    on_tx!(tx, conn => {
        for account_id in mentions {
            sqlx::query(
                "INSERT INTO status_mentions (status_id, account_id) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(status_id)
            .bind(account_id)
            .execute(&mut *conn)
            .await?;
        }
        for (new_id, name) in tags {
            sqlx::query(
                "INSERT INTO tags (id, name, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(new_id)
            .bind(name)
            .bind(perch_core::time::now_millis())
            .execute(&mut *conn)
            .await?;
            sqlx::query(
                "INSERT INTO status_tags (status_id, tag_id) \
                 SELECT $1, id FROM tags WHERE name = $2 ON CONFLICT DO NOTHING",
            )
            .bind(status_id)
            .bind(name)
            .execute(&mut *conn)
            .await?;
        }
    });
    Ok(())
}

/// Put a new status in the home feeds of those who should see it there:
/// its local author, its author's local followers (unless it is direct),
/// and the local accounts in `addressed` (the mentioned, for private and
/// direct statuses); with `to_tag_followers` (a public original status of
/// an account not limited), in the feeds of the local accounts that follow
/// one of its hashtags; and, unless it is direct, in the lists of its
/// author that show it. Blocks and mutes are left to the reading, which
/// applies them to every entry alike.
pub async fn fan_out(
    tx: &mut Tx,
    status_id: i64,
    author_id: i64,
    to_followers: bool,
    addressed: &[i64],
    to_tag_followers: bool,
) -> Result<()> {
    // One statement for every feed: a post is one round trip however many
    // local accounts receive it.
    match tx {
        Tx::Sqlite(tx) => {
            sqlx::query(
                "INSERT INTO home_feed (account_id, status_id) \
                 SELECT id, $1 FROM accounts WHERE id = $2 AND domain IS NULL \
                 UNION SELECT f.account_id, $1 FROM follows f \
                   JOIN accounts a ON a.id = f.account_id \
                   WHERE $3 AND f.target_account_id = $2 AND a.domain IS NULL \
                 UNION SELECT id, $1 FROM accounts \
                   WHERE id IN (SELECT value FROM json_each($4)) AND domain IS NULL \
                 UNION SELECT tf.account_id, $1 FROM status_tags st \
                   JOIN tag_follows tf ON tf.tag_id = st.tag_id \
                   WHERE $5 AND st.status_id = $1 \
                 ON CONFLICT DO NOTHING",
            )
            .bind(status_id)
            .bind(author_id)
            .bind(to_followers)
            .bind(crate::pool::json_ids(addressed))
            .bind(to_tag_followers)
            .execute(&mut **tx)
            .await?;
        }
        Tx::Postgres(tx) => {
            sqlx::query(
                "INSERT INTO home_feed (account_id, status_id) \
                 SELECT id, $1 FROM accounts WHERE id = $2 AND domain IS NULL \
                 UNION SELECT f.account_id, $1 FROM follows f \
                   JOIN accounts a ON a.id = f.account_id \
                   WHERE $3 AND f.target_account_id = $2 AND a.domain IS NULL \
                 UNION SELECT id, $1 FROM accounts WHERE id = ANY($4) AND domain IS NULL \
                 UNION SELECT tf.account_id, $1 FROM status_tags st \
                   JOIN tag_follows tf ON tf.tag_id = st.tag_id \
                   WHERE $5 AND st.status_id = $1 \
                 ON CONFLICT DO NOTHING",
            )
            .bind(status_id)
            .bind(author_id)
            .bind(to_followers)
            .bind(addressed)
            .bind(to_tag_followers)
            .execute(&mut **tx)
            .await?;
        }
    }
    if to_followers {
        crate::lists::fan_out(tx, status_id, author_id).await?;
    }
    Ok(())
}

/// Bring `author_id`'s latest non-direct statuses into `follower_id`'s home
/// feed when the follow starts, so the timeline does not wait for new posts.
pub async fn merge_into_home(
    tx: &mut Tx,
    follower_id: i64,
    author_id: i64,
    limit: i64,
) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO home_feed (account_id, status_id) \
             SELECT $1, s.id FROM statuses s WHERE s.account_id = $2 AND s.visibility <= 2 \
             AND EXISTS (SELECT 1 FROM accounts f WHERE f.id = $1 AND f.domain IS NULL) \
             ORDER BY s.id DESC LIMIT $3 \
             ON CONFLICT DO NOTHING",
        )
        .bind(follower_id)
        .bind(author_id)
        .bind(limit)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// Take `author_id`'s statuses out of `follower_id`'s home feed when the
/// follow ends (reblogs and direct messages it was addressed stay).
pub async fn remove_from_home(tx: &mut Tx, follower_id: i64, author_id: i64) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(
            "DELETE FROM home_feed WHERE account_id = $1 AND status_id IN \
             (SELECT s.id FROM statuses s WHERE s.account_id = $2 AND s.visibility <= 2 \
              AND NOT EXISTS (SELECT 1 FROM status_mentions m \
                              WHERE m.status_id = s.id AND m.account_id = $1))",
        )
        .bind(follower_id)
        .bind(author_id)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

pub async fn find_by_id(db: &Db, id: i64) -> Result<Option<StatusRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!("SELECT ", status_columns!(), " FROM statuses s WHERE s.id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
    }))
}

pub async fn find_by_uri(db: &Db, uri: &str) -> Result<Option<StatusRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!("SELECT ", status_columns!(), " FROM statuses s WHERE s.uri = $1"))
            .bind(uri)
            .fetch_optional(pool)
            .await?
    }))
}

/// The status, if `viewer` (0: nobody signed in) may read it.
pub async fn find_readable(db: &Db, id: i64, viewer: i64) -> Result<Option<StatusRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", status_columns!(), " FROM statuses s WHERE s.id = $1 AND ",
            visible_to!("$2")
        ))
        .bind(id)
        .bind(viewer)
        .fetch_optional(pool)
        .await?
    }))
}

/// Those of several statuses that `viewer` (0: nobody signed in) may read,
/// in no particular order.
pub async fn find_readable_many(db: &Db, ids: &[i64], viewer: i64) -> Result<Vec<StatusRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(fetch_by_ids!(
        db,
        ids,
        query_as,
        concat!("SELECT ", status_columns!(), " FROM statuses s WHERE s.id"),
        concat!(" AND ", visible_to!("$2")),
        viewer
    ))
}

/// Several statuses by id, in no particular order.
pub async fn find_many(db: &Db, ids: &[i64]) -> Result<Vec<StatusRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(fetch_by_ids!(
        db,
        ids,
        query_as,
        concat!("SELECT ", status_columns!(), " FROM statuses s WHERE s.id"),
        ""
    ))
}

/// `account_id`'s reblog of `original_id`.
pub async fn find_reblog(db: &Db, account_id: i64, original_id: i64) -> Result<Option<StatusRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", status_columns!(),
            " FROM statuses s WHERE s.account_id = $1 AND s.reblog_of_id = $2"
        ))
        .bind(account_id)
        .bind(original_id)
        .fetch_optional(pool)
        .await?
    }))
}

/// Delete a status (and, by cascade, its reblogs, likes, mentions and feed
/// entries), undoing the counters it bumped. Returns the row deleted.
pub async fn delete(tx: &mut Tx, id: i64) -> Result<Option<StatusRow>> {
    let row: Option<StatusRow> = on_tx!(tx, conn => {
        sqlx::query_as(concat!(
            "DELETE FROM statuses WHERE id = $1 RETURNING ",
            "id, account_id, uri, url, content, source_text, spoiler_text, sensitive, \
             visibility, language, local, in_reply_to_id, in_reply_to_account_id, \
             in_reply_to_uri, reblog_of_id, replies_count, reblogs_count, favourites_count, \
             created_at, edited_at, updated_at"
        ))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    });
    let Some(row) = row else {
        return Ok(None);
    };
    on_tx!(tx, conn => {
        sqlx::query(
            "UPDATE accounts SET statuses_count = statuses_count - 1 \
             WHERE id = $1 AND statuses_count > 0",
        )
        .bind(row.account_id)
        .execute(&mut *conn)
        .await?;
        if let Some(parent) = row.in_reply_to_id {
            sqlx::query(
                "UPDATE statuses SET replies_count = replies_count - 1 \
                 WHERE id = $1 AND replies_count > 0",
            )
            .bind(parent)
            .execute(&mut *conn)
            .await?;
        }
        if let Some(original) = row.reblog_of_id {
            sqlx::query(
                "UPDATE statuses SET reblogs_count = reblogs_count - 1 \
                 WHERE id = $1 AND reblogs_count > 0",
            )
            .bind(original)
            .execute(&mut *conn)
            .await?;
        }
    });
    Ok(Some(row))
}

/// Every status of `account_id` (to remove an actor's content).
pub async fn ids_by_account(db: &Db, account_id: i64) -> Result<Vec<i64>> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar("SELECT id FROM statuses WHERE account_id = $1 ORDER BY id DESC")
            .bind(account_id)
            .fetch_all(pool)
            .await?
    }))
}

/// A new version of a status's text.
#[derive(Clone, Debug)]
pub struct Edit {
    pub edit_id: i64,
    pub content: String,
    pub source_text: Option<String>,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub language: Option<String>,
    pub edited_at: UnixMillis,
}

/// Replace a status's text, keeping the version it replaces in its history,
/// and its mentions and tags.
pub async fn edit(
    tx: &mut Tx,
    current: &StatusRow,
    edit: &Edit,
    mentions: &[i64],
    tags: &[(i64, String)],
) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO status_edits (id, status_id, content, spoiler_text, sensitive, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(edit.edit_id)
        .bind(current.id)
        .bind(&current.content)
        .bind(&current.spoiler_text)
        .bind(current.sensitive)
        .bind(current.edited_at.unwrap_or(current.created_at))
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "UPDATE statuses SET content = $1, source_text = $2, spoiler_text = $3, \
             sensitive = $4, language = $5, edited_at = $6, updated_at = $6, search_text = $8 \
             WHERE id = $7",
        )
        .bind(&edit.content)
        .bind(&edit.source_text)
        .bind(&edit.spoiler_text)
        .bind(edit.sensitive)
        .bind(&edit.language)
        .bind(edit.edited_at)
        .bind(current.id)
        .bind(searchable_text(&edit.spoiler_text, &edit.content))
        .execute(&mut *conn)
        .await?;
    });
    set_mentions_and_tags(tx, current.id, mentions, tags).await
}

/// An earlier version of a status.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EditRow {
    pub content: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub created_at: i64,
}

/// A status's earlier versions, oldest first.
pub async fn edits_of(db: &Db, status_id: i64) -> Result<Vec<EditRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT content, spoiler_text, sensitive, created_at FROM status_edits \
             WHERE status_id = $1 ORDER BY id",
        )
        .bind(status_id)
        .fetch_all(pool)
        .await?
    }))
}

/// Mentioned accounts of several statuses, as `(status id, account)`.
pub async fn mentions_of(db: &Db, status_ids: &[i64]) -> Result<Vec<(i64, AccountRow)>> {
    if status_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<Mentioned> = fetch_by_ids!(
        db,
        status_ids,
        query_as,
        concat!(
            "SELECT m.status_id, ",
            prefixed_account_columns!(),
            " FROM status_mentions m JOIN accounts a ON a.id = m.account_id WHERE m.status_id"
        ),
        " ORDER BY m.status_id, a.id"
    );
    Ok(rows.into_iter().map(|m| (m.status_id, m.account)).collect())
}

#[derive(sqlx::FromRow)]
struct Mentioned {
    status_id: i64,
    #[sqlx(flatten)]
    account: AccountRow,
}

/// Tags of several statuses, as `(status id, lower-cased name)`.
pub async fn tags_of(db: &Db, status_ids: &[i64]) -> Result<Vec<(i64, String)>> {
    if status_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(fetch_by_ids!(
        db,
        status_ids,
        query_as,
        "SELECT st.status_id, t.name FROM status_tags st JOIN tags t ON t.id = st.tag_id \
         WHERE st.status_id",
        " ORDER BY st.status_id, t.name"
    ))
}

/// Which of `status_ids` `viewer` has reblogged.
pub async fn reblogged_among(db: &Db, viewer: i64, status_ids: &[i64]) -> Result<Vec<i64>> {
    if status_ids.is_empty() || viewer == 0 {
        return Ok(Vec::new());
    }
    Ok(fetch_by_ids!(
        db,
        status_ids,
        query_scalar,
        "SELECT s.reblog_of_id FROM statuses s WHERE s.reblog_of_id",
        " AND s.account_id = $2",
        viewer
    ))
}

/// Ancestors of a status (oldest first) that `viewer` may read, up to
/// `limit` levels up, without those of accounts kept from `viewer`.
pub async fn ancestors(db: &Db, id: i64, viewer: i64, limit: i64) -> Result<Vec<StatusRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "WITH RECURSIVE up (id, depth) AS ( \
               SELECT in_reply_to_id, 1 FROM statuses WHERE id = $1 AND in_reply_to_id IS NOT NULL \
               UNION ALL \
               SELECT p.in_reply_to_id, up.depth + 1 FROM statuses p JOIN up ON p.id = up.id \
               WHERE p.in_reply_to_id IS NOT NULL AND up.depth < $3) \
             SELECT ", status_columns!(), " FROM statuses s JOIN up ON s.id = up.id WHERE ",
            visible_to!("$2"), " AND ", not_kept_from!("$2"), " ORDER BY s.id"
        ))
        .bind(id)
        .bind(viewer)
        .bind(limit)
        .fetch_all(pool)
        .await?
    }))
}

/// Replies to a status and their replies (oldest first) that `viewer` may
/// read, at most `limit` of them, without those of accounts kept from
/// `viewer` (others' replies to those stay).
pub async fn descendants(db: &Db, id: i64, viewer: i64, limit: i64) -> Result<Vec<StatusRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "WITH RECURSIVE down (id, depth) AS ( \
               SELECT id, 1 FROM statuses WHERE in_reply_to_id = $1 \
               UNION ALL \
               SELECT c.id, down.depth + 1 FROM statuses c JOIN down ON c.in_reply_to_id = down.id \
               WHERE down.depth < 64) \
             SELECT ", status_columns!(), " FROM statuses s JOIN down ON s.id = down.id WHERE ",
            visible_to!("$2"), " AND ", not_kept_from!("$2"), " ORDER BY s.id LIMIT $3"
        ))
        .bind(id)
        .bind(viewer)
        .bind(limit)
        .fetch_all(pool)
        .await?
    }))
}

/// Remember which status an `Idempotency-Key` created. False when the key
/// was used since `not_before`: the caller rolls back and answers with that
/// status. A key last used before `not_before` is taken over.
pub async fn remember_idempotency_key(
    tx: &mut Tx,
    account_id: i64,
    key: &str,
    status_id: i64,
    now: UnixMillis,
    not_before: UnixMillis,
) -> Result<bool> {
    let inserted = on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO status_idempotency (account_id, key, status_id, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, key) DO UPDATE \
             SET status_id = excluded.status_id, created_at = excluded.created_at \
             WHERE status_idempotency.created_at < $5",
        )
        .bind(account_id)
        .bind(key)
        .bind(status_id)
        .bind(now)
        .bind(not_before)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(inserted == 1)
}

/// The status an `Idempotency-Key` created since `not_before`.
pub async fn by_idempotency_key(
    db: &Db,
    account_id: i64,
    key: &str,
    not_before: UnixMillis,
) -> Result<Option<i64>> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT status_id FROM status_idempotency \
             WHERE account_id = $1 AND key = $2 AND created_at >= $3",
        )
        .bind(account_id)
        .bind(key)
        .bind(not_before)
        .fetch_optional(pool)
        .await?
    }))
}

/// Local accounts that reblogged a status.
pub async fn rebloggers(db: &Db, status_id: i64) -> Result<Vec<i64>> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT s.account_id FROM statuses s JOIN accounts a ON a.id = s.account_id \
             WHERE s.reblog_of_id = $1 AND a.domain IS NULL",
        )
        .bind(status_id)
        .fetch_all(pool)
        .await?
    }))
}

/// The accounts whose home timeline shows a status: those whose home feed
/// holds it, but not those with its author in an exclusive list.
pub async fn home_feed_accounts(db: &Db, status_id: i64) -> Result<Vec<i64>> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar(concat!(
            "SELECT h.account_id FROM home_feed h JOIN statuses s ON s.id = h.status_id \
             WHERE h.status_id = $1 AND ", not_in_exclusive_list!("h.account_id")
        ))
        .bind(status_id)
        .fetch_all(pool)
        .await?
    }))
}
