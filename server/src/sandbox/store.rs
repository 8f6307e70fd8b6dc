//! The sandbox's state: customers, sessions and accounts, isolated per secret
//! key, plus the client-secret index the modal uses and stored idempotent
//! responses. All in memory; `reset` empties it.

use super::catalog::{self, AccountTemplate, Institution};
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
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// `prefix` + 24 random letters and digits, like Stripe's ids.
pub fn new_id(prefix: &str) -> String {
    let tail: String = rand::thread_rng().sample_iter(&Alphanumeric).take(24).map(char::from).collect();
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
    pub balance_refresh: Option<Value>,
    pub category: AccountCategory,
    pub created: i64,
    pub display_name: String,
    pub institution_name: String,
    pub last4: String,
    pub livemode: bool,
    pub ownership: Option<Value>,
    pub ownership_refresh: Option<Value>,
    pub permissions: Vec<String>,
    pub status: AccountStatus,
    pub status_details: Value,
    pub subcategory: AccountSubcategory,
    pub subscriptions: Vec<String>,
    pub supported_payment_method_types: Vec<&'static str>,
    pub transaction_refresh: Option<Value>,
    #[serde(skip)]
    pub session: String,
}

/// One secret key's world.
#[derive(Default)]
pub struct Space {
    pub customers: HashMap<String, Customer>,
    pub sessions: HashMap<String, Session>,
    /// In creation order (lists are newest first).
    pub accounts: Vec<Account>,
}

#[derive(Clone)]
pub struct StoredResponse {
    pub fingerprint: String,
    pub status: u16,
    pub body: Value,
}

#[derive(Default)]
struct State {
    spaces: HashMap<String, Space>,
    /// client secret → (space key, session id)
    secrets: HashMap<String, (String, String)>,
    /// (space key, idempotency key) → first response
    idempotency: HashMap<(String, String), StoredResponse>,
}

#[derive(Default)]
pub struct Sandbox {
    state: Mutex<State>,
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
            || self.subcategories.iter().any(|s| serde_json::to_value(t.subcategory).ok() == Some(json!(s)))
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

    /// Runs `f` on the space of `key`, creating it on first use.
    pub fn with_space<R>(&self, key: &str, f: impl FnOnce(&mut Space) -> R) -> R {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f(st.spaces.entry(key.to_owned()).or_default())
    }

    /// Customers across all keys (tests use it to count what was created).
    pub fn customer_count(&self) -> usize {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.spaces.values().map(|s| s.customers.len()).sum()
    }

    pub fn reset(&self) {
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = State::default();
    }

    pub fn idempotent_lookup(&self, key: &str, idem: &str) -> Option<StoredResponse> {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.idempotency.get(&(key.to_owned(), idem.to_owned())).cloned()
    }

    pub fn idempotent_store(&self, key: &str, idem: &str, resp: StoredResponse) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.idempotency.entry((key.to_owned(), idem.to_owned())).or_insert(resp);
    }

    pub fn insert_session(&self, key: &str, session: Session) -> Value {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.secrets.insert(session.client_secret.clone(), (key.to_owned(), session.id.clone()));
        let json = session.to_json(&[]);
        st.spaces.entry(key.to_owned()).or_default().sessions.insert(session.id.clone(), session);
        json
    }

    /// Runs `f` on the session a client secret belongs to, if it can still be used.
    pub fn with_open_session<R>(
        &self,
        client_secret: &str,
        f: impl FnOnce(&mut Session, &mut Vec<Account>) -> R,
    ) -> Result<R, ModalError> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (key, sid) = st.secrets.get(client_secret).cloned().ok_or(ModalError::Unknown)?;
        let space = st.spaces.get_mut(&key).ok_or(ModalError::Unknown)?;
        let session = space.sessions.get_mut(&sid).ok_or(ModalError::Unknown)?;
        if session.state == SessionState::Used {
            return Err(ModalError::Used);
        }
        if session.expired() {
            return Err(ModalError::Expired);
        }
        Ok(f(session, &mut space.accounts))
    }
}

/// Links the chosen templates of `institution` into `session`, returning the
/// client-side session object Stripe.js resolves with.
pub fn complete_session(
    session: &mut Session,
    accounts: &mut Vec<Account>,
    institution: &Institution,
    chosen: &[&AccountTemplate],
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
        };
        linked.push(json!(account));
        session.linked.push(account.id.clone());
        accounts.push(account);
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
    let inst = catalog::institution(institution_id)
        .ok_or_else(|| ApiError::invalid("institution", "Unknown institution."))?;
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
