//! The link flow: the user's details for their Customer, what they chose to
//! share, the Session handed to Stripe.js and what Stripe.js answers.

use super::{AccountSubcategory, DataFeature, Permission, SessionId};
use crate::error::AppError;
use serde::{Deserialize, Serialize};

/// Optional details for the Stripe Customer, parsed from the form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerDetails {
    pub name: Option<String>,
    pub email: Option<String>,
}

impl CustomerDetails {
    pub const MAX_NAME: usize = 100;
    pub const MAX_EMAIL: usize = 254;

    /// Empty fields mean "not given". A name is printable text of at most 100
    /// characters; an email is `local@domain.tld` of at most 254.
    pub fn parse(name: &str, email: &str) -> Result<Self, AppError> {
        let name = name.trim();
        let email = email.trim();
        let name = if name.is_empty() {
            None
        } else if name.chars().count() > Self::MAX_NAME {
            return Err(AppError::invalid("name", "Name is too long (at most 100 characters)."));
        } else if name.chars().any(char::is_control) {
            return Err(AppError::invalid("name", "Name contains characters that are not allowed."));
        } else {
            Some(name.to_owned())
        };
        let email = if email.is_empty() {
            None
        } else if email.len() > Self::MAX_EMAIL || !looks_like_email(email) {
            return Err(AppError::invalid(
                "email",
                "Enter a valid email address, like jenny@example.com.",
            ));
        } else {
            Some(email.to_owned())
        };
        Ok(Self { name, email })
    }
}

fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c);
    !local.is_empty()
        && local.chars().all(allowed)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

/// What the user chose to share before linking, parsed from the form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkOptions {
    /// At least one.
    pub permissions: Vec<Permission>,
    /// Data Stripe starts fetching at link time (each needs its permission);
    /// `Transactions` also turns on daily updates once the link is confirmed.
    pub prefetch: Vec<DataFeature>,
    /// Account types offered; empty means all.
    pub account_types: Vec<AccountSubcategory>,
}

impl Default for LinkOptions {
    fn default() -> Self {
        LinkOptions {
            permissions: Permission::ALL.to_vec(),
            prefetch: vec![],
            account_types: vec![],
        }
    }
}

impl LinkOptions {
    /// Account types a session can filter on.
    pub const ACCOUNT_TYPES: [AccountSubcategory; 5] = [
        AccountSubcategory::Checking,
        AccountSubcategory::Savings,
        AccountSubcategory::CreditCard,
        AccountSubcategory::LineOfCredit,
        AccountSubcategory::Mortgage,
    ];

    /// Parses comma-separated wire names, e.g. `("balances,ownership", "balance", "checking")`.
    pub fn parse(permissions: &str, prefetch: &str, account_types: &str) -> Result<Self, AppError> {
        fn items(raw: &str) -> impl Iterator<Item = &str> {
            raw.split(',').map(str::trim).filter(|s| !s.is_empty())
        }
        let mut perms = Vec::new();
        for p in items(permissions) {
            let p = Permission::parse(p).ok_or_else(|| AppError::invalid("permissions", "Unknown kind of data."))?;
            if !perms.contains(&p) {
                perms.push(p);
            }
        }
        if perms.is_empty() {
            return Err(AppError::invalid("permissions", "Choose at least one kind of data to share."));
        }
        let mut pre = Vec::new();
        for f in items(prefetch) {
            let f = DataFeature::parse(f)?;
            if !perms.contains(&f.needs()) {
                return Err(AppError::invalid(
                    "prefetch",
                    "Only data you share can be fetched at link time.",
                ));
            }
            if !pre.contains(&f) {
                pre.push(f);
            }
        }
        let mut types = Vec::new();
        for t in items(account_types) {
            let t = Self::ACCOUNT_TYPES
                .into_iter()
                .find(|x| x.wire() == t)
                .ok_or_else(|| AppError::invalid("account_types", "Unknown account type."))?;
            if !types.contains(&t) {
                types.push(t);
            }
        }
        Ok(LinkOptions {
            permissions: perms,
            prefetch: pre,
            account_types: types,
        })
    }
}

/// A bank account token made by `collectBankAccountToken`, for payouts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankToken {
    pub id: String,
    pub bank_name: Option<String>,
    pub last4: Option<String>,
    pub routing_number: Option<String>,
}

/// Which Stripe the server talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mode {
    /// The built-in offline sandbox.
    Sandbox,
    /// Real Stripe, test keys.
    Test,
    /// Real Stripe, live keys.
    Live,
}

/// What the browser needs to run Stripe.js. Nothing secret.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClientConfig {
    pub mode: Mode,
    pub publishable_key: String,
    pub stripe_js_url: String,
}

/// A fresh Financial Connections Session for one click of "Link".
/// The client secret travels only in this response body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinkSession {
    pub session_id: SessionId,
    pub client_secret: String,
    pub client: ClientConfig,
}

/// The `error` a Stripe.js promise resolves with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StripeJsError {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_details_validate_each_field() {
        let d = CustomerDetails::parse("  Jenny Rosen ", "jenny@example.com").unwrap();
        assert_eq!(d.name.as_deref(), Some("Jenny Rosen"));
        assert_eq!(d.email.as_deref(), Some("jenny@example.com"));
        assert_eq!(CustomerDetails::parse("", "").unwrap(), CustomerDetails::default());
        for bad in ["jenny", "a@b", "@example.com", "a b@example.com", "a@exa mple.com", "a@.com"] {
            let err = CustomerDetails::parse("", bad).unwrap_err();
            assert!(
                matches!(err, AppError::InvalidInput { ref field, .. } if field == "email"),
                "{bad}"
            );
        }
        assert!(CustomerDetails::parse(&"x".repeat(101), "").is_err());
        assert!(CustomerDetails::parse("a\u{0}b", "").is_err());
        assert!(CustomerDetails::parse("Zoë Ålander-Núñez", "").is_ok());
    }

    #[test]
    fn link_options_parse_and_validate() {
        let o = LinkOptions::parse("balances, ownership,balances", "balance", "checking,savings").unwrap();
        assert_eq!(o.permissions, vec![Permission::Balances, Permission::Ownership]);
        assert_eq!(o.prefetch, vec![DataFeature::Balance]);
        assert_eq!(
            o.account_types,
            vec![AccountSubcategory::Checking, AccountSubcategory::Savings]
        );
        let field = |r: Result<LinkOptions, AppError>| match r {
            Err(AppError::InvalidInput { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(LinkOptions::parse("", "", "")), "permissions");
        assert_eq!(field(LinkOptions::parse("everything", "", "")), "permissions");
        assert_eq!(field(LinkOptions::parse("balances", "transactions", "")), "prefetch");
        assert_eq!(field(LinkOptions::parse("balances", "", "yacht")), "account_types");
    }
}
