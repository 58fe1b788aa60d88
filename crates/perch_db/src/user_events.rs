//! Each local account's event log: what all its devices must receive, in
//! order, numbered. A client that reconnects names the last number it saw
//! and receives the rest; events older than the retention window are
//! purged, and a client that is further behind is told to resync.

use perch_core::time::UnixMillis;

use crate::live::LiveEvent;
use crate::{Db, Result, Tx};

/// How long events are kept for reconnecting clients.
pub const RETENTION_MILLIS: i64 = 7 * 24 * 3600 * 1000;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EventRow {
    pub account_id: i64,
    pub seq: i64,
    pub event: String,
    /// JSON.
    pub payload: String,
    pub created_at: i64,
}

/// Append an event to a local account's log, in the transaction of the
/// change it reports; returns its number.
pub async fn append(
    tx: &mut Tx,
    account_id: i64,
    event: &str,
    payload: &str,
    now: UnixMillis,
) -> Result<i64> {
    Ok(on_tx!(tx, conn => {
        // Taking the number locks the account's row until commit, so
        // numbers are handed out in commit order.
        let seq: i64 = sqlx::query_scalar(
            "UPDATE accounts SET event_seq = event_seq + 1 WHERE id = $1 RETURNING event_seq",
        )
        .bind(account_id)
        .fetch_one(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO user_events (account_id, seq, event, payload, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(account_id)
        .bind(seq)
        .bind(event)
        .bind(payload)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        seq
    }))
}

/// The kept events among these (account, number) pairs, in no particular
/// order: one query for what a burst of live events refers to.
pub async fn find_many(db: &Db, keys: &[(i64, i64)]) -> Result<Vec<EventRow>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    Ok(match db {
        Db::Sqlite(pool) => {
            let mut pairs = String::with_capacity(keys.len() * 40 + 2);
            pairs.push('[');
            for (i, (account_id, seq)) in keys.iter().enumerate() {
                if i > 0 {
                    pairs.push(',');
                }
                pairs.push_str(&format!("[{account_id},{seq}]"));
            }
            pairs.push(']');
            sqlx::query_as(
                "SELECT account_id, seq, event, payload, created_at FROM user_events \
                 WHERE (account_id, seq) IN \
                 (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') \
                  FROM json_each($1))",
            )
            .bind(pairs)
            .fetch_all(pool)
            .await?
        }
        Db::Postgres(pool) => {
            let (accounts, seqs): (Vec<i64>, Vec<i64>) = keys.iter().copied().unzip();
            sqlx::query_as(
                "SELECT account_id, seq, event, payload, created_at FROM user_events \
                 WHERE (account_id, seq) IN \
                 (SELECT * FROM unnest($1::BIGINT[], $2::BIGINT[]))",
            )
            .bind(accounts)
            .bind(seqs)
            .fetch_all(pool)
            .await?
        }
    })
}

/// Events after `after`, oldest first, at most `limit`.
pub async fn since(db: &Db, account_id: i64, after: i64, limit: i64) -> Result<Vec<EventRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT account_id, seq, event, payload, created_at FROM user_events \
             WHERE account_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(account_id)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?
    }))
}

/// The oldest kept number (if any is kept) and the last number handed out.
pub async fn bounds(db: &Db, account_id: i64) -> Result<(Option<i64>, i64)> {
    Ok(on_db!(db, pool => {
        let oldest: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(seq) FROM user_events WHERE account_id = $1",
        )
        .bind(account_id)
        .fetch_one(pool)
        .await?;
        let last: i64 = sqlx::query_scalar("SELECT event_seq FROM accounts WHERE id = $1")
            .bind(account_id)
            .fetch_optional(pool)
            .await?
            .unwrap_or(0);
        (oldest, last)
    }))
}

/// The last number handed out in the account's log (0 before the first).
pub async fn last_seq(db: &Db, account_id: i64) -> Result<i64> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar("SELECT event_seq FROM accounts WHERE id = $1")
            .bind(account_id)
            .fetch_optional(pool)
            .await?
            .unwrap_or(0)
    }))
}

/// Drop events older than the retention window.
pub async fn purge(db: &Db, now: UnixMillis) -> Result<u64> {
    Ok(on_db!(db, pool => {
        sqlx::query("DELETE FROM user_events WHERE created_at < $1")
            .bind(now - RETENTION_MILLIS)
            .execute(pool)
            .await?
            .rows_affected()
    }))
}

/// Append the same event to several accounts' logs; the live events to
/// publish once the transaction commits.
pub async fn append_to(
    tx: &mut Tx,
    accounts: &[i64],
    event: &str,
    payload: &str,
    now: UnixMillis,
) -> Result<Vec<LiveEvent>> {
    // Always in the same order, so that two transactions writing to the
    // same two logs cannot deadlock.
    let mut ordered = accounts.to_vec();
    ordered.sort_unstable();
    ordered.dedup();
    let ordered_len = ordered.len();
    let mut numbered: Vec<(i64, i64)> = match tx {
        Tx::Postgres(tx) if ordered.len() > 1 => {
            // One round trip: the rows are locked in the order of their
            // ids (the sort runs below the lock), then numbered and logged.
            sqlx::query_as(
                "WITH locked AS (\
                   SELECT id FROM accounts WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE\
                 ), numbered AS (\
                   UPDATE accounts a SET event_seq = a.event_seq + 1 FROM locked \
                   WHERE a.id = locked.id RETURNING a.id, a.event_seq\
                 ) \
                 INSERT INTO user_events (account_id, seq, event, payload, created_at) \
                 SELECT id, event_seq, $2, $3, $4 FROM numbered \
                 RETURNING account_id, seq",
            )
            .bind(&ordered)
            .bind(event)
            .bind(payload)
            .bind(now)
            .fetch_all(&mut **tx)
            .await?
        }
        _ => {
            let mut numbered = Vec::with_capacity(ordered.len());
            for account_id in ordered {
                numbered.push((
                    account_id,
                    append(tx, account_id, event, payload, now).await?,
                ));
            }
            numbered
        }
    };
    if numbered.len() != ordered_len {
        // As `append` does, for an account that is not there.
        return Err(sqlx::Error::RowNotFound.into());
    }
    numbered.sort_unstable();
    Ok(numbered
        .into_iter()
        .map(|(account_id, seq)| LiveEvent::UserEvent { account_id, seq })
        .collect())
}

/// Events kept for an account.
pub async fn count(db: &Db, account_id: i64) -> Result<i64> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM user_events WHERE account_id = $1")
            .bind(account_id)
            .fetch_one(pool)
            .await?
    }))
}

/// The payload of a `chat_message` event: which message. Each reader's
/// device gets it rendered when the event is sent.
pub fn message_reference(chat_id: i64, message_id: i64) -> String {
    format!(r#"{{"chat_id":"{chat_id}","message_id":"{message_id}"}}"#)
}
