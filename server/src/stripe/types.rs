//! The parts of Stripe's objects this app reads. Unknown fields are ignored;
//! unknown enum values fall back to `Other` or are dropped, so a newer API
//! version cannot break decoding.

use app::model::{
    AccountCategory, AccountDetail, AccountId, AccountStatus, AccountSubcategory, Balance, CustomerId, LinkedAccount, Money,
    NameMatch, Owner, Permission, RefreshState, RefreshStatus, Refreshes, SessionId, Transaction, TransactionStatus,
};
use serde::{Deserialize, Deserializer};

#[derive(Clone, Debug, Deserialize)]
pub struct List<T> {
    pub data: Vec<T>,
    #[serde(default)]
    pub has_more: bool,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Customer {
    pub id: CustomerId,
    pub name: Option<String>,
    pub email: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct AccountHolder {
    #[serde(rename = "type")]
    pub kind: String,
    pub customer: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct FcSession {
    pub id: SessionId,
    #[serde(default)]
    pub client_secret: Option<String>,
    pub account_holder: Option<AccountHolder>,
    pub accounts: List<FcAccount>,
    /// What the session asked Stripe to fetch at link time (`balances`,
    /// `ownership`, `transactions`).
    #[serde(default)]
    pub prefetch: Option<Vec<String>>,
}

/// Stripe's balance object: `{as_of, type, current: {usd: cents}, cash: {available: {…}}, credit: {used: {…}}}`.
#[derive(Clone, Debug, Deserialize)]
pub struct FcBalance {
    pub as_of: i64,
    pub current: std::collections::BTreeMap<String, i64>,
    #[serde(default)]
    pub cash: Option<CashBalance>,
    #[serde(default)]
    pub credit: Option<CreditBalance>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct CashBalance {
    pub available: Option<std::collections::BTreeMap<String, i64>>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct CreditBalance {
    pub used: Option<std::collections::BTreeMap<String, i64>>,
}

/// The first (usually only) currency of a Stripe amount map.
fn money(map: &std::collections::BTreeMap<String, i64>) -> Option<Money> {
    map.iter().next().map(|(c, v)| Money {
        minor: *v,
        currency: c.to_lowercase(),
    })
}

impl FcBalance {
    pub fn to_model(&self) -> Option<Balance> {
        Some(Balance {
            as_of: self.as_of,
            current: money(&self.current)?,
            available: self.cash.as_ref().and_then(|c| c.available.as_ref()).and_then(money),
            credit_used: self.credit.as_ref().and_then(|c| c.used.as_ref()).and_then(money),
        })
    }
}

#[derive(Clone, Debug, Deserialize)]
pub struct FcRefresh {
    /// Only on `transaction_refresh` (`fctxnref_…`).
    #[serde(default)]
    pub id: Option<String>,
    pub status: RefreshStatus,
    pub last_attempted_at: i64,
    pub next_refresh_available_at: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct FcAccount {
    pub id: AccountId,
    #[serde(default)]
    pub balance: Option<FcBalance>,
    #[serde(default)]
    pub balance_refresh: Option<FcRefresh>,
    /// The ownership id (`fcaowns_…`), or the object when expanded.
    #[serde(default)]
    pub ownership: Option<serde_json::Value>,
    #[serde(default)]
    pub ownership_refresh: Option<FcRefresh>,
    #[serde(default)]
    pub transaction_refresh: Option<FcRefresh>,
    /// `["transactions"]` while subscribed.
    #[serde(default)]
    pub subscriptions: Option<Vec<String>>,
    pub account_holder: Option<AccountHolder>,
    pub institution_name: String,
    pub display_name: Option<String>,
    pub last4: Option<String>,
    pub category: AccountCategory,
    pub subcategory: AccountSubcategory,
    pub status: AccountStatus,
    #[serde(default, deserialize_with = "known_permissions")]
    pub permissions: Vec<Permission>,
    /// `us_bank_account` when Stripe can debit it (`link` for Link).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub supported_payment_method_types: Vec<String>,
}

/// `financial_connections.account_owner`.
#[derive(Clone, Debug, Deserialize)]
pub struct FcOwner {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub raw_address: Option<String>,
}

impl From<FcOwner> for Owner {
    fn from(o: FcOwner) -> Self {
        Owner {
            name: o.name,
            email: o.email,
            phone: o.phone,
            address: o.raw_address,
        }
    }
}

fn refresh_state(r: &FcRefresh) -> RefreshState {
    RefreshState {
        status: r.status,
        last_attempted_at: r.last_attempted_at,
        next_refresh_available_at: r.next_refresh_available_at,
    }
}

impl FcAccount {
    pub fn ownership_id(&self) -> Option<&str> {
        match self.ownership.as_ref()? {
            serde_json::Value::String(id) => Some(id),
            other => other["id"].as_str(),
        }
    }

    /// The page's view of the account; owners are looked up separately.
    pub fn into_detail(self, owners: Option<Vec<Owner>>, given_name: Option<&str>) -> AccountDetail {
        let name_match = NameMatch::of(given_name, owners.as_deref().unwrap_or_default());
        AccountDetail {
            balance: self.balance.as_ref().and_then(FcBalance::to_model),
            balance_refresh: self.balance_refresh.as_ref().map(refresh_state),
            ownership_refresh: self.ownership_refresh.as_ref().map(refresh_state),
            owners,
            name_match,
            transaction_refresh: self.transaction_refresh.as_ref().map(refresh_state),
            subscribed: self.subscribed_to_transactions(),
            fetched_at_ms: crate::clock::unix_now_ms(),
            stored_at: None,
            payable: self.payable(),
            account: LinkedAccount::from(self),
        }
    }

    pub fn subscribed_to_transactions(&self) -> bool {
        self.subscriptions
            .as_ref()
            .is_some_and(|s| s.iter().any(|f| f == "transactions"))
    }

    /// The transaction refresh whose results are ready to be listed, if any.
    pub fn settled_transaction_refresh(&self) -> Option<&FcRefresh> {
        self.transaction_refresh
            .as_ref()
            .filter(|r| r.status == RefreshStatus::Succeeded && r.id.is_some())
    }

    /// Whether a PaymentIntent can debit it: linked with `payment_method`,
    /// active, and Stripe lists `us_bank_account` for it.
    pub fn payable(&self) -> bool {
        self.permissions.contains(&Permission::PaymentMethod)
            && self.status == AccountStatus::Active
            && self.supported_payment_method_types.iter().any(|t| t == "us_bank_account")
    }

    pub fn holder_customer(&self) -> Option<&str> {
        self.account_holder.as_ref().and_then(|h| h.customer.as_deref())
    }
}

impl From<FcAccount> for LinkedAccount {
    fn from(a: FcAccount) -> Self {
        LinkedAccount {
            balance: a.balance.as_ref().and_then(FcBalance::to_model).map(|b| b.current),
            refreshes: Refreshes {
                balance: a.balance_refresh.as_ref().map(refresh_state),
                ownership: a.ownership_refresh.as_ref().map(refresh_state),
                transactions: a.transaction_refresh.as_ref().map(refresh_state),
            },
            id: a.id,
            institution_name: a.institution_name,
            display_name: a.display_name,
            last4: a.last4,
            category: a.category,
            subcategory: a.subcategory,
            status: a.status,
            permissions: a.permissions,
        }
    }
}

/// `financial_connections.transaction`.
#[derive(Clone, Debug, Deserialize)]
pub struct FcTransaction {
    pub id: String,
    pub amount: i64,
    pub currency: String,
    #[serde(default)]
    pub description: Option<String>,
    pub status: String,
    pub transacted_at: i64,
    #[serde(default)]
    pub updated: Option<i64>,
}

impl FcTransaction {
    /// The stored form; `None` for a status this app does not know (skipped
    /// rather than guessed).
    pub fn to_model(&self) -> Option<Transaction> {
        Some(Transaction {
            id: self.id.clone(),
            amount: Money {
                minor: self.amount,
                currency: self.currency.to_lowercase(),
            },
            description: self.description.clone().unwrap_or_default(),
            status: TransactionStatus::parse(&self.status)?,
            transacted_at: self.transacted_at,
            updated: self.updated.unwrap_or(self.transacted_at),
        })
    }
}

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

fn known_permissions<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Permission>, D::Error> {
    let raw: Option<Vec<String>> = Option::deserialize(d)?;
    Ok(raw.unwrap_or_default().iter().filter_map(|s| Permission::parse(s)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = include_str!("../../tests/stripe-data/fixtures-fc.json");

    fn fixture(name: &str) -> serde_json::Value {
        let all: serde_json::Value = serde_json::from_str(FIXTURES).unwrap();
        all["resources"][name].clone()
    }

    #[test]
    fn stripe_fixtures_decode() {
        let a: FcAccount = serde_json::from_value(fixture("financial_connections.account")).unwrap();
        assert_eq!(a.institution_name, "StripeBank");
        assert_eq!(a.holder_customer(), Some("cus_QXg1o8vcGmoR32"));
        let s: FcSession = serde_json::from_value(fixture("financial_connections.session")).unwrap();
        assert!(s.accounts.data.is_empty());
        let c: Customer = serde_json::from_value(fixture("customer")).unwrap();
        let t: FcTransaction = serde_json::from_value(fixture("financial_connections.transaction")).unwrap();
        let t = t.to_model().expect("a known status");
        assert!(t.id.starts_with("fctxn_"));
        assert_eq!(c.id.as_str(), "cus_QXg1o8vcGmoR32");
    }

    #[test]
    fn unknown_permissions_are_dropped() {
        let mut v = fixture("financial_connections.account");
        v["permissions"] = serde_json::json!(["balances", "telepathy"]);
        let a: FcAccount = serde_json::from_value(v).unwrap();
        assert_eq!(a.permissions, vec![Permission::Balances]);
    }
}
