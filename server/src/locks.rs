//! One async lock per key (a user, an account), for work that must not run
//! twice at once for the same key: creating a Customer, syncing transactions.
//! Unused entries are dropped as the map grows, so it stays small.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// Past this many entries, locks nobody holds or waits for are dropped.
const PRUNE_ABOVE: usize = 1024;

pub struct KeyedLocks<K> {
    locks: Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>,
}

impl<K> Default for KeyedLocks<K> {
    fn default() -> Self {
        KeyedLocks {
            locks: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Clone + Eq + Hash> KeyedLocks<K> {
    /// The lock for `key`; hold `.lock().await` for the critical section.
    pub fn get(&self, key: &K) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > PRUNE_ABOVE {
            // Only the map holds these: nobody has or awaits them.
            map.retain(|_, lock| Arc::strong_count(lock) > 1);
        }
        map.entry(key.clone()).or_default().clone()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.locks.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_holder_per_key_and_unused_locks_are_dropped() {
        let locks = KeyedLocks::<u32>::default();
        let a = locks.get(&1);
        let held = a.lock().await;
        assert!(locks.get(&1).try_lock().is_err(), "same key, same lock");
        assert!(locks.get(&2).try_lock().is_ok(), "other keys are free");
        for k in 3..(PRUNE_ABOVE as u32 + 10) {
            locks.get(&k);
        }
        assert!(locks.len() < 20, "unused locks were pruned: {}", locks.len());
        assert!(locks.get(&1).try_lock().is_err(), "a held lock survives pruning");
        drop(held);
    }
}
