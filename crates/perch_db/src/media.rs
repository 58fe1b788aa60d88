//! Media attachments: uploads of local accounts (unattached until a status
//! uses them) and the attachments of remote statuses (by URL).

use perch_core::time::UnixMillis;

use crate::{Db, Result, Tx};

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct MediaRow {
    pub id: i64,
    pub account_id: i64,
    pub status_id: Option<i64>,
    pub kind: String,
    pub content_type: Option<String>,
    pub url: String,
    pub preview_url: Option<String>,
    pub remote_url: Option<String>,
    pub file_size: Option<i64>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub preview_width: Option<i32>,
    pub preview_height: Option<i32>,
    pub blurhash: Option<String>,
    pub description: Option<String>,
    pub focus_x: Option<f64>,
    pub focus_y: Option<f64>,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! media_columns {
    () => {
        "id, account_id, status_id, kind, content_type, url, preview_url, remote_url, \
         file_size, width, height, preview_width, preview_height, blurhash, description, \
         focus_x, focus_y, created_at, updated_at"
    };
}

/// The insert of a row, on any executor.
macro_rules! insert_media {
    ($executor:expr, $row:expr) => {
        sqlx::query(concat!(
            "INSERT INTO media_attachments (",
            media_columns!(),
            ") VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
              $18, $19)"
        ))
        .bind($row.id)
        .bind($row.account_id)
        .bind($row.status_id)
        .bind(&$row.kind)
        .bind(&$row.content_type)
        .bind(&$row.url)
        .bind(&$row.preview_url)
        .bind(&$row.remote_url)
        .bind($row.file_size)
        .bind($row.width)
        .bind($row.height)
        .bind($row.preview_width)
        .bind($row.preview_height)
        .bind(&$row.blurhash)
        .bind(&$row.description)
        .bind($row.focus_x)
        .bind($row.focus_y)
        .bind($row.created_at)
        .bind($row.updated_at)
        .execute($executor)
        .await?;
    };
}

/// Store an upload (not attached yet).
pub async fn create(db: &Db, row: &MediaRow) -> Result<()> {
    on_db!(db, pool => { insert_media!(pool, row); });
    Ok(())
}

/// Store a remote status's attachment, in the status's transaction.
pub async fn create_remote(tx: &mut Tx, row: &MediaRow) -> Result<()> {
    on_tx!(tx, conn => { insert_media!(&mut *conn, row); });
    Ok(())
}

pub async fn find(db: &Db, id: i64) -> Result<Option<MediaRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!("SELECT ", media_columns!(), " FROM media_attachments WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await?
    }))
}

/// Change the alt text and focal point.
pub async fn update(
    db: &Db,
    id: i64,
    description: Option<&str>,
    focus: Option<(f64, f64)>,
    now: UnixMillis,
) -> Result<()> {
    on_db!(db, pool => {
        sqlx::query(
            "UPDATE media_attachments SET description = COALESCE($1, description), \
             focus_x = COALESCE($2, focus_x), focus_y = COALESCE($3, focus_y), updated_at = $4 \
             WHERE id = $5",
        )
        .bind(description)
        .bind(focus.map(|f| f.0))
        .bind(focus.map(|f| f.1))
        .bind(now)
        .bind(id)
        .execute(pool)
        .await?;
    });
    Ok(())
}

/// Attach `media_ids` (in that order) to a status. Only unattached media of
/// `account_id` can be; returns the ids that could not (the caller then
/// rolls back and refuses).
pub async fn attach(
    tx: &mut Tx,
    account_id: i64,
    status_id: i64,
    media_ids: &[i64],
    scheduled_id: Option<i64>,
) -> Result<Vec<i64>> {
    let mut refused = Vec::new();
    for id in media_ids {
        let attached = on_tx!(tx, conn => {
            sqlx::query(
                "UPDATE media_attachments SET status_id = $1 \
                 WHERE id = $2 AND account_id = $3 AND status_id IS NULL \
                 AND (scheduled_status_id IS NULL OR scheduled_status_id = $4)",
            )
            .bind(status_id)
            .bind(id)
            .bind(account_id)
            .bind(scheduled_id)
            .execute(&mut *conn)
            .await?
            .rows_affected()
        });
        if attached == 0 {
            refused.push(*id);
        }
    }
    Ok(refused)
}

/// Attachments of several statuses, each status's in upload order.
pub async fn for_statuses(db: &Db, status_ids: &[i64]) -> Result<Vec<MediaRow>> {
    if status_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(fetch_by_ids!(
        db,
        status_ids,
        query_as,
        concat!(
            "SELECT ",
            media_columns!(),
            " FROM media_attachments WHERE status_id"
        ),
        " ORDER BY status_id, id"
    ))
}

/// The uploads scheduled status `scheduled_id` keeps, in upload order.
pub async fn for_scheduled(db: &Db, scheduled_id: i64) -> Result<Vec<MediaRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", media_columns!(),
            " FROM media_attachments WHERE scheduled_status_id = $1 ORDER BY id"
        ))
        .bind(scheduled_id)
        .fetch_all(pool)
        .await?
    }))
}

/// Uploads never attached and older than `before`, to delete with their
/// files.
pub async fn unattached_before(db: &Db, before: UnixMillis) -> Result<Vec<MediaRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", media_columns!(),
            " FROM media_attachments WHERE status_id IS NULL AND scheduled_status_id IS NULL \
             AND created_at < $1 ORDER BY id"
        ))
        .bind(before)
        .fetch_all(pool)
        .await?
    }))
}

pub async fn delete(db: &Db, id: i64) -> Result<()> {
    on_db!(db, pool => {
        sqlx::query("DELETE FROM media_attachments WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Delete `account_id`'s upload `id` if no status uses it; false when there
/// is no such unattached upload.
pub async fn delete_unattached(db: &Db, id: i64, account_id: i64) -> Result<bool> {
    Ok(on_db!(db, pool => {
        sqlx::query(
            "DELETE FROM media_attachments WHERE id = $1 AND account_id = $2 AND status_id IS NULL \
             AND scheduled_status_id IS NULL",
        )
        .bind(id)
        .bind(account_id)
        .execute(pool)
        .await?
        .rows_affected()
    }) == 1)
}
