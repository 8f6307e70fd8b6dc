//! Property tests for every parser at the server-function edge: whatever a
//! client sends, parsing returns a value or a clear error, never panics, and
//! what it accepts is well-formed. `PROPTEST_CASES` sets the number of cases
//! (`make fuzz` runs 10⁶).

use app::model::{AccountId, CustomerDetails, DataFeature, Day, LinkOptions, SessionId, TransactionFilter};
use proptest::prelude::*;

/// Any text, including control characters and long runs.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,300}",
        "[a-z_0-9,]{0,80}",
        "(fca_|fcsess_|cus_)[A-Za-z0-9_]{0,300}",
        "[0-9-]{0,12}"
    ]
}

proptest! {
    #[test]
    fn ids_parse_or_refuse(raw in text()) {
        if let Ok(id) = AccountId::parse(&raw) {
            prop_assert!(id.as_str().starts_with("fca_") && id.as_str().len() <= 255);
            prop_assert!(id.as_str().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
            prop_assert_eq!(AccountId::parse(id.as_str()).ok(), Some(id.clone()));
        }
        if let Ok(s) = SessionId::parse(&raw) {
            prop_assert!(s.as_str().starts_with("fcsess_"));
        }
    }

    #[test]
    fn link_options_parse_or_refuse(p in text(), f in text(), t in text()) {
        if let Ok(o) = LinkOptions::parse(&p, &f, &t) {
            prop_assert!(!o.permissions.is_empty(), "at least one permission");
        }
        let _ = DataFeature::parse(&p);
    }

    #[test]
    fn details_parse_or_refuse(name in text(), email in text()) {
        if let Ok(d) = CustomerDetails::parse(&name, &email) {
            prop_assert!(d.name.as_deref().is_none_or(|n| !n.trim().is_empty()));
            prop_assert!(d.email.as_deref().is_none_or(|e| e.contains('@')));
        }
    }

    #[test]
    fn transaction_filters_parse_or_refuse(from in text(), to in text(), status in text(), q in text(), page in text()) {
        if let Ok(f) = TransactionFilter::parse(&from, &to, &status, &q, &page) {
            prop_assert!(f.page >= 1);
            if let Some(s) = &f.search {
                prop_assert!(!s.is_empty() && s.chars().count() <= 100 && !s.chars().any(char::is_control));
                let pattern = f.search_pattern().unwrap_or_default();
                prop_assert!(pattern.starts_with('%') && pattern.ends_with('%'));
            }
            if let (Some(a), Some(b)) = (f.from, f.to) {
                prop_assert!(a <= b, "a range never ends before it starts");
            }
        }
    }

    #[test]
    fn days_round_trip(n in 0i64..2_900_000) {
        let day = Day(n);
        prop_assert_eq!(Day::parse(&day.to_string(), "from").ok(), Some(day));
    }
}
