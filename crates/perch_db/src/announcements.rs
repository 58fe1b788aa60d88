//! Announcements: what the staff post for every local user to read, who
//! dismissed which, and the emoji reactions to them.

use perch_core::time::UnixMillis;

use crate::{Db, Result, Tx};

/// A row of `announcements`.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct AnnouncementRow {
    pub id: i64,
    /// As the staff wrote it.
    pub text: String,
    /// HTML.
    pub content: String,
    pub starts_at: Option<i64>,
    pub ends_at: Option<i64>,
    pub all_day: bool,
    pub published_at: i64,
    pub updated_at: i64,
}

/// Store a new announcement.
pub async fn insert(tx: &mut Tx, row: &AnnouncementRow) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO announcements (id, text, content, starts_at, ends_at, all_day, \
             published_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(row.id)
        .bind(&row.text)
        .bind(&row.content)
        .bind(row.starts_at)
        .bind(row.ends_at)
        .bind(row.all_day)
        .bind(row.published_at)
        .bind(row.updated_at)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// Delete announcement `id`; false when there is none.
pub async fn delete(tx: &mut Tx, id: i64) -> Result<bool> {
    Ok(on_tx!(tx, conn => {
        sqlx::query("DELETE FROM announcements WHERE id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?
            .rows_affected()
    }) == 1)
}

/// Every announcement, oldest first (`perch announcement list`).
pub async fn all(db: &Db) -> Result<Vec<AnnouncementRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT id, text, content, starts_at, ends_at, all_day, published_at, updated_at \
             FROM announcements ORDER BY id",
        )
        .fetch_all(pool)
        .await?
    }))
}

/// The announcements shown at `now` (those not ended), oldest first.
pub async fn current(db: &Db, now: UnixMillis) -> Result<Vec<AnnouncementRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT id, text, content, starts_at, ends_at, all_day, published_at, updated_at \
             FROM announcements WHERE ends_at IS NULL OR ends_at > $1 ORDER BY id",
        )
        .bind(now)
        .fetch_all(pool)
        .await?
    }))
}

/// Announcement `id`, if it is shown at `now`.
pub async fn find_current(db: &Db, id: i64, now: UnixMillis) -> Result<Option<AnnouncementRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT id, text, content, starts_at, ends_at, all_day, published_at, updated_at \
             FROM announcements WHERE id = $1 AND (ends_at IS NULL OR ends_at > $2)",
        )
        .bind(id)
        .bind(now)
        .fetch_optional(pool)
        .await?
    }))
}

/// Which of the announcements `account_id` dismissed.
pub async fn dismissed_by(db: &Db, account_id: i64) -> Result<Vec<i64>> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT announcement_id FROM announcement_dismissals WHERE account_id = $1",
        )
        .bind(account_id)
        .fetch_all(pool)
        .await?
    }))
}

/// `account_id` has read announcement `id` (again is fine).
pub async fn dismiss(db: &Db, id: i64, account_id: i64) -> Result<()> {
    on_db!(db, pool => {
        sqlx::query(
            "INSERT INTO announcement_dismissals (announcement_id, account_id) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(account_id)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// One reaction of an announcement, counted.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ReactionCount {
    pub announcement_id: i64,
    pub name_id: i64,
    pub name: String,
    pub count: i64,
    /// Whether the viewer is among those who reacted so.
    pub me: bool,
}

/// The reactions to the current announcements with their counts, and
/// whether `viewer` (0: nobody) made each, in order of first use.
pub async fn reactions(db: &Db, viewer: i64) -> Result<Vec<ReactionCount>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT n.announcement_id, n.id AS name_id, n.name, COUNT(r.account_id) AS count, \
               COALESCE(MAX(CASE WHEN r.account_id = $1 THEN 1 ELSE 0 END), 0) = 1 AS me \
             FROM announcement_reaction_names n \
             JOIN announcement_reactions r ON r.name_id = n.id \
             GROUP BY n.announcement_id, n.id, n.name ORDER BY n.id",
        )
        .bind(viewer)
        .fetch_all(pool)
        .await?
    }))
}

/// The name and count of reaction `name_id` (None when the name is gone
/// with its announcement).
pub async fn reaction(db: &Db, name_id: i64) -> Result<Option<ReactionCount>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT n.announcement_id, n.id AS name_id, n.name, \
               (SELECT COUNT(*) FROM announcement_reactions r WHERE r.name_id = n.id) AS count, \
               FALSE AS me \
             FROM announcement_reaction_names n WHERE n.id = $1",
        )
        .bind(name_id)
        .fetch_optional(pool)
        .await?
    }))
}

/// How many different reactions announcement `id` has now.
pub async fn distinct_reactions(tx: &mut Tx, id: i64) -> Result<i64> {
    Ok(on_tx!(tx, conn => {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM announcement_reaction_names n WHERE n.announcement_id = $1 \
             AND EXISTS (SELECT 1 FROM announcement_reactions r WHERE r.name_id = n.id)",
        )
        .bind(id)
        .fetch_one(&mut *conn)
        .await?
    }))
}

/// The id of reaction `name` to announcement `id`, made under `new_id`
/// if it is new.
pub async fn name_id(tx: &mut Tx, new_id: i64, id: i64, name: &str) -> Result<i64> {
    Ok(on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO announcement_reaction_names (id, announcement_id, name) \
             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(new_id)
        .bind(id)
        .bind(name)
        .execute(&mut *conn)
        .await?;
        sqlx::query_scalar(
            "SELECT id FROM announcement_reaction_names WHERE announcement_id = $1 AND name = $2",
        )
        .bind(id)
        .bind(name)
        .fetch_one(&mut *conn)
        .await?
    }))
}

/// The id of reaction `name` to announcement `id`, if it was ever made.
pub async fn find_name(tx: &mut Tx, id: i64, name: &str) -> Result<Option<i64>> {
    Ok(on_tx!(tx, conn => {
        sqlx::query_scalar(
            "SELECT id FROM announcement_reaction_names WHERE announcement_id = $1 AND name = $2",
        )
        .bind(id)
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?
    }))
}

/// `account_id` reacts with `name_id`; false when it had already.
pub async fn react(tx: &mut Tx, name_id: i64, account_id: i64, now: UnixMillis) -> Result<bool> {
    Ok(on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO announcement_reactions (name_id, account_id, created_at) \
             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(name_id)
        .bind(account_id)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    }) == 1)
}

/// `account_id` takes its reaction `name_id` back; false when it had none.
pub async fn unreact(tx: &mut Tx, name_id: i64, account_id: i64) -> Result<bool> {
    Ok(on_tx!(tx, conn => {
        sqlx::query("DELETE FROM announcement_reactions WHERE name_id = $1 AND account_id = $2")
            .bind(name_id)
            .bind(account_id)
            .execute(&mut *conn)
            .await?
            .rows_affected()
    }) == 1)
}

/// Whether anyone reacts with `name_id` now.
pub async fn reaction_exists(tx: &mut Tx, name_id: i64) -> Result<bool> {
    let found: Option<i64> = on_tx!(tx, conn => {
        sqlx::query_scalar("SELECT account_id FROM announcement_reactions WHERE name_id = $1 LIMIT 1")
            .bind(name_id)
            .fetch_optional(&mut *conn)
            .await?
    });
    Ok(found.is_some())
}
