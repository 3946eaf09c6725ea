//! Last-access times, recorded behind the read path.
//!
//! Presenting a session's token counts as access (it restarts the idle
//! timeout). Writing that on every read would turn every read into a write,
//! and SQLite admits one writer at a time; so accesses collect in memory and
//! go to the store in batches, once a second. Reads on this node overlay
//! the pending times, so its idle checks see an access at once; other nodes
//! see it after the next flush, at most one flush interval late, which is
//! seconds against idle timeouts of minutes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::domain::{Error, Session, Timestamp};
use crate::store::Store;

/// Pending accesses beyond which a flush starts early, so memory stays
/// bounded however fast sessions are read.
const EARLY_FLUSH_AT: usize = 50_000;

#[derive(Default)]
struct Pending {
    /// Accesses not yet handed to the store, latest per session.
    waiting: HashMap<String, Timestamp>,
    /// Accesses the running flush is writing; still overlaid until written.
    writing: HashMap<String, Timestamp>,
}

pub struct AccessRecorder {
    store: Store,
    pending: Mutex<Pending>,
    /// One flush at a time.
    flushing: tokio::sync::Mutex<()>,
    full: tokio::sync::Notify,
}

impl AccessRecorder {
    pub fn new(store: Store) -> AccessRecorder {
        AccessRecorder {
            store,
            pending: Mutex::default(),
            flushing: tokio::sync::Mutex::new(()),
            full: tokio::sync::Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        // The map holds plain values; a panic elsewhere cannot leave it torn.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Notes that session `id` was accessed at `at`.
    pub fn record(&self, id: &str, at: Timestamp) {
        let mut pending = self.lock();
        match pending.waiting.get_mut(id) {
            Some(entry) => *entry = (*entry).max(at),
            None => {
                pending.waiting.insert(id.to_owned(), at);
            }
        }
        if pending.waiting.len() >= EARLY_FLUSH_AT {
            self.full.notify_one();
        }
    }

    /// Brings `session.last_access_at` up to any access still pending here.
    pub fn overlay(&self, session: &mut Session) {
        self.overlay_all(std::slice::from_mut(session));
    }

    pub fn overlay_all(&self, sessions: &mut [Session]) {
        let pending = self.lock();
        if pending.waiting.is_empty() && pending.writing.is_empty() {
            return;
        }
        for session in sessions {
            for map in [&pending.waiting, &pending.writing] {
                if let Some(at) = map.get(&session.id)
                    && *at > session.last_access_at
                {
                    session.last_access_at = *at;
                }
            }
        }
    }

    /// Writes every pending access to the store. On failure the whole batch
    /// stays pending for the next flush (rewriting an access already written
    /// changes nothing); none is lost.
    pub async fn flush(&self) -> Result<u64, Error> {
        let _one = self.flushing.lock().await;
        let batch: Vec<(String, Timestamp)> = {
            let mut pending = self.lock();
            // `writing` is empty unless a flush was cancelled mid-way.
            let waiting = std::mem::take(&mut pending.waiting);
            merge(&mut pending.writing, waiting);
            pending
                .writing
                .iter()
                .map(|(id, at)| (id.clone(), *at))
                .collect()
        };
        let written = self.store.record_accesses(&batch).await;
        let mut pending = self.lock();
        let writing = std::mem::take(&mut pending.writing);
        if written.is_err() {
            merge(&mut pending.waiting, writing);
        }
        written
    }

    /// Flushes every `interval`, or sooner when many accesses wait; runs
    /// until the task is dropped.
    pub async fn flush_periodically(self: Arc<Self>, interval: Duration) {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = self.full.notified() => {}
            }
            if let Err(err) = self.flush().await {
                tracing::warn!(error = ?err, "recording session accesses failed; retrying");
            }
        }
    }
}

/// Adds accesses to `into`, keeping the later time per session.
fn merge(
    into: &mut HashMap<String, Timestamp>,
    from: impl IntoIterator<Item = (String, Timestamp)>,
) {
    for (id, at) in from {
        let entry = into.entry(id).or_insert(at);
        if *entry < at {
            *entry = at;
        }
    }
}
