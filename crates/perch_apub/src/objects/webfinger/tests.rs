//! The WebFinger answers of common servers, and the ways a hostile or
//! sloppy one can differ from them.

use serde_json::{Value, json};

use super::*;

/// Mastodon's answer, with the `null` property values RFC 7033 allows
/// (Mastodon itself sends none; several servers do).
fn answer() -> Value {
    json!({
        "subject": "acct:bob@remote.example",
        "aliases": ["https://remote.example/@bob", "https://remote.example/users/bob"],
        "properties": {"http://schema.example/name": null},
        "links": [
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html",
             "href": "https://remote.example/@bob"},
            {"rel": "self", "type": "application/activity+json",
             "href": "https://remote.example/users/bob",
             "properties": {"http://schema.example/x": null}},
            {"rel": "http://ostatus.org/schema/1.0/subscribe",
             "template": "https://remote.example/authorize_interaction?uri={uri}"}
        ]
    })
}

#[test]
fn the_actor_is_the_self_link_of_an_activitypub_type() {
    assert_eq!(
        actor_from_jrd(&answer()).map(String::from).as_deref(),
        Some("https://remote.example/users/bob")
    );
    let ld = json!({"links": [
        {"rel": "self", "type": "text/html", "href": "https://remote.example/page"},
        {"rel": "self", "type": "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
         "href": "https://remote.example/actor"}
    ]});
    assert_eq!(
        actor_from_jrd(&ld).map(String::from).as_deref(),
        Some("https://remote.example/actor")
    );
}

#[test]
fn unusable_links_are_passed_over() {
    let mut sloppy = answer();
    sloppy["links"].as_array_mut().expect("links").insert(
        0,
        json!({"rel": "self", "type": "application/activity+json", "href": 7}),
    );
    sloppy["links"]
        .as_array_mut()
        .expect("links")
        .insert(0, json!("not a link"));
    assert!(actor_from_jrd(&sloppy).is_some(), "{sloppy}");
}

#[test]
fn only_a_web_url_is_an_actor() {
    for href in [
        "javascript:alert(1)",
        "data:application/activity+json,{}",
        "file:///etc/passwd",
        "not a url",
    ] {
        let jrd = json!({"links": [
            {"rel": "self", "type": "application/activity+json", "href": href}
        ]});
        assert_eq!(actor_from_jrd(&jrd), None, "{href}");
    }
    assert_eq!(actor_from_jrd(&json!({"links": "x"})), None);
    assert_eq!(actor_from_jrd(&json!([])), None);
}

#[test]
fn what_we_serve_has_no_nulls() {
    let served = serde_json::to_value(Jrd {
        subject: "acct:alice@perch.example".to_owned(),
        aliases: vec![],
        links: vec![JrdLink {
            rel: "http://ostatus.org/schema/1.0/subscribe".to_owned(),
            kind: None,
            href: None,
            template: Some("https://perch.example/authorize_interaction?uri={uri}".to_owned()),
        }],
    })
    .expect("serialises");
    assert_eq!(
        served,
        json!({
            "subject": "acct:alice@perch.example",
            "links": [{"rel": "http://ostatus.org/schema/1.0/subscribe",
                       "template": "https://perch.example/authorize_interaction?uri={uri}"}]
        })
    );
}

mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::objects::properties::{arbitrary_json, config, mutated};

    fn link() -> impl Strategy<Value = Value> {
        (
            prop::sample::select(vec![
                "self",
                "http://webfinger.net/rel/profile-page",
                "SELF",
                "",
            ]),
            prop::option::of(prop::sample::select(vec![
                "application/activity+json",
                "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
                "APPLICATION/ACTIVITY+JSON",
                "text/html",
                "application/activity+jsonx",
            ])),
            prop::option::of(prop_oneof![
                "https://[a-z]{1,8}\\.example/users/[a-z]{1,8}",
                "http://[a-z]{1,8}\\.example:[0-9]{2,5}/[a-z]{0,8}",
                Just("javascript:alert(1)".to_owned()),
                Just("data:text/html,x".to_owned()),
                Just("https://".to_owned()),
                Just("/relative".to_owned()),
            ]),
            arbitrary_json(),
        )
            .prop_map(|(rel, kind, href, properties)| {
                let mut link = json!({"rel": rel});
                if let Some(kind) = kind {
                    link["type"] = json!(kind);
                }
                if let Some(href) = href {
                    link["href"] = json!(href);
                }
                link["properties"] = properties;
                link
            })
    }

    /// The first link a reader of RFC 7033 takes for the actor.
    fn expected(links: &[Value]) -> Option<Url> {
        links
            .iter()
            .find(|link| {
                link["rel"] == "self"
                    && link["href"].is_string()
                    && link["type"].as_str().is_some_and(|kind| {
                        let essence = kind
                            .split(';')
                            .next()
                            .unwrap_or("")
                            .trim()
                            .to_ascii_lowercase();
                        essence == "application/activity+json" || essence == "application/ld+json"
                    })
            })
            .and_then(|link| Url::parse(link["href"].as_str()?).ok())
            .filter(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
    }

    proptest! {
        #![proptest_config(config(256))]

        #[test]
        fn the_actor_is_the_first_activitypub_self_link(
            links in prop::collection::vec(link(), 0..6),
            subject in "acct:[a-z]{1,8}@[a-z]{1,8}\\.example",
        ) {
            let jrd = json!({"subject": subject, "links": links.clone()});
            let found = actor_from_jrd(&jrd);
            prop_assert_eq!(&found, &expected(&links));
            if let Some(url) = found {
                prop_assert!(is_web_url(&url));
            }
        }

        #[test]
        fn any_answer_is_read_without_panicking(
            answer in prop_oneof![arbitrary_json(), mutated(answer())],
        ) {
            if let Some(url) = actor_from_jrd(&answer) {
                prop_assert!(is_web_url(&url), "{}", url);
            }
        }
    }
}
