//! An account's follows, mutes and blocks as lists, for export and for an
//! import that replaces them: each other account's address parts and the
//! relation's settings, oldest first.

use crate::{Db, Result};

/// The relations listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relations {
    /// Accounts followed (not pending requests).
    Following,
    Muting,
    Blocking,
}

/// One related account.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Related {
    pub account_id: i64,
    pub username: String,
    /// `None` for a local account.
    pub domain: Option<String>,
    /// Follows: whether its reblogs show. Mutes: whether its notifications
    /// are kept back too. Blocks: false.
    pub first: bool,
    /// Follows: whether its posts are notified. Otherwise false.
    pub second: bool,
}

/// The accounts `account_id` relates to so, at most `limit`.
pub async fn related(
    db: &Db,
    account_id: i64,
    relations: Relations,
    limit: i64,
) -> Result<Vec<Related>> {
    let sql = match relations {
        Relations::Following => {
            "SELECT a.id AS account_id, a.username, a.domain, r.show_reblogs AS first, \
             r.notify AS second FROM follows r JOIN accounts a ON a.id = r.target_account_id \
             WHERE r.account_id = $1 AND a.deleted_at IS NULL ORDER BY r.id LIMIT $2"
        }
        Relations::Muting => {
            "SELECT a.id AS account_id, a.username, a.domain, r.hide_notifications AS first, \
             FALSE AS second FROM mutes r JOIN accounts a ON a.id = r.target_account_id \
             WHERE r.account_id = $1 AND a.deleted_at IS NULL ORDER BY r.id LIMIT $2"
        }
        Relations::Blocking => {
            "SELECT a.id AS account_id, a.username, a.domain, FALSE AS first, \
             FALSE AS second FROM blocks r JOIN accounts a ON a.id = r.target_account_id \
             WHERE r.account_id = $1 AND a.deleted_at IS NULL ORDER BY r.id LIMIT $2"
        }
    };
    Ok(on_db!(db, pool => {
        sqlx::query_as(sql)
            .bind(account_id)
            .bind(limit)
            .fetch_all(pool)
            .await?
    }))
}
