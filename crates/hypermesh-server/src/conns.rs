//! The open connections, and which one to shed when a new one would go over the limit.
//!
//! The server never makes a new client wait for a slot: when [`Connections::admit`] finds the
//! limit reached, it evicts the connection that has gone longest without sending a complete
//! request head, preferring one that is not being answered right now. Clients that connect and
//! send nothing, trickle their headers, or stopped reading their replies (their last request
//! head is old) go first; a scraper that just connected goes last. A flood of such clients
//! thus costs at most the limit in sockets, and cannot lock out `/healthz` or `/metrics`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::Notify;

/// The connections being served, at most `max` of them.
#[derive(Debug)]
pub struct Connections {
    max: usize,
    epoch: Instant,
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Conn>>>,
}

/// One open connection.
#[derive(Debug)]
pub struct Conn {
    id: u64,
    /// Microseconds from [`Connections::epoch`] to the accept or the last complete request head.
    since_us: AtomicU64,
    /// Requests being answered (0 or 1 for HTTP/1).
    busy: AtomicUsize,
    evict: Notify,
}

impl Connections {
    /// Room for `max` connections (at least one).
    pub fn new(max: usize) -> Arc<Connections> {
        Arc::new(Connections {
            max: max.max(1),
            epoch: Instant::now(),
            next_id: AtomicU64::new(0),
            open: Mutex::new(HashMap::new()),
        })
    }

    /// Registers a new connection, evicting one first when the limit is reached. The returned
    /// guard unregisters it when dropped.
    pub fn admit(self: &Arc<Self>) -> Admitted {
        let conn = Arc::new(Conn {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            since_us: AtomicU64::new(self.now_us()),
            busy: AtomicUsize::new(0),
            evict: Notify::new(),
        });
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        while open.len() >= self.max {
            let victim = open
                .values()
                .min_by_key(|c| (c.busy.load(Ordering::Relaxed) > 0, c.since_us.load(Ordering::Relaxed)))
                .map(|c| c.id);
            let Some(victim) = victim.and_then(|id| open.remove(&id)) else { break };
            // notify_one keeps the wake-up if the connection is not waiting yet.
            victim.evict.notify_one();
        }
        open.insert(conn.id, Arc::clone(&conn));
        Admitted { connections: Arc::clone(self), conn }
    }

    fn now_us(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

/// A registered connection; unregistered on drop.
#[derive(Debug)]
pub struct Admitted {
    connections: Arc<Connections>,
    conn: Arc<Conn>,
}

impl Admitted {
    /// Completes when this connection was chosen to make room for a newer one.
    pub async fn evicted(&self) {
        self.conn.evict.notified().await
    }

    /// Marks a request whose head is complete as being answered, until the guard is dropped.
    pub fn request(&self) -> Answering {
        self.conn.since_us.store(self.connections.now_us(), Ordering::Relaxed);
        self.conn.busy.fetch_add(1, Ordering::Relaxed);
        Answering(Arc::clone(&self.conn))
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self.connections.open.lock().unwrap_or_else(|e| e.into_inner());
        open.remove(&self.conn.id);
    }
}

/// A request being answered; see [`Admitted::request`].
#[derive(Debug)]
pub struct Answering(Arc<Conn>);

impl Drop for Answering {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Connections {
        fn len(&self) -> usize {
            self.open.lock().unwrap().len()
        }
    }

    #[tokio::test]
    async fn sheds_the_stalest_idle_connection_first() {
        let connections = Connections::new(3);
        let first = connections.admit();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = connections.admit();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let third = connections.admit();
        // The oldest one is answering a request: the next oldest goes.
        let answering = first.request();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let fourth = connections.admit();
        assert_eq!(connections.len(), 3);
        tokio::time::timeout(std::time::Duration::from_secs(1), second.evicted()).await.unwrap();
        drop(second);
        assert_eq!(connections.len(), 3, "dropping an evicted connection frees no second slot");
        // A request head refreshes the connection: `third` is now the stalest idle one.
        drop(answering);
        drop(first.request());
        let _fifth = connections.admit();
        tokio::time::timeout(std::time::Duration::from_secs(1), third.evicted()).await.unwrap();
        assert_eq!(connections.len(), 3);
        // All busy: the stalest busy one goes rather than the newcomer waiting.
        let _a = fourth.request();
        let connections = Connections::new(1);
        let only = connections.admit();
        let _busy = only.request();
        let _new = connections.admit();
        tokio::time::timeout(std::time::Duration::from_secs(1), only.evicted()).await.unwrap();
        assert_eq!(connections.len(), 1);
    }
}
