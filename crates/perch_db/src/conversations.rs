//! Direct conversations: for each local account, the threads of direct
//! statuses it takes part in, with their newest status and whether it has
//! read them (Mastodon's account conversations).
//!
//! A conversation is keyed by its account, its thread (the id of the
//! thread's first known status) and its other participants, so a reply in
//! the thread joins it and a new direct status to the same people starts
//! another. The list is paged by the newest status's id, as Mastodon does.

use crate::page::Page;
use crate::{Db, Result, Tx};

/// A row of `conversations`.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ConversationRow {
    pub id: i64,
    pub account_id: i64,
    /// The other participants, as `,1,2,`.
    pub participant_ids: String,
    pub last_status_id: i64,
    pub unread: bool,
}

impl ConversationRow {
    /// The other participants' ids.
    pub fn participants(&self) -> Vec<i64> {
        participants_of(&self.participant_ids)
    }
}

/// `ids` (the participants other than the conversation's account) as
/// stored: sorted, deduplicated, between commas.
pub fn participant_key(ids: &[i64]) -> String {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let mut key = String::from(",");
    for id in ids {
        key.push_str(&id.to_string());
        key.push(',');
    }
    key
}

/// The ids of a stored participant key.
pub fn participants_of(key: &str) -> Vec<i64> {
    key.split(',').filter_map(|id| id.parse().ok()).collect()
}

/// One status's place in a conversation of `account_id`.
#[derive(Clone, Debug)]
pub struct Entry<'a> {
    /// The id the conversation gets if it is new.
    pub new_id: i64,
    pub account_id: i64,
    pub context_id: i64,
    /// From [`participant_key`].
    pub participants: &'a str,
    pub status_id: i64,
    /// Whether the account has the status still to read.
    pub unread: bool,
}

/// Add a status to the conversation `entry` names, making it if needed;
/// the conversation's id. The newest status stays the last one, and the
/// conversation is unread when the status is for the account to read.
pub async fn add_status(tx: &mut Tx, entry: &Entry<'_>) -> Result<i64> {
    let id: i64 = on_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO conversations (id, account_id, context_id, participant_ids, \
             last_status_id, unread) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (account_id, context_id, participant_ids) DO UPDATE SET \
               last_status_id = CASE WHEN excluded.last_status_id > conversations.last_status_id \
                 THEN excluded.last_status_id ELSE conversations.last_status_id END, \
               unread = excluded.unread \
             RETURNING id",
        )
        .bind(entry.new_id)
        .bind(entry.account_id)
        .bind(entry.context_id)
        .bind(entry.participants)
        .bind(entry.status_id)
        .bind(entry.unread)
        .fetch_one(&mut *conn)
        .await?
    });
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO conversation_statuses (conversation_id, status_id) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(entry.status_id)
        .execute(&mut *conn)
        .await?;
    });
    Ok(id)
}

/// Take `status_id` (about to be deleted) out of its conversations: each
/// shows its newest other status, and one left without any goes. The
/// conversations that remain, as `(account, conversation)`.
pub async fn remove_status(tx: &mut Tx, status_id: i64) -> Result<Vec<(i64, i64)>> {
    let holding: Vec<(i64, i64)> = on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT c.account_id, c.id FROM conversations c \
             JOIN conversation_statuses cs ON cs.conversation_id = c.id \
             WHERE cs.status_id = $1 ORDER BY c.id",
        )
        .bind(status_id)
        .fetch_all(&mut *conn)
        .await?
    });
    if holding.is_empty() {
        return Ok(holding);
    }
    let mut remaining = Vec::with_capacity(holding.len());
    for (account_id, id) in holding {
        let last: Option<i64> = on_tx!(tx, conn => {
            sqlx::query("DELETE FROM conversation_statuses WHERE conversation_id = $1 AND status_id = $2")
                .bind(id)
                .bind(status_id)
                .execute(&mut *conn)
                .await?;
            sqlx::query_scalar(
                "SELECT MAX(status_id) FROM conversation_statuses WHERE conversation_id = $1",
            )
            .bind(id)
            .fetch_one(&mut *conn)
            .await?
        });
        on_tx!(tx, conn => {
            match last {
                Some(last) => {
                    sqlx::query("UPDATE conversations SET last_status_id = $2 WHERE id = $1")
                        .bind(id)
                        .bind(last)
                        .execute(&mut *conn)
                        .await?;
                }
                None => {
                    sqlx::query("DELETE FROM conversations WHERE id = $1")
                        .bind(id)
                        .execute(&mut *conn)
                        .await?;
                }
            }
        });
        if last.is_some() {
            remaining.push((account_id, id));
        }
    }
    Ok(remaining)
}

/// The conversations of `account_id` whose newest status it may still
/// read (the visibility and keeping rules of the timelines), newest first,
/// paged by that status's id.
pub async fn page(db: &Db, account_id: i64, page: &Page) -> Result<Vec<ConversationRow>> {
    let (lower, upper) = (page.lower(), page.upper());
    macro_rules! query {
        ($order:literal) => {
            on_db!(db, pool => {
                sqlx::query_as(concat!(
                    "SELECT c.id, c.account_id, c.participant_ids, c.last_status_id, c.unread \
                     FROM conversations c JOIN statuses s ON s.id = c.last_status_id \
                     WHERE c.account_id = $1 AND c.last_status_id > $2 \
                       AND c.last_status_id < $3 AND ",
                    visible_to!("$1"), " AND ", not_kept_from!("$1"),
                    " ORDER BY c.last_status_id ", $order, " LIMIT $4"
                ))
                .bind(account_id).bind(lower).bind(upper).bind(page.limit)
                .fetch_all(pool).await?
            })
        };
    }
    let rows: Vec<ConversationRow> = if page.ascending() {
        query!("ASC")
    } else {
        query!("DESC")
    };
    Ok(page.finish(rows))
}

/// The conversation `id` of `account_id`'s.
pub async fn find(db: &Db, account_id: i64, id: i64) -> Result<Option<ConversationRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT id, account_id, participant_ids, last_status_id, unread \
             FROM conversations WHERE id = $1 AND account_id = $2",
        )
        .bind(id)
        .bind(account_id)
        .fetch_optional(pool)
        .await?
    }))
}

/// Mark `account_id`'s conversation `id` read; false when it has none such.
pub async fn mark_read(db: &Db, account_id: i64, id: i64) -> Result<bool> {
    Ok(on_db!(db, pool => {
        sqlx::query("UPDATE conversations SET unread = FALSE WHERE id = $1 AND account_id = $2")
            .bind(id)
            .bind(account_id)
            .execute(pool)
            .await?
            .rows_affected()
    }) == 1)
}

/// Remove `account_id`'s conversation `id` for it alone (the statuses and
/// the others' conversations stay); false when it has none such.
pub async fn remove(db: &Db, account_id: i64, id: i64) -> Result<bool> {
    Ok(on_db!(db, pool => {
        sqlx::query("DELETE FROM conversations WHERE id = $1 AND account_id = $2")
            .bind(id)
            .bind(account_id)
            .execute(pool)
            .await?
            .rows_affected()
    }) == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn participant_keys_are_sorted_and_read_back() {
        assert_eq!(participant_key(&[3, 1, 3]), ",1,3,");
        assert_eq!(participant_key(&[]), ",");
        assert_eq!(participants_of(",1,3,"), [1, 3]);
        assert!(participants_of(",").is_empty());
    }
}
