//! Statuses: posting, editing and deleting, written once for a local author
//! (whose change is published) and a remote one (whose change arrived).
//!
//! Posting stores the row with its mentions and tags, puts it in the home
//! feeds of those who should see it, notifies the local accounts it
//! mentions and tells live clients; a local post also attaches its uploads
//! and goes out as a Create.

use perch_core::outbound::{Attachment, Outbound};
use perch_core::status::Visibility;
use perch_core::time::{UnixMillis, now_millis};
use perch_db::accounts::{self, AccountRow};
use perch_db::live::LiveEvent;
use perch_db::media::{self, MediaRow};
use perch_db::statuses::{self, Edit, NewStatus, StatusRow};

use crate::conversations::{self, DirectStatus};
use crate::describe::{NoteParts, attachment_of, load_status_note, local_emojis, status_note};
use crate::error::{DomainError, Result};
use crate::polls::PostPoll;
use crate::{Domain, Received};

/// Attachments kept of a remote status (referenced by URL, not copied).
pub const MAX_REMOTE_ATTACHMENTS: usize = 8;

/// Where a new status comes from.
pub enum Origin<'a> {
    /// Written here by its (local) author: ids are minted, the uploads
    /// `media_ids` attached, and the status published.
    Local {
        source_text: String,
        media_ids: &'a [i64],
        /// A retried request with the same key gets the first status.
        idempotency_key: Option<&'a str>,
        /// The scheduled status this publishes: it leaves the queue in
        /// the same transaction, and its uploads are its to attach.
        scheduled_id: Option<i64>,
    },
    /// Received from the author's server: its id and page are the
    /// origin's, its attachments are referenced. `received` is `None` for a
    /// status fetched rather than delivered (a parent, a backfilled post).
    /// A status stored already under the same id is answered as
    /// [`Posted::Existing`].
    Remote {
        uri: String,
        url: Option<String>,
        /// The parent's id as the note names it, known here or not.
        in_reply_to_uri: Option<String>,
        attachments: &'a [Attachment],
        published: Option<UnixMillis>,
        received: Option<&'a Received>,
    },
}

/// A status to post.
pub struct NewPost<'a> {
    pub author: &'a AccountRow,
    /// Sanitised HTML.
    pub content: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub visibility: Visibility,
    pub language: Option<String>,
    /// The stored parent, if any.
    pub parent: Option<&'a StatusRow>,
    /// Accounts it mentions (and, for remote notes, addresses).
    pub mentions: &'a [AccountRow],
    /// Lower-cased tag names.
    pub tags: &'a [String],
    /// The poll it carries.
    pub poll: Option<PostPoll>,
    pub origin: Origin<'a>,
}

/// What posting did.
#[derive(Debug)]
pub enum Posted {
    /// The new status.
    Created(i64),
    /// Known already: an earlier request with the same idempotency key, or
    /// a note stored before.
    Existing(i64),
    /// A redelivered activity: nothing changed.
    Duplicate,
}

/// The uploads about to be attached, as the Note describes them.
async fn attachments_of(domain: &Domain, media_ids: &[i64], owner: i64) -> Result<Vec<Attachment>> {
    let mut out = Vec::with_capacity(media_ids.len());
    for id in media_ids {
        if let Some(row) = media::find(&domain.db, *id)
            .await?
            .filter(|m| m.account_id == owner)
        {
            out.push(attachment_of(&row));
        }
    }
    Ok(out)
}

fn tag_rows(domain: &Domain, tags: &[String]) -> Vec<(i64, String)> {
    tags.iter()
        .map(|name| (domain.next_id(), name.to_lowercase()))
        .collect()
}

/// Local accounts among the mentioned.
fn local_ids(mentions: &[AccountRow]) -> Vec<i64> {
    mentions
        .iter()
        .filter(|a| a.domain.is_none())
        .map(|a| a.id)
        .collect()
}

/// The status an idempotency key names, if it was used within the hour.
pub async fn by_idempotency_key(domain: &Domain, author: i64, key: &str) -> Result<Option<i64>> {
    let not_before = now_millis() - IDEMPOTENCY_WINDOW_MILLIS;
    Ok(statuses::by_idempotency_key(&domain.db, author, key, not_before).await?)
}

/// How long an `Idempotency-Key` is remembered, as in Mastodon.
pub const IDEMPOTENCY_WINDOW_MILLIS: i64 = 3600 * 1000;

/// A remote attachment as stored: its URL is the origin's.
fn remote_media(
    id: i64,
    account_id: i64,
    status_id: i64,
    attachment: &Attachment,
    now: i64,
) -> MediaRow {
    let kind = match attachment.media_type.split('/').next() {
        Some("image") => "image",
        Some("video") => "video",
        Some("audio") => "audio",
        _ => "unknown",
    };
    let description = attachment
        .description
        .as_deref()
        .map(|d| d.chars().take(1500).collect::<String>());
    MediaRow {
        id,
        account_id,
        status_id: Some(status_id),
        kind: kind.to_owned(),
        content_type: Some(attachment.media_type.clone()),
        url: attachment.url.clone(),
        preview_url: (kind == "image").then(|| attachment.url.clone()),
        remote_url: Some(attachment.url.clone()),
        file_size: None,
        width: attachment.width,
        height: attachment.height,
        preview_width: None,
        preview_height: None,
        blurhash: attachment.blurhash.clone().filter(|b| b.len() <= 100),
        description,
        focus_x: None,
        focus_y: None,
        created_at: now,
        updated_at: now,
    }
}

/// Post a status.
pub async fn post(domain: &Domain, new: NewPost<'_>) -> Result<Posted> {
    let author = new.author;
    let now = now_millis();
    let id = domain.next_id();
    let local = matches!(new.origin, Origin::Local { .. });
    if local != author.domain.is_none() {
        return Err(DomainError::Internal(
            "a status's origin must match its author's".to_owned(),
        ));
    }
    if let (Some(_), Origin::Local { media_ids, .. }) = (&new.poll, &new.origin) {
        if !media_ids.is_empty() {
            return Err(DomainError::invalid(
                "Validation failed: A status cannot have both media attachments and a poll",
            ));
        }
    }
    let (uri, url, source_text, in_reply_to_uri, created_at) = match &new.origin {
        Origin::Local { source_text, .. } => (
            domain.layout.status_uri(&author.username, id),
            Some(domain.layout.status_url(&author.username, id)),
            Some(source_text.clone()),
            new.parent.map(|p| p.uri.clone()),
            now,
        ),
        Origin::Remote {
            uri,
            url,
            in_reply_to_uri,
            published,
            ..
        } => (
            uri.clone(),
            url.clone(),
            None,
            in_reply_to_uri.clone(),
            published.filter(|p| *p <= now).unwrap_or(now),
        ),
    };
    let row = NewStatus {
        id,
        account_id: author.id,
        uri,
        url,
        content: new.content,
        source_text,
        spoiler_text: new.spoiler_text,
        sensitive: new.sensitive,
        visibility: new.visibility.as_i16(),
        language: new.language,
        local,
        in_reply_to_id: new.parent.map(|p| p.id),
        in_reply_to_account_id: new.parent.map(|p| p.account_id),
        in_reply_to_uri,
        reblog_of_id: None,
        created_at,
    };
    // Read before the transaction: one that waits for a second pool
    // connection can starve the pool under load.
    let (note_attachments, parent_author) = match &new.origin {
        Origin::Local { media_ids, .. } => {
            let parent_author = match new.parent {
                Some(p) => {
                    accounts::find_by_id(&domain.db, perch_core::id::Id::from_i64(p.account_id))
                        .await?
                }
                None => None,
            };
            (
                attachments_of(domain, media_ids, author.id).await?,
                parent_author,
            )
        }
        Origin::Remote { .. } => (Vec::new(), None),
    };
    let mention_ids: Vec<i64> = new.mentions.iter().map(|a| a.id).collect();
    // A direct reply joins its parent's thread; anything else starts one.
    let context_id = match (new.visibility, new.parent) {
        (Visibility::Direct, Some(parent)) => {
            perch_db::blocks::thread_root(&domain.db, parent.id).await?
        }
        _ => id,
    };
    let mut change = domain.begin().await?;
    if let Origin::Remote { received, .. } = &new.origin {
        if !change.first_time(*received).await? {
            return Ok(Posted::Duplicate);
        }
    }
    if !statuses::insert(
        &mut change.tx,
        &row,
        &mention_ids,
        &tag_rows(domain, new.tags),
    )
    .await?
    {
        // Stored concurrently (a redelivery racing the first copy).
        drop(change);
        return match statuses::find_by_uri(&domain.db, &row.uri).await? {
            Some(existing) => Ok(Posted::Existing(existing.id)),
            None => Ok(Posted::Duplicate),
        };
    }
    match &new.origin {
        Origin::Local {
            media_ids,
            idempotency_key,
            scheduled_id,
            ..
        } => {
            if let Some(scheduled_id) = scheduled_id {
                if !perch_db::scheduled_statuses::take(&mut change.tx, *scheduled_id).await? {
                    // Published or cancelled meanwhile: post nothing.
                    return Ok(Posted::Duplicate);
                }
            }
            if !media::attach(&mut change.tx, author.id, id, media_ids, *scheduled_id)
                .await?
                .is_empty()
            {
                return Err(DomainError::invalid(
                    "Validation failed: Media attachments must be your own uploads, not used by another status",
                ));
            }
            if let Some(key) = idempotency_key {
                let not_before = now - IDEMPOTENCY_WINDOW_MILLIS;
                if !statuses::remember_idempotency_key(
                    &mut change.tx,
                    author.id,
                    key,
                    id,
                    now,
                    not_before,
                )
                .await?
                {
                    // The same request, concurrently: answer with what it created.
                    drop(change);
                    return match by_idempotency_key(domain, author.id, key).await? {
                        Some(done) => Ok(Posted::Existing(done)),
                        None => Err(DomainError::NotFound),
                    };
                }
            }
        }
        Origin::Remote { attachments, .. } => {
            for attachment in attachments.iter().take(MAX_REMOTE_ATTACHMENTS) {
                let media = remote_media(domain.next_id(), author.id, id, attachment, now);
                media::create_remote(&mut change.tx, &media).await?;
            }
        }
    }
    if let Some(poll) = &new.poll {
        perch_db::polls::insert(
            &mut change.tx,
            &perch_db::polls::NewPoll {
                id: domain.next_id(),
                status_id: id,
                multiple: poll.multiple,
                hide_totals: poll.hide_totals,
                expires_at: poll.expires_at,
                options: poll.options.clone(),
                voters_count: poll.voters_count,
                created_at: now,
            },
        )
        .await?;
    }
    let local_mentioned = local_ids(new.mentions);
    let addressed = if matches!(new.visibility, Visibility::Private | Visibility::Direct) {
        local_mentioned.clone()
    } else {
        Vec::new()
    };
    statuses::fan_out(
        &mut change.tx,
        id,
        author.id,
        new.visibility != Visibility::Direct,
        &addressed,
        // As on the public timelines: followed hashtags bring public
        // statuses of accounts that moderators have not limited.
        new.visibility == Visibility::Public && author.silenced_at.is_none(),
    )
    .await?;
    let mut notified = Vec::with_capacity(local_mentioned.len());
    for account_id in local_mentioned {
        if change
            .notify(account_id, author.id, "mention", Some(id), now)
            .await?
        {
            notified.push(account_id);
        }
    }
    if new.visibility == Visibility::Direct {
        let mentioned: Vec<i64> = mention_ids
            .iter()
            .copied()
            .filter(|m| *m != author.id)
            .collect();
        conversations::add_direct(
            &mut change,
            &DirectStatus {
                status_id: id,
                author_id: author.id,
                author_local: local,
                mentioned: &mentioned,
                recipients: &notified,
                context_id,
            },
        )
        .await?;
    }
    change.live([LiveEvent::StatusCreated {
        id,
        author: author.id,
    }]);
    if local {
        let stored = stored_row(&row);
        let mut note = status_note(
            &domain.layout,
            &domain.local_domain,
            NoteParts {
                status: &stored,
                author,
                in_reply_to_author: parent_author.as_ref(),
                mentions: new.mentions,
                tags: new.tags,
                attachments: Vec::new(),
                emojis: local_emojis(&domain.db, &stored.spoiler_text, &stored.content).await?,
                poll: new.poll.as_ref().map(|p| p.note(now)),
            },
        );
        note.attachments = note_attachments;
        change
            .publish(Outbound::CreateStatus(Box::new(note)))
            .await?;
    }
    change.commit().await?;
    Ok(Posted::Created(id))
}

/// The row as stored, before it can be read back.
fn stored_row(new: &NewStatus) -> StatusRow {
    StatusRow {
        id: new.id,
        account_id: new.account_id,
        uri: new.uri.clone(),
        url: new.url.clone(),
        content: new.content.clone(),
        source_text: new.source_text.clone(),
        spoiler_text: new.spoiler_text.clone(),
        sensitive: new.sensitive,
        visibility: new.visibility,
        language: new.language.clone(),
        local: new.local,
        in_reply_to_id: new.in_reply_to_id,
        in_reply_to_account_id: new.in_reply_to_account_id,
        in_reply_to_uri: new.in_reply_to_uri.clone(),
        reblog_of_id: new.reblog_of_id,
        replies_count: 0,
        reblogs_count: 0,
        favourites_count: 0,
        created_at: new.created_at,
        edited_at: None,
        updated_at: new.created_at,
    }
}

/// A new version of a status's text. The visibility and the parent stay.
pub struct Revision<'a> {
    /// Sanitised HTML.
    pub content: String,
    /// The plain text, for a local author.
    pub source_text: Option<String>,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub language: Option<String>,
    pub mentions: &'a [AccountRow],
    pub tags: &'a [String],
    /// When the author's server says it was edited (remote only).
    pub edited_at: Option<UnixMillis>,
    pub received: Option<&'a Received>,
}

/// Edit `current`, written by `author`: the earlier version goes to the
/// history, those who reblogged it are told, and a local edit goes out as
/// an Update.
pub async fn edit(
    domain: &Domain,
    current: &StatusRow,
    author: &AccountRow,
    revision: Revision<'_>,
) -> Result<()> {
    if current.account_id != author.id || current.reblog_of_id.is_some() {
        return Err(DomainError::NotFound);
    }
    let now = now_millis();
    let edited_at = revision.edited_at.filter(|u| *u <= now).unwrap_or(now);
    let edit = Edit {
        edit_id: domain.next_id(),
        content: revision.content,
        source_text: revision.source_text,
        spoiler_text: revision.spoiler_text,
        sensitive: revision.sensitive,
        language: revision.language,
        edited_at,
    };
    let mention_ids: Vec<i64> = revision.mentions.iter().map(|a| a.id).collect();
    let rebloggers = statuses::rebloggers(&domain.db, current.id).await?;
    let local = author.domain.is_none();
    let update = if local {
        let mut row = current.clone();
        row.content = edit.content.clone();
        row.spoiler_text = edit.spoiler_text.clone();
        row.sensitive = edit.sensitive;
        row.language = edit.language.clone();
        row.edited_at = Some(edited_at);
        let parent_author = match current.in_reply_to_account_id {
            Some(id) => accounts::find_by_id(&domain.db, perch_core::id::Id::from_i64(id)).await?,
            None => None,
        };
        let attachments: Vec<MediaRow> = media::for_statuses(&domain.db, &[current.id]).await?;
        Some(Outbound::UpdateStatus(Box::new(status_note(
            &domain.layout,
            &domain.local_domain,
            NoteParts {
                status: &row,
                author,
                in_reply_to_author: parent_author.as_ref(),
                mentions: revision.mentions,
                tags: revision.tags,
                attachments: attachments.iter().map(attachment_of).collect(),
                emojis: local_emojis(&domain.db, &row.spoiler_text, &row.content).await?,
                poll: crate::polls::load_poll_note(&domain.db, current.id).await?,
            },
        ))))
    } else {
        None
    };
    let mut change = domain.begin().await?;
    if !change.first_time(revision.received).await? {
        return Ok(());
    }
    statuses::edit(
        &mut change.tx,
        current,
        &edit,
        &mention_ids,
        &tag_rows(domain, revision.tags),
    )
    .await?;
    // Those who reblogged it hear of the change, as in Mastodon.
    for account_id in rebloggers {
        change
            .notify(account_id, author.id, "update", Some(current.id), now)
            .await?;
    }
    change.live([LiveEvent::StatusUpdated {
        id: current.id,
        author: current.account_id,
    }]);
    if let Some(update) = update {
        change.publish(update).await?;
    }
    change.commit().await
}

/// Delete a status (or a reblog) of `author`'s. A local status goes out as
/// a Delete; a local reblog as the Undo of its Announce.
pub async fn delete(
    domain: &Domain,
    status: &StatusRow,
    author: &AccountRow,
    received: Option<&Received>,
) -> Result<()> {
    if status.account_id != author.id {
        return Err(DomainError::NotFound);
    }
    if let Some(original_id) = status.reblog_of_id {
        let original = statuses::find_by_id(&domain.db, original_id).await?;
        return crate::reactions::unreblog(domain, status, original.as_ref(), author, received)
            .await;
    }
    let note = if author.domain.is_none() {
        load_status_note(&domain.db, &domain.layout, &domain.local_domain, status).await?
    } else {
        None
    };
    let mut change = domain.begin().await?;
    if !change.first_time(received).await? {
        return Ok(());
    }
    if Visibility::from_i16(status.visibility) == Visibility::Direct {
        conversations::remove_status(&mut change, status.id).await?;
    }
    statuses::delete(&mut change.tx, status.id).await?;
    change.live([LiveEvent::StatusDeleted {
        id: status.id,
        author: status.account_id,
    }]);
    if let Some(note) = note {
        change
            .publish(Outbound::DeleteStatus(Box::new(note)))
            .await?;
    }
    change.commit().await
}
