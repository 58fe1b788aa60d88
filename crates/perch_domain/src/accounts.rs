//! Accounts: creating a local one (the one path shared by sign-up through
//! the API and `perch user create`), telling the staff of a sign-up, and
//! removing a remote one that deleted
//! itself.

use perch_core::account::{Email, Password, Username};
use perch_core::id::IdGenerator;
use perch_core::keys::generate_actor_keys;
use perch_core::password::hash_password;
use perch_core::time::now_millis;
use perch_db::Db;
use perch_db::accounts::{self, AccountRow, CreateAccountError, KeyPairPem, NewLocalAccount};
use url::Url;

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
