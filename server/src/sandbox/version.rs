//! API versions, as Stripe runs them: a request names one in `Stripe-Version`
//! (else its key's default, else [`crate::wire::STRIPE_VERSION`]), webhook
//! endpoints may pin one for the events they receive, and where versions
//! differ in shape, objects follow the version asked for.
//!
//! The sandbox keeps every object in one shape and [`render`] turns it into
//! a version's shape on the way out, so a version's differences live here
//! and nowhere else:
//!
//! | since | what changed |
//! |---|---|
//! | `2026-09-30` | `financial_connections.account` has `account_numbers`, and the `.account_numbers_updated` / `.upcoming_account_number_expiry` events exist |
//! | `2026-10-28` | sessions take `filters[country]` (a string) and show `filters.country`; older versions take and show `filters[countries][]` |

use serde_json::Value;
use std::fmt;

/// `YYYY-MM-DD` of the first version where sessions filter by one `country`.
pub const COUNTRY_FILTER_SINCE: (u16, u8, u8) = (2026, 10, 28);
/// `YYYY-MM-DD` of the first version whose accounts have `account_numbers`.
pub const ACCOUNT_NUMBERS_SINCE: (u16, u8, u8) = (2026, 9, 30);

/// A Stripe API version: `YYYY-MM-DD`, optionally `.name` (`2026-07-29.dahlia`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiVersion {
    date: (u16, u8, u8),
    raw: String,
}

impl ApiVersion {
    /// Accepts every version Stripe accepts in format: a date (month 1–12,
    /// day 1–31) and an optional lowercase release name.
    pub fn parse(s: &str) -> Option<Self> {
        let (date, name) = match s.split_once('.') {
            Some((d, n)) => (d, Some(n)),
            None => (s, None),
        };
        if name.is_some_and(|n| n.is_empty() || n.len() > 32 || !n.bytes().all(|b| b.is_ascii_lowercase())) {
            return None;
        }
        let b = date.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u16> {
            let part = &date[r];
            part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok())?
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
            return None;
        }
        Some(ApiVersion {
            date: (y, m as u8, d as u8),
            raw: s.to_owned(),
        })
    }

    /// The version this server speaks: the default of a key that set none.
    pub fn current() -> Self {
        Self::parse(crate::wire::STRIPE_VERSION).expect("wire::STRIPE_VERSION is a valid version")
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Whether this version is `since` or newer.
    pub fn at_least(&self, since: (u16, u8, u8)) -> bool {
        self.date >= since
    }

    /// Sessions take `filters[country]` rather than `filters[countries][]`.
    pub fn country_filter(&self) -> bool {
        self.at_least(COUNTRY_FILTER_SINCE)
    }

    /// Accounts have `account_numbers` (and their events exist).
    pub fn account_numbers(&self) -> bool {
        self.at_least(ACCOUNT_NUMBERS_SINCE)
    }
}

impl Default for ApiVersion {
    fn default() -> Self {
        Self::current()
    }
}

/// Kept as Stripe writes it (`2026-10-28.endive`).
impl serde::Serialize for ApiVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.raw)
    }
}

impl<'de> serde::Deserialize<'de> for ApiVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <String as serde::Deserialize>::deserialize(d)?;
        ApiVersion::parse(&raw).ok_or_else(|| serde::de::Error::custom(format!("not an API version: {raw:?}")))
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// Event types that exist only from [`ACCOUNT_NUMBERS_SINCE`].
pub const ACCOUNT_NUMBER_EVENTS: &[&str] = &[
    "financial_connections.account.account_numbers_updated",
    "financial_connections.account.upcoming_account_number_expiry",
];

/// Whether an event of this type exists in `version`.
pub fn event_exists(event_type: &str, version: &ApiVersion) -> bool {
    version.account_numbers() || !ACCOUNT_NUMBER_EVENTS.contains(&event_type)
}

/// Turns an object in the sandbox's own shape (lists, events, accounts and
/// sessions within, at any depth Stripe nests them) into `version`'s shape.
pub fn render(v: &mut Value, version: &ApiVersion) {
    let Some(obj) = v.as_object_mut() else {
        return;
    };
    match obj.get("object").and_then(Value::as_str).unwrap_or_default() {
        "list" => {
            if let Some(items) = obj.get_mut("data").and_then(Value::as_array_mut) {
                items.retain(|i| i["object"] != "event" || event_exists(i["type"].as_str().unwrap_or_default(), version));
                for item in items {
                    render(item, version);
                }
            }
        }
        "event" => {
            obj.insert("api_version".into(), Value::String(version.raw.clone()));
            if let Some(o) = obj.get_mut("data").and_then(|d| d.get_mut("object")) {
                render(o, version);
            }
        }
        "financial_connections.account" => {
            if !version.account_numbers() {
                obj.remove("account_numbers");
            }
        }
        "financial_connections.session" => {
            if let Some(accounts) = obj.get_mut("accounts") {
                render(accounts, version);
            }
            if let Some(filters) = obj.get_mut("filters").and_then(Value::as_object_mut) {
                if version.country_filter() {
                    let first = filters
                        .remove("countries")
                        .and_then(|c| c.as_array().and_then(|a| a.first().cloned()));
                    filters.insert("country".into(), first.unwrap_or(Value::Null));
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_what_stripe_accepts_in_format() {
        for ok in ["2023-08-16", "2026-07-29.dahlia", "2011-01-01", "2026-10-28.clover"] {
            assert_eq!(ApiVersion::parse(ok).map(|v| v.to_string()).as_deref(), Some(ok));
        }
        for bad in [
            "",
            "latest",
            "2023-8-16",
            "2023-13-01",
            "2023-00-10",
            "2023-01-32",
            "2023-08-16.",
            "2023-08-16.Dahlia",
            "2023-08-16.da hlia",
            "20a3-08-16",
            "2023/08/16",
            "+023-08-16",
        ] {
            assert_eq!(ApiVersion::parse(bad), None, "{bad}");
        }
        assert!(ApiVersion::parse("2026-10-28").unwrap().country_filter());
        assert!(!ApiVersion::parse("2026-10-27.zzz").unwrap().country_filter());
    }

    #[test]
    fn renders_sessions_and_accounts_in_the_version_asked_for() {
        let session = json!({
            "object": "financial_connections.session",
            "filters": { "countries": ["US"] },
            "accounts": { "object": "list", "data": [
                { "object": "financial_connections.account", "account_numbers": [] }
            ] },
        });
        let mut old = session.clone();
        render(&mut old, &ApiVersion::parse("2023-08-16").unwrap());
        assert_eq!(old["filters"], json!({ "countries": ["US"] }));
        assert!(old["accounts"]["data"][0].get("account_numbers").is_none());
        let mut new = session;
        render(&mut new, &ApiVersion::parse("2026-10-28").unwrap());
        assert_eq!(new["filters"], json!({ "country": "US" }));
        assert_eq!(new["accounts"]["data"][0]["account_numbers"], json!([]));
        let mut event = json!({ "object": "event", "api_version": "x", "data": { "object": old } });
        render(&mut event, &ApiVersion::parse("2026-10-28.clover").unwrap());
        assert_eq!(event["api_version"], "2026-10-28.clover");
        assert_eq!(event["data"]["object"]["filters"]["country"], "US");
    }
}
