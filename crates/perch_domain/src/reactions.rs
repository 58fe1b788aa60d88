//! Favourites and reblogs, and taking either back, by a local account (the
//! change is published as a Like or an Announce, or their Undo) or a remote
//! one (the change arrived as one). Repeating an action changes nothing.

use perch_core::id::Id;
use perch_core::outbound::{Outbound, Reaction};
use perch_core::status::Visibility;
use perch_core::time::{UnixMillis, now_millis};
use perch_db::accounts::{self, AccountRow};
use perch_db::favourites;
use perch_db::live::LiveEvent;
use perch_db::statuses::{self, NewStatus, StatusRow};

use crate::describe::{actor_ref, followers_url};
use crate::error::Result;
use crate::{Domain, Received};

/// The visibility of `booster`'s reblog of `original` when they ask for
/// `asked`, or `None` when they may not reblog it. Only what anyone may
/// read travels further, except one's own followers-only status, which may
/// be reblogged to one's own followers (who could read it anyway), as
/// Mastodon allows. A reblog is never wider than the original, and never
/// direct. The same rule for a local account's reblog and a received
/// Announce.
pub fn reblog_visibility(
    booster: &AccountRow,
    original: &StatusRow,
    asked: Visibility,
) -> Option<Visibility> {
    let original_visibility = Visibility::from_i16(original.visibility);
    let own_private =
        original_visibility == Visibility::Private && original.account_id == booster.id;
    if original.reblog_of_id.is_some() || !(original_visibility.is_public() || own_private) {
        return None;
    }
    Some(match asked.max(original_visibility) {
        Visibility::Direct => Visibility::Private,
        other => other,
    })
}

async fn author_of(domain: &Domain, status: &StatusRow) -> Result<Option<AccountRow>> {
    Ok(accounts::find_by_id(&domain.db, Id::from_i64(status.account_id)).await?)
}

fn reaction(
    uri: String,
    actor: &AccountRow,
    status: &StatusRow,
    author: &AccountRow,
    visibility: Visibility,
    published: UnixMillis,
) -> Reaction {
    Reaction {
        uri,
        actor: actor_ref(actor),
        actor_followers_url: followers_url(actor),
        status_uri: status.uri.clone(),
        status_author: actor_ref(author),
        visibility,
        published,
    }
}

/// `liker` favourites `status` (an original, not a reblog). A remote
/// liker's Like is `received`.
pub async fn favourite(
    domain: &Domain,
    liker: &AccountRow,
    status: &StatusRow,
    received: Option<&Received>,
) -> Result<()> {
    let now = now_millis();
    let like_id = domain.next_id();
    let uri = match received {
        Some(received) => received.activity_id.clone(),
        None => domain.layout.activity_uri(like_id),
    };
    let author = author_of(domain, status).await?;
    let mut change = domain.begin().await?;
    if !change.first_time(received).await? {
        return Ok(());
    }
    if favourites::insert(
        &mut change.tx,
        like_id,
        liker.id,
        status.id,
        Some(&uri),
        now,
    )
    .await?
    {
        change
            .notify(
                status.account_id,
                liker.id,
                "favourite",
                Some(status.id),
                now,
            )
            .await?;
        if let Some(author) = author.filter(|a| a.domain.is_some() && liker.domain.is_none()) {
            let visibility = Visibility::from_i16(status.visibility);
            let like = reaction(uri, liker, status, &author, visibility, now);
            change.publish(Outbound::Like(like)).await?;
        }
    }
    change.commit().await
}

/// `liker` takes back its favourite of `status`.
pub async fn unfavourite(
    domain: &Domain,
    liker: &AccountRow,
    status: &StatusRow,
    received: Option<&Received>,
) -> Result<()> {
    let author = author_of(domain, status).await?;
    let mut change = domain.begin().await?;
    if !change.first_time(received).await? {
        return Ok(());
    }
    if let Some(like) = favourites::delete(&mut change.tx, liker.id, status.id).await? {
        perch_db::notifications::retract(
            &mut change.tx,
            status.account_id,
            liker.id,
            "favourite",
            Some(status.id),
        )
        .await?;
        if let Some(author) = author.filter(|a| a.domain.is_some() && liker.domain.is_none()) {
            let uri = like
                .uri
                .clone()
                .unwrap_or_else(|| domain.layout.activity_uri(like.id));
            let visibility = Visibility::from_i16(status.visibility);
            let undo = reaction(uri, liker, status, &author, visibility, like.created_at);
            change.publish(Outbound::UndoLike(undo)).await?;
        }
    }
    change.commit().await
}

/// `booster` reblogs `original` with `visibility`. A remote booster's
/// Announce is `received`. Returns the reblog's id, or `None` when the
/// reblog existed already (or the Announce was applied before).
pub async fn reblog(
    domain: &Domain,
    booster: &AccountRow,
    original: &StatusRow,
    visibility: Visibility,
    received: Option<&Received>,
) -> Result<Option<i64>> {
    let now = now_millis();
    let reblog_id = domain.next_id();
    let uri = match received {
        Some(received) => received.activity_id.clone(),
        None => format!(
            "{}/activity",
            domain.layout.status_uri(&booster.username, reblog_id)
        ),
    };
    let author = author_of(domain, original).await?;
    let new = NewStatus {
        id: reblog_id,
        account_id: booster.id,
        uri: uri.clone(),
        url: None,
        content: String::new(),
        source_text: None,
        spoiler_text: String::new(),
        sensitive: false,
        visibility: visibility.as_i16(),
        language: None,
        local: booster.domain.is_none(),
        in_reply_to_id: None,
        in_reply_to_account_id: None,
        in_reply_to_uri: None,
        reblog_of_id: Some(original.id),
        created_at: now,
    };
    let mut change = domain.begin().await?;
    if !change.first_time(received).await? {
        return Ok(None);
    }
    if !statuses::insert(&mut change.tx, &new, &[], &[]).await? {
        return Ok(None);
    }
    statuses::fan_out(&mut change.tx, reblog_id, booster.id, true, &[], false).await?;
    change
        .notify(
            original.account_id,
            booster.id,
            "reblog",
            Some(original.id),
            now,
        )
        .await?;
    change.live([LiveEvent::StatusCreated {
        id: reblog_id,
        author: booster.id,
    }]);
    if let Some(author) = author.filter(|_| booster.domain.is_none()) {
        let announce = reaction(uri, booster, original, &author, visibility, now);
        change.publish(Outbound::Announce(announce)).await?;
    }
    change.commit().await?;
    Ok(Some(reblog_id))
}

/// `booster` takes back `reblog` (of `original`, when it is still here).
pub async fn unreblog(
    domain: &Domain,
    reblog: &StatusRow,
    original: Option<&StatusRow>,
    booster: &AccountRow,
    received: Option<&Received>,
) -> Result<()> {
    let author = match original {
        Some(original) => author_of(domain, original).await?,
        None => None,
    };
    let mut change = domain.begin().await?;
    if !change.first_time(received).await? {
        return Ok(());
    }
    statuses::delete(&mut change.tx, reblog.id).await?;
    change.live([LiveEvent::StatusDeleted {
        id: reblog.id,
        author: reblog.account_id,
    }]);
    if let Some(original) = original {
        perch_db::notifications::retract(
            &mut change.tx,
            original.account_id,
            booster.id,
            "reblog",
            Some(original.id),
        )
        .await?;
        if let Some(author) = author.filter(|_| booster.domain.is_none()) {
            let visibility = Visibility::from_i16(reblog.visibility);
            let undo = reaction(
                reblog.uri.clone(),
                booster,
                original,
                &author,
                visibility,
                reblog.created_at,
            );
            change.publish(Outbound::UndoAnnounce(undo)).await?;
        }
    }
    change.commit().await
}
