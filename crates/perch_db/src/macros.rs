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
         last_status_at, created_at, updated_at, accepts_chat_messages, suspended_at, \
         silenced_at, sensitized_at, deleted_at, featured_url, also_known_as, \
         moved_to_account_id, \
         (SELECT ru.role FROM users ru WHERE ru.account_id = accounts.id) AS role"
    };
}

/// [`account_columns!`] qualified with the alias `a`, for joins.
macro_rules! prefixed_account_columns {
    () => {
        "a.id, a.username, a.domain, a.uri, a.url, a.actor_type, a.display_name, a.note, \
         a.locked, a.bot, a.discoverable, a.avatar_url, a.header_url, a.inbox_url, \
         a.shared_inbox_url, a.outbox_url, a.followers_url, a.following_url, \
         a.followers_count, a.following_count, a.statuses_count, a.last_status_at, \
         a.created_at, a.updated_at, a.accepts_chat_messages, a.suspended_at, \
         a.silenced_at, a.sensitized_at, a.deleted_at, a.featured_url, \
         a.also_known_as, a.moved_to_account_id, \
         (SELECT ru.role FROM users ru WHERE ru.account_id = a.id) AS role"
    };
}

/// A query over a list of ids, `$1` being the list: SQLite reads it as a
/// JSON array (`json_each`), PostgreSQL as an array (`= ANY`). `$head` ends
/// just before the membership test of the id column, `$tail` follows it;
/// further parameters are `$2`… Evaluates to the fetched rows.
macro_rules! fetch_by_ids {
    ($db:expr, $ids:expr, $kind:ident, $head:expr, $tail:expr $(, $bind:expr)* $(,)?) => {
        match $db {
            $crate::pool::Db::Sqlite(pool) => {
                sqlx::$kind(concat!($head, " IN (SELECT value FROM json_each($1))", $tail))
                    .bind($crate::pool::json_ids($ids))
                    $(.bind($bind))*
                    .fetch_all(pool)
                    .await?
            }
            $crate::pool::Db::Postgres(pool) => {
                sqlx::$kind(concat!($head, " = ANY($1)", $tail))
                    .bind($ids)
                    $(.bind($bind))*
                    .fetch_all(pool)
                    .await?
            }
        }
    };
}

/// The columns of `StatusRow`, qualified with the alias `s`.
macro_rules! status_columns {
    () => {
        "s.id, s.account_id, s.uri, s.url, s.content, s.source_text, s.spoiler_text, \
         s.sensitive, s.visibility, s.language, s.local, s.in_reply_to_id, \
         s.in_reply_to_account_id, s.in_reply_to_uri, s.reblog_of_id, s.replies_count, \
         s.reblogs_count, s.favourites_count, s.created_at, s.edited_at, s.updated_at"
    };
}

/// Whether the status `s` may be read by the account bound at `$v` (0 for
/// nobody signed in): public and unlisted by anyone; private by the author,
/// the mentioned and the author's followers; direct by the author and the
/// mentioned. Never by an account its author blocks, and by nobody once
/// its author is suspended.
macro_rules! visible_to {
    ($v:literal) => {
        concat!(
            "((s.visibility <= 1 OR s.account_id = ",
            $v,
            " OR EXISTS (SELECT 1 FROM status_mentions vm WHERE vm.status_id = s.id \
               AND vm.account_id = ",
            $v,
            ")",
            " OR (s.visibility = 2 AND EXISTS (SELECT 1 FROM follows vf \
               WHERE vf.account_id = ",
            $v,
            " AND vf.target_account_id = s.account_id))) \
             AND NOT EXISTS (SELECT 1 FROM blocks vb WHERE vb.account_id = s.account_id \
               AND vb.target_account_id = ",
            $v,
            ") AND NOT EXISTS (SELECT 1 FROM accounts vs WHERE vs.id = s.account_id \
               AND vs.suspended_at IS NOT NULL))"
        )
    };
}

/// Whether account `$a` is kept from account `$v`: one of them blocks the
/// other, `$v` mutes `$a` (`$mute` may narrow the mutes, e.g. to those that
/// hide notifications), or `$v` blocks `$a`'s server. The one definition of
/// who stays out of whose timelines, notifications and streams.
macro_rules! kept_from {
    ($v:literal, $a:literal, $mute:literal) => {
        concat!(
            "(EXISTS (SELECT 1 FROM blocks kb WHERE kb.account_id = ",
            $v,
            " AND kb.target_account_id = ",
            $a,
            ") OR EXISTS (SELECT 1 FROM blocks kb WHERE kb.account_id = ",
            $a,
            " AND kb.target_account_id = ",
            $v,
            ") OR EXISTS (SELECT 1 FROM mutes km WHERE km.account_id = ",
            $v,
            " AND km.target_account_id = ",
            $a,
            $mute,
            ") OR EXISTS (SELECT 1 FROM accounts ka JOIN account_domain_blocks kd \
               ON kd.domain = ka.domain WHERE ka.id = ",
            $a,
            " AND kd.account_id = ",
            $v,
            "))"
        )
    };
}

/// Unless `$v` is 0 (nobody signed in): the status `s` is not by an account
/// kept from `$v` (see [`kept_from!`]), nor a reblog of one's status.
macro_rules! not_kept_from {
    ($v:literal) => {
        concat!(
            "(",
            $v,
            " = 0 OR NOT (",
            kept_from!($v, "s.account_id", ""),
            " OR EXISTS (SELECT 1 FROM statuses ks WHERE ks.id = s.reblog_of_id AND ",
            kept_from!($v, "ks.account_id", ""),
            ")))"
        )
    };
}

/// Like [`not_kept_from!`] for the reblogged status only: an account's own
/// timeline keeps its statuses, but not its reblogs of those kept from `$v`.
macro_rules! reblog_not_kept_from {
    ($v:literal) => {
        concat!(
            "(",
            $v,
            " = 0 OR s.reblog_of_id IS NULL OR NOT EXISTS (SELECT 1 FROM statuses ks \
               WHERE ks.id = s.reblog_of_id AND ",
            kept_from!($v, "ks.account_id", ""),
            "))"
        )
    };
}

/// The author of the status `s` may be shown in public timelines: neither
/// silenced nor suspended by a moderator.
macro_rules! publicly_shown {
    () => {
        "NOT EXISTS (SELECT 1 FROM accounts pa WHERE pa.id = s.account_id \
         AND (pa.silenced_at IS NOT NULL OR pa.suspended_at IS NOT NULL))"
    };
}

/// The status `s` is not by a member of one of the exclusive lists of the
/// account bound at `$v`: those members' statuses are read in the list,
/// not in the home timeline.
macro_rules! not_in_exclusive_list {
    ($v:literal) => {
        concat!(
            "NOT EXISTS (SELECT 1 FROM list_accounts xa JOIN lists xl ON xl.id = xa.list_id \
             WHERE xa.account_id = s.account_id AND xl.account_id = ",
            $v,
            " AND xl.exclusive = TRUE)"
        )
    };
}

/// Whether the list `l` shows its member's status `s`: anything but a
/// reply to someone else, and such a reply when it answers the list's
/// owner, or, by the list's `replies_policy`, an account the owner follows
/// (`followed`) or a member of the list (`list`); `none` shows no other
/// replies.
macro_rules! list_takes {
    () => {
        "(s.in_reply_to_account_id IS NULL OR s.in_reply_to_account_id = s.account_id \
          OR s.in_reply_to_account_id = l.account_id \
          OR (l.replies_policy = 'followed' AND EXISTS (SELECT 1 FROM follows rf \
              WHERE rf.account_id = l.account_id \
                AND rf.target_account_id = s.in_reply_to_account_id)) \
          OR (l.replies_policy = 'list' AND EXISTS (SELECT 1 FROM list_accounts rl \
              WHERE rl.list_id = l.id AND rl.account_id = s.in_reply_to_account_id)))"
    };
}
