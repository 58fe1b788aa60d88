//! Accounts (local and remote), local users' credentials, and actor keys.

use perch_core::account::{Email, Username};
use perch_core::id::Id;
use perch_core::time::UnixMillis;

use crate::{Db, Error, Result, Tx};

/// A row of `accounts`.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AccountRow {
    pub id: i64,
    pub username: String,
    /// `None` for local accounts.
    pub domain: Option<String>,
    pub uri: String,
    pub url: Option<String>,
    pub actor_type: String,
    pub display_name: String,
    pub note: String,
    pub locked: bool,
    pub bot: bool,
    pub discoverable: bool,
    pub avatar_url: Option<String>,
    pub header_url: Option<String>,
    pub inbox_url: Option<String>,
    pub shared_inbox_url: Option<String>,
    pub outbox_url: Option<String>,
    pub followers_url: Option<String>,
    pub following_url: Option<String>,
    pub followers_count: i64,
    pub following_count: i64,
    pub statuses_count: i64,
    pub last_status_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// A remote actor that takes Pleroma's `ChatMessage`.
    pub accepts_chat_messages: bool,
    /// When a moderator suspended the account.
    pub suspended_at: Option<i64>,
    /// When a moderator silenced the account.
    pub silenced_at: Option<i64>,
    /// When a moderator marked the account's media sensitive.
    pub sensitized_at: Option<i64>,
    /// When the (local) account was deleted; it is then also suspended.
    pub deleted_at: Option<i64>,
    /// A remote actor's pinned statuses (its `featured` collection).
    pub featured_url: Option<String>,
    /// A remote actor's other ids (`alsoKnownAs`), as a JSON array.
    pub also_known_as: Option<String>,
    /// The account this one moved to.
    pub moved_to_account_id: Option<i64>,
    /// A local user's role (`users.role`); `None` for remote accounts.
    pub role: Option<String>,
}

/// The ActivityPub addresses of a local actor, decided by the federation layer.
#[derive(Clone, Debug)]
pub struct ActorUrls {
    pub uri: String,
    pub url: String,
    pub inbox_url: String,
    pub shared_inbox_url: String,
    pub outbox_url: String,
    pub followers_url: String,
    pub following_url: String,
}

/// A PEM-encoded key pair and its public id (`…#main-key`).
#[derive(Clone)]
pub struct KeyPairPem {
    pub key_id: String,
    pub public_key_pem: String,
    pub private_key_pem: String,
}

impl std::fmt::Debug for KeyPairPem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPairPem")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// Everything needed to create a local account in one transaction.
#[derive(Debug)]
pub struct NewLocalAccount {
    pub id: Id,
    pub username: Username,
    pub email: Email,
    pub password_hash: String,
    pub role: perch_core::role::Role,
    pub approved: bool,
    pub locale: String,
    /// E.164, unique when present.
    pub phone: Option<String>,
    /// Why the person wants to join (approval-required sign-ups).
    pub reason: Option<String>,
    pub urls: ActorUrls,
    pub keys: KeyPairPem,
    pub created_at: UnixMillis,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateAccountError {
    #[error("username is already taken")]
    UsernameTaken,
    #[error("email address is already in use")]
    EmailTaken,
    #[error("phone number is already in use")]
    PhoneTaken,
    #[error(transparent)]
    Db(#[from] Error),
}

/// A local user as the operator sees it (`perch user list`).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LocalUserSummary {
    pub id: i64,
    pub username: String,
    pub email: String,
    /// The role's name.
    pub role: String,
    pub approved: bool,
    pub created_at: i64,
}

/// Create a local account with its credentials and key pair, atomically.
pub async fn create_local(
    db: &Db,
    new: &NewLocalAccount,
) -> std::result::Result<AccountRow, CreateAccountError> {
    let id = new.id.as_i64();
    let urls = &new.urls;
    let mut tx = db.begin().await?;
    let inserted: Result<()> = on_tx!(&mut tx, conn => async {
        sqlx::query(
            "INSERT INTO accounts (id, username, domain, uri, url, inbox_url, shared_inbox_url, \
             outbox_url, followers_url, following_url, created_at, updated_at) \
             VALUES ($1, $2, NULL, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
        )
        .bind(id)
        .bind(new.username.as_str())
        .bind(urls.uri.as_str())
        .bind(urls.url.as_str())
        .bind(urls.inbox_url.as_str())
        .bind(urls.shared_inbox_url.as_str())
        .bind(urls.outbox_url.as_str())
        .bind(urls.followers_url.as_str())
        .bind(urls.following_url.as_str())
        .bind(new.created_at)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO users (account_id, email, password_hash, locale, role, approved, \
             phone, registration_reason, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(id)
        .bind(new.email.as_str())
        .bind(new.password_hash.as_str())
        .bind(new.locale.as_str())
        .bind(new.role.as_str())
        .bind(new.approved)
        .bind(new.phone.as_deref())
        .bind(new.reason.as_deref())
        .bind(new.created_at)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO account_keys (account_id, key_id, public_key_pem, private_key_pem, \
             created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(new.keys.key_id.as_str())
        .bind(new.keys.public_key_pem.as_str())
        .bind(new.keys.private_key_pem.as_str())
        .bind(new.created_at)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
    .await);
    inserted.map_err(|error| match error {
        Error::UniqueViolation(name) if name.contains("email") => CreateAccountError::EmailTaken,
        Error::UniqueViolation(name) if name.contains("phone") => CreateAccountError::PhoneTaken,
        Error::UniqueViolation(name) if name.contains("username") || name.contains("uri") => {
            CreateAccountError::UsernameTaken
        }
        other => CreateAccountError::Db(other),
    })?;
    tx.commit().await?;
    find_by_id(db, new.id)
        .await?
        .ok_or(CreateAccountError::Db(Error::Sqlx(
            sqlx::Error::RowNotFound,
        )))
}

pub async fn find_by_id(db: &Db, id: Id) -> Result<Option<AccountRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!("SELECT ", account_columns!(), " FROM accounts WHERE id = $1"))
            .bind(id.as_i64())
            .fetch_optional(pool)
            .await?
    }))
}

/// A local account by username, case-insensitively.
pub async fn find_local_by_username(db: &Db, username: &str) -> Result<Option<AccountRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", account_columns!(),
            " FROM accounts WHERE lower(username) = lower($1) AND domain IS NULL"
        ))
        .bind(username)
        .fetch_optional(pool)
        .await?
    }))
}

/// Every local user, oldest first.
pub async fn list_local_users(db: &Db) -> Result<Vec<LocalUserSummary>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(
            "SELECT a.id, a.username, u.email, u.role, u.approved, u.created_at \
             FROM accounts a JOIN users u ON u.account_id = a.id ORDER BY a.id",
        )
        .fetch_all(pool)
        .await?
    }))
}

/// Follow requests waiting for this account's decision.
pub async fn count_follow_requests(db: &Db, account_id: i64) -> Result<i64> {
    Ok(on_db!(db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM follow_requests WHERE target_account_id = $1")
            .bind(account_id)
            .fetch_one(pool)
            .await?
    }))
}

/// Figures the instance documents and NodeInfo report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InstanceStats {
    pub local_users: i64,
    pub local_statuses: i64,
    /// Other servers we know accounts on.
    pub known_domains: i64,
    /// Local users who signed in or used a session since the given instant.
    pub active_users: i64,
}

pub async fn instance_stats(db: &Db, active_since: UnixMillis) -> Result<InstanceStats> {
    let (local_users, local_statuses, known_domains, active_users): (i64, i64, i64, i64) = on_db!(db, pool => {
        sqlx::query_as(
            "SELECT \
               (SELECT COUNT(*) FROM users), \
               (SELECT COUNT(*) FROM statuses WHERE local), \
               (SELECT COUNT(DISTINCT domain) FROM accounts WHERE domain IS NOT NULL), \
               (SELECT COUNT(DISTINCT s.account_id) FROM oauth_sessions s \
                  WHERE s.account_id IS NOT NULL \
                    AND (s.created_at >= $1 OR s.last_used_at >= $1))",
        )
        .bind(active_since)
        .fetch_one(pool)
        .await?
    });
    Ok(InstanceStats {
        local_users,
        local_statuses,
        known_domains,
        active_users,
    })
}

/// The instance's contact: its owner, or failing that its oldest admin.
pub async fn first_admin(db: &Db) -> Result<Option<AccountRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", account_columns!(),
            " FROM accounts WHERE id = \
              (SELECT account_id FROM users WHERE role IN ('owner', 'admin') \
               ORDER BY CASE role WHEN 'owner' THEN 0 ELSE 1 END, account_id LIMIT 1)"
        ))
        .fetch_optional(pool)
        .await?
    }))
}

/// Lock or unlock an account (follows then need approval).
pub async fn set_locked(db: &Db, account_id: i64, locked: bool) -> Result<()> {
    on_db!(db, pool => {
        sqlx::query("UPDATE accounts SET locked = $1 WHERE id = $2")
            .bind(locked)
            .bind(account_id)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Several accounts by id, in no particular order.
pub async fn find_many(db: &Db, ids: &[i64]) -> Result<Vec<AccountRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(fetch_by_ids!(
        db,
        ids,
        query_as,
        concat!("SELECT ", account_columns!(), " FROM accounts WHERE id"),
        ""
    ))
}

/// Remove a remote account that deleted itself, with everything of theirs
/// (statuses, likes, reblogs, follows, keys — by cascade), after taking
/// their part out of the counters of what remains.
pub async fn purge_remote(tx: &mut Tx, account_id: i64) -> Result<()> {
    on_tx!(tx, conn => {
        let delete = "DELETE FROM accounts WHERE id = $1 AND domain IS NOT NULL";
        for statement in COUNTERS_WITHOUT
            .iter()
            .chain([&delete])
            .chain(CONVERSATIONS_WITHOUT)
        {
            sqlx::query(statement).bind(account_id).execute(&mut *conn).await?;
        }
    });
    Ok(())
}

/// What a deleted local account leaves to remove outside the database: the
/// stored files of its avatar, header and attachments (public URLs).
#[derive(Debug, Default)]
pub struct DeletedFiles {
    pub urls: Vec<String>,
}

/// Delete local account `account_id` in `tx`: everything of it goes (its
/// statuses with what hangs on them, its likes and reblogs of others'
/// statuses with the counters corrected, its follows both ways, blocks,
/// mutes, chats, notifications with their policy and requests, media and
/// credentials), and its
/// row stays, emptied, suspended and marked deleted, with its key: the
/// Delete of the actor is signed with it, its username is not given again,
/// and its actor is answered with a Tombstone. Reports about it and by it
/// stay for the moderators. None when there is no such local account, or
/// it was deleted before.
pub async fn delete_local(
    tx: &mut Tx,
    account_id: i64,
    now: UnixMillis,
) -> Result<Option<DeletedFiles>> {
    let files = on_tx!(tx, conn => {
        let marked = sqlx::query(
            "UPDATE accounts SET deleted_at = $2, suspended_at = COALESCE(suspended_at, $2), \
               updated_at = $2 \
             WHERE id = $1 AND domain IS NULL AND deleted_at IS NULL",
        )
        .bind(account_id)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if marked != 1 {
            return Ok(None);
        }
        let mut urls: Vec<String> = sqlx::query_scalar(
            "SELECT url FROM media_attachments WHERE account_id = $1 AND remote_url IS NULL \
             UNION ALL SELECT preview_url FROM media_attachments \
               WHERE account_id = $1 AND remote_url IS NULL AND preview_url IS NOT NULL \
             UNION ALL SELECT avatar_url FROM accounts WHERE id = $1 AND avatar_url IS NOT NULL \
             UNION ALL SELECT header_url FROM accounts WHERE id = $1 AND header_url IS NOT NULL",
        )
        .bind(account_id)
        .fetch_all(&mut *conn)
        .await?;
        urls.sort();
        urls.dedup();
        for statement in COUNTERS_WITHOUT
            .iter()
            .chain(LOCAL_CONTENT)
            .chain(CONVERSATIONS_WITHOUT)
        {
            sqlx::query(statement).bind(account_id).execute(&mut *conn).await?;
        }
        DeletedFiles { urls }
    });
    Ok(Some(files))
}

/// Take an account's likes, reblogs, replies and follows out of the
/// counters of what remains (before they are deleted).
const COUNTERS_WITHOUT: &[&str] = &[
    "UPDATE statuses SET favourites_count = favourites_count - 1 \
     WHERE id IN (SELECT status_id FROM favourites WHERE account_id = $1) \
     AND favourites_count > 0",
    "UPDATE statuses SET reblogs_count = reblogs_count - 1 \
     WHERE id IN (SELECT reblog_of_id FROM statuses \
                  WHERE account_id = $1 AND reblog_of_id IS NOT NULL) \
     AND reblogs_count > 0",
    "UPDATE statuses SET replies_count = CASE \
       WHEN replies_count > (SELECT COUNT(*) FROM statuses r \
                             WHERE r.account_id = $1 AND r.in_reply_to_id = statuses.id) \
       THEN replies_count - (SELECT COUNT(*) FROM statuses r \
                             WHERE r.account_id = $1 AND r.in_reply_to_id = statuses.id) \
       ELSE 0 END \
     WHERE account_id <> $1 AND id IN (SELECT in_reply_to_id FROM statuses \
                                       WHERE account_id = $1 AND in_reply_to_id IS NOT NULL)",
    "UPDATE accounts SET followers_count = followers_count - 1 \
     WHERE id IN (SELECT target_account_id FROM follows WHERE account_id = $1) \
     AND followers_count > 0",
    "UPDATE accounts SET following_count = following_count - 1 \
     WHERE id IN (SELECT account_id FROM follows WHERE target_account_id = $1) \
     AND following_count > 0",
];

/// Once an account's statuses are gone: the conversations it took part
/// in show their newest remaining status, and those left empty go.
const CONVERSATIONS_WITHOUT: &[&str] = &[
    "UPDATE conversations SET last_status_id = COALESCE((SELECT MAX(cs.status_id) \
       FROM conversation_statuses cs WHERE cs.conversation_id = conversations.id), \
       last_status_id) \
     WHERE participant_ids LIKE '%,' || CAST($1 AS TEXT) || ',%'",
    "DELETE FROM conversations WHERE participant_ids LIKE '%,' || CAST($1 AS TEXT) || ',%' \
     AND NOT EXISTS (SELECT 1 FROM conversation_statuses cs \
                     WHERE cs.conversation_id = conversations.id)",
];

/// What of a local account is deleted with it (each statement binds the
/// account as `$1`); what hangs on its statuses and chats goes by cascade.
const LOCAL_CONTENT: &[&str] = &[
    "DELETE FROM statuses WHERE account_id = $1",
    "DELETE FROM favourites WHERE account_id = $1",
    "DELETE FROM bookmarks WHERE account_id = $1",
    "DELETE FROM conversations WHERE account_id = $1",
    "DELETE FROM scheduled_statuses WHERE account_id = $1",
    "DELETE FROM announcement_dismissals WHERE account_id = $1",
    "DELETE FROM announcement_reactions WHERE account_id = $1",
    "DELETE FROM lists WHERE account_id = $1",
    "DELETE FROM list_accounts WHERE account_id = $1",
    "DELETE FROM account_notes WHERE account_id = $1 OR target_account_id = $1",
    "DELETE FROM status_mentions WHERE account_id = $1",
    "DELETE FROM home_feed WHERE account_id = $1",
    "DELETE FROM notifications WHERE account_id = $1 OR from_account_id = $1",
    "DELETE FROM notification_requests WHERE account_id = $1 OR from_account_id = $1",
    "DELETE FROM notification_permissions WHERE account_id = $1 OR from_account_id = $1",
    "DELETE FROM notification_policies WHERE account_id = $1",
    "DELETE FROM follows WHERE account_id = $1 OR target_account_id = $1",
    "DELETE FROM follow_requests WHERE account_id = $1 OR target_account_id = $1",
    "DELETE FROM blocks WHERE account_id = $1 OR target_account_id = $1",
    "DELETE FROM mutes WHERE account_id = $1 OR target_account_id = $1",
    "DELETE FROM account_domain_blocks WHERE account_id = $1",
    "DELETE FROM filters WHERE account_id = $1",
    "DELETE FROM conversation_mutes WHERE account_id = $1",
    "DELETE FROM chats WHERE account_low = $1 OR account_high = $1",
    "DELETE FROM chat_messages WHERE sender_id = $1",
    "DELETE FROM presence WHERE account_id = $1",
    "DELETE FROM user_events WHERE account_id = $1",
    "DELETE FROM markers WHERE account_id = $1",
    "DELETE FROM featured_tags WHERE account_id = $1",
    "DELETE FROM tag_follows WHERE account_id = $1",
    "DELETE FROM poll_votes WHERE account_id = $1",
    "DELETE FROM push_subscriptions WHERE account_id = $1",
    "DELETE FROM suggestion_dismissals WHERE account_id = $1 OR target_account_id = $1",
    "DELETE FROM media_attachments WHERE account_id = $1",
    "DELETE FROM account_fields WHERE account_id = $1",
    "DELETE FROM authorization_codes WHERE account_id = $1",
    "DELETE FROM recovery_codes WHERE account_id = $1",
    "DELETE FROM users WHERE account_id = $1",
    "UPDATE accounts SET display_name = '', note = '', note_source = '', avatar_url = NULL, \
       header_url = NULL, followers_count = 0, following_count = 0, statuses_count = 0, \
       last_status_at = NULL, locked = FALSE, discoverable = FALSE \
     WHERE id = $1",
];

/// Record that `account_id` moved to `target_id`.
pub async fn set_moved(tx: &mut Tx, account_id: i64, target_id: i64) -> Result<()> {
    set_moved_to(tx, account_id, Some(target_id)).await
}

/// Record where `account_id` moved (`None`: nowhere, or back).
pub async fn set_moved_to(tx: &mut Tx, account_id: i64, target_id: Option<i64>) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query("UPDATE accounts SET moved_to_account_id = $2 WHERE id = $1")
            .bind(account_id)
            .bind(target_id)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

/// Set a local account's other ids (`alsoKnownAs`, a JSON array; `None`:
/// none), in `tx`.
pub async fn set_aliases(
    tx: &mut Tx,
    account_id: i64,
    aliases: Option<&str>,
    now: UnixMillis,
) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query("UPDATE accounts SET also_known_as = $2, updated_at = $3 WHERE id = $1")
            .bind(account_id)
            .bind(aliases)
            .bind(now)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}
