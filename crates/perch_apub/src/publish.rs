//! Outbound events become activities and delivery jobs, inside the caller's
//! transaction (the transactional outbox): either the change, its activity
//! and its deliveries are all stored, or none is.

use perch_core::id::IdGenerator;
use perch_core::outbound::{ActorRef, Outbound};
use perch_core::time::now_millis;
use perch_db::Tx;
use perch_db::deliveries::{self, NewActivity, Target};
use url::Url;

use crate::activities::follow::{AnswerType, build_answer, build_follow, build_undo};
use crate::objects::person::authority;
use crate::urls::ActorUrlLayout;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("an actor or activity URL is invalid: {0}")]
    Url(String),
    #[error("the remote actor has no inbox")]
    NoInbox,
    #[error(transparent)]
    Db(#[from] perch_db::Error),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

fn url(text: &str) -> Result<Url, PublishError> {
    Url::parse(text).map_err(|_| PublishError::Url(text.to_owned()))
}

/// A new activity id under our domain.
pub fn new_activity_uri(layout: &ActorUrlLayout, ids: &IdGenerator) -> String {
    layout.activity_uri(ids.next_id().as_i64())
}

/// Store `event`'s activity and its deliveries in `tx`.
pub async fn enqueue(
    tx: &mut Tx,
    ids: &IdGenerator,
    layout: &ActorUrlLayout,
    event: &Outbound,
) -> Result<(), PublishError> {
    let (actor, recipient, uri, body) = match event {
        Outbound::Follow {
            follow_uri,
            follower,
            target,
        } => {
            let follow = build_follow(url(follow_uri)?, url(&follower.uri)?, url(&target.uri)?);
            (
                follower,
                target,
                follow.id.to_string(),
                serde_json::to_string(&follow)?,
            )
        }
        Outbound::UndoFollow {
            follow_uri,
            follower,
            target,
        } => {
            let follow = build_follow(url(follow_uri)?, url(&follower.uri)?, url(&target.uri)?);
            let undo = build_undo(url(&format!("{follow_uri}/undo"))?, &follow);
            (
                follower,
                target,
                undo.id.to_string(),
                serde_json::to_string(&undo)?,
            )
        }
        Outbound::AcceptFollow {
            follow_uri,
            follower,
            target,
        }
        | Outbound::RejectFollow {
            follow_uri,
            follower,
            target,
        } => {
            let kind = match event {
                Outbound::AcceptFollow { .. } => AnswerType::Accept,
                _ => AnswerType::Reject,
            };
            let follow = build_follow(url(follow_uri)?, url(&follower.uri)?, url(&target.uri)?);
            let id = url(&new_activity_uri(layout, ids))?;
            let answer = build_answer(id, kind, url(&target.uri)?, &follow);
            (
                target,
                follower,
                answer.id.to_string(),
                serde_json::to_string(&answer)?,
            )
        }
    };
    let targets = remote_inbox(ids, recipient)?
        .into_iter()
        .collect::<Vec<_>>();
    let activity = NewActivity {
        id: ids.next_id().as_i64(),
        uri,
        actor_account_id: actor.account_id,
        body,
        created_at: now_millis(),
    };
    deliveries::enqueue(tx, &activity, &targets).await?;
    Ok(())
}

/// The recipient's personal inbox, when it is remote. Follow-related
/// activities go to the personal inbox, as Mastodon sends them.
fn remote_inbox(ids: &IdGenerator, recipient: &ActorRef) -> Result<Option<Target>, PublishError> {
    if recipient.is_local() {
        return Ok(None);
    }
    let inbox = recipient
        .inbox_url
        .as_deref()
        .ok_or(PublishError::NoInbox)?;
    let parsed = url(inbox)?;
    let host = authority(&parsed).ok_or_else(|| PublishError::Url(inbox.to_owned()))?;
    Ok(Some(Target {
        delivery_id: ids.next_id().as_i64(),
        inbox_url: inbox.to_owned(),
        host,
    }))
}
