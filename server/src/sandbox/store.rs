//! The sandbox's state: customers, sessions and accounts, isolated per secret
//! key, plus the client-secret index the modal uses and stored idempotent
//! responses. All in memory; `reset` empties it.

use super::catalog::{self, AccountTemplate, Institution};
use super::data;
use super::error::ApiError;
use app::model::{AccountCategory, AccountStatus, AccountSubcategory};
use rand::distributions::Alphanumeric;
use rand::Rng;
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// How long a session's client secret can be used.
pub const SESSION_TTL_SECS: i64 = 60 * 60;

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `prefix` + 24 random letters and digits, like Stripe's ids.
pub fn new_id(prefix: &str) -> String {
    let tail: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(24)
        .map(char::from)
        .collect();
    format!("{prefix}{tail}")
}

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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

impl Account {
    pub fn refresh_mut(&mut self, f: Feature) -> &mut Option<Refresh> {
        match f {
            Feature::Balance => &mut self.balance_refresh,
            Feature::Ownership => &mut self.ownership_refresh,
            Feature::Transactions => &mut self.transaction_refresh,
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

/// One secret key's world.
#[derive(Default)]
pub struct Space {
    pub customers: HashMap<String, Customer>,
    pub sessions: HashMap<String, Session>,
    /// In creation order (lists are newest first).
    pub accounts: Vec<Account>,
    /// Per account, oldest first.
    pub transactions: HashMap<String, Vec<Transaction>>,
    /// Per account: the ids of its transaction refreshes, oldest first.
    pub transaction_refreshes: HashMap<String, Vec<String>>,
    pub ownerships: HashMap<String, Ownership>,
    /// Newest last.
    pub events: Vec<Value>,
    /// Control surface: this many next refreshes fail.
    pub fail_next_refreshes: u32,
    /// Bank account tokens made by `collectBankAccountToken`.
    pub tokens: HashMap<String, Value>,
    pub webhook_endpoints: Vec<super::webhooks::Endpoint>,
    /// Events emitted but not yet handed to webhook delivery.
    outbox: Vec<Value>,
}

impl Space {
    pub fn account_mut(&mut self, id: &str) -> Option<&mut Account> {
        self.accounts.iter_mut().find(|a| a.id == id)
    }

    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.id == id)
    }

    /// The account, or Stripe's `resource_missing` for it.
    pub fn account_or_404(&mut self, id: &str) -> Result<&mut Account, ApiError> {
        self.account_mut(id)
            .ok_or_else(|| ApiError::not_found("financial_connections.account", id, "account"))
    }

    /// Records an event about an account (its current state is `data.object`).
    pub fn emit(&mut self, kind: &str, account_id: &str) -> Option<Value> {
        let object = json!(self.account(account_id)?);
        let event = json!({
            "id": new_id("evt_"),
            "object": "event",
            "api_version": crate::stripe::STRIPE_VERSION,
            "created": now(),
            "data": { "object": object },
            "livemode": false,
            "pending_webhooks": 0,
            "request": { "id": null, "idempotency_key": null },
            "type": kind,
        });
        self.events.push(event.clone());
        self.outbox.push(event.clone());
        Some(event)
    }
}

#[derive(Clone)]
pub struct StoredResponse {
    pub fingerprint: String,
    pub status: u16,
    pub body: Value,
    /// When it was stored; Stripe keeps idempotent responses for 24 hours.
    pub at: i64,
}

/// How long an idempotency key is remembered.
pub const IDEMPOTENCY_TTL_SECS: i64 = 24 * 60 * 60;

#[derive(Default)]
struct State {
    spaces: HashMap<String, Space>,
    /// client secret → (space key, session id)
    secrets: HashMap<String, (String, String)>,
    /// (space key, idempotency key) → first response
    idempotency: HashMap<(String, String), StoredResponse>,
}

/// How long refreshes take and how soon another may start.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub refresh_delay: std::time::Duration,
    pub refresh_cooldown_secs: i64,
    /// How often a `subscribe`d account refreshes its transactions (Stripe: daily).
    pub subscription_interval: std::time::Duration,
}

impl Timing {
    /// `SANDBOX_REFRESH_DELAY_MS` (default 1000) and
    /// `SANDBOX_REFRESH_COOLDOWN_SECS` (default 10); unparsable values keep the default.
    pub fn from_env() -> Self {
        let d = Self::default();
        let var = |k: &str| std::env::var(k).ok().and_then(|v| v.trim().parse::<u64>().ok());
        Timing {
            refresh_delay: var("SANDBOX_REFRESH_DELAY_MS")
                .map(std::time::Duration::from_millis)
                .unwrap_or(d.refresh_delay),
            refresh_cooldown_secs: var("SANDBOX_REFRESH_COOLDOWN_SECS")
                .map(|s| s as i64)
                .unwrap_or(d.refresh_cooldown_secs),
            subscription_interval: d.subscription_interval,
        }
    }
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            refresh_delay: std::time::Duration::from_secs(1),
            refresh_cooldown_secs: 10,
            subscription_interval: std::time::Duration::from_secs(24 * 60 * 60),
        }
    }
}

#[derive(Default)]
pub struct Sandbox {
    state: Mutex<State>,
    pub timing: Timing,
    pub faults: super::faults::Faults,
    pub webhook_policy: super::webhooks::RetryPolicy,
    pub deliveries: std::sync::Arc<super::webhooks::Deliveries>,
    http: reqwest::Client,
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

    /// What the modal may offer, given the session's filters.
    pub fn offers(&self, t: &AccountTemplate) -> bool {
        self.subcategories.is_empty()
            || self
                .subcategories
                .iter()
                .any(|s| serde_json::to_value(t.subcategory).ok() == Some(json!(s)))
    }
}

/// Why the modal cannot run for a client secret, as Stripe.js reports it.
#[derive(Debug, PartialEq)]
pub enum ModalError {
    Unknown,
    Expired,
    Used,
}

impl Sandbox {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_timing(timing: Timing) -> Self {
        Sandbox {
            timing,
            ..Self::default()
        }
    }

    pub fn with_webhook_policy(mut self, policy: super::webhooks::RetryPolicy) -> Self {
        self.webhook_policy = policy;
        self
    }

    /// Runs `f` on the space of `key`, creating it on first use, then sends
    /// the events it emitted to the space's webhook endpoints.
    pub fn with_space<R>(&self, key: &str, f: impl FnOnce(&mut Space) -> R) -> R {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let space = st.spaces.entry(key.to_owned()).or_default();
        let result = f(space);
        self.flush(key, space);
        result
    }

    fn flush(&self, key: &str, space: &mut Space) {
        for event in std::mem::take(&mut space.outbox) {
            let kind = event["type"].as_str().unwrap_or_default();
            for endpoint in space.webhook_endpoints.iter().filter(|e| e.wants(kind)) {
                super::webhooks::deliver(
                    self.http.clone(),
                    self.deliveries.clone(),
                    self.webhook_policy,
                    key,
                    endpoint,
                    &event,
                );
            }
        }
    }

    /// Customers across all keys (tests use it to count what was created).
    pub fn customer_count(&self) -> usize {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.spaces.values().map(|s| s.customers.len()).sum()
    }

    /// Forgets everything one key made.
    pub fn reset_space(&self, key: &str) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.spaces.remove(key);
        st.secrets.retain(|_, (k, _)| k != key);
        st.idempotency.retain(|(k, _), _| k != key);
        drop(st);
        self.faults.clear(key);
        self.deliveries.clear(key);
    }

    pub fn idempotent_lookup(&self, key: &str, idem: &str) -> Option<StoredResponse> {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.idempotency
            .get(&(key.to_owned(), idem.to_owned()))
            .filter(|r| now() - r.at < IDEMPOTENCY_TTL_SECS)
            .cloned()
    }

    pub fn idempotent_store(&self, key: &str, idem: &str, resp: StoredResponse) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let t = now();
        st.idempotency.retain(|_, r| t - r.at < IDEMPOTENCY_TTL_SECS);
        st.idempotency.insert((key.to_owned(), idem.to_owned()), resp);
    }

    pub fn insert_session(&self, key: &str, session: Session) -> Value {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.secrets
            .insert(session.client_secret.clone(), (key.to_owned(), session.id.clone()));
        let json = session.to_json(&[]);
        st.spaces
            .entry(key.to_owned())
            .or_default()
            .sessions
            .insert(session.id.clone(), session);
        json
    }

    /// Runs `f` on the session a client secret belongs to, if it can still be used.
    /// Runs `f` on the session a client secret belongs to (and its key's
    /// space), if the session can still be used.
    pub fn with_open_session<R>(
        &self,
        client_secret: &str,
        f: impl FnOnce(&str, &mut Session, &mut Space) -> R,
    ) -> Result<R, ModalError> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (key, sid) = st.secrets.get(client_secret).cloned().ok_or(ModalError::Unknown)?;
        let space = st.spaces.get_mut(&key).ok_or(ModalError::Unknown)?;
        let mut session = space.sessions.remove(&sid).ok_or(ModalError::Unknown)?;
        let result = if session.state == SessionState::Used {
            Err(ModalError::Used)
        } else if session.expired() {
            Err(ModalError::Expired)
        } else {
            Ok(f(&key, &mut session, space))
        };
        space.sessions.insert(sid, session);
        self.flush(&key, space);
        result
    }
}

/// Links the chosen templates of `institution` into `session`, returning the
/// client-side session object Stripe.js resolves with.
pub fn complete_session(
    session: &mut Session,
    space: &mut Space,
    institution: &Institution,
    chosen: &[&'static AccountTemplate],
) -> Value {
    let created = now();
    let mut linked = Vec::new();
    for t in chosen {
        let mut methods = vec!["link"];
        if t.ach && session.permissions.iter().any(|p| p == "payment_method") {
            methods.push("us_bank_account");
        }
        let account = Account {
            id: new_id("fca_"),
            object: "financial_connections.account",
            account_holder: session.account_holder.clone(),
            balance: None,
            balance_refresh: None,
            category: t.category,
            created,
            display_name: t.display_name.to_owned(),
            institution_name: institution.name.to_owned(),
            last4: t.last4.to_owned(),
            livemode: false,
            ownership: None,
            ownership_refresh: None,
            permissions: session.permissions.clone(),
            status: t.status,
            status_details: json!({}),
            subcategory: t.subcategory,
            subscriptions: vec![],
            supported_payment_method_types: methods,
            transaction_refresh: None,
            session: session.id.clone(),
            template: t.key,
        };
        linked.push(json!(account));
        session.linked.push(account.id.clone());
        let id = account.id.clone();
        space.accounts.push(account);
        space.emit("financial_connections.account.created", &id);
    }
    session.state = SessionState::Used;
    json!({
        "id": session.id,
        "object": "financial_connections.session",
        "accounts": linked,
        "livemode": false,
        "permissions": session.permissions,
        "filters": { "countries": session.countries },
    })
}

/// The `btok_…` a `collectBankAccountToken` flow makes for its one account.
pub fn bank_token(space: &mut Space, account_id: &str, routing_number: &str) -> Option<Value> {
    let a = space.account(account_id)?;
    let holder = data::owners(a.template).first().map(|o| o.name);
    let token = json!({
        "id": new_id("btok_"),
        "object": "token",
        "client_ip": null,
        "created": now(),
        "livemode": false,
        "type": "bank_account",
        "used": false,
        "bank_account": {
            "id": new_id("ba_"),
            "object": "bank_account",
            "account_holder_name": holder,
            "account_holder_type": "individual",
            "account_type": a.subcategory,
            "bank_name": a.institution_name.to_uppercase(),
            "country": "US",
            "currency": "usd",
            "fingerprint": data::Seeded::new(&a.id).id("")[..16].to_owned(),
            "last4": a.last4,
            "routing_number": routing_number,
            "status": "new",
        },
    });
    space
        .tokens
        .insert(token["id"].as_str().unwrap_or_default().to_owned(), token.clone());
    Some(token)
}

/// Marks the session used with nothing linked: the web's "cancel".
pub fn cancel_session(session: &mut Session) -> Value {
    session.state = SessionState::Used;
    json!({
        "id": session.id,
        "object": "financial_connections.session",
        "accounts": [],
        "livemode": false,
        "permissions": session.permissions,
    })
}

/// Looks up the institution and the ticked templates the modal sent.
pub fn resolve_choice(
    session: &Session,
    institution_id: &str,
    keys: &[String],
) -> Result<(&'static Institution, Vec<&'static AccountTemplate>), ApiError> {
    let inst = catalog::institution(institution_id).ok_or_else(|| ApiError::invalid("institution", "Unknown institution."))?;
    let mut chosen = Vec::new();
    for k in keys {
        let t = inst
            .accounts
            .iter()
            .find(|t| t.key == k && session.offers(t))
            .ok_or_else(|| ApiError::invalid("accounts", format!("Unknown account '{k}'.")))?;
        if !chosen.iter().any(|c: &&AccountTemplate| c.key == t.key) {
            chosen.push(t);
        }
    }
    if chosen.len() > session.limit_accounts as usize {
        return Err(ApiError::invalid(
            "accounts",
            format!("At most {} accounts can be linked in this session.", session.limit_accounts),
        ));
    }
    Ok((inst, chosen))
}
