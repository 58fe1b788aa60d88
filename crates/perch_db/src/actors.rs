//! Remote actors as we cache them, actor keys, and the instance actor.
//!
//! A remote actor is stored as an `accounts` row with its domain, plus its
//! public key in `account_keys`, so that verifying a signature or finding
//! an inbox never needs a fetch when the database already knows.

use perch_core::id::Id;
use perch_core::time::UnixMillis;

use crate::accounts::AccountRow;
use crate::{Db, Result, Tx};

/// A remote actor as fetched and verified by the federation layer.
#[derive(Clone, Debug)]
pub struct RemoteActor {
    pub uri: String,
    pub username: String,
    pub domain: String,
    pub url: Option<String>,
    pub actor_type: String,
    pub display_name: String,
    pub note: String,
    pub locked: bool,
    pub bot: bool,
    pub discoverable: bool,
    pub avatar_url: Option<String>,
    pub header_url: Option<String>,
    pub inbox_url: String,
    pub shared_inbox_url: Option<String>,
    pub outbox_url: Option<String>,
    pub followers_url: Option<String>,
    pub following_url: Option<String>,
    /// The actor's pinned statuses (its `featured` collection).
    pub featured_url: Option<String>,
    /// Its other ids (`alsoKnownAs`).
    pub also_known_as: Vec<String>,
    pub key_id: String,
    pub public_key_pem: String,
    /// The actor takes Pleroma's `ChatMessage`.
    pub accepts_chat_messages: bool,
    /// Profile fields: name and sanitised HTML value.
    pub fields: Vec<(String, String)>,
    pub fetched_at: UnixMillis,
}

/// An actor's key, with whose key it is.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ActorKey {
    pub account_id: i64,
    pub key_id: String,
    pub public_key_pem: String,
    pub private_key_pem: Option<String>,
    /// The owner's actor id.
    pub owner_uri: String,
    /// `None` for local actors.
    pub domain: Option<String>,
    pub fetched_at: Option<i64>,
}

/// Insert or refresh a remote actor and its key, in one transaction.
/// Returns the account id (new or existing).
pub async fn upsert_remote(db: &Db, new_id: Id, actor: &RemoteActor) -> Result<i64> {
    let mut tx = db.begin().await?;
    let id: i64 = on_tx!(&mut tx, conn => {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO accounts (id, username, domain, uri, url, actor_type, display_name, \
             note, locked, bot, discoverable, avatar_url, header_url, inbox_url, \
             shared_inbox_url, outbox_url, followers_url, following_url, fetched_at, \
             created_at, updated_at, accepts_chat_messages, featured_url, also_known_as) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
                     $17, $18, $19, $19, $19, $20, $21, $22) \
             ON CONFLICT (uri) DO UPDATE SET \
               username = excluded.username, url = excluded.url, \
               actor_type = excluded.actor_type, display_name = excluded.display_name, \
               note = excluded.note, locked = excluded.locked, bot = excluded.bot, \
               discoverable = excluded.discoverable, avatar_url = excluded.avatar_url, \
               header_url = excluded.header_url, inbox_url = excluded.inbox_url, \
               shared_inbox_url = excluded.shared_inbox_url, \
               outbox_url = excluded.outbox_url, followers_url = excluded.followers_url, \
               following_url = excluded.following_url, fetched_at = excluded.fetched_at, \
               updated_at = excluded.updated_at, \
               accepts_chat_messages = excluded.accepts_chat_messages, \
               featured_url = excluded.featured_url, also_known_as = excluded.also_known_as \
             RETURNING id",
        )
        .bind(new_id.as_i64())
        .bind(&actor.username)
        .bind(&actor.domain)
        .bind(&actor.uri)
        .bind(&actor.url)
        .bind(&actor.actor_type)
        .bind(&actor.display_name)
        .bind(&actor.note)
        .bind(actor.locked)
        .bind(actor.bot)
        .bind(actor.discoverable)
        .bind(&actor.avatar_url)
        .bind(&actor.header_url)
        .bind(&actor.inbox_url)
        .bind(&actor.shared_inbox_url)
        .bind(&actor.outbox_url)
        .bind(&actor.followers_url)
        .bind(&actor.following_url)
        .bind(actor.fetched_at)
        .bind(actor.accepts_chat_messages)
        .bind(&actor.featured_url)
        .bind(
            (!actor.also_known_as.is_empty())
                .then(|| serde_json::to_string(&actor.also_known_as).ok())
                .flatten(),
        )
        .fetch_one(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO account_keys (account_id, key_id, public_key_pem, created_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (account_id) DO UPDATE SET \
               key_id = excluded.key_id, public_key_pem = excluded.public_key_pem",
        )
        .bind(id)
        .bind(&actor.key_id)
        .bind(&actor.public_key_pem)
        .bind(actor.fetched_at)
        .execute(&mut *conn)
        .await?;
        sqlx::query("DELETE FROM account_fields WHERE account_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
        for (ordinal, (name, value)) in (0_i32..).zip(&actor.fields) {
            sqlx::query(
                "INSERT INTO account_fields (account_id, ordinal, name, value) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(ordinal)
            .bind(name)
            .bind(value)
            .execute(&mut *conn)
            .await?;
        }
        id
    });
    tx.commit().await?;
    Ok(id)
}

macro_rules! key_columns {
    () => {
        "k.account_id, k.key_id, k.public_key_pem, k.private_key_pem, a.uri AS owner_uri, \
         a.domain, a.fetched_at"
    };
}

/// The key with this id (a Signature header's `keyId`).
pub async fn key_by_id(db: &Db, key_id: &str) -> Result<Option<ActorKey>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", key_columns!(),
            " FROM account_keys k JOIN accounts a ON a.id = k.account_id WHERE k.key_id = $1"
        ))
        .bind(key_id)
        .fetch_optional(pool)
        .await?
    }))
}

/// The key of an account (for signing as a local actor).
pub async fn key_of_account(db: &Db, account_id: i64) -> Result<Option<ActorKey>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(KEY_OF_ACCOUNT)
            .bind(account_id)
            .fetch_optional(pool)
            .await?
    }))
}

const KEY_OF_ACCOUNT: &str = concat!(
    "SELECT ",
    key_columns!(),
    " FROM account_keys k JOIN accounts a ON a.id = k.account_id WHERE k.account_id = $1"
);

/// What a local account's actor document is made of: the account, its key,
/// its profile fields, the id of the account it moved to, and this
/// server's custom emoji that its name and note use.
#[derive(Debug, Clone)]
pub struct LocalActor {
    pub row: AccountRow,
    pub key: ActorKey,
    pub fields: Vec<crate::profiles::FieldRow>,
    pub moved_to: Option<String>,
    pub emojis: Vec<crate::emojis::EmojiRow>,
}

/// The `:shortcode:`s of a profile's name and note, at most 50.
fn profile_shortcodes(row: &AccountRow) -> Vec<String> {
    crate::emojis::shortcodes_in(&format!("{} {}", row.display_name, row.note), 50)
}

const MOVED_TO_URI: &str = "SELECT uri FROM accounts WHERE id = $1";

/// [`LocalActor`] of `row`, a local account already read.
pub async fn local_actor(db: &Db, row: AccountRow) -> Result<Option<LocalActor>> {
    let Some(key) = key_of_account(db, row.id).await? else {
        return Ok(None);
    };
    let fields = crate::profiles::fields_of(db, row.id).await?;
    let moved_to = match row.moved_to_account_id {
        Some(target) => on_db!(db, pool => {
            sqlx::query_scalar(MOVED_TO_URI).bind(target).fetch_optional(pool).await?
        }),
        None => None,
    };
    let emojis = crate::emojis::named(db, None, &profile_shortcodes(&row)).await?;
    Ok(Some(LocalActor {
        row,
        key,
        fields,
        moved_to,
        emojis,
    }))
}

/// [`LocalActor`] of a local account, read in `tx`: the Update of an actor
/// is built in the transaction of the change it announces.
pub async fn local_actor_in(tx: &mut Tx, account_id: i64) -> Result<Option<LocalActor>> {
    let (row, key) = on_tx!(&mut *tx, conn => {
        let row: Option<AccountRow> = sqlx::query_as(concat!(
            "SELECT ", account_columns!(), " FROM accounts WHERE id = $1 AND domain IS NULL"
        ))
        .bind(account_id)
        .fetch_optional(&mut *conn)
        .await?;
        let key: Option<ActorKey> = sqlx::query_as(KEY_OF_ACCOUNT)
            .bind(account_id)
            .fetch_optional(&mut *conn)
            .await?;
        (row, key)
    });
    let (Some(row), Some(key)) = (row, key) else {
        return Ok(None);
    };
    let fields = crate::profiles::fields_of_in(tx, account_id).await?;
    let moved_to = match row.moved_to_account_id {
        Some(target) => on_tx!(&mut *tx, conn => {
            sqlx::query_scalar(MOVED_TO_URI).bind(target).fetch_optional(&mut *conn).await?
        }),
        None => None,
    };
    let emojis = crate::emojis::named_in(tx, None, &profile_shortcodes(&row)).await?;
    Ok(Some(LocalActor {
        row,
        key,
        fields,
        moved_to,
        emojis,
    }))
}

/// Any account, local or remote, by actor id.
pub async fn find_by_uri(db: &Db, uri: &str) -> Result<Option<AccountRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", account_columns!(), " FROM accounts WHERE uri = $1"
        ))
        .bind(uri)
        .fetch_optional(pool)
        .await?
    }))
}

/// The accounts with these actor ids, in no particular order (unknown ids
/// are left out): one query however many a note names.
pub async fn find_by_uris(db: &Db, uris: &[&str]) -> Result<Vec<AccountRow>> {
    if uris.is_empty() {
        return Ok(Vec::new());
    }
    Ok(match db {
        Db::Sqlite(pool) => {
            let list = serde_json::to_string(uris).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
            sqlx::query_as(concat!(
                "SELECT ",
                account_columns!(),
                " FROM accounts WHERE uri IN (SELECT value FROM json_each($1))"
            ))
            .bind(list)
            .fetch_all(pool)
            .await?
        }
        Db::Postgres(pool) => {
            sqlx::query_as(concat!(
                "SELECT ",
                account_columns!(),
                " FROM accounts WHERE uri = ANY($1)"
            ))
            .bind(uris)
            .fetch_all(pool)
            .await?
        }
    })
}

/// The instance actor (`actor_type` Application, username = the domain),
/// created with `create` on first call. Servers with authorized fetch
/// want our signed GETs to come from an actor they can fetch.
pub async fn ensure_instance_actor(
    db: &Db,
    create: impl FnOnce() -> InstanceActor,
) -> Result<AccountRow> {
    if let Some(row) = find_instance_actor(db).await? {
        return Ok(row);
    }
    let actor = create();
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, conn => {
        let inserted = sqlx::query(
            "INSERT INTO accounts (id, username, domain, uri, url, actor_type, inbox_url, \
             shared_inbox_url, outbox_url, locked, discoverable, created_at, updated_at) \
             VALUES ($1, $2, NULL, $3, $4, 'Application', $5, $6, $7, TRUE, FALSE, $8, $8) \
             ON CONFLICT DO NOTHING",
        )
        .bind(actor.id.as_i64())
        .bind(&actor.username)
        .bind(&actor.uri)
        .bind(&actor.url)
        .bind(&actor.inbox_url)
        .bind(&actor.shared_inbox_url)
        .bind(&actor.outbox_url)
        .bind(actor.created_at)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if inserted == 1 {
            sqlx::query(
                "INSERT INTO account_keys (account_id, key_id, public_key_pem, \
                 private_key_pem, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(actor.id.as_i64())
            .bind(&actor.key_id)
            .bind(&actor.public_key_pem)
            .bind(&actor.private_key_pem)
            .bind(actor.created_at)
            .execute(&mut *conn)
            .await?;
        }
    });
    tx.commit().await?;
    // Another process may have won the race; either way one row exists now.
    find_instance_actor(db)
        .await?
        .ok_or(crate::Error::Sqlx(sqlx::Error::RowNotFound))
}

/// The instance actor, once it exists.
pub async fn find_instance_actor(db: &Db) -> Result<Option<AccountRow>> {
    Ok(on_db!(db, pool => {
        sqlx::query_as(concat!(
            "SELECT ", account_columns!(),
            " FROM accounts WHERE domain IS NULL AND actor_type = 'Application' \
              ORDER BY id LIMIT 1"
        ))
        .fetch_optional(pool)
        .await?
    }))
}

/// What the instance actor is made of.
pub struct InstanceActor {
    pub id: Id,
    pub username: String,
    pub uri: String,
    pub url: String,
    pub inbox_url: String,
    pub shared_inbox_url: String,
    pub outbox_url: String,
    pub key_id: String,
    pub public_key_pem: String,
    pub private_key_pem: String,
    pub created_at: UnixMillis,
}

/// Record an inbound activity id inside the transaction that applies it;
/// false when it was seen before (the activity must then be acknowledged
/// and not applied again).
pub async fn record_received(
    tx: &mut Tx,
    uri: &str,
    actor_account_id: i64,
    now: UnixMillis,
) -> Result<bool> {
    let inserted = on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO received_activities (uri, actor_account_id, received_at) \
             VALUES ($1, $2, $3) ON CONFLICT (uri) DO NOTHING",
        )
        .bind(uri)
        .bind(actor_account_id)
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected()
    });
    Ok(inserted == 1)
}
