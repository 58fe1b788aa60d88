//! Timed GETs from outside the server: a fixed number of requests with a
//! few in flight (a closed loop: each worker sends its next request when
//! the previous answer has been read to the end), each timed from just
//! before it is sent until its whole body has arrived.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;

/// Longest a single request may take before it counts as failed.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Answer times of one kind of request.
#[derive(Default)]
pub struct Latencies {
    /// Microseconds, sorted.
    pub micros: Vec<u64>,
    /// Answers other than 200, and transport errors.
    pub failures: usize,
    pub samples: Vec<String>,
}

impl Latencies {
    /// The `p`th percentile in milliseconds (`p` in 0..=1).
    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.micros.is_empty() {
            return f64::NAN;
        }
        let rank = (p * self.micros.len() as f64).ceil() as usize;
        let index = rank.clamp(1, self.micros.len()) - 1;
        self.micros[index] as f64 / 1000.0
    }

    pub fn mean_ms(&self) -> f64 {
        if self.micros.is_empty() {
            return f64::NAN;
        }
        self.micros.iter().sum::<u64>() as f64 / self.micros.len() as f64 / 1000.0
    }

    fn merge(&mut self, other: Latencies) {
        self.micros.extend(other.micros);
        self.failures += other.failures;
        for sample in other.samples {
            if self.samples.len() < 3 {
                self.samples.push(sample);
            }
        }
    }
}

/// What to request: request `i` goes to `urls[i % urls.len()]`, and its
/// time is kept under that URL's `bucket`.
pub struct Plan {
    pub urls: Vec<(usize, String)>,
    pub buckets: usize,
}

impl Plan {
    /// Every request in bucket 0, cycling through `urls`.
    pub fn one(urls: Vec<String>) -> Plan {
        Plan {
            urls: urls.into_iter().map(|u| (0, u)).collect(),
            buckets: 1,
        }
    }
}

/// What a probe saw.
pub struct Probed {
    pub buckets: Vec<Latencies>,
    pub elapsed: Duration,
}

impl Probed {
    pub fn requests(&self) -> usize {
        self.buckets
            .iter()
            .map(|b| b.micros.len() + b.failures)
            .sum()
    }

    pub fn per_sec(&self) -> f64 {
        self.requests() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

pub fn client(concurrency: usize) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(concurrency)
        .build()?)
}

/// Sends `requests` GETs (with `token` as bearer) at `concurrency` in
/// flight, stopping early at `until`.
pub async fn run(
    client: &reqwest::Client,
    token: &str,
    plan: Arc<Plan>,
    requests: usize,
    concurrency: usize,
    until: Instant,
) -> anyhow::Result<Probed> {
    anyhow::ensure!(!plan.urls.is_empty(), "nothing to request");
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (client, plan, next) = (client.clone(), plan.clone(), next.clone());
        let token = token.to_owned();
        workers.push(tokio::spawn(async move {
            let mut buckets: Vec<Latencies> =
                (0..plan.buckets).map(|_| Latencies::default()).collect();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= requests || Instant::now() >= until {
                    break;
                }
                let (bucket, url) = &plan.urls[i % plan.urls.len()];
                let start = Instant::now();
                let answer = client.get(url).bearer_auth(&token).send().await;
                let outcome = match answer {
                    Ok(answer) => {
                        let status = answer.status();
                        match answer.bytes().await {
                            Ok(_) if status.is_success() => Ok(()),
                            Ok(body) => Err(format!(
                                "{status}: {}",
                                String::from_utf8_lossy(&body[..body.len().min(200)])
                            )),
                            Err(error) => Err(format!("reading the body: {error}")),
                        }
                    }
                    Err(error) => Err(format!("transport: {error}")),
                };
                let elapsed = start.elapsed().as_micros() as u64;
                let latencies = &mut buckets[*bucket];
                match outcome {
                    Ok(()) => latencies.micros.push(elapsed),
                    Err(sample) => {
                        latencies.failures += 1;
                        if latencies.samples.len() < 3 {
                            latencies.samples.push(sample);
                        }
                    }
                }
            }
            buckets
        }));
    }
    let mut buckets: Vec<Latencies> = (0..plan.buckets).map(|_| Latencies::default()).collect();
    for worker in workers {
        for (total, part) in buckets
            .iter_mut()
            .zip(worker.await.context("probe worker")?)
        {
            total.merge(part);
        }
    }
    for bucket in &mut buckets {
        bucket.micros.sort_unstable();
    }
    Ok(Probed {
        buckets,
        elapsed: started.elapsed(),
    })
}

/// How many statuses the page at `url` holds (a JSON array).
pub async fn count_items(
    client: &reqwest::Client,
    token: &str,
    url: &str,
) -> anyhow::Result<usize> {
    let page: serde_json::Value = client
        .get(url)
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()
        .with_context(|| format!("GET {url}"))?
        .json()
        .await?;
    page.as_array()
        .map(Vec::len)
        .with_context(|| format!("GET {url} did not answer with an array"))
}
