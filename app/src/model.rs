//! Shared domain types: what crosses between the browser, the server functions
//! and the services. Input is parsed into these at the edge; past that point
//! the code never handles a raw id or permission string.

use crate::error::AppError;
use serde::{Deserialize, Serialize};
use std::fmt;

pub mod transactions;
pub use transactions::{DailyFlow, Day, Transaction, TransactionFilter, TransactionStatus, TransactionsView};

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

/// A kind of data the account holder consents to share.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    Balances,
    Ownership,
    PaymentMethod,
    Transactions,
}

impl Permission {
    pub const ALL: [Permission; 4] = [
        Permission::Balances,
        Permission::Ownership,
        Permission::PaymentMethod,
        Permission::Transactions,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Balances => "balances",
            Permission::Ownership => "ownership",
            Permission::PaymentMethod => "payment_method",
            Permission::Transactions => "transactions",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == raw)
    }

    /// Short label for the UI.
    pub fn label(self) -> &'static str {
        match self {
            Permission::Balances => "Balances",
            Permission::Ownership => "Account ownership",
            Permission::PaymentMethod => "Account and routing numbers",
            Permission::Transactions => "Transactions",
        }
    }

    /// Why the app asks for it: the consent copy shown before linking.
    pub fn purpose(self) -> &'static str {
        match self {
            Permission::Balances => "current and available balance, to show what you have",
            Permission::Ownership => "account holder names and addresses, to confirm the account is yours",
            Permission::PaymentMethod => "account and routing numbers, so the account can be used for payments",
            Permission::Transactions => "up to 180 days of transactions, to show where money goes",
        }
    }
}

/// Broad kind of account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountCategory {
    Cash,
    Credit,
    Investment,
    #[serde(other)]
    Other,
}

/// Narrow kind of account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountSubcategory {
    Checking,
    Savings,
    Mortgage,
    LineOfCredit,
    CreditCard,
    #[serde(other)]
    Other,
}

impl AccountCategory {
    pub fn label(self) -> &'static str {
        match self {
            AccountCategory::Cash => "Cash",
            AccountCategory::Credit => "Credit",
            AccountCategory::Investment => "Investment",
            AccountCategory::Other => "Other",
        }
    }
}

impl AccountSubcategory {
    /// The name Stripe uses (`line_of_credit`).
    pub fn wire(self) -> &'static str {
        match self {
            AccountSubcategory::Checking => "checking",
            AccountSubcategory::Savings => "savings",
            AccountSubcategory::Mortgage => "mortgage",
            AccountSubcategory::LineOfCredit => "line_of_credit",
            AccountSubcategory::CreditCard => "credit_card",
            AccountSubcategory::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AccountSubcategory::Checking => "Checking",
            AccountSubcategory::Savings => "Savings",
            AccountSubcategory::Mortgage => "Mortgage",
            AccountSubcategory::LineOfCredit => "Line of credit",
            AccountSubcategory::CreditCard => "Credit card",
            AccountSubcategory::Other => "Other",
        }
    }
}

/// Whether Stripe can still read the account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Active,
    Inactive,
    Disconnected,
    /// A status newer than this app; shown as such rather than failing.
    #[serde(other)]
    Unknown,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Inactive => "inactive",
            AccountStatus::Disconnected => "disconnected",
            AccountStatus::Unknown => "unknown",
        }
    }
}

/// An amount in the currency's minor unit (cents for USD), never a float.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    /// ISO 4217, lowercase as Stripe sends it (`usd`).
    pub currency: String,
}

impl Money {
    /// `$1,234.56`, `-$12.00`, or `1,234.56 EUR` for other currencies.
    pub fn format(&self) -> String {
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        let (units, cents) = (abs / 100, abs % 100);
        let digits = units.to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        match self.currency.as_str() {
            "usd" => format!("{sign}${grouped}.{cents:02}"),
            other => format!("{sign}{grouped}.{cents:02} {}", other.to_uppercase()),
        }
    }
}

/// Where an asynchronous refresh stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshStatus {
    Pending,
    Succeeded,
    Failed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshState {
    pub status: RefreshStatus,
    pub last_attempted_at: i64,
    /// Unix seconds; `None` while pending (no refresh may start).
    pub next_refresh_available_at: Option<i64>,
}

/// A balance as of a moment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    pub as_of: i64,
    pub current: Money,
    /// Cash accounts: what can be spent now.
    pub available: Option<Money>,
    /// Credit accounts: what is owed.
    pub credit_used: Option<Money>,
}

/// Data a refresh can fetch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataFeature {
    Balance,
    Ownership,
    Transactions,
}

impl DataFeature {
    pub fn as_str(self) -> &'static str {
        match self {
            DataFeature::Balance => "balance",
            DataFeature::Ownership => "ownership",
            DataFeature::Transactions => "transactions",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DataFeature::Balance => "Balance",
            DataFeature::Ownership => "Ownership",
            DataFeature::Transactions => "Transactions",
        }
    }

    /// The name in a session's `prefetch[]`, which says `balances` where
    /// `features[]` says `balance`.
    pub fn prefetch_name(self) -> &'static str {
        match self {
            DataFeature::Balance => "balances",
            other => other.as_str(),
        }
    }

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        match raw {
            "balance" => Ok(DataFeature::Balance),
            "ownership" => Ok(DataFeature::Ownership),
            "transactions" => Ok(DataFeature::Transactions),
            _ => Err(AppError::invalid("feature", "Expected balance, ownership or transactions.")),
        }
    }
}

/// An account holder as the bank reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
}

/// Does the bank's owner list include the name the user gave?
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NameMatch {
    Matches,
    DoesNotMatch,
    /// The user gave no name to compare with.
    NoNameGiven,
    /// The bank reported no owner names.
    NoOwnerData,
}

impl NameMatch {
    /// Compares ignoring case, punctuation and extra spaces.
    pub fn of(given: Option<&str>, owners: &[Owner]) -> Self {
        let norm = |s: &str| {
            s.split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(str::to_lowercase)
                .collect::<Vec<_>>()
                .join(" ")
        };
        let Some(given) = given.map(norm).filter(|g| !g.is_empty()) else {
            return NameMatch::NoNameGiven;
        };
        let names: Vec<String> = owners.iter().filter_map(|o| o.name.as_deref()).map(norm).collect();
        if names.is_empty() {
            NameMatch::NoOwnerData
        } else if names.contains(&given) {
            NameMatch::Matches
        } else {
            NameMatch::DoesNotMatch
        }
    }
}

/// One account with the data shown on its page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountDetail {
    pub account: LinkedAccount,
    pub balance: Option<Balance>,
    pub balance_refresh: Option<RefreshState>,
    /// `None` until ownership has been fetched.
    pub owners: Option<Vec<Owner>>,
    pub ownership_refresh: Option<RefreshState>,
    pub name_match: NameMatch,
    pub transaction_refresh: Option<RefreshState>,
    /// Stripe refreshes this account's transactions daily.
    pub subscribed: bool,
    /// When the server read this from Stripe (Unix milliseconds): of two
    /// answers (an action's and a reload's), the page shows the newer.
    pub fetched_at_ms: i64,
    /// `Some(unix seconds)` when Stripe could not be reached and this is the
    /// copy the app stored then; `None` when it is fresh from Stripe.
    #[serde(default)]
    pub stored_at: Option<i64>,
}

impl AccountDetail {
    /// The newer of two answers about the same account (`other` on a tie).
    pub fn newer(self, other: Self) -> Self {
        if other.fetched_at_ms >= self.fetched_at_ms {
            other
        } else {
            self
        }
    }

    /// The newest of the answers there are.
    pub fn newest(a: Option<Self>, b: Option<Self>) -> Option<Self> {
        match (a, b) {
            (Some(a), Some(b)) => Some(a.newer(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether any refresh is still running.
    pub fn refreshing(&self) -> bool {
        [&self.balance_refresh, &self.ownership_refresh, &self.transaction_refresh]
            .iter()
            .any(|r| r.as_ref().is_some_and(|r| r.status == RefreshStatus::Pending))
    }
}

/// A linked account as the app shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinkedAccount {
    pub id: AccountId,
    pub institution_name: String,
    pub display_name: Option<String>,
    pub last4: Option<String>,
    pub category: AccountCategory,
    pub subcategory: AccountSubcategory,
    pub status: AccountStatus,
    pub permissions: Vec<Permission>,
    /// The last current balance Stripe reported, if any.
    #[serde(default)]
    pub balance: Option<Money>,
}

/// Total cash across accounts with a known balance, per currency (the
/// dashboard shows USD, the only currency Financial Connections supports).
pub fn total_cash(accounts: &[LinkedAccount], currency: &str) -> Option<Money> {
    let known: Vec<i64> = accounts
        .iter()
        .filter(|a| a.category == AccountCategory::Cash)
        .filter_map(|a| a.balance.as_ref())
        .filter(|m| m.currency == currency)
        .map(|m| m.minor)
        .collect();
    (!known.is_empty()).then(|| Money {
        minor: known.iter().fold(0i64, |t, m| t.saturating_add(*m)),
        currency: currency.to_owned(),
    })
}

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
    /// Data Stripe starts fetching at link time (each needs its permission).
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
            let needs = match f {
                DataFeature::Balance => Permission::Balances,
                DataFeature::Ownership => Permission::Ownership,
                DataFeature::Transactions => Permission::Transactions,
            };
            if !perms.contains(&needs) {
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
    fn unknown_subcategories_fall_back_to_other() {
        let s: AccountSubcategory = serde_json::from_str("\"brokerage\"").unwrap();
        assert_eq!(s, AccountSubcategory::Other);
    }

    #[test]
    fn total_cash_counts_cash_accounts_with_known_balances() {
        let acct = |category, minor: Option<i64>| LinkedAccount {
            id: AccountId::parse("fca_1").unwrap(),
            institution_name: "I".into(),
            display_name: None,
            last4: None,
            category,
            subcategory: AccountSubcategory::Checking,
            status: AccountStatus::Active,
            permissions: vec![],
            balance: minor.map(|m| Money {
                minor: m,
                currency: "usd".into(),
            }),
        };
        let list = [
            acct(AccountCategory::Cash, Some(1_000)),
            acct(AccountCategory::Cash, Some(250)),
            acct(AccountCategory::Credit, Some(-5_000)),
            acct(AccountCategory::Cash, None),
        ];
        assert_eq!(
            total_cash(&list, "usd"),
            Some(Money {
                minor: 1_250,
                currency: "usd".into()
            })
        );
        assert_eq!(total_cash(&list[3..], "usd"), None);
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

    #[test]
    fn names_match_loosely_but_not_wrongly() {
        let owner = |n: &str| Owner {
            name: Some(n.into()),
            email: None,
            phone: None,
            address: None,
        };
        let owners = [owner("Jenny Rosen"), owner("Jane Smith")];
        assert_eq!(NameMatch::of(Some("jenny  rosen"), &owners), NameMatch::Matches);
        assert_eq!(NameMatch::of(Some("JANE SMITH."), &owners), NameMatch::Matches);
        assert_eq!(NameMatch::of(Some("Jenny"), &owners), NameMatch::DoesNotMatch);
        assert_eq!(NameMatch::of(Some("  "), &owners), NameMatch::NoNameGiven);
        assert_eq!(NameMatch::of(None, &owners), NameMatch::NoNameGiven);
        assert_eq!(NameMatch::of(Some("Jenny Rosen"), &[]), NameMatch::NoOwnerData);
    }

    #[test]
    fn money_formats_in_minor_units() {
        let usd = |minor| Money {
            minor,
            currency: "usd".into(),
        };
        assert_eq!(usd(0).format(), "$0.00");
        assert_eq!(usd(5).format(), "$0.05");
        assert_eq!(usd(123_456_789).format(), "$1,234,567.89");
        assert_eq!(usd(-1_200).format(), "-$12.00");
        assert_eq!(
            Money {
                minor: 100_000,
                currency: "eur".into()
            }
            .format(),
            "1,000.00 EUR"
        );
        assert_eq!(usd(i64::MIN).format(), "-$92,233,720,368,547,758.08");
    }

    #[test]
    fn permissions_round_trip_their_wire_names() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
            assert_eq!(serde_json::to_string(&p).unwrap(), format!("\"{}\"", p.as_str()));
        }
        assert_eq!(Permission::parse("everything"), None);
    }
}
