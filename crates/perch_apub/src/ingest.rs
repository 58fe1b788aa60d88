//! Remote notes into statuses: the part of receiving a note that reaches
//! out to other servers (parents, objects by id) before the domain layer
//! stores it. Shared by the inbox's handlers and the outbox backfill.
//!
//! Bounded: a reply brings at most [`MAX_PARENT_DEPTH`] levels of parents,
//! and a note fetched by id must be served by its author's own server.

use perch_core::outbound::Attachment;
use perch_db::accounts::AccountRow;
use perch_db::{actors, statuses};
use perch_domain::Received;
use perch_domain::polls::PostPoll;
use perch_domain::statuses::{NewPost, Origin, Posted};
use url::Url;

use crate::ApubState;
use crate::error::InboxError;
use crate::objects::note::{ReceivedAttachment, ReceivedNote, parse_note, visibility_of};
use crate::objects::person::authority;
use crate::resolve::{self, ResolveError};

/// How many levels of parents a reply brings with it.
pub const MAX_PARENT_DEPTH: usize = 8;

/// Everyone a note names: mentions, then addressees.
fn named(note: &ReceivedNote) -> Vec<&str> {
    note.mentions
        .iter()
        .map(Url::as_str)
        .chain(note.to.iter().map(String::as_str))
        .chain(note.cc.iter().map(String::as_str))
        .collect()
}

/// Local accounts a note mentions or addresses.
pub async fn local_accounts_named(
    state: &ApubState,
    note: &ReceivedNote,
) -> Result<Vec<AccountRow>, InboxError> {
    let mut ours: Vec<&str> = named(note)
        .into_iter()
        .filter(|uri| {
            Url::parse(uri)
                .ok()
                .and_then(|u| authority(&u))
                .is_some_and(|a| a == state.config.domain)
        })
        .collect();
    ours.sort_unstable();
    ours.dedup();
    let mut found = actors::find_by_uris(&state.db, &ours).await?;
    found.retain(|row| row.domain.is_none());
    found.sort_by_key(|row| row.id);
    Ok(found)
}

/// Known accounts a note mentions, and the local accounts it addresses
/// (who read it even without a `Mention` tag): one query.
pub async fn mentioned(
    state: &ApubState,
    note: &ReceivedNote,
) -> Result<Vec<AccountRow>, InboxError> {
    let local = |uri: &str| {
        Url::parse(uri)
            .ok()
            .and_then(|u| authority(&u))
            .is_some_and(|a| a == state.config.domain)
    };
    let mut uris: Vec<&str> = note.mentions.iter().map(Url::as_str).collect();
    uris.extend(named(note).into_iter().filter(|uri| local(uri)));
    uris.sort_unstable();
    uris.dedup();
    let mentions: Vec<&str> = note.mentions.iter().map(Url::as_str).collect();
    let mut found = actors::find_by_uris(&state.db, &uris).await?;
    // Addressed but not mentioned: only local accounts count.
    found.retain(|row| row.domain.is_none() || mentions.contains(&row.uri.as_str()));
    found.sort_by_key(|row| row.id);
    Ok(found)
}

fn attachment(received: &ReceivedAttachment) -> Attachment {
    Attachment {
        url: received.url.clone(),
        media_type: received
            .media_type
            .clone()
            .unwrap_or_else(|| "application/octet-stream".to_owned()),
        description: received.description.clone(),
        blurhash: received.blurhash.clone(),
        width: received.width,
        height: received.height,
    }
}

/// Hashtags of a note, lower-cased.
pub fn tags_of(note: &ReceivedNote) -> Vec<String> {
    note.hashtags.iter().map(|t| t.to_lowercase()).collect()
}

/// Store a received note (and, first, its parents, fetching up to `depth`
/// levels). `received` is the activity that brought it, recorded in the
/// same transaction so that a redelivery is not applied twice. Returns the
/// stored status's id (`None` for a redelivery).
pub async fn store_note(
    state: &ApubState,
    note: ReceivedNote,
    author: &AccountRow,
    received: Option<&Received>,
    depth: usize,
) -> Result<Option<i64>, InboxError> {
    if let Some(existing) = statuses::find_by_uri(&state.db, note.id.as_str()).await? {
        return Ok(Some(existing.id));
    }
    if note.is_answer || crate::objects::note::vote_of(&note).is_some() {
        // A vote in a poll (fetched or read from an outbox) is no status.
        return Ok(None);
    }
    let parent = match &note.in_reply_to {
        Some(uri) => match statuses::find_by_uri(&state.db, uri.as_str()).await? {
            Some(row) => Some(row),
            None if depth < MAX_PARENT_DEPTH => {
                match Box::pin(note_by_uri(state, uri, depth + 1)).await {
                    Ok(Some(id)) => statuses::find_by_id(&state.db, id).await?,
                    Ok(None) => None,
                    Err(error) if error.is_transient() => return Err(error),
                    Err(error) => {
                        tracing::info!(parent = %uri, %error, "the parent could not be fetched");
                        None
                    }
                }
            }
            None => None,
        },
        None => None,
    };
    let mentions = mentioned(state, &note).await?;
    let tags = tags_of(&note);
    // A server whose media the instance rejects keeps its text only.
    let rejects_media = author
        .domain
        .as_deref()
        .is_some_and(|host| state.federation_policy.rejects_media(host));
    let attachments: Vec<Attachment> = if rejects_media {
        Vec::new()
    } else {
        note.attachments.iter().map(attachment).collect()
    };
    let visibility = visibility_of(&note, author.followers_url.as_deref());
    // The custom emoji its text uses, as its server names them (pictures:
    // none from a server whose media is rejected).
    if let (Some(host), false) = (author.domain.as_deref(), rejects_media) {
        perch_domain::emojis::remember_remote(&state.domain, host, &note.emojis).await?;
    }
    let poll = note.poll.as_ref().map(|poll| PostPoll {
        options: poll.options.clone(),
        multiple: poll.multiple,
        hide_totals: false,
        expires_at: poll.expires_at(perch_core::time::now_millis()),
        voters_count: poll.voters_count.unwrap_or_else(|| {
            // Without votersCount (a single-choice poll of an older
            // server), each vote is a voter.
            poll.options
                .iter()
                .fold(0i64, |sum, (_, n)| sum.saturating_add(*n))
        }),
    });
    let posted = perch_domain::statuses::post(
        &state.domain,
        NewPost {
            author,
            content: note.content,
            spoiler_text: note.spoiler_text,
            sensitive: note.sensitive,
            visibility,
            language: note.language,
            parent: parent.as_ref(),
            mentions: &mentions,
            tags: &tags,
            poll,
            origin: Origin::Remote {
                uri: note.id.to_string(),
                url: note.url,
                in_reply_to_uri: note.in_reply_to.as_ref().map(Url::to_string),
                attachments: &attachments,
                published: note.published,
                received,
            },
        },
    )
    .await?;
    Ok(match posted {
        Posted::Created(id) | Posted::Existing(id) => Some(id),
        Posted::Duplicate => None,
    })
}

/// A status by its id: stored already, or fetched with its author (and
/// their parents, to `depth`) and stored.
pub async fn note_by_uri(
    state: &ApubState,
    uri: &Url,
    depth: usize,
) -> Result<Option<i64>, InboxError> {
    if let Some(row) = statuses::find_by_uri(&state.db, uri.as_str()).await? {
        return Ok(Some(row.id));
    }
    let object = match resolve::fetch_object(state, uri).await {
        Ok(object) => object,
        Err(ResolveError::Local) => return Ok(None),
        Err(error) => return Err(InboxError::fetch(&format!("cannot fetch {uri}"), error)),
    };
    let note = parse_note(&object).map_err(|e| InboxError::Malformed(e.to_string()))?;
    // Served by its own origin under its own id (checked by the fetch); its
    // author must be on that origin too.
    if authority(&note.attributed_to) != authority(uri) {
        return Err(InboxError::Forbidden(
            "the note's author is on another server".to_owned(),
        ));
    }
    let (author, _) = resolve::actor_by_uri(state, &note.attributed_to)
        .await
        .map_err(|e| InboxError::fetch("cannot resolve the author", e))?;
    store_note(state, note, &author, None, depth).await
}

/// Store a post read from its author's outbox, without its parents.
/// False when it was known already.
pub async fn store_backfilled(
    state: &ApubState,
    note: ReceivedNote,
    author: &AccountRow,
) -> Result<bool, InboxError> {
    if statuses::find_by_uri(&state.db, note.id.as_str())
        .await?
        .is_some()
    {
        return Ok(false);
    }
    Ok(store_note(state, note, author, None, MAX_PARENT_DEPTH)
        .await?
        .is_some())
}
