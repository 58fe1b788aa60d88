//! The machine a run measures, and its bare RSA-2048 rates: the
//! baselines the federation scenarios are compared with, measured in the
//! same run.
//!
//! OpenSSL's own `openssl speed -multi N rsa2048` is the reference when the
//! `openssl` command is installed (Debian ships it); AWS-LC through
//! `aws-lc-rs`, the library the server itself signs and verifies with, is
//! measured too and stands in when it is not.

use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use tokio::process::Command;

use crate::baseline::{self, Baseline};

/// How long `openssl speed` measures each of sign and verify.
const OPENSSL_SECONDS: u32 = 3;

pub struct Machine {
    /// One line: cores, processor, memory, kernel.
    pub description: String,
    /// Signatures and verifications per second on all cores, by OpenSSL.
    pub openssl: Option<Rates>,
    pub aws_lc: Baseline,
}

#[derive(Clone, Copy, Debug)]
pub struct Rates {
    pub sign: f64,
    pub verify: f64,
}

impl Machine {
    pub async fn measure() -> anyhow::Result<Machine> {
        let aws_lc = tokio::task::spawn_blocking(|| baseline::measure(Duration::from_secs(2)))
            .await
            .context("baseline task")??;
        let openssl = openssl_speed(aws_lc.threads).await;
        if let Err(error) = &openssl {
            eprintln!("note: no OpenSSL baseline ({error:#}); AWS-LC's rates stand in");
        }
        let machine = Machine {
            description: describe(),
            openssl: openssl.ok(),
            aws_lc,
        };
        println!("machine: {}", machine.description);
        if let Some(rates) = machine.openssl {
            println!(
                "OpenSSL RSA-2048 on {} processes: {:.0} sign/s, {:.0} verify/s",
                machine.aws_lc.threads, rates.sign, rates.verify
            );
        }
        println!(
            "AWS-LC RSA-2048: verify {:.0}/s on 1 thread, {:.0}/s on {} threads; sign {:.0}/s on 1 thread",
            machine.aws_lc.verify_one,
            machine.aws_lc.verify_all,
            machine.aws_lc.threads,
            machine.aws_lc.sign_one
        );
        Ok(machine)
    }

    /// RSA-2048 signatures per second on all cores, and what measured it.
    pub fn sign_rate(&self) -> (String, f64) {
        match self.openssl {
            Some(rates) => (
                format!(
                    "OpenSSL RSA-2048 sign/s ({} processes)",
                    self.aws_lc.threads
                ),
                rates.sign,
            ),
            None => (
                format!(
                    "AWS-LC RSA-2048 sign/s (1 thread × {})",
                    self.aws_lc.threads
                ),
                self.aws_lc.sign_one * self.aws_lc.threads as f64,
            ),
        }
    }

    /// RSA-2048 verifications per second on all cores, and what measured it.
    pub fn verify_rate(&self) -> (String, f64) {
        match self.openssl {
            Some(rates) => (
                format!(
                    "OpenSSL RSA-2048 verify/s ({} processes)",
                    self.aws_lc.threads
                ),
                rates.verify,
            ),
            None => (
                format!("AWS-LC RSA-2048 verify/s ({} threads)", self.aws_lc.threads),
                self.aws_lc.verify_all,
            ),
        }
    }
}

async fn openssl_speed(processes: usize) -> anyhow::Result<Rates> {
    let output = tokio::time::timeout(
        Duration::from_secs(60),
        Command::new("openssl")
            .args(["speed", "-multi", &processes.to_string()])
            .args(["-seconds", &OPENSSL_SECONDS.to_string(), "rsa2048"])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .context("openssl speed took over a minute")?
    .context("running openssl speed")?;
    anyhow::ensure!(output.status.success(), "openssl speed: {}", output.status);
    parse_speed(&String::from_utf8_lossy(&output.stdout))
        .context("no `rsa 2048 bits` line in openssl speed's output")
}

/// The `rsa 2048 bits <s> <s> <sign/s> <verify/s>` line of `openssl speed`.
fn parse_speed(text: &str) -> Option<Rates> {
    text.lines().rev().find_map(|line| {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() < 6 || words[..3] != ["rsa", "2048", "bits"] {
            return None;
        }
        let sign = words[words.len() - 2].parse().ok()?;
        let verify = words[words.len() - 1].parse().ok()?;
        Some(Rates { sign, verify })
    })
}

fn describe() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown processor", |(_, m)| m.trim())
        .to_owned();
    let memory_kib: u64 = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap_or_default()
        .trim()
        .to_owned();
    format!(
        "{cores} cores, {model}, {:.0} GiB, Linux {kernel}",
        memory_kib as f64 / (1024.0 * 1024.0)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_multi_process_line() {
        let text = "                  sign    verify    sign/s verify/s\n\
                    rsa 2048 bits 0.000276s 0.000014s   3626.0  71704.5\n";
        let rates = parse_speed(text).expect("a line");
        assert_eq!(rates.sign, 3626.0);
        assert_eq!(rates.verify, 71704.5);
        assert!(parse_speed("rsa 4096 bits 1 2 3 4").is_none());
    }
}
