//! Accounts: creating a local one (the one path shared by sign-up through
//! the API and `perch user create`), telling the staff of a sign-up,
//! editing a profile (announced to the followers' servers), and removing
//! a remote one that deleted itself.

use perch_core::account::{Email, Password, Username};
use perch_core::id::IdGenerator;
use perch_core::keys::generate_actor_keys;
use perch_core::outbound::Outbound;
use perch_core::password::hash_password;
use perch_core::time::now_millis;
use perch_db::Db;
use perch_db::accounts::{self, AccountRow, CreateAccountError, KeyPairPem, NewLocalAccount};
use perch_db::profiles::{self, ProfileUpdate};
use url::Url;

use crate::describe::actor_ref;
use crate::media::MediaFiles;
use crate::urls::ActorUrlLayout;
use crate::{Domain, DomainError, Received};

/// A validated request for a new local account.
#[derive(Debug)]
pub struct NewAccount {
    pub username: Username,
    pub email: Email,
    pub password: Password,
    pub role: perch_core::role::Role,
    /// False while an administrator has to approve the sign-up.
    pub approved: bool,
    pub locale: String,
    pub phone: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    #[error(transparent)]
    Create(#[from] CreateAccountError),
    #[error("password hashing failed")]
    Hash(#[from] perch_core::password::HashError),
    #[error("key generation failed")]
    Keys(#[from] perch_core::keys::KeyGenerationError),
}

/// Hash the password, make the actor's key pair, and store the account, its
/// credentials and keys in one transaction.
pub async fn create_local_account(
    db: &Db,
    ids: &IdGenerator,
    public_url: &Url,
    new: NewAccount,
) -> Result<AccountRow, RegistrationError> {
    // Hashing (tens of milliseconds) and RSA key generation (up to a few
    // hundred) are CPU work: keep them off the async workers.
    let password = new.password;
    let hashed =
        tokio::task::spawn_blocking(move || (hash_password(&password), generate_actor_keys()))
            .await
            .map_err(|_| perch_core::password::HashError::from_message("worker stopped"))?;
    let (password_hash, keys) = (hashed.0?, hashed.1?);
    let (public_key_pem, private_key_pem) = keys;
    let layout = ActorUrlLayout::new(public_url.clone());
    let account = NewLocalAccount {
        id: ids.next_id(),
        keys: KeyPairPem {
            key_id: layout.key_id(new.username.as_str()),
            public_key_pem,
            private_key_pem,
        },
        urls: layout.actor_urls(new.username.as_str()),
        username: new.username,
        email: new.email,
        password_hash,
        role: new.role,
        approved: new.approved,
        locale: new.locale,
        phone: new.phone,
        reason: new.reason,
        created_at: now_millis(),
    };
    Ok(accounts::create_local(db, &account).await?)
}

/// Someone signed up through the API: those who handle accounts are told
/// (`admin.sign_up`), as Mastodon tells them.
pub async fn signed_up(domain: &Domain, account: &AccountRow) -> Result<(), DomainError> {
    let mut change = domain.begin().await?;
    change
        .notify_staff(
            perch_core::role::permission::MANAGE_USERS,
            account.id,
            None,
            "admin.sign_up",
            None,
            account.created_at,
        )
        .await?;
    change.commit().await
}

/// The owner of local account `account_id` edits its profile: the change,
/// and the `Update` of the actor for its followers' servers, in one
/// transaction. False when there is no such local account.
pub async fn update_profile(
    domain: &Domain,
    account_id: i64,
    update: &ProfileUpdate<'_>,
) -> Result<bool, DomainError> {
    let Some(row) = accounts::find_by_id(&domain.db, perch_core::id::Id::from_i64(account_id))
        .await?
        .filter(|row| row.domain.is_none())
    else {
        return Ok(false);
    };
    let mut change = domain.begin().await?;
    if !profiles::update(&mut change.tx, account_id, update, now_millis()).await? {
        return Ok(false);
    }
    change
        .publish(Outbound::UpdateActor(actor_ref(&row)))
        .await?;
    change.commit().await?;
    Ok(true)
}

/// Delete local account `account_id`, at its owner's request or an
/// administrator's: every server that knows of it is told (a Delete of the
/// actor, signed with the key the account keeps), its sessions end (so
/// its sockets close), and everything of it goes here
/// ([`accounts::delete_local`]), its stored files last, once the change is
/// committed. Not found when there is no such local account or it was
/// deleted before.
pub async fn delete_local(
    domain: &Domain,
    files: &impl MediaFiles,
    account_id: i64,
) -> Result<(), DomainError> {
    let Some(row) = accounts::find_by_id(&domain.db, perch_core::id::Id::from_i64(account_id))
        .await?
        .filter(|row| {
            row.domain.is_none() && row.deleted_at.is_none() && row.actor_type != "Application"
        })
    else {
        return Err(DomainError::NotFound);
    };
    let now = now_millis();
    let mut change = domain.begin().await?;
    // First, while the servers that know of it are still all known.
    change
        .publish(Outbound::DeleteActor(actor_ref(&row)))
        .await?;
    perch_db::oauth::revoke_account_sessions(&mut change.tx, account_id, None, now).await?;
    let deleted = accounts::delete_local(&mut change.tx, account_id, now)
        .await?
        .ok_or(DomainError::NotFound)?;
    change.commit().await?;
    for url in &deleted.urls {
        files.remove(url).await;
    }
    Ok(())
}

/// Local followers moved with one `Move`; the rest stay (a larger
/// following moves in later passes of the same activity's retries, which
/// find the moved ones done).
pub const MAX_MOVED_FOLLOWERS: i64 = 10_000;

/// Remote account `old` moved to `new` (its `Move`, whose target names
/// `old` among its `alsoKnownAs`, checked by the caller): `old` is marked
/// as moved, and each local follower of `old` follows `new` instead (a
/// Follow to `new`'s server, an Undo to `old`'s), as Mastodon moves
/// followers. Returns how many followers moved.
pub async fn moved(
    domain: &Domain,
    old: &AccountRow,
    new: &AccountRow,
    received: &Received,
) -> Result<usize, DomainError> {
    if old.domain.is_none() || old.id == new.id {
        return Err(DomainError::forbidden(
            "only a remote account moves this way",
        ));
    }
    let mut change = domain.begin().await?;
    if !change.first_time(Some(received)).await? {
        return Ok(0);
    }
    accounts::set_moved(&mut change.tx, old.id, new.id).await?;
    change.commit().await?;
    move_local_followers(domain, old, new).await
}

/// Remote account `old` says (its actor's `movedTo`) that it moved to
/// `new`, or, with `None`, that it has not: shown with the account, and
/// believed only when `new` names `old` among its aliases. Its followers
/// move only with a `Move` (see [`moved`]).
pub async fn redirected(
    domain: &Domain,
    old: &AccountRow,
    new: Option<&AccountRow>,
) -> Result<(), DomainError> {
    if old.domain.is_none() {
        return Err(DomainError::forbidden(
            "only a remote account is redirected this way",
        ));
    }
    let target = new
        .filter(|new| new.id != old.id && names_as_alias(new, &old.uri))
        .map(|new| new.id);
    if target == old.moved_to_account_id {
        return Ok(());
    }
    let mut change = domain.begin().await?;
    accounts::set_moved_to(&mut change.tx, old.id, target).await?;
    change.commit().await
}

/// Whether `account`'s `alsoKnownAs` names `uri`.
fn names_as_alias(account: &AccountRow, uri: &str) -> bool {
    account
        .also_known_as
        .as_deref()
        .and_then(|json| serde_json::from_str::<Vec<String>>(json).ok())
        .is_some_and(|aliases| aliases.iter().any(|alias| alias == uri))
}

/// Other ids a local account may name (`alsoKnownAs`).
pub const MAX_ALIASES: usize = 16;

/// Local account `account` names `aliases` (actor ids of its other
/// accounts) as its own, so that they may move to it; its followers'
/// servers get the new actor document.
pub async fn set_aliases(
    domain: &Domain,
    account: &AccountRow,
    aliases: &[String],
) -> Result<(), DomainError> {
    if account.domain.is_some() {
        return Err(DomainError::forbidden(
            "only a local account names its aliases",
        ));
    }
    if aliases.len() > MAX_ALIASES {
        return Err(DomainError::invalid(format!(
            "Validation failed: at most {MAX_ALIASES} aliases"
        )));
    }
    let json = (!aliases.is_empty())
        .then(|| serde_json::to_string(aliases).ok())
        .flatten();
    let mut change = domain.begin().await?;
    accounts::set_aliases(&mut change.tx, account.id, json.as_deref(), now_millis()).await?;
    change
        .publish(Outbound::UpdateActor(actor_ref(account)))
        .await?;
    change.commit().await
}

/// Local account `old` moves to `new`, whose own document (read fresh by
/// the caller) names `old` among `new_aliases` (its `alsoKnownAs`): `old`
/// is marked as moved, its followers' servers get a `Move`, and its local
/// followers follow `new`.
pub async fn move_local(
    domain: &Domain,
    old: &AccountRow,
    new: &AccountRow,
    new_aliases: &[String],
) -> Result<usize, DomainError> {
    if old.domain.is_some() || old.id == new.id {
        return Err(DomainError::forbidden("This action is not allowed"));
    }
    if !new_aliases.iter().any(|alias| alias == &old.uri) {
        return Err(DomainError::invalid(
            "Validation failed: the new account must name this one among its aliases (alsoKnownAs)",
        ));
    }
    let mut change = domain.begin().await?;
    accounts::set_moved(&mut change.tx, old.id, new.id).await?;
    change
        .publish(Outbound::MoveActor {
            actor: actor_ref(old),
            target: new.uri.clone(),
        })
        .await?;
    change.commit().await?;
    move_local_followers(domain, old, new).await
}

/// Each local follower of `old` follows `new` instead.
async fn move_local_followers(
    domain: &Domain,
    old: &AccountRow,
    new: &AccountRow,
) -> Result<usize, DomainError> {
    let followers =
        perch_db::follows::local_followers(&domain.db, old.id, MAX_MOVED_FOLLOWERS).await?;
    let mut moved = 0;
    for follower in &followers {
        // One who blocks the new account, or is blocked by it, stays.
        match crate::follows::follow(domain, follower, new, None).await {
            Ok(()) => {}
            Err(DomainError::Forbidden(_)) => continue,
            Err(error) => return Err(error),
        }
        crate::follows::unfollow(domain, follower, old, None).await?;
        moved += 1;
    }
    Ok(moved)
}

/// A remote account deleted itself: it goes, with everything of its own
/// (statuses, likes, reblogs, follows, keys), and the counters of what
/// remains forget it.
pub async fn purge_remote(
    domain: &Domain,
    account: &AccountRow,
    received: Option<&Received>,
) -> Result<(), DomainError> {
    if account.domain.is_none() {
        return Err(DomainError::forbidden(
            "a local account is not purged this way",
        ));
    }
    let mut change = domain.begin().await?;
    if !change.first_time(received).await? {
        return Ok(());
    }
    accounts::purge_remote(&mut change.tx, account.id).await?;
    change.commit().await
}
