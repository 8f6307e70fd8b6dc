//! The objects a key's space holds, serialised in Stripe's shapes:
//! customers, sessions, accounts with their refreshes, transactions,
//! ownerships, webhook endpoints and their deliveries; and the rough sizes
//! the sandbox's memory accounting uses.

use crate::sandbox::catalog::AccountTemplate;
use crate::sandbox::clock::{new_id, now};
use crate::sandbox::kinds::{AccountCategory, AccountStatus, AccountSubcategory};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::VecDeque;

/// How long a session's client secret can be used.
pub const SESSION_TTL_SECS: i64 = 60 * 60;

#[derive(Clone, Debug, Serialize)]
pub struct Customer {
    pub id: String,
    pub object: &'static str,
    pub created: i64,
    pub email: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub phone: Option<String>,
    pub metadata: Map<String, Value>,
    pub livemode: bool,
}

impl Customer {
    /// Roughly the heap it holds.
    pub fn approx_bytes(&self) -> usize {
        let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        256 + self.id.len()
            + opt(&self.email)
            + opt(&self.name)
            + opt(&self.description)
            + opt(&self.phone)
            + metadata_bytes(&self.metadata)
    }
}

fn metadata_bytes(m: &Map<String, Value>) -> usize {
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

#[derive(Clone, Debug, Serialize)]
pub struct AccountHolder {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionState {
    Open,
    /// The modal finished (with or without accounts); the client secret is spent.
    Used,
}

#[derive(Clone, Debug)]
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
        let data: Vec<Value> = accounts.iter().map(|a| json!(a)).collect();
        let mut filters = json!({ "countries": self.countries });
        if !self.subcategories.is_empty() {
            filters["account_subcategories"] = json!(self.subcategories);
        }
        json!({
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
            "return_url": self.return_url,
        })
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

#[derive(Clone, Debug, Serialize)]
pub struct Account {
    pub id: String,
    pub object: &'static str,
    pub account_holder: AccountHolder,
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
    pub supported_payment_method_types: Vec<&'static str>,
    pub transaction_refresh: Option<Refresh>,
    #[serde(skip)]
    pub session: String,
    /// The catalog template it was linked from (drives its data).
    #[serde(skip)]
    pub template: &'static str,
}

impl Account {
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshStatus {
    Pending,
    Succeeded,
    Failed,
}

/// `balance_refresh`, `ownership_refresh` or `transaction_refresh`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Refresh {
    /// Only on `transaction_refresh` (`fctxnref_…`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub last_attempted_at: i64,
    pub next_refresh_available_at: Option<i64>,
    pub status: RefreshStatus,
}

/// What a refresh fetches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
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

#[derive(Clone, Debug, Serialize)]
pub struct Transaction {
    pub id: String,
    pub object: &'static str,
    pub account: String,
    pub amount: i64,
    pub currency: &'static str,
    pub description: &'static str,
    pub livemode: bool,
    pub status: &'static str,
    pub status_transitions: Value,
    pub transacted_at: i64,
    pub transaction_refresh: String,
    pub updated: i64,
    /// Position of `transaction_refresh` in the account's refresh history.
    #[serde(skip)]
    pub refresh_seq: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct Owner {
    pub id: String,
    pub object: &'static str,
    pub name: &'static str,
    pub email: &'static str,
    pub phone: &'static str,
    pub raw_address: &'static str,
    pub refreshed_at: i64,
    pub ownership: String,
}

#[derive(Clone, Debug)]
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

/// A registered `webhook_endpoint`.
#[derive(Clone, Debug, Serialize)]
pub struct Endpoint {
    pub id: String,
    pub object: &'static str,
    pub url: String,
    pub enabled_events: Vec<String>,
    pub secret: String,
    /// `enabled` or `disabled`.
    pub status: &'static str,
    pub description: Option<String>,
    pub metadata: Map<String, Value>,
    pub created: i64,
    pub livemode: bool,
    pub api_version: &'static str,
}

impl Endpoint {
    pub fn new(url: String, enabled_events: Vec<String>) -> Self {
        Endpoint {
            id: new_id("we_"),
            object: "webhook_endpoint",
            url,
            enabled_events,
            secret: new_id("whsec_"),
            status: "enabled",
            description: None,
            metadata: Map::new(),
            created: now(),
            livemode: false,
            api_version: crate::wire::STRIPE_VERSION,
        }
    }

    /// Whether an event of this type goes to it.
    pub fn wants(&self, event_type: &str) -> bool {
        self.status == "enabled" && self.enabled_events.iter().any(|e| e == "*" || e == event_type)
    }

    /// As listed and retrieved: the secret is shown only when it is created.
    pub fn without_secret(&self) -> Value {
        let mut v = json!(self);
        if let Some(m) = v.as_object_mut() {
            m.remove("secret");
        }
        v
    }

    /// Roughly the heap it holds.
    pub fn approx_bytes(&self) -> usize {
        384 + self.id.len()
            + self.url.len()
            + self.secret.len()
            + self.enabled_events.iter().map(|e| 24 + e.len()).sum::<usize>()
            + self.description.as_ref().map_or(0, String::len)
            + metadata_bytes(&self.metadata)
    }
}

/// An account's transaction refreshes, oldest first. Only the newest are
/// kept; each keeps its sequence number (which transactions refer to), so
/// forgetting old ones changes no answer about the ones kept.
#[derive(Clone, Debug, Default)]
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
        let mut e = Endpoint::new("http://127.0.0.1/".into(), vec!["*".into()]);
        let before = e.approx_bytes();
        e.metadata.insert("k".into(), json!("v".repeat(500)));
        assert!(e.approx_bytes() >= before + 500);
    }
}
