//! Remote HTML made safe: `objects::html::sanitize` (ammonia with Perch's
//! policy: Mastodon's tags and classes, http/https/mailto links,
//! `rel="nofollow noopener noreferrer"`) on a 1.9 KB Mastodon post with
//! mentions, hashtags, shortened links and a hostile tail (style sheet,
//! `onclick`, a `javascript:` link, an image with `onerror`, a script, an
//! iframe). Baseline, in the same run: `ammonia::clean`, the library's
//! default policy, on the same input.
//!
//! `cargo bench -p perch_apub --bench html`

// This benchmark uses the content alone, not the activity around it.
#[allow(dead_code)]
mod inputs;
mod ratios;

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use perch_apub::objects::html::sanitize;
use ratios::Ratio;

fn bench(c: &mut Criterion) {
    let html = inputs::CONTENT_HTML;
    let clean = sanitize(html);
    for gone in [
        "<script",
        "<style",
        "onclick",
        "onerror",
        "javascript:",
        "<iframe",
    ] {
        assert!(!clean.contains(gone), "{gone} survived: {clean}");
    }
    assert!(clean.contains("class=\"u-url mention\""), "{clean}");

    let mut group = c.benchmark_group("html");
    group.throughput(Throughput::Elements(1));
    group.bench_function("sanitize", |b| b.iter(|| sanitize(black_box(html))));
    group.bench_function("ammonia_clean", |b| {
        b.iter(|| ammonia::clean(black_box(html)))
    });
    group.finish();
}

fn main() {
    ratios::run(
        bench,
        &[Ratio {
            label: "sanitize / ammonia::clean",
            subject: "html/sanitize",
            baseline: "html/ammonia_clean",
        }],
    );
}
