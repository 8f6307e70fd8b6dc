//! Linked accounts: what was shared (permissions), what kind of account it is,
//! its status, balance, owners and refreshes, as the pages show them.

use super::{AccountId, Money, Refreshes};
use crate::error::AppError;
use serde::{Deserialize, Serialize};

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
    /// Stripe can debit it: linked with `payment_method` and listing
    /// `us_bank_account` in `supported_payment_method_types`.
    #[serde(default)]
    pub payable: bool,
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
    /// Each kind of data's last refresh, as last read from Stripe.
    #[serde(default)]
    pub refreshes: Refreshes,
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

#[cfg(test)]
mod tests {
    use super::*;

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
            refreshes: Refreshes::default(),
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
    fn permissions_round_trip_their_wire_names() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
            assert_eq!(serde_json::to_string(&p).unwrap(), format!("\"{}\"", p.as_str()));
        }
        assert_eq!(Permission::parse("everything"), None);
    }
}
