//! Filters: an account's keywords and statuses to warn about or hide
//! (`filters`, `filter_keywords`, `filter_statuses`), read back as
//! perch_core's [`Filter`]s, whose rule decides what they match.
//!
//! Reading an account's filters is one query whatever their number (their
//! keywords and statuses side by side in a `UNION ALL`), so that a page of
//! statuses costs one read for its viewer's filters, and a streamed status
//! one read for all its signed-in recipients.

use std::collections::BTreeMap;

use perch_core::filter::{Contexts, Filter, FilterAction, FilterStatus, Keyword};
use perch_core::time::UnixMillis;

use crate::{Db, Result, Tx};

/// A filter's own settings, as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterFields<'a> {
    pub id: i64,
    pub account_id: i64,
    pub title: &'a str,
    pub contexts: Contexts,
    pub action: FilterAction,
    pub expires_at: Option<UnixMillis>,
}

/// One row of [`load`]'s query: a filter with one of its keywords, or
/// with one of its statuses, or alone.
#[derive(Debug, sqlx::FromRow)]
struct RuleRow {
    account_id: i64,
    id: i64,
    title: String,
    context: String,
    action: String,
    expires_at: Option<i64>,
    keyword_id: Option<i64>,
    keyword: Option<String>,
    whole_word: Option<bool>,
    status_row_id: Option<i64>,
    status_id: Option<i64>,
}

/// The filters and their rules: `$1` the accounts, `$2` an instant at
/// which they must be active (NULL: any), `$3` one filter (NULL: all).
/// `$acct` is the backend's membership test of `f.account_id` in `$1`.
macro_rules! rules_query {
    ($acct:literal) => {
        concat!(
            "SELECT f.account_id, f.id, f.title, f.context, f.action, f.expires_at, \
               k.id AS keyword_id, k.keyword, k.whole_word, \
               NULL AS status_row_id, NULL AS status_id \
             FROM filters f LEFT JOIN filter_keywords k ON k.filter_id = f.id \
             WHERE ",
            $acct,
            " AND ($2 IS NULL OR f.expires_at IS NULL OR f.expires_at > $2) \
               AND ($3 IS NULL OR f.id = $3) \
             UNION ALL \
             SELECT f.account_id, f.id, f.title, f.context, f.action, f.expires_at, \
               NULL, NULL, NULL, fs.id, fs.status_id \
             FROM filters f JOIN filter_statuses fs ON fs.filter_id = f.id \
             WHERE ",
            $acct,
            " AND ($2 IS NULL OR f.expires_at IS NULL OR f.expires_at > $2) \
               AND ($3 IS NULL OR f.id = $3)"
        )
    };
}

const SQLITE_RULES: &str = rules_query!("f.account_id IN (SELECT value FROM json_each($1))");
const POSTGRES_RULES: &str = rules_query!("f.account_id = ANY($1)");

/// The filters of `account_ids`, each with its owner, oldest first with
/// their keywords and statuses oldest first: only those active at
/// `active_at` when given, only `only` when given.
pub async fn load(
    db: &Db,
    account_ids: &[i64],
    active_at: Option<UnixMillis>,
    only: Option<i64>,
) -> Result<Vec<(i64, Filter)>> {
    if account_ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<RuleRow> = match db {
        Db::Sqlite(pool) => {
            sqlx::query_as(SQLITE_RULES)
                .bind(crate::pool::json_ids(account_ids))
                .bind(active_at)
                .bind(only)
                .fetch_all(pool)
                .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_as(POSTGRES_RULES)
                .bind(account_ids)
                .bind(active_at)
                .bind(only)
                .fetch_all(pool)
                .await?
        }
    };
    Ok(assemble(rows))
}

/// [`load`] in a transaction, for one account.
async fn load_in(tx: &mut Tx, account_id: i64, only: Option<i64>) -> Result<Vec<Filter>> {
    let ids = [account_id];
    let rows: Vec<RuleRow> = match tx {
        Tx::Sqlite(tx) => {
            sqlx::query_as(SQLITE_RULES)
                .bind(crate::pool::json_ids(&ids))
                .bind(None::<i64>)
                .bind(only)
                .fetch_all(&mut **tx)
                .await?
        }
        Tx::Postgres(tx) => {
            sqlx::query_as(POSTGRES_RULES)
                .bind(&ids[..])
                .bind(None::<i64>)
                .bind(only)
                .fetch_all(&mut **tx)
                .await?
        }
    };
    Ok(assemble(rows).into_iter().map(|(_, f)| f).collect())
}

/// Rows folded into filters, by id (ids are time-sortable: oldest first).
fn assemble(rows: Vec<RuleRow>) -> Vec<(i64, Filter)> {
    let mut filters: BTreeMap<i64, (i64, Filter)> = BTreeMap::new();
    for row in rows {
        let (_, filter) = filters.entry(row.id).or_insert_with(|| {
            (
                row.account_id,
                Filter {
                    id: row.id,
                    title: row.title,
                    contexts: Contexts::from_stored(&row.context),
                    action: FilterAction::from_stored(&row.action),
                    expires_at: row.expires_at,
                    keywords: Vec::new(),
                    statuses: Vec::new(),
                },
            )
        });
        if let (Some(id), Some(keyword)) = (row.keyword_id, row.keyword) {
            filter
                .keywords
                .push(Keyword::new(id, keyword, row.whole_word.unwrap_or(false)));
        }
        if let (Some(id), Some(status_id)) = (row.status_row_id, row.status_id) {
            filter.statuses.push(FilterStatus { id, status_id });
        }
    }
    filters
        .into_values()
        .map(|(owner, mut filter)| {
            filter.keywords.sort_by_key(|k| k.id);
            filter.statuses.sort_by_key(|s| s.id);
            (owner, filter)
        })
        .collect()
}

/// `account_id`'s filters (only those active at `active_at`, if given).
pub async fn of_account(
    db: &Db,
    account_id: i64,
    active_at: Option<UnixMillis>,
) -> Result<Vec<Filter>> {
    Ok(load(db, &[account_id], active_at, None)
        .await?
        .into_iter()
        .map(|(_, f)| f)
        .collect())
}

/// `account_id`'s filter `id`, expired or not.
pub async fn find(db: &Db, account_id: i64, id: i64) -> Result<Option<Filter>> {
    Ok(load(db, &[account_id], None, Some(id))
        .await?
        .pop()
        .map(|(_, f)| f))
}

/// [`find`] in `tx`, whose changes it sees.
pub async fn find_in(tx: &mut Tx, account_id: i64, id: i64) -> Result<Option<Filter>> {
    Ok(load_in(tx, account_id, Some(id)).await?.pop())
}

/// The filter of `account_id` that keyword `keyword_id` belongs to.
pub async fn filter_of_keyword(db: &Db, account_id: i64, keyword_id: i64) -> Result<Option<i64>> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT f.id FROM filter_keywords k JOIN filters f ON f.id = k.filter_id \
             WHERE k.id = $1 AND f.account_id = $2",
        )
        .bind(keyword_id)
        .bind(account_id)
        .fetch_optional(pool)
        .await?
    }))
}

/// The filter of `account_id` that the filtered status `row_id` (the
/// FilterStatus's id) belongs to.
pub async fn filter_of_status(db: &Db, account_id: i64, row_id: i64) -> Result<Option<i64>> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar(
            "SELECT f.id FROM filter_statuses fs JOIN filters f ON f.id = fs.filter_id \
             WHERE fs.id = $1 AND f.account_id = $2",
        )
        .bind(row_id)
        .bind(account_id)
        .fetch_optional(pool)
        .await?
    }))
}

/// Hold `account_id`'s filters until `tx` ends (PostgreSQL locks the
/// account's row), so that two changes at once cannot both pass the
/// limits. SQLite runs one writer at a time anyway.
pub async fn hold_owner(tx: &mut Tx, account_id: i64) -> Result<()> {
    if let Tx::Postgres(tx) = tx {
        sqlx::query("SELECT id FROM accounts WHERE id = $1 FOR UPDATE")
            .bind(account_id)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// How many filters, keywords and filtered statuses `account_id` has.
pub async fn counts(tx: &mut Tx, account_id: i64) -> Result<(i64, i64, i64)> {
    Ok(on_tx!(tx, conn => {
        sqlx::query_as(
            "SELECT \
               (SELECT COUNT(*) FROM filters WHERE account_id = $1), \
               (SELECT COUNT(*) FROM filter_keywords k JOIN filters f ON f.id = k.filter_id \
                  WHERE f.account_id = $1), \
               (SELECT COUNT(*) FROM filter_statuses s JOIN filters f ON f.id = s.filter_id \
                  WHERE f.account_id = $1)",
        )
        .bind(account_id)
        .fetch_one(&mut *conn)
        .await?
    }))
}

/// Store a new filter.
pub async fn insert(tx: &mut Tx, filter: &FilterFields<'_>, now: UnixMillis) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO filters (id, account_id, title, context, action, expires_at, \
               created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(filter.id)
        .bind(filter.account_id)
        .bind(filter.title)
        .bind(filter.contexts.to_stored())
        .bind(filter.action.as_str())
        .bind(filter.expires_at)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// Change a filter's settings.
pub async fn update(tx: &mut Tx, filter: &FilterFields<'_>, now: UnixMillis) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(
            "UPDATE filters SET title = $3, context = $4, action = $5, expires_at = $6, \
               updated_at = $7 WHERE id = $1 AND account_id = $2",
        )
        .bind(filter.id)
        .bind(filter.account_id)
        .bind(filter.title)
        .bind(filter.contexts.to_stored())
        .bind(filter.action.as_str())
        .bind(filter.expires_at)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// Delete `account_id`'s filter `id` with its keywords and statuses;
/// false when it has no such filter.
pub async fn delete(tx: &mut Tx, account_id: i64, id: i64) -> Result<bool> {
    Ok(on_tx!(tx, conn => {
        sqlx::query("DELETE FROM filters WHERE id = $1 AND account_id = $2")
            .bind(id)
            .bind(account_id)
            .execute(&mut *conn)
            .await?
            .rows_affected()
    }) == 1)
}

/// Add a keyword to filter `filter_id`.
pub async fn insert_keyword(
    tx: &mut Tx,
    id: i64,
    filter_id: i64,
    keyword: &str,
    whole_word: bool,
    now: UnixMillis,
) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO filter_keywords (id, filter_id, keyword, whole_word, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(filter_id)
        .bind(keyword)
        .bind(whole_word)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// Change keyword `id` of filter `filter_id`.
pub async fn update_keyword(
    tx: &mut Tx,
    id: i64,
    filter_id: i64,
    keyword: &str,
    whole_word: bool,
) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(
            "UPDATE filter_keywords SET keyword = $3, whole_word = $4 \
             WHERE id = $1 AND filter_id = $2",
        )
        .bind(id)
        .bind(filter_id)
        .bind(keyword)
        .bind(whole_word)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// Remove keyword `id` of filter `filter_id`.
pub async fn delete_keyword(tx: &mut Tx, id: i64, filter_id: i64) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query("DELETE FROM filter_keywords WHERE id = $1 AND filter_id = $2")
            .bind(id)
            .bind(filter_id)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

/// Have filter `filter_id` name status `status_id`; false when it did.
pub async fn insert_status(
    tx: &mut Tx,
    id: i64,
    filter_id: i64,
    status_id: i64,
    now: UnixMillis,
) -> Result<bool> {
    Ok(on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO filter_statuses (id, filter_id, status_id, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(filter_id)
        .bind(status_id)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    }) == 1)
}

/// Remove the filtered status `id` of filter `filter_id`.
pub async fn delete_status(tx: &mut Tx, id: i64, filter_id: i64) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query("DELETE FROM filter_statuses WHERE id = $1 AND filter_id = $2")
            .bind(id)
            .bind(filter_id)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, keyword: Option<(i64, &str)>, status: Option<(i64, i64)>) -> RuleRow {
        RuleRow {
            account_id: 5,
            id,
            title: format!("t{id}"),
            context: "home,thread".to_owned(),
            action: "hide".to_owned(),
            expires_at: None,
            keyword_id: keyword.map(|k| k.0),
            keyword: keyword.map(|k| k.1.to_owned()),
            whole_word: keyword.map(|_| true),
            status_row_id: status.map(|s| s.0),
            status_id: status.map(|s| s.1),
        }
    }

    #[test]
    fn rows_fold_into_filters_in_id_order() {
        let filters = assemble(vec![
            row(2, None, Some((21, 900))),
            row(1, Some((12, "b")), None),
            row(2, None, None),
            row(1, Some((11, "a")), None),
            row(3, None, None),
        ]);
        let ids: Vec<i64> = filters.iter().map(|(_, f)| f.id).collect();
        assert_eq!(ids, [1, 2, 3]);
        let first = &filters[0].1;
        assert_eq!(
            first
                .keywords
                .iter()
                .map(|k| k.keyword.as_str())
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(first.action, FilterAction::Hide);
        assert_eq!(first.contexts.to_stored(), "home,thread");
        assert_eq!(
            filters[1].1.statuses,
            [FilterStatus {
                id: 21,
                status_id: 900
            }]
        );
        assert!(filters[2].1.keywords.is_empty() && filters[2].1.statuses.is_empty());
        assert!(filters.iter().all(|(owner, _)| *owner == 5));
    }
}
