//! How many uploads are decoded at once.
//!
//! Decoding is CPU-bound and an image at the pixel limit takes about
//! 130 MiB as RGBA (more while it is turned upright or thumbnailed), so
//! uploads wait for one of a few permits instead of all decoding together.
//! A permit moves into the blocking task and is released when the work ends,
//! not when the request does: a client that disconnects mid-decode does not
//! let another decode start beside the one still running.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Semaphore;

/// Permits for image decoding, and how many were ever in use at once.
#[derive(Debug)]
pub struct DecodeLimit {
    permits: Arc<Semaphore>,
    limit: usize,
    counts: Arc<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    running: AtomicUsize,
    peak: AtomicUsize,
}

/// Counted from the start of a decode to its end, wherever it ends.
struct Running(Arc<Counts>);

impl Running {
    fn start(counts: &Arc<Counts>) -> Self {
        let now = counts.running.fetch_add(1, Ordering::SeqCst) + 1;
        counts.peak.fetch_max(now, Ordering::SeqCst);
        metrics::gauge!("perch_image_decodes_running").increment(1.0);
        Self(counts.clone())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::SeqCst);
        metrics::gauge!("perch_image_decodes_running").decrement(1.0);
    }
}

impl DecodeLimit {
    /// At most `limit` decodes at once (at least one).
    pub fn new(limit: usize) -> Self {
        let limit = limit.max(1);
        Self {
            permits: Arc::new(Semaphore::new(limit)),
            limit,
            counts: Arc::default(),
        }
    }

    /// The default: one per core, at most four (memory, not CPU, is then
    /// the bound: four decodes at the pixel limit hold about half a GiB).
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self::new(cores.min(4))
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The most decodes that ran at the same time so far.
    pub fn peak(&self) -> usize {
        self.counts.peak.load(Ordering::SeqCst)
    }

    /// Run `work` on the blocking pool once a permit is free.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, tokio::task::JoinError> {
        // The semaphore is never closed, so acquiring cannot fail; if it
        // ever did, running without a permit is the lesser harm.
        let permit = self.permits.clone().acquire_owned().await.ok();
        let counts = self.counts.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let _running = Running::start(&counts);
            work()
        })
        .await
    }
}

impl Default for DecodeLimit {
    fn default() -> Self {
        Self::for_this_machine()
    }
}
