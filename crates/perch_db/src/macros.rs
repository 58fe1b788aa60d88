/// Evaluate `$body` with `$pool` bound to the backend's concrete pool. The body
/// is compiled once per backend, so the same query text is type-checked
/// against both drivers.
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::pool::Db::Sqlite($pool) => $body,
            $crate::pool::Db::Postgres($pool) => $body,
        }
    };
}

/// Like `on_db!`, for a transaction: `$conn` is the backend's connection.
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::pool::Tx::Sqlite(tx) => {
                let $conn = &mut **tx;
                $body
            }
            $crate::pool::Tx::Postgres(tx) => {
                let $conn = &mut **tx;
                $body
            }
        }
    };
}

/// The columns of [`AccountRow`], for `concat!` into static queries.
macro_rules! account_columns {
    () => {
        "id, username, domain, uri, url, actor_type, display_name, note, locked, bot, \
         discoverable, avatar_url, header_url, inbox_url, shared_inbox_url, outbox_url, \
         followers_url, following_url, followers_count, following_count, statuses_count, \
         last_status_at, created_at, updated_at"
    };
}

/// [`account_columns!`] qualified with the alias `a`, for joins.
macro_rules! prefixed_account_columns {
    () => {
        "a.id, a.username, a.domain, a.uri, a.url, a.actor_type, a.display_name, a.note, \
         a.locked, a.bot, a.discoverable, a.avatar_url, a.header_url, a.inbox_url, \
         a.shared_inbox_url, a.outbox_url, a.followers_url, a.following_url, \
         a.followers_count, a.following_count, a.statuses_count, a.last_status_at, \
         a.created_at, a.updated_at"
    };
}
