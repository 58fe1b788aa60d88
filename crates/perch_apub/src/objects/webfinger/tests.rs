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
