//! The instance actor: an `Application` actor at `/actor` that signs the
//! server's own fetches, so servers requiring signed requests (authorized
//! fetch) answer us, without speaking for any user.

use perch_core::id::IdGenerator;
use perch_core::time::now_millis;
use perch_db::Db;
use perch_db::accounts::AccountRow;
use perch_db::actors::{self, InstanceActor};

use perch_core::keys::{KeyGenerationError, generate_actor_keys};
use perch_domain::urls::ActorUrlLayout;

#[derive(Debug, thiserror::Error)]
pub enum InstanceActorError {
    #[error(transparent)]
    Keys(#[from] KeyGenerationError),
    #[error(transparent)]
    Db(#[from] perch_db::Error),
}

/// The instance actor, created (with its key pair) on first start.
pub async fn ensure(
    db: &Db,
    ids: &IdGenerator,
    layout: &ActorUrlLayout,
    domain: &str,
) -> Result<AccountRow, InstanceActorError> {
    let uri = layout.instance_actor_uri();
    if let Some(row) = actors::find_by_uri(db, &uri).await? {
        return Ok(row);
    }
    let (public_key_pem, private_key_pem) = tokio::task::spawn_blocking(generate_actor_keys)
        .await
        .map_err(|_| KeyGenerationError)??;
    let actor = InstanceActor {
        id: ids.next_id(),
        username: domain.to_owned(),
        url: uri.clone(),
        inbox_url: format!("{uri}/inbox"),
        outbox_url: format!("{uri}/outbox"),
        shared_inbox_url: layout.shared_inbox_uri(),
        key_id: format!("{uri}#main-key"),
        public_key_pem,
        private_key_pem,
        created_at: now_millis(),
        uri,
    };
    Ok(actors::ensure_instance_actor(db, move || actor).await?)
}
