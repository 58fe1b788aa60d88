//! Writing the generated rows into a PostgreSQL database, while no server
//! uses it: one connection, one transaction, `COPY … FROM STDIN` in text
//! format. Foreign-key triggers are skipped during the load
//! (`session_replication_role = replica`, when the role may set it): the
//! rows satisfy them by construction. After the commit the tables written
//! are vacuumed and analysed, as autovacuum would soon do after so many
//! inserts, so that it does not run during the measurements instead.

use std::fmt::Write as _;

use anyhow::Context;
use sqlx::Connection;
use sqlx::postgres::PgConnection;

use super::model::{Chunk, World};
use super::{AccountRows, BatchTotals};

pub struct PgWriter {
    conn: PgConnection,
}

/// A COPY text-format field: `\N` for NULL, backslash escapes otherwise.
trait Field {
    fn put(&self, out: &mut String);
}

impl Field for str {
    fn put(&self, out: &mut String) {
        for c in self.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c => out.push(c),
            }
        }
    }
}

impl Field for String {
    fn put(&self, out: &mut String) {
        self.as_str().put(out);
    }
}

impl<T: Field + ?Sized> Field for &T {
    fn put(&self, out: &mut String) {
        (**self).put(out);
    }
}

impl Field for i64 {
    fn put(&self, out: &mut String) {
        let _ = write!(out, "{self}");
    }
}

impl Field for i32 {
    fn put(&self, out: &mut String) {
        let _ = write!(out, "{self}");
    }
}

impl Field for i16 {
    fn put(&self, out: &mut String) {
        let _ = write!(out, "{self}");
    }
}

impl Field for bool {
    fn put(&self, out: &mut String) {
        out.push(if *self { 't' } else { 'f' });
    }
}

impl<T: Field> Field for Option<T> {
    fn put(&self, out: &mut String) {
        match self {
            Some(value) => value.put(out),
            None => out.push_str("\\N"),
        }
    }
}

/// One line of COPY text: the fields tab-separated.
macro_rules! line {
    ($out:expr, $first:expr $(, $field:expr)* $(,)?) => {{
        Field::put(&$first, $out);
        $( $out.push('\t'); Field::put(&$field, $out); )*
        $out.push('\n');
    }};
}

impl PgWriter {
    pub async fn open(url: &str) -> anyhow::Result<PgWriter> {
        let mut conn = PgConnection::connect(url)
            .await
            .context("connecting to the database to populate it")?;
        // Skipping foreign-key triggers needs a superuser; without one the
        // load is only slower.
        let _ = sqlx::raw_sql("SET session_replication_role = replica")
            .execute(&mut conn)
            .await;
        sqlx::raw_sql("BEGIN").execute(&mut conn).await?;
        Ok(PgWriter { conn })
    }

    async fn copy(&mut self, statement: &str, data: String) -> anyhow::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        let mut copy = self
            .conn
            .copy_in_raw(statement)
            .await
            .with_context(|| statement.to_owned())?;
        copy.send(data.into_bytes()).await?;
        copy.finish().await.with_context(|| statement.to_owned())?;
        Ok(())
    }

    pub async fn accounts(&mut self, rows: &AccountRows) -> anyhow::Result<()> {
        let mut data = String::new();
        for a in &rows.accounts {
            line!(
                &mut data,
                a.id,
                a.username,
                a.domain,
                a.uri,
                a.uri,
                "Person",
                a.display_name,
                "",
                false,
                false,
                false,
                format!("{}/inbox", a.uri),
                a.shared_inbox,
                format!("{}/outbox", a.uri),
                format!("{}/followers", a.uri),
                format!("{}/following", a.uri),
                a.followers_count,
                a.fetched_at,
                a.created_at,
                a.fetched_at,
            );
        }
        self.copy(
            "COPY accounts (id, username, domain, uri, url, actor_type, display_name, note, \
             locked, bot, discoverable, inbox_url, shared_inbox_url, outbox_url, followers_url, \
             following_url, followers_count, fetched_at, created_at, updated_at) FROM STDIN",
            data,
        )
        .await?;
        let mut data = String::new();
        for a in &rows.accounts {
            line!(
                &mut data,
                a.id,
                format!("{}#main-key", a.uri),
                a.public_key_pem,
                a.fetched_at
            );
        }
        self.copy(
            "COPY account_keys (account_id, key_id, public_key_pem, created_at) FROM STDIN",
            data,
        )
        .await?;
        let mut data = String::new();
        for f in &rows.follows {
            line!(
                &mut data,
                f.id,
                f.account_id,
                f.target_account_id,
                f.uri,
                f.created_at
            );
        }
        self.copy(
            "COPY follows (id, account_id, target_account_id, uri, created_at) FROM STDIN",
            data,
        )
        .await?;
        let mut data = String::new();
        for (id, name, at) in &rows.tags {
            line!(&mut data, *id, name, *at);
        }
        self.copy("COPY tags (id, name, created_at) FROM STDIN", data)
            .await?;
        sqlx::query("UPDATE accounts SET following_count = following_count + $1 WHERE id = $2")
            .bind(rows.follows.len() as i64)
            .bind(rows.follower_id)
            .execute(&mut self.conn)
            .await?;
        Ok(())
    }

    pub async fn chunk(&mut self, world: &World, chunk: &Chunk) -> anyhow::Result<()> {
        let mut data = String::with_capacity(chunk.statuses.len() * 600);
        for s in &chunk.statuses {
            line!(
                &mut data,
                s.id,
                s.account_id,
                s.uri,
                s.url,
                s.content,
                s.spoiler_text,
                s.sensitive,
                s.visibility,
                s.language,
                false,
                s.in_reply_to_id,
                s.in_reply_to_account_id,
                s.in_reply_to_uri,
                s.reblog_of_id,
                s.replies_count,
                s.reblogs_count,
                s.created_at,
                s.created_at,
            );
        }
        self.copy(
            "COPY statuses (id, account_id, uri, url, content, spoiler_text, sensitive, \
             visibility, language, local, in_reply_to_id, in_reply_to_account_id, \
             in_reply_to_uri, reblog_of_id, replies_count, reblogs_count, created_at, \
             updated_at) FROM STDIN",
            data,
        )
        .await?;
        let mut data = String::new();
        for (s, a) in &chunk.mentions {
            line!(&mut data, *s, *a);
        }
        self.copy(
            "COPY status_mentions (status_id, account_id) FROM STDIN",
            data,
        )
        .await?;
        let mut data = String::new();
        for (s, t) in &chunk.tags {
            line!(&mut data, *s, *t);
        }
        self.copy("COPY status_tags (status_id, tag_id) FROM STDIN", data)
            .await?;
        let mut data = String::new();
        for m in &chunk.media {
            line!(
                &mut data,
                m.id,
                m.account_id,
                m.status_id,
                m.kind,
                m.content_type,
                m.url,
                m.preview_url,
                m.url,
                m.width,
                m.height,
                m.blurhash,
                m.description,
                m.created_at,
                m.created_at,
            );
        }
        self.copy(
            "COPY media_attachments (id, account_id, status_id, kind, content_type, url, \
             preview_url, remote_url, width, height, blurhash, description, created_at, \
             updated_at) FROM STDIN",
            data,
        )
        .await?;
        let mut data = String::new();
        for n in &chunk.notifications {
            line!(
                &mut data,
                n.id,
                world.target_id,
                n.from_account_id,
                "mention",
                n.status_id,
                n.created_at,
                format!("ungrouped-{}", n.id)
            );
        }
        self.copy(
            "COPY notifications (id, account_id, from_account_id, kind, status_id, created_at, \
             group_key) FROM STDIN",
            data,
        )
        .await?;
        Ok(())
    }

    /// The counters and the home feed, the commit, then VACUUM ANALYZE.
    pub async fn finish(
        mut self,
        world: &World,
        totals: &BatchTotals,
    ) -> anyhow::Result<Option<i64>> {
        let (ids, counts, lasts): (Vec<i64>, Vec<i64>, Vec<i64>) = totals
            .posted
            .iter()
            .map(|(id, (count, last))| (*id, *count, *last))
            .collect();
        sqlx::query(
            "UPDATE accounts a SET statuses_count = a.statuses_count + d.count, \
             last_status_at = GREATEST(COALESCE(a.last_status_at, 0), d.last) \
             FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::BIGINT[]) AS d (id, count, last) \
             WHERE a.id = d.id",
        )
        .bind(&ids)
        .bind(&counts)
        .bind(&lasts)
        .execute(&mut self.conn)
        .await?;
        let (ids, replies, reblogs): (Vec<i64>, Vec<i64>, Vec<i64>) = totals
            .older_counts
            .iter()
            .map(|(id, (replies, reblogs))| (*id, *replies, *reblogs))
            .collect();
        sqlx::query(
            "UPDATE statuses s SET replies_count = s.replies_count + d.replies, \
             reblogs_count = s.reblogs_count + d.reblogs \
             FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::BIGINT[]) AS d (id, replies, reblogs) \
             WHERE s.id = d.id",
        )
        .bind(&ids)
        .bind(&replies)
        .bind(&reblogs)
        .execute(&mut self.conn)
        .await?;
        sqlx::query(
            "INSERT INTO home_feed (account_id, status_id) \
             SELECT $1, UNNEST($2::BIGINT[]) ON CONFLICT DO NOTHING",
        )
        .bind(world.target_id)
        .bind(&totals.home_feed)
        .execute(&mut self.conn)
        .await?;
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
        sqlx::raw_sql(
            "VACUUM (ANALYZE) accounts, account_keys, follows, tags, statuses, status_mentions, \
             status_tags, media_attachments, notifications, home_feed",
        )
        .execute(&mut self.conn)
        .await
        .context("VACUUM ANALYZE after the load")?;
        self.conn.close().await?;
        Ok(oldest_kept)
    }
}
