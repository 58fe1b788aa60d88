//! Ratios between the benchmarks of one run, printed after Criterion's
//! report: a subject's median time per iteration over its baseline's, both
//! read from the estimates Criterion has just written
//! (`<output>/<group>/<id>/new/estimates.json`). A pair that did not run in
//! this process (filtered out, or Criterion's `--test` mode) is left out
//! rather than read from an older run.
//!
//! `crates/perch_core/benches/render.rs` includes this file by path.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A subject and its baseline, each as Criterion's `group/id`.
pub struct Ratio {
    pub label: &'static str,
    pub subject: &'static str,
    pub baseline: &'static str,
}

/// Runs `bench` with Criterion's settings from the command line, then
/// prints `ratios` for the pairs that ran.
pub fn run(bench: fn(&mut criterion::Criterion), ratios: &[Ratio]) {
    let started = SystemTime::now();
    let mut criterion = criterion::Criterion::default().configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
    print(started, ratios);
}

/// Prints one line per pair measured since `started`.
fn print(started: SystemTime, ratios: &[Ratio]) {
    let Some(output) = output_directory() else {
        return;
    };
    let lines: Vec<String> = ratios
        .iter()
        .filter_map(|ratio| {
            let subject = median_ns(&output, ratio.subject, started)?;
            let baseline = median_ns(&output, ratio.baseline, started)?;
            Some(format!(
                "  {:<44} {:>9} {:>10}  {:>9} {:>10}  {:>6.2} ×",
                ratio.label,
                duration(subject),
                per_second(subject),
                duration(baseline),
                per_second(baseline),
                subject / baseline,
            ))
        })
        .collect();
    if lines.is_empty() {
        return;
    }
    println!(
        "\nMedians of this run, and the ratio of each to its baseline's:\n  {:<44} {:>20}  {:>20}  {:>8}",
        "", "median, per second", "baseline", "ratio"
    );
    for line in lines {
        println!("{line}");
    }
}

/// Where Criterion writes, found as Criterion finds it: `CRITERION_HOME`,
/// else `$CARGO_TARGET_DIR/criterion`, else `criterion/` in the target
/// directory this benchmark was built in (`<target>/<profile>/deps/<bench>`).
fn output_directory() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return Some(home.into());
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return Some(PathBuf::from(target).join("criterion"));
    }
    let exe = std::env::current_exe().ok()?;
    Some(exe.ancestors().nth(3)?.join("criterion"))
}

/// The median of `id`'s latest estimates, in nanoseconds, if they were
/// written after `started`.
fn median_ns(output: &Path, id: &str, started: SystemTime) -> Option<f64> {
    let path = output.join(id).join("new").join("estimates.json");
    let written = std::fs::metadata(&path).ok()?.modified().ok()?;
    if written < started {
        return None;
    }
    let estimates: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    estimates["median"]["point_estimate"].as_f64()
}

fn per_second(ns: f64) -> String {
    let rate = 1e9 / ns;
    if rate >= 1e6 {
        format!("{:.2} M/s", rate / 1e6)
    } else if rate >= 1e3 {
        format!("{:.1} k/s", rate / 1e3)
    } else {
        format!("{rate:.0}/s")
    }
}

fn duration(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}
