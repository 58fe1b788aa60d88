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
