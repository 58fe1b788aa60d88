//! Who is online: open WebSocket connections counted per account and per
//! process (id node), so that several processes agree. Counts of a process
//! whose node lease expired (it died) are not believed.

use perch_core::time::UnixMillis;

use crate::{Db, Result};

/// Count a new connection; returns the account's open connections in all
/// live processes.
pub async fn connected(db: &Db, account_id: i64, node_id: u16, now: UnixMillis) -> Result<i64> {
    change(db, account_id, node_id, 1, now).await
}

/// Count a closed connection; the account was last seen now. Returns the
/// open connections left.
pub async fn disconnected(db: &Db, account_id: i64, node_id: u16, now: UnixMillis) -> Result<i64> {
    change(db, account_id, node_id, -1, now).await
}

/// One transaction that first locks the account's row, so that two
/// connections opening or closing at once see each other's count: exactly
/// one of them finds the first connection opened or the last one closed.
async fn change(
    db: &Db,
    account_id: i64,
    node_id: u16,
    delta: i32,
    now: UnixMillis,
) -> Result<i64> {
    let mut tx = db.begin().await?;
    let total = on_tx!(&mut tx, conn => {
        sqlx::query("UPDATE accounts SET last_seen_at = $1 WHERE id = $2")
            .bind(now)
            .bind(account_id)
            .execute(&mut *conn)
            .await?;
        if delta > 0 {
            sqlx::query(
                "INSERT INTO presence (account_id, node_id, connections) VALUES ($1, $2, 1) \
                 ON CONFLICT (account_id, node_id) \
                 DO UPDATE SET connections = presence.connections + 1",
            )
            .bind(account_id)
            .bind(i32::from(node_id))
            .execute(&mut *conn)
            .await?;
        } else {
            sqlx::query(
                "UPDATE presence SET connections = connections - 1 \
                 WHERE account_id = $1 AND node_id = $2 AND connections > 0",
            )
            .bind(account_id)
            .bind(i32::from(node_id))
            .execute(&mut *conn)
            .await?;
        }
        let total: i64 = sqlx::query_scalar(
            "SELECT COALESCE(SUM(p.connections), 0) FROM presence p \
             JOIN id_nodes n ON n.node_id = p.node_id AND n.expires_at >= $2 \
             WHERE p.account_id = $1",
        )
        .bind(account_id)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?;
        total
    });
    tx.commit().await?;
    Ok(total)
}

async fn total(db: &Db, account_id: i64, now: UnixMillis) -> Result<i64> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT COALESCE(SUM(p.connections), 0) FROM presence p \
             JOIN id_nodes n ON n.node_id = p.node_id AND n.expires_at >= $2 \
             WHERE p.account_id = $1",
        )
        .bind(account_id)
        .bind(now)
        .fetch_one(pool)
        .await?
    }))
}

/// Whether the account is online, and when it was last seen.
pub async fn status(db: &Db, account_id: i64, now: UnixMillis) -> Result<(bool, Option<i64>)> {
    let online = total(db, account_id, now).await? > 0;
    let last_seen: Option<i64> = on_db!(db, pool => {
        sqlx::query_scalar("SELECT last_seen_at FROM accounts WHERE id = $1")
            .bind(account_id)
            .fetch_optional(pool)
            .await?
            .flatten()
    });
    Ok((online, last_seen))
}

/// Whether the user hides their presence.
pub async fn is_hidden(db: &Db, account_id: i64) -> Result<bool> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar("SELECT hide_presence FROM users WHERE account_id = $1")
            .bind(account_id)
            .fetch_optional(pool)
            .await?
            .unwrap_or(true)
    }))
}

pub async fn set_hidden(db: &Db, account_id: i64, hidden: bool) -> Result<()> {
    on_db!(db, pool => {
        sqlx::query("UPDATE users SET hide_presence = $1 WHERE account_id = $2")
            .bind(hidden)
            .bind(account_id)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// The local accounts told when `account_id` comes online or goes: the
/// other member of each of its chats in which it has written, and the
/// accounts it follows that follow it back; none that blocks it or that it
/// blocks. Merely opening a chat with someone shows nothing of them.
pub async fn local_partners(db: &Db, account_id: i64) -> Result<Vec<i64>> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT p.id FROM accounts p WHERE p.domain IS NULL AND p.id IN ( \
               SELECT CASE WHEN c.account_low = $1 THEN c.account_high ELSE c.account_low END \
                 FROM chats c WHERE (c.account_low = $1 OR c.account_high = $1) \
                 AND EXISTS (SELECT 1 FROM chat_messages m \
                             WHERE m.chat_id = c.id AND m.sender_id = $1) \
               UNION SELECT f.target_account_id FROM follows f \
                 JOIN follows b ON b.account_id = f.target_account_id AND b.target_account_id = $1 \
                 WHERE f.account_id = $1) \
             AND NOT EXISTS (SELECT 1 FROM blocks k WHERE (k.account_id = $1 AND k.target_account_id = p.id) \
                             OR (k.account_id = p.id AND k.target_account_id = $1))",
        )
        .bind(account_id)
        .fetch_all(pool)
        .await?
    }))
}
