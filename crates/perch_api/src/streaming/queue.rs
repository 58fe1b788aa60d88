//! A connection's outgoing frames: bounded, and allocated only while frames
//! wait.
//!
//! Most connections are idle most of the time, so an empty queue holds no
//! buffer at all (a channel would allocate its first block of slots up
//! front, about 2 KiB per connection), and a queue that a burst grew gives
//! its buffer back once it is drained. A frame offered to a full queue
//! marks it overflowed instead of growing it; the writer then closes the
//! connection.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

/// Above this many slots, a drained queue frees its buffer.
const KEEP_EMPTY_SLOTS: usize = 8;

pub struct Queue<T> {
    capacity: usize,
    state: Mutex<State<T>>,
    ready: Notify,
}

struct State<T> {
    items: VecDeque<T>,
    overflowed: bool,
}

/// What the writer takes from the queue.
pub enum Next<T> {
    Item(T),
    /// An item was refused because the queue was full.
    Overflowed,
}

impl<T> Queue<T> {
    pub fn new(capacity: usize) -> Queue<T> {
        Queue {
            capacity,
            state: Mutex::new(State {
                items: VecDeque::new(),
                overflowed: false,
            }),
            ready: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds `item` unless the queue is full, in which case it is dropped and
    /// the queue is marked overflowed. Never waits.
    pub fn offer(&self, item: T) {
        {
            let mut state = self.lock();
            if state.items.len() >= self.capacity {
                state.overflowed = true;
            } else {
                state.items.push_back(item);
            }
        }
        self.ready.notify_one();
    }

    /// The next item, waiting for one; [`Next::Overflowed`] once an item
    /// was refused. Cancel-safe: an item is taken only when it is returned.
    pub async fn next(&self) -> Next<T> {
        loop {
            {
                let mut state = self.lock();
                if state.overflowed {
                    return Next::Overflowed;
                }
                if let Some(item) = state.items.pop_front() {
                    if state.items.is_empty() && state.items.capacity() > KEEP_EMPTY_SLOTS {
                        state.items = VecDeque::new();
                    }
                    return Next::Item(item);
                }
            }
            // A notification sent since the check above is kept as a
            // permit, so none is missed.
            self.ready.notified().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(next: Next<u32>) -> Option<u32> {
        match next {
            Next::Item(item) => Some(item),
            Next::Overflowed => None,
        }
    }

    #[tokio::test]
    async fn items_come_out_in_order_and_the_buffer_goes_when_drained() {
        let queue = Queue::new(64);
        assert_eq!(queue.lock().items.capacity(), 0);
        for n in 0..20 {
            queue.offer(n);
        }
        for n in 0..20 {
            assert_eq!(item(queue.next().await), Some(n));
        }
        assert_eq!(queue.lock().items.capacity(), 0);
    }

    #[tokio::test]
    async fn a_full_queue_overflows_instead_of_growing() {
        let queue = Queue::new(2);
        queue.offer(1);
        queue.offer(2);
        queue.offer(3);
        assert_eq!(queue.lock().items.len(), 2);
        assert!(item(queue.next().await).is_none());
    }

    #[tokio::test]
    async fn a_waiting_writer_wakes_for_an_item() {
        let queue = std::sync::Arc::new(Queue::new(4));
        let writer = {
            let queue = queue.clone();
            tokio::spawn(async move { item(queue.next().await) })
        };
        tokio::task::yield_now().await;
        queue.offer(7);
        let got = tokio::time::timeout(std::time::Duration::from_secs(5), writer)
            .await
            .expect("woken")
            .expect("joined");
        assert_eq!(got, Some(7));
    }
}
