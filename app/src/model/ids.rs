//! Stripe ids: each kind its own type, parsed once at the edge (prefix, length,
//! characters), so the code past it never handles a raw id string.

use crate::error::AppError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest id Stripe hands out is far below this; anything longer is hostile.
const MAX_ID_LEN: usize = 255;

macro_rules! stripe_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $field:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// Parses an id: the right prefix, then 1 to 255 ASCII letters,
            /// digits or underscores in all.
            pub fn parse(raw: &str) -> Result<Self, AppError> {
                let raw = raw.trim();
                let ok = raw.len() > $prefix.len()
                    && raw.len() <= MAX_ID_LEN
                    && raw.starts_with($prefix)
                    && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                if ok {
                    Ok(Self(raw.to_owned()))
                } else {
                    Err(AppError::invalid($field, concat!("Expected a Stripe id starting with `", $prefix, "`.")))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = AppError;
            fn try_from(raw: String) -> Result<Self, AppError> {
                Self::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

stripe_id!(
    /// A Stripe Customer (`cus_…`).
    CustomerId, "cus_", "customer"
);
stripe_id!(
    /// A Financial Connections Session (`fcsess_…`).
    SessionId, "fcsess_", "session"
);
stripe_id!(
    /// A Financial Connections Account (`fca_…`).
    AccountId, "fca_", "account"
);
stripe_id!(
    /// A PaymentIntent (`pi_…`).
    PaymentIntentId, "pi_", "payment"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_need_their_prefix_and_safe_characters() {
        assert!(AccountId::parse("fca_123abc").is_ok());
        assert!(AccountId::parse("fca_").is_err());
        assert!(AccountId::parse("cus_123").is_err());
        assert!(AccountId::parse("fca_../../v1/customers").is_err());
        assert!(AccountId::parse("fca_1?expand[]=x").is_err());
        assert!(AccountId::parse(&format!("fca_{}", "a".repeat(300))).is_err());
        assert_eq!(SessionId::parse(" fcsess_9 ").unwrap().as_str(), "fcsess_9");
    }

    #[test]
    fn ids_deserialize_through_parse() {
        let ok: Result<CustomerId, _> = serde_json::from_str("\"cus_1\"");
        assert!(ok.is_ok());
        let bad: Result<CustomerId, _> = serde_json::from_str("\"fca_1\"");
        assert!(bad.is_err());
    }
}
