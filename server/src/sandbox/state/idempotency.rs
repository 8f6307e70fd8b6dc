//! A key's stored idempotent responses, kept 24 hours as Stripe keeps them
//! and at most a fixed number of them. Entries are queued in the order they
//! were stored, which is also the order they expire in, so storing one
//! drops the expired and the oldest from the front of the queue instead of
//! scanning every entry.

use super::objects::approx_json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{HashMap, VecDeque};

/// How long an idempotency key is remembered.
pub const IDEMPOTENCY_TTL_SECS: i64 = 24 * 60 * 60;

/// A first response to an `Idempotency-Key`, replayed to later requests.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredResponse {
    pub fingerprint: String,
    pub status: u16,
    pub body: Value,
    /// When it was stored.
    pub at: i64,
}

#[derive(Default, Serialize, Deserialize)]
pub struct Idempotency {
    /// idempotency key → (sequence number, response, its approximate bytes)
    entries: HashMap<String, (u64, StoredResponse, usize)>,
    /// (stored at, sequence number, idempotency key), oldest first.
    queue: VecDeque<(i64, u64, String)>,
    next: u64,
    bytes: usize,
}

impl Idempotency {
    /// The response stored for `idem`, unless it has expired by `now`.
    pub fn get(&self, idem: &str, now: i64) -> Option<&StoredResponse> {
        self.entries
            .get(idem)
            .map(|(_, r, _)| r)
            .filter(|r| now - r.at < IDEMPOTENCY_TTL_SECS)
    }

    /// Stores a first response, forgetting the expired ones and, beyond
    /// `cap`, the oldest.
    pub fn put(&mut self, idem: &str, resp: StoredResponse, now: i64, cap: usize) {
        while self.queue.front().is_some_and(|(at, _, _)| now - at >= IDEMPOTENCY_TTL_SECS) {
            self.pop_front();
        }
        let size = 128 + idem.len() + resp.fingerprint.len() + approx_json(&resp.body);
        let seq = self.next;
        self.next += 1;
        self.queue.push_back((resp.at, seq, idem.to_owned()));
        if let Some((_, _, old)) = self.entries.insert(idem.to_owned(), (seq, resp, size)) {
            self.bytes -= old;
        }
        self.bytes += size;
        while self.entries.len() > cap {
            self.pop_front();
        }
    }

    /// Forgets the oldest queued entry (a no-op for a queue entry whose key
    /// was stored again since).
    fn pop_front(&mut self) {
        let Some((_, seq, idem)) = self.queue.pop_front() else {
            return;
        };
        if self.entries.get(&idem).is_some_and(|(s, _, _)| *s == seq) {
            if let Some((_, _, size)) = self.entries.remove(&idem) {
                self.bytes -= size;
            }
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Approximate bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes + self.queue.len() * 64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resp(at: i64) -> StoredResponse {
        StoredResponse {
            fingerprint: "f".into(),
            status: 200,
            body: json!({ "id": "cus_1" }),
            at,
        }
    }

    #[test]
    fn replays_until_it_expires() {
        let mut idem = Idempotency::default();
        idem.put("a", resp(1_000), 1_000, 10);
        assert!(idem.get("a", 1_000 + IDEMPOTENCY_TTL_SECS - 1).is_some());
        assert!(idem.get("a", 1_000 + IDEMPOTENCY_TTL_SECS).is_none());
        assert!(idem.get("b", 1_000).is_none());
    }

    #[test]
    fn storing_drops_the_expired_and_keeps_at_most_cap() {
        let mut idem = Idempotency::default();
        for (i, k) in ["a", "b", "c"].iter().enumerate() {
            idem.put(k, resp(i as i64), i as i64, 10);
        }
        // "a" and "b" expire by the time "d" is stored; "c" is one second younger.
        let later = 1 + IDEMPOTENCY_TTL_SECS;
        idem.put("d", resp(later), later, 10);
        assert_eq!(idem.len(), 2);
        assert!(idem.get("c", later).is_some() && idem.get("d", later).is_some());
        for i in 0..5 {
            idem.put(&format!("k{i}"), resp(later), later, 3);
        }
        assert_eq!(idem.len(), 3, "the oldest go first");
        assert!(idem.get("k4", later).is_some() && idem.get("k2", later).is_some());
        assert!(idem.get("k1", later).is_none() && idem.get("d", later).is_none());
        assert!(idem.queue.len() <= 4, "the queue does not keep what the map forgot");
    }

    #[test]
    fn a_key_stored_again_is_kept_by_its_new_entry() {
        let mut idem = Idempotency::default();
        idem.put("a", resp(0), 0, 10);
        let bytes = idem.bytes();
        idem.put("a", resp(10), 10, 10);
        assert_eq!(idem.len(), 1);
        assert!(idem.bytes() < 2 * bytes, "replacing an entry accounts for it once");
        // The first entry's place in the queue expires; the second's has not.
        let later = IDEMPOTENCY_TTL_SECS + 5;
        idem.put("b", resp(later), later, 10);
        assert!(
            idem.get("a", later).is_some(),
            "the stale queue entry did not remove the new one"
        );
        assert_eq!(idem.len(), 2);
    }
}
