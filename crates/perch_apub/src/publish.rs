//! Outbound events become activities and delivery jobs, inside the caller's
//! transaction (the transactional outbox): either the change, its activity
//! and its deliveries are all stored, or none is. [`ApubPublisher`] is how
//! the domain layer reaches this.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use perch_core::id::IdGenerator;
use perch_core::outbound::{ActorRef, Outbound, Relation, StatusNote};
use perch_core::status::Visibility;
use perch_core::time::now_millis;
use perch_db::Tx;
use perch_db::deliveries::{self, NewActivity, Target};
use perch_db::follows;
use perch_domain::urls::ActorUrlLayout;
use url::Url;

use crate::activities::announce::build_announce;
use crate::activities::block::build_block;
use crate::activities::chat::build_chat_create;
use crate::activities::create::{build_create, build_update};
use crate::activities::delete::build_delete;
use crate::activities::follow::{AnswerType, build_answer, build_follow, build_undo};
use crate::activities::like::{build_like, build_undo_of};
use crate::objects::person::authority;

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
fn new_activity_uri(layout: &ActorUrlLayout, ids: &IdGenerator) -> String {
    layout.activity_uri(ids.next_id().as_i64())
}

/// The domain layer's [`perch_domain::Publisher`]: [`enqueue`] with this
/// server's ids and URL layout.
pub struct ApubPublisher {
    pub ids: Arc<IdGenerator>,
    pub layout: ActorUrlLayout,
}

impl perch_domain::Publisher for ApubPublisher {
    fn enqueue<'a>(
        &'a self,
        tx: &'a mut Tx,
        event: &'a Outbound,
    ) -> Pin<Box<dyn Future<Output = Result<(), perch_domain::PublishError>> + Send + 'a>> {
        Box::pin(async move {
            enqueue(tx, &self.ids, &self.layout, event)
                .await
                .map_err(|e| perch_domain::PublishError(e.to_string()))
        })
    }
}

/// Store `event`'s activity and its deliveries in `tx`.
pub async fn enqueue(
    tx: &mut Tx,
    ids: &IdGenerator,
    layout: &ActorUrlLayout,
    event: &Outbound,
) -> Result<(), PublishError> {
    match event {
        Outbound::Follow(_)
        | Outbound::UndoFollow(_)
        | Outbound::AcceptFollow(_)
        | Outbound::RejectFollow(_) => enqueue_follow(tx, ids, layout, event).await,
        Outbound::CreateStatus(note) => {
            let inboxes = status_inboxes(tx, note).await?;
            store(tx, ids, note.author.account_id, build_create(note), inboxes).await
        }
        Outbound::UpdateStatus(note) => {
            let inboxes = status_inboxes(tx, note).await?;
            store(tx, ids, note.author.account_id, build_update(note), inboxes).await
        }
        Outbound::DeleteStatus(note) => {
            let inboxes = status_inboxes(tx, note).await?;
            store(tx, ids, note.author.account_id, build_delete(note), inboxes).await
        }
        Outbound::Like(like) | Outbound::UndoLike(like) => {
            let mut body = build_like(like);
            if matches!(event, Outbound::UndoLike(_)) {
                body = build_undo_of(body);
            }
            let inboxes = preferred_inbox(&like.status_author).into_iter().collect();
            store(tx, ids, like.actor.account_id, body, inboxes).await
        }
        Outbound::ChatMessage(chat) => {
            let inboxes = preferred_inbox(&chat.recipient).into_iter().collect();
            store(
                tx,
                ids,
                chat.sender.account_id,
                build_chat_create(chat),
                inboxes,
            )
            .await
        }
        Outbound::Block(block) | Outbound::UndoBlock(block) => {
            let mut body = build_block(block);
            if matches!(event, Outbound::UndoBlock(_)) {
                body = build_undo_of(body);
            }
            // To the blocked account's own inbox, as Mastodon sends it.
            let inboxes = block.target.inbox_url.clone().into_iter().collect();
            store(tx, ids, block.actor.account_id, body, inboxes).await
        }
        Outbound::Announce(announce) | Outbound::UndoAnnounce(announce) => {
            let mut body = build_announce(announce);
            if matches!(event, Outbound::UndoAnnounce(_)) {
                body = build_undo_of(body);
            }
            let mut inboxes = follows::follower_inboxes(tx, announce.actor.account_id).await?;
            inboxes.extend(preferred_inbox(&announce.status_author));
            store(tx, ids, announce.actor.account_id, body, inboxes).await
        }
    }
}

/// Where a status goes: its author's followers (unless it is direct), the
/// accounts it mentions, and the author of the status it answers (unless it
/// is direct and does not mention them).
async fn status_inboxes(tx: &mut Tx, note: &StatusNote) -> Result<Vec<String>, PublishError> {
    let mut inboxes = if note.visibility == Visibility::Direct {
        Vec::new()
    } else {
        follows::follower_inboxes(tx, note.author.account_id).await?
    };
    inboxes.extend(
        note.mentions
            .iter()
            .filter_map(|m| preferred_inbox(&m.actor)),
    );
    if note.visibility != Visibility::Direct {
        inboxes.extend(note.in_reply_to_author.as_ref().and_then(preferred_inbox));
    }
    Ok(inboxes)
}

/// The inbox that reaches a remote actor: its server's shared inbox when
/// it has one, so one delivery serves every recipient there.
fn preferred_inbox(actor: &ActorRef) -> Option<String> {
    if actor.is_local() {
        return None;
    }
    actor
        .shared_inbox_url
        .clone()
        .or_else(|| actor.inbox_url.clone())
}

/// Store an activity and one delivery per distinct inbox.
async fn store(
    tx: &mut Tx,
    ids: &IdGenerator,
    actor_account_id: i64,
    body: serde_json::Value,
    mut inboxes: Vec<String>,
) -> Result<(), PublishError> {
    let uri = body["id"]
        .as_str()
        .ok_or_else(|| PublishError::Url("activity without an id".to_owned()))?
        .to_owned();
    inboxes.sort();
    inboxes.dedup();
    let mut targets = Vec::with_capacity(inboxes.len());
    for inbox in inboxes {
        let parsed = url(&inbox)?;
        let host = authority(&parsed).ok_or_else(|| PublishError::Url(inbox.clone()))?;
        targets.push(Target {
            delivery_id: ids.next_id().as_i64(),
            inbox_url: inbox,
            host,
        });
    }
    let activity = NewActivity {
        id: ids.next_id().as_i64(),
        uri,
        actor_account_id,
        body: serde_json::to_string(&body)?,
        created_at: now_millis(),
    };
    deliveries::enqueue(tx, &activity, &targets).await?;
    Ok(())
}

async fn enqueue_follow(
    tx: &mut Tx,
    ids: &IdGenerator,
    layout: &ActorUrlLayout,
    event: &Outbound,
) -> Result<(), PublishError> {
    let (relation, answer) = match event {
        Outbound::Follow(relation) | Outbound::UndoFollow(relation) => (relation, None),
        Outbound::AcceptFollow(relation) => (relation, Some(AnswerType::Accept)),
        Outbound::RejectFollow(relation) => (relation, Some(AnswerType::Reject)),
        _ => return Ok(()),
    };
    let Relation {
        follow_uri,
        follower,
        target,
    } = relation;
    let follow = build_follow(url(follow_uri)?, url(&follower.uri)?, url(&target.uri)?);
    let (actor, recipient, uri, body) = match (event, answer) {
        (_, Some(kind)) => {
            let id = url(&new_activity_uri(layout, ids))?;
            let answer = build_answer(id, kind, url(&target.uri)?, &follow);
            (
                target,
                follower,
                answer.id.to_string(),
                serde_json::to_string(&answer)?,
            )
        }
        (Outbound::UndoFollow(_), None) => {
            let undo = build_undo(url(&format!("{follow_uri}/undo"))?, &follow);
            (
                follower,
                target,
                undo.id.to_string(),
                serde_json::to_string(&undo)?,
            )
        }
        (_, None) => (
            follower,
            target,
            follow.id.to_string(),
            serde_json::to_string(&follow)?,
        ),
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
