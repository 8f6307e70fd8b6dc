//! The objects a key's space holds, serialised in Stripe's shapes:
//! sessions, accounts with their refreshes, transactions,
//! ownerships, webhook endpoints and their deliveries; and the rough sizes
//! the sandbox's memory accounting uses. Their serde derives are also how
//! the state file keeps them ([`super::stored`]): fields Stripe does not
//! show are serialised too, and removed by `to_json` on the way out.

use super::stored;
use crate::sandbox::catalog::AccountTemplate;
use crate::sandbox::clock::now;
use crate::sandbox::kinds::{AccountCategory, AccountStatus, AccountSubcategory};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::VecDeque;

/// How long a session's client secret can be used.
pub const SESSION_TTL_SECS: i64 = 60 * 60;

pub(super) fn metadata_bytes(m: &Map<String, Value>) -> usize {
    m.iter().map(|(k, v)| 64 + k.len() + approx_json(v)).sum()
}

/// Roughly the heap a JSON value holds (for memory accounting, not exact).
pub fn approx_json(v: &Value) -> usize {
    match v {
        Value::Null | Value::Bool(_) | Value::Number(_) => 16,
        Value::String(s) => 24 + s.len(),
        Value::Array(a) => 24 + a.iter().map(approx_json).sum::<usize>(),
        Value::Object(m) => 48 + m.iter().map(|(k, v)| 48 + k.len() + approx_json(v)).sum::<usize>(),
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AccountHolder {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionState {
    Open,
    /// The modal finished (with or without accounts); the client secret is spent.
    Used,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    pub client_secret: String,
    pub account_holder: AccountHolder,
    pub permissions: Vec<String>,
    pub prefetch: Vec<String>,
    pub countries: Vec<String>,
    pub subcategories: Vec<String>,
    pub limit_accounts: u32,
    pub manual_entry_mode: String,
    pub return_url: Option<String>,
    pub created: i64,
    pub state: SessionState,
    pub linked: Vec<String>,
}

impl Session {
    pub fn to_json(&self, accounts: &[&Account]) -> Value {
        let data: Vec<Value> = accounts.iter().map(|a| a.to_json()).collect();
        let mut filters = json!({ "countries": self.countries });
        if !self.subcategories.is_empty() {
            filters["account_subcategories"] = json!(self.subcategories);
        }
        let mut v = json!({
            "id": self.id,
            "object": "financial_connections.session",
            "account_holder": self.account_holder,
            "accounts": {
                "object": "list",
                "data": data,
                "has_more": false,
                "url": format!("/v1/financial_connections/accounts?session={}", self.id),
            },
            "client_secret": self.client_secret,
            "filters": filters,
            "limits": { "accounts": self.limit_accounts },
            "livemode": false,
            "manual_entry": { "mode": self.manual_entry_mode },
            "permissions": self.permissions,
            "prefetch": self.prefetch,
        });
        // Absent rather than null when none was given, as the spec has it.
        if let Some(url) = &self.return_url {
            v["return_url"] = json!(url);
        }
        v
    }

    pub fn expired(&self) -> bool {
        now() - self.created > SESSION_TTL_SECS
    }

    /// Finished (used or expired): its client secret can no longer be used.
    pub fn finished(&self) -> bool {
        self.state == SessionState::Used || self.expired()
    }

    /// Roughly the heap it holds.
    pub fn approx_bytes(&self) -> usize {
        let list = |l: &[String]| l.iter().map(|s| 24 + s.len()).sum::<usize>();
        512 + self.id.len()
            + self.client_secret.len()
            + list(&self.permissions)
            + list(&self.prefetch)
            + list(&self.countries)
            + list(&self.subcategories)
            + list(&self.linked)
            + self.return_url.as_ref().map_or(0, String::len)
            + self.account_holder.customer.as_ref().map_or(0, String::len)
            + self.account_holder.account.as_ref().map_or(0, String::len)
    }

    /// What the modal may offer, given the session's filters.
    pub fn offers(&self, t: &AccountTemplate) -> bool {
        self.subcategories.is_empty() || self.subcategories.iter().any(|s| s == t.subcategory.as_str())
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    #[serde(deserialize_with = "stored::static_str")]
    pub object: stored::Const,
    pub account_holder: AccountHolder,
    /// Shown from API version 2026-09-30 (see [`crate::sandbox::version`]).
    pub account_numbers: Vec<AccountNumber>,
    pub balance: Option<Value>,
    pub balance_refresh: Option<Refresh>,
    pub category: AccountCategory,
    pub created: i64,
    pub display_name: String,
    pub institution_name: String,
    pub last4: String,
    pub livemode: bool,
    pub ownership: Option<String>,
    pub ownership_refresh: Option<Refresh>,
    pub permissions: Vec<String>,
    pub status: AccountStatus,
    pub status_details: Value,
    pub subcategory: AccountSubcategory,
    pub subscriptions: Vec<String>,
    #[serde(deserialize_with = "stored::static_strs")]
    pub supported_payment_method_types: Vec<&'static str>,
    pub transaction_refresh: Option<Refresh>,
    /// Not shown (see [`Self::INTERNAL`]).
    pub session: String,
    /// The catalog template it was linked from (drives its data). Not shown.
    #[serde(deserialize_with = "stored::static_str")]
    pub template: stored::Const,
}

impl Account {
    /// Fields the sandbox keeps but Stripe does not show.
    const INTERNAL: [&'static str; 2] = ["session", "template"];

    /// As Stripe shows it (in the sandbox's own shape: see
    /// [`crate::sandbox::version::render`]).
    pub fn to_json(&self) -> Value {
        without(json!(self), &Self::INTERNAL)
    }

    pub fn refresh_mut(&mut self, f: Feature) -> &mut Option<Refresh> {
        match f {
            Feature::Balance => &mut self.balance_refresh,
            Feature::Ownership => &mut self.ownership_refresh,
            Feature::Transactions => &mut self.transaction_refresh,
        }
    }

    pub fn has_permission(&self, permission: &str) -> bool {
        self.permissions.iter().any(|p| p == permission)
    }

    pub fn subscribed(&self) -> bool {
        self.subscriptions.iter().any(|x| x == "transactions")
    }
}

/// One of an account's `account_numbers`: the numbers a payment can use.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountNumber {
    pub expected_expiry_date: Option<i64>,
    /// `account_number` or `tokenized_account_number`.
    #[serde(deserialize_with = "stored::static_str")]
    pub identifier_type: stored::Const,
    /// `transactable` or `deactivated`.
    #[serde(deserialize_with = "stored::static_str")]
    pub status: stored::Const,
    #[serde(deserialize_with = "stored::static_strs")]
    pub supported_networks: Vec<&'static str>,
}

impl AccountNumber {
    /// The real account number of an ACH-capable account.
    pub fn ach() -> Self {
        AccountNumber {
            expected_expiry_date: None,
            identifier_type: "account_number",
            status: "transactable",
            supported_networks: vec!["ach"],
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

/// `balance_refresh`, `ownership_refresh` or `transaction_refresh`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Refresh {
    /// Only on `transaction_refresh` (`fctxnref_…`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub last_attempted_at: i64,
    pub next_refresh_available_at: Option<i64>,
    pub status: RefreshStatus,
}

/// What a refresh fetches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Feature {
    Balance,
    Ownership,
    Transactions,
}

impl Feature {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "balance" => Some(Feature::Balance),
            "ownership" => Some(Feature::Ownership),
            "transactions" => Some(Feature::Transactions),
            _ => None,
        }
    }

    /// From a session's `prefetch[]` value.
    pub fn from_prefetch(s: &str) -> Option<Self> {
        match s {
            "balances" => Some(Feature::Balance),
            other => Self::parse(other),
        }
    }

    /// The permission the account needs for it.
    pub fn permission(self) -> &'static str {
        match self {
            Feature::Balance => "balances",
            Feature::Ownership => "ownership",
            Feature::Transactions => "transactions",
        }
    }

    pub fn event(self) -> &'static str {
        match self {
            Feature::Balance => "financial_connections.account.refreshed_balance",
            Feature::Ownership => "financial_connections.account.refreshed_ownership",
            Feature::Transactions => "financial_connections.account.refreshed_transactions",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Transaction {
    pub id: String,
    #[serde(deserialize_with = "stored::static_str")]
    pub object: stored::Const,
    pub account: String,
    pub amount: i64,
    #[serde(deserialize_with = "stored::static_str")]
    pub currency: stored::Const,
    #[serde(deserialize_with = "stored::static_str")]
    pub description: stored::Const,
    pub livemode: bool,
    #[serde(deserialize_with = "stored::static_str")]
    pub status: stored::Const,
    pub status_transitions: Value,
    pub transacted_at: i64,
    pub transaction_refresh: String,
    pub updated: i64,
    /// Position of `transaction_refresh` in the account's refresh history. Not shown.
    pub refresh_seq: usize,
}

impl Transaction {
    /// As Stripe shows it.
    pub fn to_json(&self) -> Value {
        without(json!(self), &["refresh_seq"])
    }
}

/// `v` without the fields named (those the sandbox keeps but does not show).
pub fn without(mut v: Value, internal: &[&str]) -> Value {
    if let Some(m) = v.as_object_mut() {
        for field in internal {
            m.remove(*field);
        }
    }
    v
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Owner {
    pub id: String,
    #[serde(deserialize_with = "stored::static_str")]
    pub object: stored::Const,
    #[serde(deserialize_with = "stored::static_str")]
    pub name: stored::Const,
    #[serde(deserialize_with = "stored::static_str")]
    pub email: stored::Const,
    #[serde(deserialize_with = "stored::static_str")]
    pub phone: stored::Const,
    #[serde(deserialize_with = "stored::static_str")]
    pub raw_address: stored::Const,
    pub refreshed_at: i64,
    pub ownership: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Ownership {
    pub id: String,
    pub created: i64,
    pub owners: Vec<Owner>,
}

impl Ownership {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "object": "financial_connections.account_ownership",
            "created": self.created,
            "owners": {
                "object": "list",
                "data": self.owners,
                "has_more": false,
                "url": format!("/v1/financial_connections/accounts/owners?ownership={}", self.id),
            },
        })
    }
}

/// An account's transaction refreshes, oldest first. Only the newest are
/// kept; each keeps its sequence number (which transactions refer to), so
/// forgetting old ones changes no answer about the ones kept.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RefreshHistory {
    forgotten: usize,
    ids: VecDeque<String>,
}

impl RefreshHistory {
    /// Records a refresh, keeping at most `cap`; returns its sequence number.
    pub fn push(&mut self, id: String, cap: usize) -> usize {
        self.ids.push_back(id);
        while self.ids.len() > cap.max(1) {
            self.ids.pop_front();
            self.forgotten += 1;
        }
        self.forgotten + self.ids.len() - 1
    }

    /// The sequence number of a refresh still remembered.
    pub fn seq_of(&self, id: &str) -> Option<usize> {
        self.ids.iter().position(|x| x == id).map(|i| self.forgotten + i)
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_history_keeps_sequence_numbers_when_it_forgets() {
        let mut h = RefreshHistory::default();
        assert_eq!(h.push("r0".into(), 2), 0);
        assert_eq!(h.push("r1".into(), 2), 1);
        assert_eq!(h.push("r2".into(), 2), 2);
        assert_eq!((h.seq_of("r0"), h.seq_of("r1"), h.seq_of("r2")), (None, Some(1), Some(2)));
        assert_eq!(h.len(), 2);
    }

    #[test]
    fn sizes_grow_with_what_is_stored() {
        let v = json!({ "a": "x".repeat(1000) });
        assert!(approx_json(&v) > 1000);
    }
}
