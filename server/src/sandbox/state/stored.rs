//! How a space's contents are written to and read back from the sandbox's
//! state file ([`super::store`]), for the few field types serde cannot
//! round-trip by derive: `&'static str` (the sandbox's own constants, read
//! back as interned strings), `Arc<str>` bodies, and [`Instant`]s (kept as
//! Unix milliseconds, so a job due in five seconds is due five seconds after
//! the restart that passes its time, or at once if it passed while stopped).
//!
//! A new state struct needs only `#[derive(Serialize, Deserialize)]`; its
//! `&'static str` fields are spelt [`Const`] and take
//! `#[serde(deserialize_with = "stored::static_str")]` (a `Vec<&'static str>`
//! takes `static_strs`).

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serializer};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A `&'static str` field of a state struct. Spelt so because serde's derive
/// would otherwise borrow a `&str` field from the input, which cannot live
/// for `'static`.
pub type Const = &'static str;

/// Distinct strings interned at most: the sandbox writes only its own
/// constants (a few hundred), so a file holding more was not written by it.
const MAX_INTERNED: usize = 4096;

fn interned() -> &'static Mutex<BTreeSet<&'static str>> {
    static SET: OnceLock<Mutex<BTreeSet<&'static str>>> = OnceLock::new();
    SET.get_or_init(Mutex::default)
}

/// The one `'static` copy of `s`: made (once per distinct string, for the
/// life of the process) the first time a state file names it.
pub fn intern(s: &str) -> Result<&'static str, String> {
    let mut set = interned().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(found) = set.get(s) {
        return Ok(*found);
    }
    if set.len() >= MAX_INTERNED {
        return Err(format!(
            "more than {MAX_INTERNED} distinct constants in the sandbox's state file"
        ));
    }
    let leaked: &'static str = Box::leak(s.to_owned().into_boxed_str());
    set.insert(leaked);
    Ok(leaked)
}

/// `deserialize_with` for a `&'static str` field.
pub fn static_str<'de, D: Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    let s = String::deserialize(d)?;
    intern(&s).map_err(D::Error::custom)
}

/// `deserialize_with` for a `Vec<&'static str>` field.
pub fn static_strs<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<&'static str>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .map(|s| intern(s).map_err(D::Error::custom))
        .collect()
}

/// `serialize_with` for an `Arc<str>` field.
pub fn arc_str_out<S: Serializer>(v: &Arc<str>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v)
}

/// `deserialize_with` for an `Arc<str>` field.
pub fn arc_str_in<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<str>, D::Error> {
    Ok(Arc::from(String::deserialize(d)?))
}

pub fn unix_ms_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// When `at` is, in Unix milliseconds.
pub fn instant_to_unix_ms(at: Instant) -> i64 {
    let now = Instant::now();
    let ms = unix_ms_now();
    if at >= now {
        ms.saturating_add(at.duration_since(now).as_millis() as i64)
    } else {
        ms.saturating_sub(now.duration_since(at).as_millis() as i64)
    }
}

/// The [`Instant`] of a Unix time in milliseconds; a time already past is now.
pub fn unix_ms_to_instant(ms: i64) -> Instant {
    let ahead = ms.saturating_sub(unix_ms_now()).max(0) as u64;
    Instant::now() + Duration::from_millis(ahead)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_gives_one_copy_per_string() {
        let a = intern("financial_connections.account").unwrap();
        let b = intern(&String::from("financial_connections.account")).unwrap();
        assert!(std::ptr::eq(a, b));
    }

    #[test]
    fn due_times_survive_as_wall_clock_times() {
        let later = Instant::now() + Duration::from_secs(60);
        let back = unix_ms_to_instant(instant_to_unix_ms(later));
        let diff = if back > later { back - later } else { later - back };
        assert!(diff < Duration::from_secs(1), "{diff:?}");
        let past = unix_ms_to_instant(0);
        assert!(past <= Instant::now(), "a time already past is due now");
    }
}
