//! Writing the generated rows into a SQLite file, while no server has it
//! open: one connection, one transaction, multi-row `INSERT`s with bound
//! values, the rollback journal in memory and no syncing while it runs
//! (the file is back in WAL mode, as the server keeps it, before the
//! server starts on it). Foreign keys are not checked during the load:
//! the rows satisfy them by construction.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection, QueryBuilder, Sqlite};

use super::model::{Chunk, Status, World};
use super::{AccountRows, BatchTotals};

/// Rows per `INSERT` (SQLite binds at most 32,766 values per statement).
const ROWS_PER_INSERT: usize = 500;

/// The tables whose secondary indexes are dropped for the load and built
/// again after it (an index built at once from sorted keys costs a
/// fraction of a million single inserts into it).
const LOADED_TABLES: &str = "'statuses', 'status_mentions', 'status_tags', \
     'media_attachments', 'notifications'";

pub struct SqliteWriter {
    conn: SqliteConnection,
    /// `CREATE INDEX` statements of the dropped indexes, as the schema had them.
    dropped: Vec<String>,
}

impl SqliteWriter {
    pub async fn open(path: &Path) -> anyhow::Result<SqliteWriter> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .foreign_keys(false)
            .journal_mode(SqliteJournalMode::Off)
            .synchronous(SqliteSynchronous::Off)
            .busy_timeout(Duration::from_secs(10))
            .pragma("cache_size", "-262144")
            .pragma("temp_store", "MEMORY");
        let mut conn = SqliteConnection::connect_with(&options)
            .await
            .with_context(|| format!("opening {} to populate it", path.display()))?;
        sqlx::raw_sql("BEGIN").execute(&mut conn).await?;
        // Indexes that back a constraint (no `sql`) cannot be dropped.
        let indexes: Vec<(String, String)> = sqlx::query_as(&format!(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
             AND tbl_name IN ({LOADED_TABLES})"
        ))
        .fetch_all(&mut conn)
        .await?;
        let mut dropped = Vec::new();
        for (name, sql) in indexes {
            // Names come from the schema, not from input.
            sqlx::raw_sql(&format!("DROP INDEX \"{name}\""))
                .execute(&mut conn)
                .await?;
            dropped.push(sql);
        }
        Ok(SqliteWriter { conn, dropped })
    }

    pub async fn accounts(&mut self, rows: &AccountRows) -> anyhow::Result<()> {
        for part in rows.accounts.chunks(ROWS_PER_INSERT / 2) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT OR FAIL INTO accounts (id, username, domain, uri, url, actor_type, display_name, \
                 note, locked, bot, discoverable, inbox_url, shared_inbox_url, outbox_url, \
                 followers_url, following_url, followers_count, fetched_at, created_at, \
                 updated_at) ",
            );
            q.push_values(part, |mut b, a| {
                b.push_bind(a.id)
                    .push_bind(&a.username)
                    .push_bind(&a.domain)
                    .push_bind(&a.uri)
                    .push_bind(&a.uri)
                    .push_bind("Person")
                    .push_bind(&a.display_name)
                    .push_bind("")
                    .push_bind(false)
                    .push_bind(false)
                    .push_bind(false)
                    .push_bind(format!("{}/inbox", a.uri))
                    .push_bind(&a.shared_inbox)
                    .push_bind(format!("{}/outbox", a.uri))
                    .push_bind(format!("{}/followers", a.uri))
                    .push_bind(format!("{}/following", a.uri))
                    .push_bind(a.followers_count)
                    .push_bind(a.fetched_at)
                    .push_bind(a.created_at)
                    .push_bind(a.fetched_at);
            });
            q.build().execute(&mut self.conn).await?;
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT OR FAIL INTO account_keys (account_id, key_id, public_key_pem, created_at) ",
            );
            q.push_values(part, |mut b, a| {
                b.push_bind(a.id)
                    .push_bind(format!("{}#main-key", a.uri))
                    .push_bind(&a.public_key_pem)
                    .push_bind(a.fetched_at);
            });
            q.build().execute(&mut self.conn).await?;
        }
        for part in rows.follows.chunks(ROWS_PER_INSERT) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT OR FAIL INTO follows (id, account_id, target_account_id, uri, created_at) ",
            );
            q.push_values(part, |mut b, f| {
                b.push_bind(f.id)
                    .push_bind(f.account_id)
                    .push_bind(f.target_account_id)
                    .push_bind(&f.uri)
                    .push_bind(f.created_at);
            });
            q.build().execute(&mut self.conn).await?;
        }
        for part in rows.tags.chunks(ROWS_PER_INSERT) {
            let mut q =
                QueryBuilder::<Sqlite>::new("INSERT OR FAIL INTO tags (id, name, created_at) ");
            q.push_values(part, |mut b, (id, name, at)| {
                b.push_bind(*id).push_bind(name).push_bind(*at);
            });
            q.build().execute(&mut self.conn).await?;
        }
        sqlx::query("UPDATE accounts SET following_count = following_count + $1 WHERE id = $2")
            .bind(rows.follows.len() as i64)
            .bind(rows.follower_id)
            .execute(&mut self.conn)
            .await?;
        Ok(())
    }

    pub async fn chunk(&mut self, world: &World, chunk: &Chunk) -> anyhow::Result<()> {
        for part in chunk.statuses.chunks(ROWS_PER_INSERT) {
            insert_statuses(&mut self.conn, part).await?;
        }
        for part in chunk.mentions.chunks(ROWS_PER_INSERT) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT OR FAIL INTO status_mentions (status_id, account_id) ",
            );
            q.push_values(part, |mut b, (s, a)| {
                b.push_bind(*s).push_bind(*a);
            });
            q.build().execute(&mut self.conn).await?;
        }
        for part in chunk.tags.chunks(ROWS_PER_INSERT) {
            let mut q =
                QueryBuilder::<Sqlite>::new("INSERT OR FAIL INTO status_tags (status_id, tag_id) ");
            q.push_values(part, |mut b, (s, t)| {
                b.push_bind(*s).push_bind(*t);
            });
            q.build().execute(&mut self.conn).await?;
        }
        for part in chunk.media.chunks(ROWS_PER_INSERT / 2) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT OR FAIL INTO media_attachments (id, account_id, status_id, kind, content_type, \
                 url, preview_url, remote_url, width, height, blurhash, description, created_at, \
                 updated_at) ",
            );
            q.push_values(part, |mut b, m| {
                b.push_bind(m.id)
                    .push_bind(m.account_id)
                    .push_bind(m.status_id)
                    .push_bind(m.kind)
                    .push_bind(m.content_type)
                    .push_bind(&m.url)
                    .push_bind(&m.preview_url)
                    .push_bind(&m.url)
                    .push_bind(m.width)
                    .push_bind(m.height)
                    .push_bind(m.blurhash)
                    .push_bind(&m.description)
                    .push_bind(m.created_at)
                    .push_bind(m.created_at);
            });
            q.build().execute(&mut self.conn).await?;
        }
        for part in chunk.notifications.chunks(ROWS_PER_INSERT) {
            let mut q = QueryBuilder::<Sqlite>::new(
                "INSERT OR FAIL INTO notifications (id, account_id, from_account_id, kind, status_id, \
                 created_at, group_key) ",
            );
            q.push_values(part, |mut b, n| {
                b.push_bind(n.id)
                    .push_bind(world.target_id)
                    .push_bind(n.from_account_id)
                    .push_bind("mention")
                    .push_bind(n.status_id)
                    .push_bind(n.created_at)
                    .push_bind(format!("ungrouped-{}", n.id));
            });
            q.build().execute(&mut self.conn).await?;
        }
        Ok(())
    }

    /// The counters and the home feed, then the commit.
    pub async fn finish(
        mut self,
        world: &World,
        totals: &BatchTotals,
    ) -> anyhow::Result<Option<i64>> {
        for sql in &self.dropped {
            sqlx::raw_sql(sql)
                .execute(&mut self.conn)
                .await
                .with_context(|| format!("rebuilding an index: {sql}"))?;
        }
        for (account_id, (count, last)) in &totals.posted {
            sqlx::query(
                "UPDATE accounts SET statuses_count = statuses_count + $1, \
                 last_status_at = MAX(COALESCE(last_status_at, 0), $2) WHERE id = $3",
            )
            .bind(count)
            .bind(last)
            .bind(account_id)
            .execute(&mut self.conn)
            .await?;
        }
        for (status_id, (replies, reblogs)) in &totals.older_counts {
            sqlx::query(
                "UPDATE statuses SET replies_count = replies_count + $1, \
                 reblogs_count = reblogs_count + $2 WHERE id = $3",
            )
            .bind(replies)
            .bind(reblogs)
            .bind(status_id)
            .execute(&mut self.conn)
            .await?;
        }
        for part in totals.home_feed.chunks(ROWS_PER_INSERT) {
            let mut q =
                QueryBuilder::<Sqlite>::new("INSERT INTO home_feed (account_id, status_id) ");
            q.push_values(part, |mut b, s| {
                b.push_bind(world.target_id).push_bind(*s);
            });
            q.push(" ON CONFLICT DO NOTHING");
            q.build().execute(&mut self.conn).await?;
        }
        sqlx::query(super::TRIM_HOME_FEED)
            .bind(world.target_id)
            .bind(super::HOME_FEED_ENTRIES - 1)
            .execute(&mut self.conn)
            .await?;
        let oldest_kept: Option<i64> = sqlx::query_scalar(super::OLDEST_KEPT)
            .bind(world.target_id)
            .fetch_one(&mut self.conn)
            .await?;
        sqlx::raw_sql("COMMIT").execute(&mut self.conn).await?;
        sqlx::raw_sql("PRAGMA journal_mode = WAL")
            .execute(&mut self.conn)
            .await
            .context("putting the file back in WAL mode")?;
        self.conn.close().await?;
        Ok(oldest_kept)
    }
}

async fn insert_statuses(conn: &mut SqliteConnection, part: &[Status]) -> anyhow::Result<()> {
    let mut q = QueryBuilder::<Sqlite>::new(
        "INSERT OR FAIL INTO statuses (id, account_id, uri, url, content, spoiler_text, sensitive, \
         visibility, language, local, in_reply_to_id, in_reply_to_account_id, in_reply_to_uri, \
         reblog_of_id, replies_count, reblogs_count, created_at, updated_at) ",
    );
    q.push_values(part, |mut b, s| {
        b.push_bind(s.id)
            .push_bind(s.account_id)
            .push_bind(&s.uri)
            .push_bind(&s.url)
            .push_bind(&s.content)
            .push_bind(&s.spoiler_text)
            .push_bind(s.sensitive)
            .push_bind(s.visibility)
            .push_bind(s.language)
            .push_bind(false)
            .push_bind(s.in_reply_to_id)
            .push_bind(s.in_reply_to_account_id)
            .push_bind(&s.in_reply_to_uri)
            .push_bind(s.reblog_of_id)
            .push_bind(s.replies_count)
            .push_bind(s.reblogs_count)
            .push_bind(s.created_at)
            .push_bind(s.created_at);
    });
    q.build().execute(&mut *conn).await?;
    Ok(())
}
