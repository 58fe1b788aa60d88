//! Generators of hostile JSON for the property tests of what other servers
//! send (arbitrary values, and real-looking documents with a few parts
//! replaced, removed or wrapped), and the properties of actor documents.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// URLs that test origin checks: the fixtures' own servers, look-alikes,
/// other ports and schemes, URLs without a host, and things that are not
/// URLs at all.
pub const HOSTILE_URLS: &[&str] = &[
    "https://mastodon.example/users/alice",
    "https://mastodon.example/users/alice/statuses/2",
    "https://MASTODON.example/users/alice",
    "http://mastodon.example/users/alice",
    "https://mastodon.example:8443/users/alice",
    "https://mastodon.example.evil.example/users/alice",
    "https://evil.example/users/alice",
    "https://evil.example@mastodon.example/users/alice",
    "https://mastodon.example@evil.example/users/alice",
    "https://remote.example/users/mallory",
    "https://remote.example/users/mallory#main-key",
    "https://127.0.0.1/users/alice",
    "https://[::1]:8080/users/alice",
    "urn:uuid:2f1c3e5a-0000-4000-8000-000000000000",
    "javascript:alert(1)",
    "data:application/activity+json,{}",
    "file:///etc/passwd",
    "//mastodon.example/users/alice",
    "not a url",
    "",
];

/// Keys that the parsers look at, so that generated objects often have
/// them.
const KEYS: &[&str] = &[
    "id",
    "type",
    "actor",
    "object",
    "attributedTo",
    "content",
    "contentMap",
    "summary",
    "tag",
    "href",
    "name",
    "url",
    "to",
    "cc",
    "inReplyTo",
    "attachment",
    "published",
    "links",
    "rel",
    "inbox",
    "publicKey",
    "owner",
    "publicKeyPem",
    "preferredUsername",
];

fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(HOSTILE_URLS).prop_map(str::to_owned),
        prop::sample::select(vec![
            "Note",
            "Create",
            "Update",
            "Person",
            "Mention",
            "Hashtag",
            "Document",
            "self",
            "application/activity+json",
            "2026-11-20T10:15:30Z",
            "<p>hi <script>x()</script></p>",
        ])
        .prop_map(str::to_owned),
        any::<String>(),
    ]
}

/// Any JSON value, a few levels deep.
pub fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
        string().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let key = prop_oneof![
            prop::sample::select(KEYS).prop_map(str::to_owned),
            "[a-zA-Z@]{1,8}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key, inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// One change to a document.
#[derive(Clone, Debug)]
enum Mutation {
    Remove,
    Replace(Value),
    Url(&'static str),
    IntoArray,
    IntoObjectWithId,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        Just(Mutation::Remove),
        arbitrary_json().prop_map(Mutation::Replace),
        prop::sample::select(HOSTILE_URLS).prop_map(Mutation::Url),
        prop::sample::select(HOSTILE_URLS).prop_map(Mutation::Url),
        Just(Mutation::IntoArray),
        Just(Mutation::IntoObjectWithId),
    ]
}

/// JSON pointers to every value inside `value`, the root excluded.
fn pointers(value: &Value, at: &str, out: &mut Vec<String>) {
    let children: Vec<(String, &Value)> = match value {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| (k.replace('~', "~0").replace('/', "~1"), v))
            .collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        _ => Vec::new(),
    };
    for (key, child) in children {
        let pointer = format!("{at}/{key}");
        out.push(pointer.clone());
        pointers(child, &pointer, out);
    }
}

fn apply(document: &mut Value, at: prop::sample::Index, mutation: &Mutation) {
    let mut all = Vec::new();
    pointers(document, "", &mut all);
    if all.is_empty() {
        return;
    }
    let pointer = &all[at.index(all.len())];
    if let Mutation::Remove = mutation {
        let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", pointer));
        let key = key.replace("~1", "/").replace("~0", "~");
        match document.pointer_mut(parent) {
            Some(Value::Object(map)) => {
                map.remove(&key);
            }
            Some(Value::Array(items)) => {
                if let Ok(i) = key.parse::<usize>() {
                    if i < items.len() {
                        items.remove(i);
                    }
                }
            }
            _ => {}
        }
        return;
    }
    let Some(target) = document.pointer_mut(pointer) else {
        return;
    };
    *target = match mutation {
        Mutation::Remove => return,
        Mutation::Replace(value) => value.clone(),
        Mutation::Url(url) => json!(url),
        Mutation::IntoArray => json!([target.take()]),
        Mutation::IntoObjectWithId => json!({ "id": target.take() }),
    };
}

/// `document` with one to four changes anywhere in it.
pub fn mutated(document: Value) -> impl Strategy<Value = Value> {
    prop::collection::vec((any::<prop::sample::Index>(), mutation()), 1..5).prop_map(
        move |changes| {
            let mut changed = document.clone();
            for (at, mutation) in &changes {
                apply(&mut changed, *at, mutation);
            }
            changed
        },
    )
}

/// `cases` cases, and no file of failures kept in the source tree (a
/// failure prints its minimal input).
pub fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// An actor document as Mastodon serves it.
fn actor() -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": "https://mastodon.example/users/alice",
        "type": "Person",
        "preferredUsername": "alice",
        "name": "Alice",
        "summary": "<p>birds</p>",
        "url": "https://mastodon.example/@alice",
        "inbox": "https://mastodon.example/users/alice/inbox",
        "outbox": "https://mastodon.example/users/alice/outbox",
        "followers": "https://mastodon.example/users/alice/followers",
        "following": "https://mastodon.example/users/alice/following",
        "endpoints": {"sharedInbox": "https://mastodon.example/inbox"},
        "icon": {"type": "Image", "mediaType": "image/png", "url": "https://files.mastodon.example/a.png"},
        "image": {"type": "Image", "url": "https://files.mastodon.example/h.png"},
        "manuallyApprovesFollowers": false,
        "discoverable": true,
        "publicKey": {
            "id": "https://mastodon.example/users/alice#main-key",
            "owner": "https://mastodon.example/users/alice",
            "publicKeyPem": "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n"
        },
        "attachment": [{"type": "PropertyValue", "name": "Site", "value": "<a href=\"https://x.example\">x</a>"}]
    })
}

mod actors {
    use url::Url;

    use super::*;
    use crate::objects::is_web_url;
    use crate::objects::person::{Person, authority, remote_actor_from_person};

    fn on(domain: &str, url: &str) -> bool {
        Url::parse(url).is_ok_and(|url| authority(&url).as_deref() == Some(domain))
    }

    fn web(url: &Option<String>) -> bool {
        url.as_deref()
            .is_none_or(|u| Url::parse(u).is_ok_and(|u| is_web_url(&u)))
    }

    proptest! {
        #![proptest_config(config(384))]

        /// Whatever an actor document says, what is stored of it names the
        /// actor's own server for its key, inbox and collections, and only
        /// web URLs for its links and images.
        #[test]
        fn a_stored_actor_is_on_its_own_server(document in prop_oneof![
            1 => arbitrary_json(),
            6 => mutated(actor()),
        ]) {
            let Ok(person) = serde_json::from_value::<Person>(document) else {
                return Ok(());
            };
            let Ok(remote) = remote_actor_from_person(&person, 0) else {
                return Ok(());
            };
            let domain = remote.domain.as_str();
            prop_assert!(on(domain, &remote.uri), "{remote:?}");
            prop_assert!(on(domain, &remote.key_id), "{remote:?}");
            prop_assert!(on(domain, &remote.inbox_url), "{remote:?}");
            for collection in [
                &remote.shared_inbox_url,
                &remote.outbox_url,
                &remote.followers_url,
                &remote.following_url,
            ] {
                prop_assert!(collection.as_deref().is_none_or(|u| on(domain, u)), "{remote:?}");
            }
            for link in [&remote.url, &remote.avatar_url, &remote.header_url] {
                prop_assert!(web(link), "{remote:?}");
            }
            prop_assert!(!remote.note.contains("<script"), "{remote:?}");
        }
    }
}
