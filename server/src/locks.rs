//! What must not run twice at once for the same key: creating or changing a
//! user's Customer, syncing an account's transactions. [`LockKey`] names the
//! work and gives it a stable 64-bit id for PostgreSQL's advisory locks;
//! [`KeyedLocks`] is the in-process half (one async lock per key), which
//! `storage::Storage::lock` takes first and, on PostgreSQL, pairs with the
//! database lock that holds across instances. Unused entries are dropped as
//! the map grows, so it stays small.

use app::model::AccountId;
use app::service::UserId;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// Past this many entries, locks nobody holds or waits for are dropped.
const PRUNE_ABOVE: usize = 1024;

/// A piece of work that is serialised per key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LockKey {
    /// Creating the user's Customer, or changing its details.
    Customer(UserId),
    /// From reading an account's transaction cursor to storing the sync.
    TransactionSync(AccountId),
}

impl LockKey {
    /// A stable id for `pg_advisory_xact_lock`: the first 8 bytes of the
    /// SHA-256 of the kind and the key. Every instance computes the same one;
    /// a collision only makes two unrelated pieces of work take turns.
    pub fn id(&self) -> i64 {
        let (kind, key) = match self {
            LockKey::Customer(user) => ("customer", user.as_str()),
            LockKey::TransactionSync(account) => ("transaction-sync", account.as_str()),
        };
        let digest = Sha256::new()
            .chain_update(kind)
            .chain_update([0])
            .chain_update(key)
            .finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        i64::from_be_bytes(first)
    }
}

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

    #[test]
    fn lock_ids_are_stable_and_tell_kinds_and_keys_apart() {
        let user = LockKey::Customer(UserId::new("u1"));
        assert_eq!(user.id(), LockKey::Customer(UserId::new("u1")).id(), "same key, same id");
        // Pinned: instances running different versions must still agree.
        assert_eq!(user.id(), -7_418_442_772_657_202_340);
        assert_ne!(user.id(), LockKey::Customer(UserId::new("u2")).id());
        let account = AccountId::parse("fca_1").unwrap();
        let same_text = LockKey::Customer(UserId::new("fca_1"));
        assert_ne!(LockKey::TransactionSync(account).id(), same_text.id(), "kinds differ");
    }
}
