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

use crate::activities::actor::{build_delete_actor, build_move, build_update_actor};
use crate::activities::announce::build_announce;
use crate::activities::block::build_block;
use crate::activities::chat::build_chat_create;
use crate::activities::create::{build_create, build_update};
use crate::activities::delete::build_delete;
use crate::activities::flag::build_flag;
use crate::activities::follow::{AnswerType, build_answer, build_follow, build_undo};
use crate::activities::like::{build_like, build_undo_of};
use crate::activities::pin::build_pin;
use crate::objects::person::{authority, person_of};

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

/// What `event` is about, as the delivery queue orders jobs: an inbox
/// gets the activities with one key in the order they were enqueued, and
/// the others independently of them. Order matters only within one object:
/// a note's Create, Update and Delete (its URI); a follow and its Undo,
/// Accept or Reject (the follower and the followed, so that following
/// again after an Undo stays in order too); a Like or an Announce and its
/// Undo (the actor and the status); a Block and its Undo (the two actors).
/// A chat message is its own object.
pub fn order_key(event: &Outbound) -> String {
    match event {
        Outbound::Follow(relation)
        | Outbound::UndoFollow(relation)
        | Outbound::AcceptFollow(relation)
        | Outbound::RejectFollow(relation) => {
            format!("follow {} {}", relation.follower.uri, relation.target.uri)
        }
        Outbound::CreateStatus(note)
        | Outbound::UpdateStatus(note)
        | Outbound::DeleteStatus(note) => note.uri.clone(),
        Outbound::Like(like) | Outbound::UndoLike(like) => {
            format!("like {} {}", like.actor.uri, like.status_uri)
        }
        Outbound::Announce(announce) | Outbound::UndoAnnounce(announce) => {
            format!("announce {} {}", announce.actor.uri, announce.status_uri)
        }
        Outbound::ChatMessage(chat) => chat.uri.clone(),
        Outbound::Block(block) | Outbound::UndoBlock(block) => {
            format!("block {} {}", block.actor.uri, block.target.uri)
        }
        Outbound::Flag(flag) => flag.uri.clone(),
        Outbound::UpdateActor(actor)
        | Outbound::DeleteActor(actor)
        | Outbound::MoveActor { actor, .. } => format!("actor {}", actor.uri),
        Outbound::Pin(pin) | Outbound::Unpin(pin) => {
            format!("pin {} {}", pin.actor.uri, pin.status_uri)
        }
    }
}

/// Store `event`'s activity and its deliveries in `tx`.
pub async fn enqueue(
    tx: &mut Tx,
    ids: &IdGenerator,
    layout: &ActorUrlLayout,
    event: &Outbound,
) -> Result<(), PublishError> {
    let key = order_key(event);
    match event {
        Outbound::Follow(_)
        | Outbound::UndoFollow(_)
        | Outbound::AcceptFollow(_)
        | Outbound::RejectFollow(_) => enqueue_follow(tx, ids, layout, event, key).await,
        Outbound::CreateStatus(note) => {
            let inboxes = status_inboxes(tx, note).await?;
            store(
                tx,
                ids,
                note.author.account_id,
                build_create(note),
                key,
                inboxes,
            )
            .await
        }
        Outbound::UpdateStatus(note) => {
            let inboxes = status_inboxes(tx, note).await?;
            store(
                tx,
                ids,
                note.author.account_id,
                build_update(note),
                key,
                inboxes,
            )
            .await
        }
        Outbound::DeleteStatus(note) => {
            let inboxes = status_inboxes(tx, note).await?;
            store(
                tx,
                ids,
                note.author.account_id,
                build_delete(note),
                key,
                inboxes,
            )
            .await
        }
        Outbound::Like(like) | Outbound::UndoLike(like) => {
            let mut body = build_like(like);
            if matches!(event, Outbound::UndoLike(_)) {
                body = build_undo_of(body);
            }
            let inboxes = preferred_inbox(&like.status_author).into_iter().collect();
            store(tx, ids, like.actor.account_id, body, key, inboxes).await
        }
        Outbound::ChatMessage(chat) => {
            let inboxes = preferred_inbox(&chat.recipient).into_iter().collect();
            store(
                tx,
                ids,
                chat.sender.account_id,
                build_chat_create(chat),
                key,
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
            let inboxes = block
                .target
                .inbox_url
                .clone()
                .filter(|_| block.target.takes_deliveries())
                .into_iter()
                .collect();
            store(tx, ids, block.actor.account_id, body, key, inboxes).await
        }
        Outbound::Flag(flag) => {
            let inboxes = preferred_inbox(&flag.target).into_iter().collect();
            store(
                tx,
                ids,
                flag.actor.account_id,
                build_flag(flag),
                key,
                inboxes,
            )
            .await
        }
        Outbound::UpdateActor(actor) => {
            let person = perch_db::actors::local_actor_in(tx, actor.account_id)
                .await?
                .as_ref()
                .and_then(person_of)
                .ok_or_else(|| PublishError::Url(actor.uri.clone()))?;
            let body = build_update_actor(&person, ids.next_id().as_i64())?;
            let inboxes = follows::follower_inboxes(tx, actor.account_id).await?;
            store(tx, ids, actor.account_id, body, key, inboxes).await
        }
        Outbound::Pin(pin) | Outbound::Unpin(pin) => {
            let body = build_pin(pin, matches!(event, Outbound::Pin(_)));
            let inboxes = follows::follower_inboxes(tx, pin.actor.account_id).await?;
            store(tx, ids, pin.actor.account_id, body, key, inboxes).await
        }
        Outbound::MoveActor { actor, target } => {
            let body = build_move(&actor.uri, target, ids.next_id().as_i64());
            let inboxes = follows::follower_inboxes(tx, actor.account_id).await?;
            store(tx, ids, actor.account_id, body, key, inboxes).await
        }
        Outbound::DeleteActor(actor) => {
            let inboxes = follows::known_inboxes(tx).await?;
            let body = build_delete_actor(&actor.uri);
            store(tx, ids, actor.account_id, body, key, inboxes).await
        }
        Outbound::Announce(announce) | Outbound::UndoAnnounce(announce) => {
            let mut body = build_announce(announce);
            if matches!(event, Outbound::UndoAnnounce(_)) {
                body = build_undo_of(body);
            }
            let mut inboxes = follows::follower_inboxes(tx, announce.actor.account_id).await?;
            inboxes.extend(preferred_inbox(&announce.status_author));
            store(tx, ids, announce.actor.account_id, body, key, inboxes).await
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
    if !actor.takes_deliveries() {
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
    order_key: String,
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
        order_key,
    };
    deliveries::enqueue(tx, &activity, &targets).await?;
    Ok(())
}

async fn enqueue_follow(
    tx: &mut Tx,
    ids: &IdGenerator,
    layout: &ActorUrlLayout,
    event: &Outbound,
    order_key: String,
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
        order_key,
    };
    deliveries::enqueue(tx, &activity, &targets).await?;
    Ok(())
}

/// The recipient's personal inbox, when it is remote and not suspended. Follow-related
/// activities go to the personal inbox, as Mastodon sends them.
fn remote_inbox(ids: &IdGenerator, recipient: &ActorRef) -> Result<Option<Target>, PublishError> {
    if !recipient.takes_deliveries() {
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

#[cfg(test)]
mod tests {
    use perch_core::outbound::Reaction;

    use super::*;

    fn actor(uri: &str) -> ActorRef {
        ActorRef {
            account_id: 1,
            uri: uri.to_owned(),
            domain: None,
            inbox_url: None,
            shared_inbox_url: None,
            suspended: false,
        }
    }

    fn reaction(actor_uri: &str, status_uri: &str) -> Reaction {
        Reaction {
            uri: format!("{actor_uri}/reactions/1"),
            actor: actor(actor_uri),
            actor_followers_url: format!("{actor_uri}/followers"),
            status_uri: status_uri.to_owned(),
            status_author: actor("https://remote.example/users/ben"),
            visibility: Visibility::Public,
            published: 0,
        }
    }

    #[test]
    fn an_activity_and_its_undo_share_an_order_key_and_other_objects_do_not() {
        let relation = |follow_uri: &str| Relation {
            follow_uri: follow_uri.to_owned(),
            follower: actor("https://perch.example/users/ann"),
            target: actor("https://remote.example/users/ben"),
        };
        let follow = order_key(&Outbound::Follow(relation("https://perch.example/1")));
        assert_eq!(
            order_key(&Outbound::UndoFollow(relation("https://perch.example/1"))),
            follow
        );
        // Following again is the same relation: it waits for the Undo.
        assert_eq!(
            order_key(&Outbound::Follow(relation("https://perch.example/2"))),
            follow
        );
        assert_eq!(
            order_key(&Outbound::AcceptFollow(relation("https://perch.example/1"))),
            follow
        );

        let like = reaction(
            "https://perch.example/users/ann",
            "https://remote.example/s/1",
        );
        let key = order_key(&Outbound::Like(like.clone()));
        assert_eq!(order_key(&Outbound::UndoLike(like.clone())), key);
        assert_ne!(order_key(&Outbound::Announce(like.clone())), key);
        assert_eq!(
            order_key(&Outbound::Announce(like.clone())),
            order_key(&Outbound::UndoAnnounce(like.clone()))
        );
        let other = reaction(
            "https://perch.example/users/ann",
            "https://remote.example/s/2",
        );
        assert_ne!(order_key(&Outbound::Like(other)), key);
        assert_ne!(order_key(&Outbound::Like(like)), follow);
    }
}
