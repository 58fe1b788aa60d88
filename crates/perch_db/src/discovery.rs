//! What the server shows of itself and of its recent activity: the servers
//! it knows (peers), its weekly activity, the hashtags and statuses that
//! trend among its own recent public posts, and the accounts it suggests
//! to follow. Everything is computed from this server's own rows.

use perch_core::time::UnixMillis;

use crate::statuses::StatusRow;
use crate::{Db, Result};

/// The servers this one knows accounts of, those it suspended left out,
/// in order, at most `limit`.
pub async fn peers(db: &Db, limit: i64) -> Result<Vec<String>> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT DISTINCT a.domain FROM accounts a WHERE a.domain IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM instance_domain_blocks b \
               WHERE b.domain = a.domain AND b.severity = 'suspend') \
             ORDER BY a.domain LIMIT $1",
        )
        .bind(limit)
        .fetch_all(pool)
        .await?
    }))
}

/// One week of this server's activity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Week {
    /// Local statuses posted.
    pub statuses: i64,
    /// Local users who signed in or used a session.
    pub logins: i64,
    /// Local accounts created.
    pub registrations: i64,
}

/// The activity between `from` and `to`.
pub async fn activity(db: &Db, from: UnixMillis, to: UnixMillis) -> Result<Week> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT \
               (SELECT COUNT(*) FROM statuses WHERE local = TRUE \
                  AND created_at >= $1 AND created_at < $2) AS statuses, \
               (SELECT COUNT(DISTINCT account_id) FROM oauth_sessions \
                  WHERE account_id IS NOT NULL AND ((last_used_at >= $1 AND last_used_at < $2) \
                  OR (created_at >= $1 AND created_at < $2))) AS logins, \
               (SELECT COUNT(*) FROM accounts WHERE domain IS NULL \
                  AND actor_type <> 'Application' \
                  AND created_at >= $1 AND created_at < $2) AS registrations",
        )
        .bind(from)
        .bind(to)
        .fetch_one(pool)
        .await?
    }))
}

/// A hashtag's use on one day (days since the epoch, UTC).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct TagDay {
    pub name: String,
    pub day: i64,
    pub uses: i64,
    pub accounts: i64,
}

/// The hashtags of the most accounts' public posts since `since` (at least
/// two accounts, so that one account's posting is not a trend), by
/// accounts then uses; each with its days since then.
pub async fn trending_tags(
    db: &Db,
    since: UnixMillis,
    limit: i64,
    offset: i64,
) -> Result<Vec<(String, Vec<TagDay>)>> {
    let top: Vec<String> = on_db!(db, pool => {
        sqlx::query_scalar(concat!(
            "SELECT t.name FROM status_tags st JOIN tags t ON t.id = st.tag_id \
             JOIN statuses s ON s.id = st.status_id \
             WHERE s.created_at >= $1 AND s.visibility = 0 AND s.reblog_of_id IS NULL AND ",
            publicly_shown!(),
            " GROUP BY t.name HAVING COUNT(DISTINCT s.account_id) >= 2 \
             ORDER BY COUNT(DISTINCT s.account_id) DESC, COUNT(*) DESC, t.name \
             LIMIT $2 OFFSET $3"
        ))
        .bind(since)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?
    });
    let mut out = Vec::with_capacity(top.len());
    for name in top {
        let days = tag_days(db, &name, since).await?;
        out.push((name, days));
    }
    Ok(out)
}

/// How often public original statuses carried the tag `name` each day
/// since `since`, the latest day first; days without any are left out.
pub async fn tag_days(db: &Db, name: &str, since: UnixMillis) -> Result<Vec<TagDay>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT t.name, s.created_at / 86400000 AS day, COUNT(*) AS uses, \
             COUNT(DISTINCT s.account_id) AS accounts \
             FROM status_tags st JOIN tags t ON t.id = st.tag_id \
             JOIN statuses s ON s.id = st.status_id \
             WHERE t.name = $1 AND s.created_at >= $2 AND s.visibility = 0 \
             AND s.reblog_of_id IS NULL \
             GROUP BY t.name, s.created_at / 86400000 ORDER BY 2 DESC",
        )
        .bind(name)
        .bind(since)
        .fetch_all(pool)
        .await?
    }))
}

/// Public original statuses since `since` by discoverable accounts that
/// others liked or boosted, the most liked and boosted first, none by an
/// account kept from `viewer`.
pub async fn trending_statuses(
    db: &Db,
    viewer: i64,
    since: UnixMillis,
    limit: i64,
    offset: i64,
) -> Result<Vec<StatusRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", status_columns!(), " FROM statuses s \
             JOIN accounts sa ON sa.id = s.account_id AND sa.discoverable = TRUE \
             WHERE s.created_at >= $1 AND s.visibility = 0 AND s.reblog_of_id IS NULL \
             AND s.favourites_count + s.reblogs_count > 0 AND ",
            publicly_shown!(), " AND ", not_kept_from!("$4"),
            " ORDER BY s.favourites_count + s.reblogs_count DESC, s.id DESC LIMIT $2 OFFSET $3"
        ))
        .bind(since)
        .bind(limit)
        .bind(offset)
        .bind(viewer)
        .fetch_all(pool)
        .await?
    }))
}

/// Why an account is suggested.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// Followed by accounts the viewer follows.
    FriendsOfFriends,
    /// A local account that posted of late, the most followed first.
    MostActiveLocal,
}

/// Accounts to suggest to `viewer`, with why: first those that the
/// accounts it follows follow the most, then local accounts that posted
/// since `active_since`; never itself, one it follows or asked to, one it
/// dismissed, one kept from it, nor one that is not discoverable,
/// suspended or moved.
pub async fn suggestions(
    db: &Db,
    viewer: i64,
    active_since: UnixMillis,
    limit: i64,
) -> Result<Vec<(i64, Source)>> {
    macro_rules! eligible {
        () => {
            concat!(
                "a.id <> $1 AND a.discoverable = TRUE AND a.suspended_at IS NULL \
                 AND a.silenced_at IS NULL AND a.deleted_at IS NULL \
                 AND a.moved_to_account_id IS NULL AND a.actor_type <> 'Application' \
                 AND NOT EXISTS (SELECT 1 FROM follows mf WHERE mf.account_id = $1 \
                   AND mf.target_account_id = a.id) \
                 AND NOT EXISTS (SELECT 1 FROM follow_requests mr WHERE mr.account_id = $1 \
                   AND mr.target_account_id = a.id) \
                 AND NOT EXISTS (SELECT 1 FROM suggestion_dismissals d \
                   WHERE d.account_id = $1 AND d.target_account_id = a.id) \
                 AND NOT ",
                kept_from!("$1", "a.id", "")
            )
        };
    }
    let friends: Vec<i64> = on_db!(db, pool => {
        sqlx::query_scalar(concat!(
            "SELECT a.id FROM follows f1 JOIN follows f2 ON f2.account_id = f1.target_account_id \
             JOIN accounts a ON a.id = f2.target_account_id \
             WHERE f1.account_id = $1 AND ", eligible!(),
            " GROUP BY a.id ORDER BY COUNT(*) DESC, a.id LIMIT $2"
        ))
        .bind(viewer)
        .bind(limit)
        .fetch_all(pool)
        .await?
    });
    let mut out: Vec<(i64, Source)> = friends
        .into_iter()
        .map(|id| (id, Source::FriendsOfFriends))
        .collect();
    let room = limit - out.len() as i64;
    if room > 0 {
        let local: Vec<i64> = on_db!(db, pool => {
            sqlx::query_scalar(concat!(
                "SELECT a.id FROM accounts a WHERE a.domain IS NULL \
                 AND a.last_status_at >= $2 AND ", eligible!(),
                " ORDER BY a.followers_count DESC, a.last_status_at DESC LIMIT $3"
            ))
            .bind(viewer)
            .bind(active_since)
            .bind(room + out.len() as i64)
            .fetch_all(pool)
            .await?
        });
        for id in local {
            if out.len() as i64 >= limit {
                break;
            }
            if !out.iter().any(|(known, _)| *known == id) {
                out.push((id, Source::MostActiveLocal));
            }
        }
    }
    Ok(out)
}

/// `viewer` asks not to be suggested `target` again.
pub async fn dismiss_suggestion(db: &Db, viewer: i64, target: i64, now: UnixMillis) -> Result<()> {
    on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO suggestion_dismissals (account_id, target_account_id, created_at) \
             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(viewer)
        .bind(target)
        .bind(now)
        .execute(pool)
        .await?;
    });
    Ok(())
}
