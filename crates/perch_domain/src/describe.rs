//! Stored rows as the federation layer describes them: accounts as
//! [`ActorRef`]s, local statuses as [`StatusNote`]s (the pure mapper, and the
//! loader that reads the rows it needs), attachments as [`Attachment`]s.

use perch_core::outbound::{ActorRef, Attachment, Mention, PollNote, StatusNote};
use perch_core::status::Visibility;
use perch_db::Db;
use perch_db::accounts::{self, AccountRow};
use perch_db::media::{self, MediaRow};
use perch_db::statuses::{self, StatusRow};

use crate::urls::ActorUrlLayout;

/// How the federation layer refers to an account.
pub fn actor_ref(row: &AccountRow) -> ActorRef {
    ActorRef {
        account_id: row.id,
        uri: row.uri.clone(),
        domain: row.domain.clone(),
        inbox_url: row.inbox_url.clone(),
        shared_inbox_url: row.shared_inbox_url.clone(),
        suspended: row.suspended_at.is_some(),
    }
}

/// An account's followers collection (remote accounts may not name one).
pub fn followers_url(row: &AccountRow) -> String {
    row.followers_url
        .clone()
        .unwrap_or_else(|| format!("{}/followers", row.uri))
}

/// `@user@domain` of an account; local accounts get `local_domain`.
pub fn acct_name(account: &AccountRow, local_domain: &str) -> String {
    let domain = account.domain.as_deref().unwrap_or(local_domain);
    format!("@{}@{domain}", account.username)
}

/// Everything the rows of a local status say, as one [`StatusNote`].
pub struct NoteParts<'a> {
    pub status: &'a StatusRow,
    pub author: &'a AccountRow,
    pub in_reply_to_author: Option<&'a AccountRow>,
    pub mentions: &'a [AccountRow],
    /// Tag names (lower-cased).
    pub tags: &'a [String],
    pub attachments: Vec<Attachment>,
    /// Custom emoji of this server the text uses ([`local_emojis`]).
    pub emojis: Vec<(String, String)>,
    /// Its poll, with the totals to publish.
    pub poll: Option<PollNote>,
}

pub fn status_note(
    layout: &ActorUrlLayout,
    local_domain: &str,
    parts: NoteParts<'_>,
) -> StatusNote {
    let NoteParts {
        status,
        author,
        in_reply_to_author,
        mentions,
        tags,
        attachments,
        emojis,
        poll,
    } = parts;
    StatusNote {
        uri: status.uri.clone(),
        url: status
            .url
            .clone()
            .unwrap_or_else(|| layout.status_url(&author.username, status.id)),
        author: actor_ref(author),
        author_followers_url: followers_url(author),
        content: status.content.clone(),
        spoiler_text: status.spoiler_text.clone(),
        sensitive: status.sensitive,
        language: status.language.clone(),
        visibility: Visibility::from_i16(status.visibility),
        in_reply_to: status.in_reply_to_uri.clone(),
        in_reply_to_author: in_reply_to_author.map(actor_ref),
        mentions: mentions
            .iter()
            .map(|account| Mention {
                actor: actor_ref(account),
                name: acct_name(account, local_domain),
            })
            .collect(),
        tags: tags
            .iter()
            .map(|name| (name.clone(), layout.tag_url(name)))
            .collect(),
        attachments,
        emojis,
        published: status.created_at,
        updated: status.edited_at,
        poll,
    }
}

/// An attachment as a Note's `Document`.
pub fn attachment_of(row: &MediaRow) -> Attachment {
    Attachment {
        url: row.remote_url.clone().unwrap_or_else(|| row.url.clone()),
        media_type: row
            .content_type
            .clone()
            .unwrap_or_else(|| "application/octet-stream".to_owned()),
        description: row.description.clone(),
        blurhash: row.blurhash.clone(),
        width: row.width,
        height: row.height,
    }
}

/// This server's custom emoji that a local status's text uses, as
/// (shortcode, picture URL).
pub async fn local_emojis(
    db: &Db,
    spoiler_text: &str,
    content: &str,
) -> Result<Vec<(String, String)>, perch_db::Error> {
    let shortcodes = perch_db::emojis::shortcodes_in(
        &format!("{spoiler_text} {content}"),
        crate::emojis::MAX_PER_NOTE,
    );
    Ok(perch_db::emojis::named(db, None, &shortcodes)
        .await?
        .into_iter()
        .map(|row| (row.shortcode, row.image_url))
        .collect())
}

/// Read a stored status's mentions, tags, authors and poll and describe it.
pub async fn load_status_note(
    db: &Db,
    layout: &ActorUrlLayout,
    local_domain: &str,
    status: &StatusRow,
) -> Result<Option<StatusNote>, perch_db::Error> {
    let mut wanted = vec![status.account_id];
    wanted.extend(status.in_reply_to_account_id);
    let people = accounts::find_many(db, &wanted).await?;
    let Some(author) = people.iter().find(|a| a.id == status.account_id) else {
        return Ok(None);
    };
    let parent_author = status
        .in_reply_to_account_id
        .and_then(|id| people.iter().find(|a| a.id == id));
    let mentions: Vec<AccountRow> = statuses::mentions_of(db, &[status.id])
        .await?
        .into_iter()
        .map(|(_, account)| account)
        .collect();
    let tags: Vec<String> = statuses::tags_of(db, &[status.id])
        .await?
        .into_iter()
        .map(|(_, name)| name)
        .collect();
    Ok(Some(status_note(
        layout,
        local_domain,
        NoteParts {
            status,
            author,
            in_reply_to_author: parent_author,
            mentions: &mentions,
            tags: &tags,
            attachments: media::for_statuses(db, &[status.id])
                .await?
                .iter()
                .map(attachment_of)
                .collect(),
            emojis: local_emojis(db, &status.spoiler_text, &status.content).await?,
            poll: crate::polls::load_poll_note(db, status.id).await?,
        },
    )))
}
