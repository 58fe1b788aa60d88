//! A local user's post, typed as plain text (about 600 characters: three
//! paragraphs, two resolved mentions and an unknown one, three hashtags,
//! four links, characters to escape), turned into the HTML that is stored
//! and federated: `content::parse`, then `content::render` with mentions
//! resolved from a map and tags linked to their page, as the client API's
//! compose does once the mentioned accounts are looked up. Baseline, in
//! the same run: `content::escape_html` of the same text, the least any
//! safe rendering of it costs.
//!
//! `cargo bench -p perch_core --bench render`

// The ratio printer of perch_apub's benchmarks, shared by path: bench
// targets of two crates have no module in common otherwise.
#[path = "../../perch_apub/benches/ratios/mod.rs"]
mod ratios;

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{Criterion, Throughput};
use perch_core::content::{self, MentionLink, MentionRef, Parsed};
use ratios::Ratio;

const POST: &str = "Morning walk report for @ann and @bob@mastodon.example: the heron is back at the mill pond, \
standing on the sluice gate as if it owned it.\n\n\
Photos: https://photos.perch.example/albums/2026-11-20-mill-pond?sort=oldest&view=grid\n\
Map: https://osm.example/?mlat=51.5072&mlon=-0.1276#map=17/51.5072/-0.1276\n\
Thanks @nobody@unknown.example for the tip (and sorry @Ann for the 6 a.m. start). \
Water level < last week's, so the mud flats > 20 m wide: bring boots & a \"spare\" pair of socks.\n\n\
#Birds #Heron #MillPond, more at https://perch.example/@alice and https://birds.example/heron";

fn accounts() -> HashMap<String, MentionLink> {
    HashMap::from([
        (
            "ann".to_owned(),
            MentionLink {
                url: "https://perch.example/@ann".to_owned(),
                username: "ann".to_owned(),
            },
        ),
        (
            "bob@mastodon.example".to_owned(),
            MentionLink {
                url: "https://mastodon.example/@bob".to_owned(),
                username: "bob".to_owned(),
            },
        ),
    ])
}

fn render(parsed: &Parsed, accounts: &HashMap<String, MentionLink>) -> String {
    content::render(
        parsed,
        |mention: &MentionRef| accounts.get(&mention.acct().to_lowercase()).cloned(),
        |tag| format!("https://perch.example/tags/{tag}"),
    )
}

fn bench(c: &mut Criterion) {
    let accounts = accounts();
    let parsed = content::parse(POST);
    assert_eq!(parsed.mentions.len(), 3, "{:?}", parsed.mentions);
    assert_eq!(parsed.tags, ["birds", "heron", "millpond"]);
    let html = render(&parsed, &accounts);
    assert_eq!(html.matches("u-url mention").count(), 3, "{html}");
    assert!(html.contains("@nobody@unknown.example"), "{html}");

    let mut group = c.benchmark_group("content");
    group.throughput(Throughput::Elements(1));
    group.bench_function("parse_and_render", |b| {
        b.iter(|| render(&content::parse(black_box(POST)), &accounts))
    });
    group.bench_function("parse", |b| b.iter(|| content::parse(black_box(POST))));
    group.bench_function("render", |b| {
        b.iter(|| render(black_box(&parsed), &accounts))
    });
    group.bench_function("escape_html", |b| {
        b.iter(|| content::escape_html(black_box(POST)))
    });
    group.finish();
}

fn main() {
    let over_baseline = |label, subject| Ratio {
        label,
        subject,
        baseline: "content/escape_html",
    };
    ratios::run(
        bench,
        &[
            over_baseline("parse + render / escape_html", "content/parse_and_render"),
            over_baseline("parse / escape_html", "content/parse"),
            over_baseline("render / escape_html", "content/render"),
        ],
    );
}
