//! A received `Create` of a Mastodon Note (about 5.5 KB: two mentions,
//! three hashtags, an image, 1.9 KB of HTML in `content` and again in
//! `contentMap`) read into what a status is stored with: the body parsed as
//! JSON (the inbox route and the queue worker each do this), the activity
//! read by kind, the Note read into a `ReceivedNote` (its content sanitised
//! on the way), then its visibility and tags. Storing it needs a database
//! and is left to `perch-bench`. Baseline, in the same run: serde_json
//! checking the same bytes without building anything (`IgnoredAny`).
//!
//! `cargo bench -p perch_apub --bench notes`

mod inputs;
mod ratios;

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use perch_apub::inbox::activity::Activity;
use perch_apub::ingest::tags_of;
use perch_apub::objects::note::{ReceivedNote, parse_note, visibility_of};
use perch_core::status::Visibility;
use ratios::Ratio;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::Value;

const FOLLOWERS: &str = "https://mastodon.example/users/alice/followers";

/// The Note of a Create, as the inbox's worker reads it.
fn note_of(activity: &Value) -> ReceivedNote {
    match Activity::deserialize(activity).expect("a Create") {
        Activity::Create(create) => parse_note(&create.object).expect("a Note"),
        other => panic!("not a Create: {other:?}"),
    }
}

/// Bytes to what `store_note` hands the domain layer, bar the database.
fn received(body: &[u8]) -> (ReceivedNote, Visibility, Vec<String>) {
    let activity: Value = serde_json::from_slice(body).expect("JSON");
    let note = note_of(&activity);
    let visibility = visibility_of(&note, Some(FOLLOWERS));
    let tags = tags_of(&note);
    (note, visibility, tags)
}

fn bench(c: &mut Criterion) {
    let body = inputs::create_activity();
    let activity: Value = serde_json::from_slice(&body).expect("JSON");
    let object = activity["object"].clone();
    let note = note_of(&activity);
    let (_, visibility, tags) = received(&body);
    assert_eq!(visibility, Visibility::Public);
    assert_eq!(tags, ["birds", "birdwatching", "springmigration"]);
    assert_eq!(note.mentions.len(), 2);
    assert_eq!(note.attachments.len(), 1);
    assert!(!note.content.contains("script"), "{}", note.content);

    let mut group = c.benchmark_group("note_in");
    group.throughput(Throughput::Elements(1));
    group.bench_function("received_note", |b| b.iter(|| received(black_box(&body))));
    group.bench_function("json_to_value", |b| {
        b.iter(|| serde_json::from_slice::<Value>(black_box(&body)).expect("JSON"))
    });
    group.bench_function("activity_by_kind", |b| {
        b.iter(|| Activity::deserialize(black_box(&activity)).expect("a Create"))
    });
    group.bench_function("parse_note", |b| {
        b.iter(|| parse_note(black_box(&object)).expect("a Note"))
    });
    group.bench_function("visibility_and_tags", |b| {
        b.iter(|| {
            let note = black_box(&note);
            (visibility_of(note, Some(FOLLOWERS)), tags_of(note))
        })
    });
    group.bench_function("json_ignored_any", |b| {
        b.iter(|| serde_json::from_slice::<IgnoredAny>(black_box(&body)).expect("JSON"))
    });
    group.finish();
}

fn main() {
    let over_baseline = |label, subject| Ratio {
        label,
        subject,
        baseline: "note_in/json_ignored_any",
    };
    ratios::run(
        bench,
        &[
            over_baseline(
                "bytes to ReceivedNote, visibility, tags",
                "note_in/received_note",
            ),
            over_baseline("JSON to serde_json::Value", "note_in/json_to_value"),
            over_baseline("Value to Activity::Create", "note_in/activity_by_kind"),
            over_baseline("parse_note (sanitises content)", "note_in/parse_note"),
            over_baseline("visibility_of + tags_of", "note_in/visibility_and_tags"),
        ],
    );
}
