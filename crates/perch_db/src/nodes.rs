//! Leases on Snowflake node numbers (`perch_core::id`).
//!
//! Every process that generates ids holds one node number, leased in the
//! `id_nodes` table and renewed while it runs. A number whose lease expired
//! (its process crashed) can be taken by the next process. Two live processes
//! never hold the same number, so their ids never collide.

use perch_core::id::MAX_NODES;
use perch_core::time::UnixMillis;

use crate::{Db, Result};

/// How long a lease lasts without renewal.
pub const LEASE_MILLIS: i64 = 10 * 60 * 1000;

#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    #[error("all {MAX_NODES} id node numbers are leased by running processes")]
    Exhausted,
    #[error(transparent)]
    Node(#[from] perch_core::id::NodeOutOfRange),
    #[error(transparent)]
    Db(#[from] crate::Error),
}

/// Lease the lowest free node number for `owner` (a unique string per
/// process). Retries when another process takes the same number first.
pub async fn acquire(db: &Db, owner: &str, now: UnixMillis) -> Result<u16, LeaseError> {
    loop {
        let taken: Vec<i32> = on_db!(db, pool => {
            sqlx::query_scalar(
                "SELECT node_id FROM id_nodes WHERE expires_at >= $1 ORDER BY node_id",
            )
            .bind(now)
            .fetch_all(pool)
            .await
            .map_err(crate::Error::from)?
        });
        let Some(candidate) = lowest_free(&taken) else {
            return Err(LeaseError::Exhausted);
        };
        // Insert, or take over an expired lease; a live lease is left alone.
        let claimed = on_db!(db, pool => {
            sqlx::query(
                "INSERT INTO id_nodes (node_id, owner, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (node_id) DO UPDATE \
                 SET owner = excluded.owner, expires_at = excluded.expires_at \
                 WHERE id_nodes.expires_at < $4",
            )
            .bind(i32::from(candidate))
            .bind(owner)
            .bind(now + LEASE_MILLIS)
            .bind(now)
            .execute(pool)
            .await
            .map_err(crate::Error::from)?
            .rows_affected()
        });
        if claimed == 1 {
            return Ok(candidate);
        }
    }
}

/// Extend the lease. Returns false when the lease was lost (it expired and
/// another process took the number), in which case the caller must acquire a
/// new number before generating more ids.
pub async fn renew(db: &Db, node: u16, owner: &str, now: UnixMillis) -> Result<bool> {
    let renewed = on_db!(db, pool => {
        sqlx::query("UPDATE id_nodes SET expires_at = $1 WHERE node_id = $2 AND owner = $3")
            .bind(now + LEASE_MILLIS)
            .bind(i32::from(node))
            .bind(owner)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(renewed == 1)
}

/// Give the number back at shutdown.
pub async fn release(db: &Db, node: u16, owner: &str) -> Result<()> {
    on_db!(db, pool => {
        sqlx::query("DELETE FROM id_nodes WHERE node_id = $1 AND owner = $2")
            .bind(i32::from(node))
            .bind(owner)
            .execute(pool)
            .await?;
    });
    Ok(())
}

fn lowest_free(taken_sorted: &[i32]) -> Option<u16> {
    let mut expected: i32 = 0;
    for &node in taken_sorted {
        if node != expected {
            break;
        }
        expected += 1;
    }
    u16::try_from(expected).ok().filter(|n| *n < MAX_NODES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowest_free_number() {
        assert_eq!(lowest_free(&[]), Some(0));
        assert_eq!(lowest_free(&[0, 1, 3]), Some(2));
        assert_eq!(lowest_free(&[1, 2]), Some(0));
        let all: Vec<i32> = (0..i32::from(MAX_NODES)).collect();
        assert_eq!(lowest_free(&all), None);
    }
}
