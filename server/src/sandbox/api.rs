//! The sandbox's Stripe-compatible REST API under `/v1`: authentication with
//! any well-formed test secret key (data isolated per key), Stripe's bracket
//! form decoding, parameter validation with `param`, idempotent POSTs, list
//! pagination and Stripe-shaped errors.

use super::error::ApiError;
use super::form;
use super::refresh;
use super::store::{
    new_id, now, Account, AccountHolder, Customer, Feature, Sandbox, Session, SessionState, Space, StoredResponse,
};
use app::model::AccountStatus;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};

pub struct Api {
    pub sandbox: Arc<Sandbox>,
    /// Serialises idempotent POSTs so a key's first response is stored once.
    idem_lock: Mutex<()>,
}

type Shared = Arc<Api>;

pub fn router(sandbox: Arc<Sandbox>) -> Router {
    let api = Arc::new(Api {
        sandbox,
        idem_lock: Mutex::new(()),
    });
    Router::new()
        .route("/v1/customers", post(create_customer))
        .route("/v1/customers/{id}", get(retrieve_customer).post(update_customer))
        .route("/v1/financial_connections/sessions", post(create_session))
        .route("/v1/financial_connections/sessions/{id}", get(retrieve_session))
        .route("/v1/financial_connections/accounts", get(list_accounts))
        .route("/v1/financial_connections/accounts/{id}", get(retrieve_account))
        .route(
            "/v1/financial_connections/accounts/{id}/refresh",
            account_action(&["features", "expand"], refresh_account),
        )
        .route(
            "/v1/financial_connections/accounts/{id}/disconnect",
            account_action(&["expand"], disconnect_account),
        )
        .route(
            "/v1/financial_connections/accounts/{id}/subscribe",
            account_action(&["features", "expand"], subscribe),
        )
        .route(
            "/v1/financial_connections/accounts/{id}/unsubscribe",
            account_action(&["features", "expand"], unsubscribe),
        )
        .route("/v1/financial_connections/accounts/{id}/owners", get(list_owners))
        .route("/v1/financial_connections/transactions", get(list_transactions))
        .route("/v1/financial_connections/transactions/{id}", get(retrieve_transaction))
        .route("/v1/tokens/{id}", get(retrieve_token))
        .route(
            "/v1/webhook_endpoints",
            post(create_webhook_endpoint).get(list_webhook_endpoints),
        )
        .route(
            "/v1/webhook_endpoints/{id}",
            get(retrieve_webhook_endpoint).delete(delete_webhook_endpoint),
        )
        .route("/_sandbox/webhook_deliveries", get(control_deliveries))
        .route("/v1/events", get(list_events))
        .route("/v1/events/{id}", get(retrieve_event))
        // Sandbox-only control surface, outside Stripe's /v1 namespace.
        .route("/_sandbox/reset", post(control_reset))
        .route("/_sandbox/accounts/{id}/status", post(control_status))
        .route("/_sandbox/refresh_failures", post(control_refresh_failures))
        .route("/_sandbox/faults", post(control_faults))
        .fallback(unknown_url)
        .method_not_allowed_fallback(unknown_url)
        .with_state(api)
}

/// The secret key a request authenticated with: its data space.
pub struct SecretKey(pub String);

impl<S: Send + Sync> FromRequestParts<S> for SecretKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        if parts.headers.get("authorization").is_none() {
            return Err(ApiError::unauthorized(
                "You did not provide an API key. You need to provide your API key in the Authorization header, \
                 using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
            ));
        }
        match bearer_key(&parts.headers) {
            Ok(key) => Ok(SecretKey(key)),
            Err(given) => Err(ApiError::unauthorized(format!(
                "Invalid API Key provided: {}",
                redact(&given)
            ))),
        }
    }
}

/// The test secret key of a request (Bearer or Basic auth); `Err` carries
/// what was given instead, for the error message.
pub fn bearer_key(headers: &HeaderMap) -> Result<String, String> {
    let raw = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let key = if let Some(k) = raw.strip_prefix("Bearer ") {
        k.trim().to_owned()
    } else if let Some(b64) = raw.strip_prefix("Basic ") {
        basic_user(b64.trim()).unwrap_or_default()
    } else {
        String::new()
    };
    let valid = key.len() > 8
        && key.len() <= 255
        && (key.starts_with("sk_test_") || key.starts_with("rk_test_"))
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if valid {
        Ok(key)
    } else {
        Err(key)
    }
}

/// `sk_test_****wxyz`, as Stripe echoes a bad key.
fn redact(key: &str) -> String {
    let tail: String = key.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    let head: String = key.chars().take(8).collect();
    if key.chars().count() <= 12 {
        "****".to_owned()
    } else {
        format!("{head}****{tail}")
    }
}

/// The user part of `Basic base64(user:)`.
fn basic_user(b64: &str) -> Option<String> {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in b64.bytes().take(1024) {
        if c == b'=' {
            break;
        }
        let v = TABLE.iter().position(|&t| t == c)? as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    let s = String::from_utf8(out).ok()?;
    Some(s.split(':').next().unwrap_or_default().to_owned())
}

/// Decoded parameters with Stripe's checks.
struct Params(Map<String, Value>);

impl Params {
    fn parse(raw: &[u8]) -> Result<Self, ApiError> {
        match form::decode(raw) {
            Ok(Value::Object(m)) => Ok(Params(m)),
            Ok(_) => Err(ApiError::invalid("", "Invalid request body.")),
            Err(e) => Err(ApiError::invalid(&e.param, e.message)),
        }
    }

    fn only(&self, allowed: &[&str]) -> Result<(), ApiError> {
        match self.0.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(ApiError::unknown_param(k)),
            None => Ok(()),
        }
    }

    fn str(&self, name: &str) -> Result<Option<String>, ApiError> {
        str_at(self.0.get(name), name)
    }

    fn obj(&self, name: &str) -> Result<Option<&Map<String, Value>>, ApiError> {
        match self.0.get(name) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(_) => Err(ApiError::invalid(name, format!("Invalid object: {name} must be a hash."))),
        }
    }
}

fn str_at(v: Option<&Value>, name: &str) -> Result<Option<String>, ApiError> {
    match v {
        None => Ok(None),
        Some(Value::String(s)) if s.len() <= 5000 => Ok(Some(s.clone())),
        Some(Value::String(_)) => Err(ApiError::invalid(name, format!("{name} is too long."))),
        Some(_) => Err(ApiError::invalid(name, format!("Invalid string: {name} must be a string."))),
    }
}

fn list_at(v: Option<&Value>, name: &str, allowed: &[&str]) -> Result<Vec<String>, ApiError> {
    let items = match v {
        None => return Ok(vec![]),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(ApiError::invalid(name, format!("Invalid array: {name} must be a list."))),
    };
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let s = item
            .as_str()
            .ok_or_else(|| ApiError::invalid(name, format!("Invalid {name}.")))?;
        if !allowed.is_empty() && !allowed.contains(&s) {
            return Err(ApiError::invalid(
                name,
                format!("Invalid {name}[]: must be one of {}", allowed.join(", ")),
            ));
        }
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    Ok(out)
}

fn expect_keys(m: &Map<String, Value>, parent: &str, allowed: &[&str]) -> Result<(), ApiError> {
    match m.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(ApiError::unknown_param(&format!("{parent}[{k}]"))),
        None => Ok(()),
    }
}

fn ok(v: Value) -> Result<(StatusCode, Value), ApiError> {
    Ok((StatusCode::OK, v))
}

/// Runs a POST once per `Idempotency-Key`: replays the first response for the
/// same parameters, refuses the key with different ones.
fn idempotent(
    api: &Api,
    key: &SecretKey,
    headers: &HeaderMap,
    path: &str,
    body: &[u8],
    run: impl FnOnce() -> Result<(StatusCode, Value), ApiError>,
) -> Response {
    let idem = match headers.get("idempotency-key").map(|v| v.to_str()) {
        None => None,
        Some(Ok(k)) if !k.is_empty() && k.len() <= 255 => Some(k.to_owned()),
        Some(_) => return ApiError::invalid("Idempotency-Key", "Idempotency-Key must be 1 to 255 characters.").into_response(),
    };
    let Some(idem) = idem else {
        return respond(run(), false);
    };
    let fingerprint = hex::encode(
        Sha256::new()
            .chain_update(path)
            .chain_update(b"\n")
            .chain_update(body)
            .finalize(),
    );
    let _guard = api.idem_lock.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(stored) = api.sandbox.idempotent_lookup(&key.0, &idem) {
        if stored.fingerprint != fingerprint {
            return ApiError::idempotency(format!(
                "Keys for idempotent requests can only be used with the same parameters they were first used with. \
                 Try using a key other than '{idem}' if you meant to execute a different request."
            ))
            .into_response();
        }
        let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
        return respond(Ok((status, stored.body)), true);
    }
    let result = run();
    let (status, body_json) = match &result {
        Ok((s, v)) => (*s, v.clone()),
        Err(e) => (e.status, e.body()),
    };
    // Like Stripe: a request refused by validation saves nothing, so the key
    // can be retried with corrected parameters; results and 5xx are replayed.
    if status.is_success() || status.is_server_error() {
        api.sandbox.idempotent_store(
            &key.0,
            &idem,
            StoredResponse {
                fingerprint,
                status: status.as_u16(),
                body: body_json,
                at: now(),
            },
        );
    }
    respond(result, false)
}

fn respond(result: Result<(StatusCode, Value), ApiError>, replayed: bool) -> Response {
    let mut resp = match result {
        Ok((status, body)) => (status, Json(body)).into_response(),
        Err(e) => e.into_response(),
    };
    if replayed {
        resp.headers_mut()
            .insert("Idempotent-Replayed", HeaderValue::from_static("true"));
    }
    resp
}

// --- customers -------------------------------------------------------------

fn customer_fields(p: &Params, c: &mut Customer) -> Result<(), ApiError> {
    if let Some(email) = p.str("email")? {
        if email.len() > 512 || (!email.is_empty() && !email.contains('@')) {
            return Err(ApiError {
                code: Some("email_invalid"),
                ..ApiError::invalid("email", "Invalid email address: {email}".replace("{email}", &email))
            });
        }
        c.email = (!email.is_empty()).then_some(email);
    }
    if let Some(name) = p.str("name")? {
        if name.chars().count() > 256 {
            return Err(ApiError::invalid("name", "name must be at most 256 characters."));
        }
        c.name = (!name.is_empty()).then_some(name);
    }
    if let Some(d) = p.str("description")? {
        c.description = (!d.is_empty()).then_some(d);
    }
    if let Some(ph) = p.str("phone")? {
        c.phone = (!ph.is_empty()).then_some(ph);
    }
    if let Some(meta) = p.obj("metadata")? {
        for (k, v) in meta {
            match v.as_str() {
                Some("") => {
                    c.metadata.remove(k);
                }
                Some(s) if k.len() <= 40 && s.len() <= 500 => {
                    c.metadata.insert(k.clone(), json!(s));
                }
                _ => return Err(ApiError::invalid(&format!("metadata[{k}]"), "Invalid metadata value.")),
            }
        }
        if c.metadata.len() > 50 {
            return Err(ApiError::invalid("metadata", "At most 50 metadata keys."));
        }
    }
    Ok(())
}

const CUSTOMER_PARAMS: &[&str] = &["name", "email", "description", "phone", "metadata", "expand"];

async fn create_customer(State(api): State<Shared>, key: SecretKey, headers: HeaderMap, body: Bytes) -> Response {
    idempotent(&api, &key, &headers, "/v1/customers", &body, || {
        let p = Params::parse(&body)?;
        p.only(CUSTOMER_PARAMS)?;
        let mut c = Customer {
            id: new_id("cus_"),
            object: "customer",
            created: now(),
            email: None,
            name: None,
            description: None,
            phone: None,
            metadata: Map::new(),
            livemode: false,
        };
        customer_fields(&p, &mut c)?;
        api.sandbox
            .with_space(&key.0, |s| s.customers.insert(c.id.clone(), c.clone()));
        ok(json!(c))
    })
}

async fn retrieve_customer(State(api): State<Shared>, key: SecretKey, Path(id): Path<String>) -> Response {
    let found = api.sandbox.with_space(&key.0, |s| s.customers.get(&id).cloned());
    match found {
        Some(c) => Json(json!(c)).into_response(),
        None => ApiError::not_found("customer", &id, "id").into_response(),
    }
}

async fn update_customer(
    State(api): State<Shared>,
    key: SecretKey,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/v1/customers/{id}");
    idempotent(&api, &key, &headers, &path, &body, || {
        let p = Params::parse(&body)?;
        p.only(CUSTOMER_PARAMS)?;
        api.sandbox.with_space(&key.0, |s| {
            let c = s
                .customers
                .get_mut(&id)
                .ok_or_else(|| ApiError::not_found("customer", &id, "id"))?;
            let mut updated = c.clone();
            customer_fields(&p, &mut updated)?;
            *c = updated.clone();
            ok(json!(updated))
        })
    })
}

// --- sessions --------------------------------------------------------------

pub const PERMISSIONS: &[&str] = &["balances", "ownership", "payment_method", "transactions"];
pub const PREFETCH: &[&str] = &["balances", "ownership", "transactions"];
pub const SUBCATEGORIES: &[&str] = &["checking", "savings", "mortgage", "line_of_credit", "credit_card"];

fn parse_account_holder(p: &Params, space: &Space) -> Result<AccountHolder, ApiError> {
    let holder = p.obj("account_holder")?.ok_or_else(|| ApiError::missing("account_holder"))?;
    expect_keys(holder, "account_holder", &["type", "customer", "account"])?;
    let kind = str_at(holder.get("type"), "account_holder[type]")?.ok_or_else(|| ApiError::missing("account_holder[type]"))?;
    match kind.as_str() {
        "customer" => {
            let cus = str_at(holder.get("customer"), "account_holder[customer]")?
                .ok_or_else(|| ApiError::missing("account_holder[customer]"))?;
            if !space.customers.contains_key(&cus) {
                return Err(ApiError::not_found("customer", &cus, "account_holder[customer]"));
            }
            Ok(AccountHolder {
                kind,
                customer: Some(cus),
                account: None,
            })
        }
        "account" => {
            let acct = str_at(holder.get("account"), "account_holder[account]")?
                .ok_or_else(|| ApiError::missing("account_holder[account]"))?;
            if !acct.starts_with("acct_") || acct.len() < 6 {
                return Err(ApiError::invalid("account_holder[account]", "Invalid account id."));
            }
            Ok(AccountHolder {
                kind,
                customer: None,
                account: Some(acct),
            })
        }
        _ => Err(ApiError::invalid(
            "account_holder[type]",
            "Invalid account_holder[type]: must be one of customer, account",
        )),
    }
}

fn parse_session(p: &Params, space: &Space) -> Result<Session, ApiError> {
    p.only(&[
        "account_holder",
        "permissions",
        "prefetch",
        "filters",
        "limits",
        "manual_entry",
        "return_url",
        "expand",
    ])?;
    let account_holder = parse_account_holder(p, space)?;
    let permissions = list_at(p.0.get("permissions"), "permissions", PERMISSIONS)?;
    if permissions.is_empty() {
        return Err(ApiError::missing("permissions"));
    }
    let prefetch = list_at(p.0.get("prefetch"), "prefetch", PREFETCH)?;
    let (mut countries, mut subcategories) = (vec!["US".to_owned()], vec![]);
    if let Some(f) = p.obj("filters")? {
        expect_keys(f, "filters", &["countries", "account_subcategories"])?;
        let c = list_at(f.get("countries"), "filters[countries]", &[])?;
        if !c.is_empty() {
            countries = c;
        }
        subcategories = list_at(
            f.get("account_subcategories"),
            "filters[account_subcategories]",
            SUBCATEGORIES,
        )?;
    }
    let mut limit_accounts = 100;
    if let Some(l) = p.obj("limits")? {
        expect_keys(l, "limits", &["accounts"])?;
        if let Some(n) = str_at(l.get("accounts"), "limits[accounts]")? {
            limit_accounts = n
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=100).contains(n))
                .ok_or_else(|| ApiError::invalid("limits[accounts]", "limits[accounts] must be an integer from 1 to 100."))?;
        }
    }
    let mut manual_entry_mode = "automatic".to_owned();
    if let Some(m) = p.obj("manual_entry")? {
        expect_keys(m, "manual_entry", &["mode"])?;
        if let Some(mode) = str_at(m.get("mode"), "manual_entry[mode]")? {
            if mode != "automatic" && mode != "disabled" {
                return Err(ApiError::invalid(
                    "manual_entry[mode]",
                    "manual_entry[mode] must be one of automatic, disabled",
                ));
            }
            manual_entry_mode = mode;
        }
    }
    let return_url = p.str("return_url")?;
    if let Some(u) = &return_url {
        if !(u.starts_with("https://") || u.starts_with("http://")) {
            return Err(ApiError::invalid("return_url", "return_url must be an http(s) URL."));
        }
    }
    let id = new_id("fcsess_");
    let client_secret = format!("{id}_secret_{}", new_id(""));
    Ok(Session {
        id,
        client_secret,
        account_holder,
        permissions,
        prefetch,
        countries,
        subcategories,
        limit_accounts,
        manual_entry_mode,
        return_url,
        created: now(),
        state: SessionState::Open,
        linked: vec![],
    })
}

async fn create_session(State(api): State<Shared>, key: SecretKey, headers: HeaderMap, body: Bytes) -> Response {
    idempotent(&api, &key, &headers, "/v1/financial_connections/sessions", &body, || {
        let p = Params::parse(&body)?;
        let session = api.sandbox.with_space(&key.0, |s| parse_session(&p, s))?;
        ok(api.sandbox.insert_session(&key.0, session))
    })
}

async fn retrieve_session(State(api): State<Shared>, key: SecretKey, Path(id): Path<String>) -> Response {
    api.sandbox
        .with_space(&key.0, |s| {
            let session = s
                .sessions
                .get(&id)
                .ok_or_else(|| ApiError::not_found("financial_connections.session", &id, "session"))?;
            let linked: Vec<&Account> = s.accounts.iter().filter(|a| a.session == session.id).collect();
            Ok::<_, ApiError>(Json(session.to_json(&linked)))
        })
        .into_response()
}

// --- accounts --------------------------------------------------------------

/// Stripe list pagination over `items` (already newest first).
fn paginate<T: serde::Serialize>(items: Vec<&T>, id_of: impl Fn(&T) -> &str, q: &Params, url: &str) -> Result<Value, ApiError> {
    let limit = match q.str("limit")? {
        None => 10,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| ApiError::invalid("limit", "limit must be an integer from 1 to 100."))?,
    };
    let after = q.str("starting_after")?;
    let before = q.str("ending_before")?;
    if after.is_some() && before.is_some() {
        return Err(ApiError::invalid(
            "starting_after",
            "You may only specify one of starting_after and ending_before.",
        ));
    }
    let position = |cursor: &str, param: &str| {
        items
            .iter()
            .position(|i| id_of(i) == cursor)
            .ok_or_else(|| ApiError::not_found("object", cursor, param))
    };
    let (page, has_more): (Vec<&T>, bool) = if let Some(a) = after {
        let start = position(&a, "starting_after")? + 1;
        let rest = &items[start..];
        (rest.iter().take(limit).copied().collect(), rest.len() > limit)
    } else if let Some(b) = before {
        let end = position(&b, "ending_before")?;
        let from = end.saturating_sub(limit);
        (items[from..end].to_vec(), from > 0)
    } else {
        (items.iter().take(limit).copied().collect(), items.len() > limit)
    };
    Ok(json!({ "object": "list", "data": page, "has_more": has_more, "url": url }))
}

async fn list_accounts(State(api): State<Shared>, key: SecretKey, RawQuery(query): RawQuery) -> Response {
    let run = || -> Result<Value, ApiError> {
        let q = Params::parse(query.unwrap_or_default().as_bytes())?;
        q.only(&[
            "account_holder",
            "session",
            "limit",
            "starting_after",
            "ending_before",
            "expand",
        ])?;
        let (mut customer, mut account) = (None, None);
        if let Some(h) = q.obj("account_holder")? {
            expect_keys(h, "account_holder", &["customer", "account"])?;
            customer = str_at(h.get("customer"), "account_holder[customer]")?;
            account = str_at(h.get("account"), "account_holder[account]")?;
            if customer.is_some() && account.is_some() {
                return Err(ApiError::invalid(
                    "account_holder",
                    "You may only specify one of account_holder[customer] and account_holder[account].",
                ));
            }
        }
        let session = q.str("session")?;
        api.sandbox.with_space(&key.0, |s| {
            let items: Vec<&Account> = s
                .accounts
                .iter()
                .rev()
                .filter(|a| {
                    customer
                        .as_ref()
                        .is_none_or(|c| a.account_holder.customer.as_ref() == Some(c))
                })
                .filter(|a| account.as_ref().is_none_or(|c| a.account_holder.account.as_ref() == Some(c)))
                .filter(|a| session.as_ref().is_none_or(|sid| &a.session == sid))
                .collect();
            paginate(items, |a| &a.id, &q, "/v1/financial_connections/accounts")
        })
    };
    match run() {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn retrieve_account(
    State(api): State<Shared>,
    key: SecretKey,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let run = || -> Result<Value, ApiError> {
        let q = Params::parse(query.unwrap_or_default().as_bytes())?;
        q.only(&["expand"])?;
        let expand = list_at(q.0.get("expand"), "expand", &["ownership"])?;
        api.sandbox.with_space(&key.0, |s| {
            let mut v = account_json(s, &id)?;
            if expand.iter().any(|e| e == "ownership") {
                if let Some(o) = v["ownership"].as_str().and_then(|o| s.ownerships.get(o)) {
                    v["ownership"] = ownership_json(o);
                }
            }
            Ok(v)
        })
    };
    match run() {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

fn account_json(space: &Space, id: &str) -> Result<Value, ApiError> {
    space
        .account(id)
        .map(|a| json!(a))
        .ok_or_else(|| ApiError::not_found("financial_connections.account", id, "account"))
}

fn ownership_json(o: &super::store::Ownership) -> Value {
    json!({
        "id": o.id,
        "object": "financial_connections.account_ownership",
        "created": o.created,
        "owners": {
            "object": "list",
            "data": o.owners,
            "has_more": false,
            "url": format!("/v1/financial_connections/accounts/owners?ownership={}", o.id),
        },
    })
}

/// `features[]` of a refresh, subscribe or unsubscribe call.
fn features(p: &Params, allowed: &[&str]) -> Result<Vec<Feature>, ApiError> {
    let raw = list_at(p.0.get("features"), "features", allowed)?;
    if raw.is_empty() {
        return Err(ApiError::missing("features"));
    }
    Ok(raw.iter().filter_map(|f| Feature::parse(f)).collect())
}

/// The body of an account action, run once its parameters are checked.
type AccountAction = fn(&Api, &SecretKey, &str, &Params) -> Result<(StatusCode, Value), ApiError>;

/// What the account actions (refresh, disconnect, subscribe, unsubscribe)
/// have in common: `POST /v1/financial_connections/accounts/{id}/{action}`,
/// idempotent, a form body limited to `allowed` parameters, then `run`.
fn account_action(allowed: &'static [&'static str], run: AccountAction) -> MethodRouter<Shared> {
    post(
        move |State(api): State<Shared>, key: SecretKey, Path(id): Path<String>, uri: Uri, headers: HeaderMap, body: Bytes| async move {
            idempotent(&api, &key, &headers, uri.path(), &body, || {
                let p = Params::parse(&body)?;
                p.only(allowed)?;
                run(&api, &key, &id, &p)
            })
        },
    )
}

fn refresh_account(api: &Api, key: &SecretKey, id: &str, p: &Params) -> Result<(StatusCode, Value), ApiError> {
    let wanted = features(p, &["balance", "ownership", "transactions"])?;
    let (started, account) = api.sandbox.with_space(&key.0, |s| {
        // All or nothing: one feature the account cannot refresh refuses the call.
        for f in &wanted {
            refresh::check(s, id, *f)?;
        }
        let mut started = Vec::new();
        for f in wanted {
            if refresh::start(s, id, f)? {
                started.push(f);
            }
        }
        Ok::<_, ApiError>((started, account_json(s, id)?))
    })?;
    for f in started {
        refresh::schedule(&api.sandbox, &key.0, id, f);
    }
    ok(account)
}

fn disconnect_account(api: &Api, key: &SecretKey, id: &str, _: &Params) -> Result<(StatusCode, Value), ApiError> {
    api.sandbox.with_space(&key.0, |s| {
        let a = s.account_or_404(id)?;
        if a.status != AccountStatus::Disconnected {
            a.status = AccountStatus::Disconnected;
            a.subscriptions.clear();
            s.emit("financial_connections.account.disconnected", id);
        }
        ok(account_json(s, id)?)
    })
}

fn subscribe(api: &Api, key: &SecretKey, id: &str, p: &Params) -> Result<(StatusCode, Value), ApiError> {
    features(p, &["transactions"])?;
    let (started, newly) = api.sandbox.with_space(&key.0, |s| {
        // Subscribing starts a transactions refresh now (and, at Stripe, daily).
        let started = refresh::start(s, id, Feature::Transactions)?;
        let a = s.account_or_404(id)?;
        let newly = !a.subscriptions.iter().any(|x| x == "transactions");
        if newly {
            a.subscriptions.push("transactions".to_owned());
        }
        Ok::<_, ApiError>((started, newly))
    })?;
    if started {
        refresh::schedule(&api.sandbox, &key.0, id, Feature::Transactions);
    }
    if newly {
        refresh::schedule_subscription(&api.sandbox, &key.0, id);
    }
    ok(api.sandbox.with_space(&key.0, |s| account_json(s, id))?)
}

fn unsubscribe(api: &Api, key: &SecretKey, id: &str, p: &Params) -> Result<(StatusCode, Value), ApiError> {
    features(p, &["transactions"])?;
    api.sandbox.with_space(&key.0, |s| {
        s.account_or_404(id)?.subscriptions.retain(|x| x != "transactions");
        ok(account_json(s, id)?)
    })
}

async fn list_owners(State(api): State<Shared>, key: SecretKey, Path(id): Path<String>, RawQuery(query): RawQuery) -> Response {
    reply(|| {
        let q = Params::parse(query.unwrap_or_default().as_bytes())?;
        q.only(&["ownership", "limit", "starting_after", "ending_before", "expand"])?;
        let ownership = q.str("ownership")?.ok_or_else(|| ApiError::missing("ownership"))?;
        api.sandbox.with_space(&key.0, |s| {
            let a = s
                .account(&id)
                .ok_or_else(|| ApiError::not_found("financial_connections.account", &id, "account"))?;
            if a.ownership.as_deref() != Some(ownership.as_str()) {
                return Err(ApiError::not_found(
                    "financial_connections.account_ownership",
                    &ownership,
                    "ownership",
                ));
            }
            let o = s
                .ownerships
                .get(&ownership)
                .ok_or_else(|| ApiError::not_found("ownership", &ownership, "ownership"))?;
            let url = format!("/v1/financial_connections/accounts/{id}/owners");
            paginate(o.owners.iter().collect(), |x| &x.id, &q, &url)
        })
    })
}

/// `transacted_at=123` or `transacted_at[gte]=…&transacted_at[lt]=…`.
fn time_filter(v: Option<&Value>) -> Result<Box<dyn Fn(i64) -> bool>, ApiError> {
    let int = |v: &Value, name: &str| -> Result<i64, ApiError> {
        v.as_str()
            .and_then(|s| s.parse::<i64>().ok())
            .ok_or_else(|| ApiError::invalid(name, format!("Invalid integer: {name}")))
    };
    match v {
        None => Ok(Box::new(|_| true)),
        Some(Value::Object(m)) => {
            expect_keys(m, "transacted_at", &["gt", "gte", "lt", "lte"])?;
            let b = |k: &str| m.get(k).map(|v| int(v, &format!("transacted_at[{k}]"))).transpose();
            let (gt, gte, lt, lte) = (b("gt")?, b("gte")?, b("lt")?, b("lte")?);
            Ok(Box::new(move |t| {
                gt.is_none_or(|x| t > x) && gte.is_none_or(|x| t >= x) && lt.is_none_or(|x| t < x) && lte.is_none_or(|x| t <= x)
            }))
        }
        Some(v) => {
            let exact = int(v, "transacted_at")?;
            Ok(Box::new(move |t| t == exact))
        }
    }
}

async fn list_transactions(State(api): State<Shared>, key: SecretKey, RawQuery(query): RawQuery) -> Response {
    reply(|| {
        let q = Params::parse(query.unwrap_or_default().as_bytes())?;
        q.only(&[
            "account",
            "transacted_at",
            "transaction_refresh",
            "limit",
            "starting_after",
            "ending_before",
            "expand",
        ])?;
        let account = q.str("account")?.ok_or_else(|| ApiError::missing("account"))?;
        let in_range = time_filter(q.0.get("transacted_at"))?;
        let after = match q.obj("transaction_refresh")? {
            None => None,
            Some(m) => {
                expect_keys(m, "transaction_refresh", &["after"])?;
                str_at(m.get("after"), "transaction_refresh[after]")?
            }
        };
        api.sandbox.with_space(&key.0, |s| {
            let a = s
                .account(&account)
                .ok_or_else(|| ApiError::not_found("financial_connections.account", &account, "account"))?;
            if !a.permissions.iter().any(|p| p == "transactions") {
                return Err(ApiError::invalid(
                    "account",
                    "The account was not linked with the `transactions` permission.",
                ));
            }
            let min_seq = match &after {
                None => 0,
                Some(r) => {
                    let refreshes = s.transaction_refreshes.get(&account).map(Vec::as_slice).unwrap_or_default();
                    refreshes
                        .iter()
                        .position(|x| x == r)
                        .map(|i| i + 1)
                        .ok_or_else(|| ApiError::not_found("transaction_refresh", r, "transaction_refresh[after]"))?
                }
            };
            let items: Vec<&super::store::Transaction> = s
                .transactions
                .get(&account)
                .map(|v| {
                    v.iter()
                        .rev()
                        .filter(|t| t.refresh_seq >= min_seq && in_range(t.transacted_at))
                        .collect()
                })
                .unwrap_or_default();
            paginate(items, |t| &t.id, &q, "/v1/financial_connections/transactions")
        })
    })
}

async fn retrieve_transaction(State(api): State<Shared>, key: SecretKey, Path(id): Path<String>) -> Response {
    reply(|| {
        api.sandbox.with_space(&key.0, |s| {
            s.transactions
                .values()
                .flat_map(|v| v.iter())
                .find(|t| t.id == id)
                .map(|t| json!(t))
                .ok_or_else(|| ApiError::not_found("financial_connections.transaction", &id, "id"))
        })
    })
}

async fn retrieve_token(State(api): State<Shared>, key: SecretKey, Path(id): Path<String>) -> Response {
    reply(|| {
        api.sandbox.with_space(&key.0, |s| {
            s.tokens
                .get(&id)
                .cloned()
                .ok_or_else(|| ApiError::not_found("token", &id, "token"))
        })
    })
}

async fn create_webhook_endpoint(State(api): State<Shared>, key: SecretKey, headers: HeaderMap, body: Bytes) -> Response {
    idempotent(&api, &key, &headers, "/v1/webhook_endpoints", &body, || {
        let p = Params::parse(&body)?;
        p.only(&["url", "enabled_events", "description", "api_version", "metadata", "expand"])?;
        let url = p.str("url")?.ok_or_else(|| ApiError::missing("url"))?;
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() > 2048 {
            return Err(ApiError::invalid("url", "url must be an http(s) URL."));
        }
        let events = list_at(p.0.get("enabled_events"), "enabled_events", &[])?;
        if events.is_empty() {
            return Err(ApiError::missing("enabled_events"));
        }
        let endpoint = super::webhooks::Endpoint::new(url, events);
        api.sandbox.with_space(&key.0, |s| {
            if s.webhook_endpoints.len() >= super::webhooks::MAX_ENDPOINTS {
                return Err(ApiError::invalid(
                    "url",
                    format!("At most {} webhook endpoints per key.", super::webhooks::MAX_ENDPOINTS),
                ));
            }
            s.webhook_endpoints.push(endpoint.clone());
            Ok(())
        })?;
        ok(json!(endpoint))
    })
}

async fn list_webhook_endpoints(State(api): State<Shared>, key: SecretKey, RawQuery(query): RawQuery) -> Response {
    reply(|| {
        let q = Params::parse(query.unwrap_or_default().as_bytes())?;
        q.only(&["limit", "starting_after", "ending_before"])?;
        api.sandbox.with_space(&key.0, |s| {
            // The secret is shown only when an endpoint is created.
            let items: Vec<Value> = s.webhook_endpoints.iter().rev().map(|e| without_secret(json!(e))).collect();
            paginate(
                items.iter().collect(),
                |e| e["id"].as_str().unwrap_or_default(),
                &q,
                "/v1/webhook_endpoints",
            )
        })
    })
}

fn without_secret(mut v: Value) -> Value {
    if let Some(m) = v.as_object_mut() {
        m.remove("secret");
    }
    v
}

async fn retrieve_webhook_endpoint(State(api): State<Shared>, key: SecretKey, Path(id): Path<String>) -> Response {
    reply(|| {
        api.sandbox.with_space(&key.0, |s| {
            s.webhook_endpoints
                .iter()
                .find(|e| e.id == id)
                .map(|e| without_secret(json!(e)))
                .ok_or_else(|| ApiError::not_found("webhook_endpoint", &id, "id"))
        })
    })
}

async fn delete_webhook_endpoint(State(api): State<Shared>, key: SecretKey, Path(id): Path<String>) -> Response {
    reply(|| {
        api.sandbox.with_space(&key.0, |s| {
            let before = s.webhook_endpoints.len();
            s.webhook_endpoints.retain(|e| e.id != id);
            if s.webhook_endpoints.len() == before {
                return Err(ApiError::not_found("webhook_endpoint", &id, "id"));
            }
            Ok(json!({ "id": id, "object": "webhook_endpoint", "deleted": true }))
        })
    })
}

/// The calling key's webhook deliveries and their outcomes.
async fn control_deliveries(State(api): State<Shared>, key: SecretKey) -> Response {
    Json(json!({ "object": "list", "data": api.sandbox.deliveries.for_key(&key.0) })).into_response()
}

async fn list_events(State(api): State<Shared>, key: SecretKey, RawQuery(query): RawQuery) -> Response {
    reply(|| {
        let q = Params::parse(query.unwrap_or_default().as_bytes())?;
        q.only(&["type", "limit", "starting_after", "ending_before", "created"])?;
        let kind = q.str("type")?;
        api.sandbox.with_space(&key.0, |s| {
            let items: Vec<&Value> = s
                .events
                .iter()
                .rev()
                .filter(|e| kind.as_ref().is_none_or(|k| e["type"] == k.as_str()))
                .collect();
            paginate(items, |e| e["id"].as_str().unwrap_or_default(), &q, "/v1/events")
        })
    })
}

async fn retrieve_event(State(api): State<Shared>, key: SecretKey, Path(id): Path<String>) -> Response {
    reply(|| {
        api.sandbox.with_space(&key.0, |s| {
            s.events
                .iter()
                .find(|e| e["id"] == id.as_str())
                .cloned()
                .ok_or_else(|| ApiError::not_found("event", &id, "id"))
        })
    })
}

// --- control surface (sandbox only) ---------------------------------------------

/// Forgets everything the calling key made: customers, sessions, accounts,
/// events, webhook endpoints, idempotent responses, faults. Other keys' data
/// (the embedded app's, other tests') is untouched.
async fn control_reset(State(api): State<Shared>, key: SecretKey) -> Response {
    api.sandbox.reset_space(&key.0);
    Json(json!({ "reset": true })).into_response()
}

/// `status=inactive|active`: what an institution does when access lapses or returns.
async fn control_status(State(api): State<Shared>, key: SecretKey, Path(id): Path<String>, body: Bytes) -> Response {
    reply(|| {
        let p = Params::parse(&body)?;
        p.only(&["status"])?;
        let status = match p.str("status")?.as_deref() {
            Some("inactive") => AccountStatus::Inactive,
            Some("active") => AccountStatus::Active,
            _ => return Err(ApiError::invalid("status", "status must be inactive or active.")),
        };
        api.sandbox.with_space(&key.0, |s| {
            let a = s.account_or_404(&id)?;
            if a.status == AccountStatus::Disconnected {
                return Err(ApiError::invalid("status", "A disconnected account cannot change status."));
            }
            let changed = a.status != status;
            a.status = status;
            if changed {
                let kind = if status == AccountStatus::Inactive {
                    "deactivated"
                } else {
                    "reactivated"
                };
                s.emit(&format!("financial_connections.account.{kind}"), &id);
            }
            account_json(s, &id)
        })
    })
}

/// `count=N`: the next N refreshes for this key fail.
async fn control_refresh_failures(State(api): State<Shared>, key: SecretKey, body: Bytes) -> Response {
    reply(|| {
        let p = Params::parse(&body)?;
        p.only(&["count"])?;
        let n = p
            .str("count")?
            .and_then(|c| c.parse::<u32>().ok())
            .filter(|n| *n <= 1000)
            .ok_or_else(|| ApiError::invalid("count", "count must be an integer from 0 to 1000."))?;
        api.sandbox.with_space(&key.0, |s| s.fail_next_refreshes = n);
        Ok(json!({ "fail_next_refreshes": n }))
    })
}

/// `path=/v1/…&kind=server_error|rate_limit|rate_limit_retry|delay|drop&count=N[&delay_ms=…]`:
/// the calling key's next `count` requests whose path starts with `path` fail that way.
async fn control_faults(State(api): State<Shared>, key: SecretKey, body: Bytes) -> Response {
    reply(|| {
        let p = Params::parse(&body)?;
        p.only(&["path", "kind", "count", "delay_ms"])?;
        let path = p
            .str("path")?
            .filter(|x| x.starts_with('/'))
            .ok_or_else(|| ApiError::invalid("path", "path must start with /."))?;
        let delay_ms = p
            .str("delay_ms")?
            .map(|d| d.parse::<u64>())
            .transpose()
            .map_err(|_| ApiError::invalid("delay_ms", "delay_ms must be an integer."))?;
        let kind = super::faults::FaultKind::parse(p.str("kind")?.as_deref().unwrap_or(""), delay_ms).ok_or_else(|| {
            ApiError::invalid(
                "kind",
                "kind must be one of server_error, rate_limit, rate_limit_retry, delay, drop.",
            )
        })?;
        let count = p
            .str("count")?
            .unwrap_or_else(|| "1".into())
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| ApiError::invalid("count", "count must be an integer from 1 to 1000."))?;
        api.sandbox.faults.add(super::faults::Fault {
            key: key.0.clone(),
            path_prefix: path.clone(),
            remaining: count,
            kind,
        });
        Ok(json!({ "path": path, "count": count, "kind": format!("{kind:?}") }))
    })
}

fn reply(run: impl FnOnce() -> Result<Value, ApiError>) -> Response {
    match run() {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn unknown_url(method: Method, uri: Uri) -> ApiError {
    ApiError {
        status: StatusCode::NOT_FOUND,
        kind: "invalid_request_error",
        code: None,
        message: format!(
            "Unrecognized request URL ({method}: {}). The sandbox implements the Financial Connections API; \
             see the README for what it covers.",
            uri.path()
        ),
        param: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_keys_like_stripe() {
        assert_eq!(redact("sk_test_abcdefghijkl"), "sk_test_****ijkl");
        assert_eq!(redact("short"), "****");
    }

    #[test]
    fn basic_auth_user() {
        // base64("sk_test_123:")
        assert_eq!(basic_user("c2tfdGVzdF8xMjM6").as_deref(), Some("sk_test_123"));
        assert_eq!(basic_user("!!!"), None);
    }
}
