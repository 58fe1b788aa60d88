//! What a scenario reports: rows of one figure each, with the baseline it
//! is compared with and the target it is held to, printed as they come
//! (`ROW {json}`) and gathered into the Markdown table of
//! `docs/PERFORMANCE.md`.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// One measured figure.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Row {
    /// `fan-out`, `inbound`, `home timeline`…
    pub scenario: String,
    /// `SQLite`, `PostgreSQL`, or `-` where the database plays no part.
    pub backend: String,
    /// What was measured, e.g. `deliveries/s (shared inboxes)`.
    pub measure: String,
    pub value: f64,
    /// `/s`, `ms`, `KiB`, `MiB`, or empty for a count.
    pub unit: String,
    /// What the value is divided by to give its ratio, measured in the
    /// same run.
    pub baseline: Option<Reference>,
    pub target: Option<Target>,
}

/// A figure measured in the same run that a row is compared with.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Reference {
    /// e.g. `OpenSSL RSA-2048 sign/s, 2 processes`.
    pub name: String,
    pub value: f64,
}

/// The bound a row is held to: on its value, or on its ratio to the
/// baseline.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub enum Target {
    AtMost(f64),
    AtLeast(f64),
    Equal(f64),
    RatioAtLeast(f64),
    RatioAtMost(f64),
}

impl Row {
    pub fn new(scenario: &str, backend: &str, measure: impl Into<String>, value: f64) -> Row {
        Row {
            scenario: scenario.to_owned(),
            backend: backend.to_owned(),
            measure: measure.into(),
            value,
            unit: String::new(),
            baseline: None,
            target: None,
        }
    }

    pub fn unit(mut self, unit: &str) -> Row {
        self.unit = unit.to_owned();
        self
    }

    pub fn against(mut self, name: impl Into<String>, value: f64) -> Row {
        self.baseline = Some(Reference {
            name: name.into(),
            value,
        });
        self
    }

    pub fn target(mut self, target: Target) -> Row {
        self.target = Some(target);
        self
    }

    pub fn ratio(&self) -> Option<f64> {
        let reference = self.baseline.as_ref()?;
        (reference.value != 0.0).then(|| self.value / reference.value)
    }

    /// Whether the target holds; `None` without a target, or when a
    /// ratio target has no baseline or the value is not a number.
    pub fn met(&self) -> Option<bool> {
        if self.value.is_nan() {
            return self.target.map(|_| false);
        }
        Some(match self.target? {
            Target::AtMost(bound) => self.value <= bound,
            Target::AtLeast(bound) => self.value >= bound,
            Target::Equal(expected) => (self.value - expected).abs() < 0.5,
            Target::RatioAtLeast(bound) => self.ratio()? >= bound,
            Target::RatioAtMost(bound) => self.ratio()? <= bound,
        })
    }

    /// Prints the row as one `ROW {json}` line, for `scripts/bench` and
    /// for a reader watching the run.
    pub fn print(&self) {
        match serde_json::to_string(self) {
            Ok(json) => println!("ROW {json}"),
            Err(error) => eprintln!("warning: a row could not be printed: {error}"),
        }
    }
}

/// Prints every row as it is made and keeps them for the report.
#[derive(Default)]
pub struct Rows(pub Vec<Row>);

impl Rows {
    pub fn push(&mut self, row: Row) {
        row.print();
        self.0.push(row);
    }
}

/// `value` rounded and grouped by thousands, with its unit.
pub fn number(value: f64, unit: &str) -> String {
    if value.is_nan() {
        return "n/a".to_owned();
    }
    let digits = if value.abs() >= 100.0 || value.fract() == 0.0 {
        0
    } else if value.abs() >= 10.0 {
        1
    } else {
        2
    };
    let text = format!("{value:.digits$}");
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let (sign, int) = int.strip_prefix('-').map_or(("", int), |i| ("-", i));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let mut out = format!("{sign}{grouped}");
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    if !unit.is_empty() {
        if unit.starts_with('/') {
            out.push_str(unit);
        } else {
            out.push(' ');
            out.push_str(unit);
        }
    }
    out
}

fn ratio_text(ratio: f64) -> String {
    if ratio >= 100.0 {
        format!("{ratio:.0} ×")
    } else if ratio >= 0.1 {
        format!("{ratio:.2} ×")
    } else {
        format!("{ratio:.4} ×")
    }
}

fn target_text(target: Target, unit: &str) -> String {
    match target {
        Target::AtMost(bound) => format!("≤ {}", number(bound, unit)),
        Target::AtLeast(bound) => format!("≥ {}", number(bound, unit)),
        Target::Equal(expected) => format!("= {}", number(expected, unit)),
        Target::RatioAtLeast(bound) => format!("≥ {bound} × baseline"),
        Target::RatioAtMost(bound) => format!("≤ {bound} × baseline"),
    }
}

/// The rows as a Markdown table.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| scenario | backend | measure | value | baseline (same run) | ratio | target | met |\n\
         | --- | --- | --- | ---: | --- | ---: | --- | :---: |\n",
    );
    for row in rows {
        let baseline = row.baseline.as_ref().map_or_else(
            || "-".to_owned(),
            |reference| format!("{}: {}", reference.name, number(reference.value, "")),
        );
        let ratio = row.ratio().map_or_else(|| "-".to_owned(), ratio_text);
        let target = row
            .target
            .map_or_else(|| "-".to_owned(), |t| target_text(t, &row.unit));
        let met = match row.met() {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "-",
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            row.scenario,
            row.backend,
            row.measure,
            number(row.value, &row.unit),
            baseline,
            ratio,
            target,
            met
        );
    }
    out
}

pub const BEGIN: &str =
    "<!-- perch-bench: begin (written by scripts/bench; edits here are replaced) -->";
pub const END: &str = "<!-- perch-bench: end -->";

/// Replaces the generated part of `path` (between [`BEGIN`] and [`END`])
/// with `generated`, keeping the prose around it; appends the part when
/// the markers are missing.
pub fn write_into(path: &Path, generated: &str) -> anyhow::Result<()> {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let section = format!("{BEGIN}\n{generated}{END}");
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(begin), Some(end)) if begin < end => {
            format!("{}{section}{}", &old[..begin], &old[end + END.len()..])
        }
        _ => format!("{}\n{section}\n", old.trim_end()),
    };
    std::fs::write(path, new).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_and_rounded() {
        assert_eq!(number(1234567.0, "/s"), "1,234,567/s");
        assert_eq!(number(1.2345, "ms"), "1.23 ms");
        assert_eq!(number(42.25, "KiB"), "42.2 KiB");
        assert_eq!(number(f64::NAN, "ms"), "n/a");
    }

    #[test]
    fn targets_on_ratios_need_a_baseline() {
        let row =
            Row::new("fan-out", "SQLite", "deliveries/s", 4000.0).target(Target::RatioAtLeast(0.5));
        assert_eq!(row.met(), None);
        let row = row.against("sign/s", 7000.0);
        assert_eq!(row.met(), Some(true));
        let row = Row::new("x", "-", "p99", 60.0).target(Target::AtMost(50.0));
        assert_eq!(row.met(), Some(false));
    }

    #[test]
    fn the_generated_part_is_replaced_in_place() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("P.md");
        std::fs::write(&path, "# Title\n\nprose\n")?;
        write_into(&path, "one\n")?;
        write_into(&path, "two\n")?;
        let text = std::fs::read_to_string(&path)?;
        assert!(text.starts_with("# Title\n\nprose\n"));
        assert!(text.contains("two\n") && !text.contains("one\n"));
        assert_eq!(text.matches(BEGIN).count(), 1);
        Ok(())
    }
}
