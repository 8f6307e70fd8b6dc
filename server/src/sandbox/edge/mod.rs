//! The HTTP edge of the sandbox: the route table, authentication
//! ([`auth`]), form decoding into [`Params`], idempotency
//! ([`idempotency`]), fault injection ([`faults`]), Stripe-shaped errors and
//! a `Request-Id` on every response, plus the browser's half
//! ([`connect`]: the Stripe.js stand-in and the modal). Handlers only
//! translate HTTP to calls into [`crate::sandbox::resources`]; the request
//! log ([`log`]) records what they were asked.

pub mod auth;
pub mod connect;
pub mod faults;
pub mod idempotency;
pub mod log;
pub mod payments;

use crate::sandbox::clock::new_id;
use crate::sandbox::error::ApiError;
use crate::sandbox::params::Params;
use crate::sandbox::resources::expand::{self, Returns};
use crate::sandbox::resources::{
    accounts, confirm, customers, events, keys, modal, notices, payment_intents, payment_methods, requests, scheduled, sessions,
    tokens, transactions,
};
use crate::sandbox::state::Sandbox;
use crate::sandbox::version::{self, ApiVersion};
use auth::{Caller, SecretKey};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, MethodRouter};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};

/// Largest request body the sandbox reads.
pub const MAX_BODY: usize = 64 * 1024;

/// What the edge's handlers share.
pub struct Edge {
    pub sandbox: Arc<Sandbox>,
    /// (secret key, Idempotency-Key) of the POSTs running now.
    in_flight: Mutex<HashSet<(String, String)>>,
}

impl Edge {
    fn in_flight(&self) -> MutexGuard<'_, HashSet<(String, String)>> {
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner())
    }
}

type Shared = Arc<Edge>;
type Answer = Result<Value, ApiError>;

const ACCOUNT: &str = "financial_connections.account";
const CUSTOMER: &str = "customer";
const ENDPOINT: &str = "webhook_endpoint";
const EVENT: &str = "event";
const SESSION: &str = "financial_connections.session";
const TRANSACTION: &str = "financial_connections.transaction";
const PAYMENT_METHOD: &str = "payment_method";

/// The whole HTTP surface: `/v1` (Stripe's API), `/_sandbox` (the control
/// surface), the Stripe.js stand-in and the modal. Every response carries a
/// `Request-Id`, as Stripe's do, errors a `request_log_url`, and a body over
/// [`MAX_BODY`] gets a Stripe-shaped 413. Each `/v1` route names what it
/// answers with ([`Returns`]), which decides what `expand[]` may name.
pub fn router(sandbox: Arc<Sandbox>) -> Router {
    let edge = Arc::new(Edge {
        sandbox: sandbox.clone(),
        in_flight: Mutex::default(),
    });
    let accounts_path = "/v1/financial_connections/accounts";
    let account = Returns::One(ACCOUNT);
    Router::new()
        .route(
            "/v1/customers",
            create(customers::create, Returns::One(CUSTOMER)).merge(read(customers::list, Returns::List(CUSTOMER))),
        )
        .route(
            "/v1/customers/{id}",
            read_one(customers::retrieve, Returns::One(CUSTOMER))
                .merge(act(customers::update, Returns::One(CUSTOMER)))
                .merge(remove(customers::delete, Returns::One(CUSTOMER))),
        )
        .route("/v1/financial_connections/sessions", create_session())
        .route(
            "/v1/financial_connections/sessions/{id}",
            read_one(sessions::retrieve, Returns::One(SESSION)),
        )
        .route(accounts_path, read(accounts::list, Returns::List(ACCOUNT)))
        .route(&format!("{accounts_path}/{{id}}"), read_one(accounts::retrieve, account))
        .route(&format!("{accounts_path}/{{id}}/refresh"), act(accounts::refresh, account))
        .route(
            &format!("{accounts_path}/{{id}}/disconnect"),
            act(accounts::disconnect, account),
        )
        .route(
            &format!("{accounts_path}/{{id}}/subscribe"),
            act(accounts::subscribe, account),
        )
        .route(
            &format!("{accounts_path}/{{id}}/unsubscribe"),
            act(accounts::unsubscribe, account),
        )
        .route(
            &format!("{accounts_path}/{{id}}/owners"),
            read_one(accounts::owners, Returns::List("financial_connections.account_owner")),
        )
        .route(
            "/v1/financial_connections/transactions",
            read(transactions::list, Returns::List(TRANSACTION)),
        )
        .route(
            "/v1/financial_connections/transactions/{id}",
            read_one(transactions::retrieve, Returns::One(TRANSACTION)),
        )
        .route("/v1/tokens/{id}", read_one(tokens::retrieve, Returns::One("token")))
        .route(
            "/v1/webhook_endpoints",
            create(events::create_endpoint, Returns::One(ENDPOINT)).merge(read(events::list_endpoints, Returns::List(ENDPOINT))),
        )
        .route(
            "/v1/webhook_endpoints/{id}",
            read_one(events::retrieve_endpoint, Returns::One(ENDPOINT))
                .merge(act(events::update_endpoint, Returns::One(ENDPOINT)))
                .merge(remove(events::delete_endpoint, Returns::One(ENDPOINT))),
        )
        .route(
            "/v1/payment_intents",
            payments::create_v(payment_intents::create, Returns::One(payments::PAYMENT_INTENT))
                .merge(read(payment_intents::list, Returns::List(payments::PAYMENT_INTENT))),
        )
        .route(
            "/v1/payment_intents/{id}",
            payments::retrieve_intent().merge(payments::act_v(
                payment_intents::update,
                Returns::One(payments::PAYMENT_INTENT),
            )),
        )
        .route("/v1/payment_intents/{id}/confirm", payments::confirm_intent())
        .route(
            "/v1/payment_intents/{id}/cancel",
            act(payment_intents::cancel, Returns::One(payments::PAYMENT_INTENT)),
        )
        .route(
            "/v1/payment_intents/{id}/verify_microdeposits",
            act(confirm::verify_microdeposits, Returns::One(payments::PAYMENT_INTENT)),
        )
        .route(
            "/v1/payment_methods",
            read(payment_methods::list, Returns::List(PAYMENT_METHOD)),
        )
        .route(
            "/v1/payment_methods/{id}",
            read_one(payment_methods::retrieve, Returns::One(PAYMENT_METHOD)),
        )
        .route(
            "/v1/mandates/{id}",
            read_one(payment_methods::retrieve_mandate, Returns::One("mandate")),
        )
        .route("/v1/events", read(events::list, Returns::List(EVENT)))
        .route("/v1/events/{id}", read_one(events::retrieve, Returns::One(EVENT)))
        // Sandbox-only control surface, outside Stripe's /v1 namespace.
        .route("/_sandbox/webhook_deliveries", get(deliveries))
        .route("/_sandbox/scheduled", get(scheduled))
        .route("/_sandbox/requests", get(request_log))
        .route("/_sandbox/mandates", get(mandates))
        .route("/_sandbox/reset", post(reset))
        .route("/_sandbox/api_version", control(keys::set_api_version))
        .route("/_sandbox/sessions/{id}/complete", control_one(modal::complete_session))
        .route("/_sandbox/accounts/{id}/status", control_one(accounts::set_status))
        .route(
            "/_sandbox/accounts/{id}/account_numbers",
            control_one(accounts::account_numbers),
        )
        .route("/_sandbox/accounts/{id}/deactivation", control_one(notices::deactivation))
        .route(
            "/_sandbox/accounts/{id}/supported_payment_method_types",
            control_one(notices::supported_payment_method_types),
        )
        .route("/_sandbox/refresh_failures", control(accounts::fail_next_refreshes))
        .route("/_sandbox/faults", control(faults::add))
        .fallback(unknown_url)
        .method_not_allowed_fallback(unknown_url)
        .with_state(edge.clone())
        .merge(connect::router(edge.clone()))
        .layer(axum::middleware::from_fn_with_state(sandbox.clone(), faults::inject))
        .layer(axum::middleware::from_fn_with_state(edge, idempotency::claim))
        .layer(axum::middleware::from_fn_with_state(sandbox.clone(), written_through))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_BODY))
        .layer(axum::middleware::map_response(stripe_shaped))
        .layer(axum::middleware::from_fn_with_state(sandbox, log::record))
        .layer(axum::middleware::from_fn(payments::cors))
}

/// What a request changed is in the sandbox's state file (when it keeps
/// one) before the answer goes out.
async fn written_through(
    State(sandbox): State<Arc<Sandbox>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let resp = next.run(req).await;
    sandbox.flush().await;
    resp
}

fn reply(answer: Answer) -> Response {
    match answer {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

fn query(raw: Option<String>) -> Result<Params, ApiError> {
    Params::parse(raw.unwrap_or_default().as_bytes())
}

/// Runs one `/v1` operation: checks `expand[]` against what it returns
/// before it runs, then expands and renders its answer in the caller's version.
fn operation(edge: &Edge, c: &Caller, p: &Params, returns: Returns, run: impl FnOnce() -> Answer) -> Answer {
    let paths = expand::paths(p, returns)?;
    let mut v = run()?;
    if !paths.is_empty() {
        edge.sandbox.read(&c.key, |s| expand::apply(s, &mut v, &paths));
    }
    version::render(&mut v, &c.version);
    Ok(v)
}

/// A `/v1` response says which version it speaks, as Stripe's do.
fn versioned(mut resp: Response, version: &ApiVersion) -> Response {
    if let Ok(v) = HeaderValue::from_str(version.as_str()) {
        resp.headers_mut().insert("Stripe-Version", v);
    }
    resp
}

/// `GET` a collection: `f(sandbox, key, query)`.
fn read(f: fn(&Sandbox, &str, &Params) -> Answer, returns: Returns) -> MethodRouter<Shared> {
    get(
        move |State(edge): State<Shared>, c: Caller, RawQuery(q): RawQuery| async move {
            let answer = query(q).and_then(|q| operation(&edge, &c, &q, returns, || f(&edge.sandbox, &c.key, &q)));
            versioned(reply(answer), &c.version)
        },
    )
}

/// `GET` one object: `f(sandbox, key, id, query)`.
fn read_one(f: fn(&Sandbox, &str, &str, &Params) -> Answer, returns: Returns) -> MethodRouter<Shared> {
    get(
        move |State(edge): State<Shared>, c: Caller, Path(id): Path<String>, RawQuery(q): RawQuery| async move {
            let answer = query(q).and_then(|q| operation(&edge, &c, &q, returns, || f(&edge.sandbox, &c.key, &id, &q)));
            versioned(reply(answer), &c.version)
        },
    )
}

/// `DELETE` one object: `f(sandbox, key, id, query)`.
fn remove(f: fn(&Sandbox, &str, &str, &Params) -> Answer, returns: Returns) -> MethodRouter<Shared> {
    delete(
        move |State(edge): State<Shared>, c: Caller, Path(id): Path<String>, RawQuery(q): RawQuery| async move {
            let answer = query(q).and_then(|q| operation(&edge, &c, &q, returns, || f(&edge.sandbox, &c.key, &id, &q)));
            versioned(reply(answer), &c.version)
        },
    )
}

/// Idempotent `POST` to a collection: `f(sandbox, key, body)`.
fn create(f: fn(&Sandbox, &str, &Params) -> Answer, returns: Returns) -> MethodRouter<Shared> {
    post(
        move |State(edge): State<Shared>, c: Caller, uri: Uri, headers: HeaderMap, body: Bytes| async move {
            let resp = idempotency::idempotent(&edge, &c.key, &headers, uri.path(), &body, || {
                let p = Params::parse(&body)?;
                operation(&edge, &c, &p, returns, || f(&edge.sandbox, &c.key, &p)).map(|v| (StatusCode::OK, v))
            });
            versioned(resp, &c.version)
        },
    )
}

/// `POST /v1/financial_connections/sessions`: its parameters depend on the version.
fn create_session() -> MethodRouter<Shared> {
    post(
        move |State(edge): State<Shared>, c: Caller, uri: Uri, headers: HeaderMap, body: Bytes| async move {
            let resp = idempotency::idempotent(&edge, &c.key, &headers, uri.path(), &body, || {
                let p = Params::parse(&body)?;
                operation(&edge, &c, &p, Returns::One(SESSION), || {
                    sessions::create(&edge.sandbox, &c.key, &c.version, &p)
                })
                .map(|v| (StatusCode::OK, v))
            });
            versioned(resp, &c.version)
        },
    )
}

/// Idempotent `POST` to one object or one of its actions: `f(sandbox, key, id, body)`.
fn act(f: fn(&Sandbox, &str, &str, &Params) -> Answer, returns: Returns) -> MethodRouter<Shared> {
    post(
        move |State(edge): State<Shared>, c: Caller, Path(id): Path<String>, uri: Uri, headers: HeaderMap, body: Bytes| async move {
            let resp = idempotency::idempotent(&edge, &c.key, &headers, uri.path(), &body, || {
                let p = Params::parse(&body)?;
                operation(&edge, &c, &p, returns, || f(&edge.sandbox, &c.key, &id, &p)).map(|v| (StatusCode::OK, v))
            });
            versioned(resp, &c.version)
        },
    )
}

/// A control-surface `POST`: `f(sandbox, key, body)`.
fn control(f: fn(&Sandbox, &str, &Params) -> Answer) -> MethodRouter<Shared> {
    post(move |State(edge): State<Shared>, key: SecretKey, body: Bytes| async move {
        reply(Params::parse(&body).and_then(|p| f(&edge.sandbox, &key.0, &p)))
    })
}

/// A control-surface `POST` about one object: `f(sandbox, key, id, body)`.
fn control_one(f: fn(&Sandbox, &str, &str, &Params) -> Answer) -> MethodRouter<Shared> {
    post(
        move |State(edge): State<Shared>, key: SecretKey, Path(id): Path<String>, body: Bytes| async move {
            reply(Params::parse(&body).and_then(|p| f(&edge.sandbox, &key.0, &id, &p)))
        },
    )
}

/// Forgets everything the calling key made: customers, sessions, accounts,
/// events, webhook endpoints, idempotent responses, faults, waiting work.
/// Other keys' data (the embedded app's, other tests') is untouched.
async fn reset(State(edge): State<Shared>, key: SecretKey) -> Response {
    edge.sandbox.reset_space(&key.0);
    Json(json!({ "reset": true })).into_response()
}

/// The calling key's webhook deliveries and their outcomes.
async fn deliveries(State(edge): State<Shared>, key: SecretKey) -> Response {
    Json(events::deliveries(&edge.sandbox, &key.0)).into_response()
}

/// The calling key's newest `/v1` requests, newest first.
async fn request_log(State(edge): State<Shared>, key: SecretKey) -> Response {
    Json(requests::list(&edge.sandbox, &key.0)).into_response()
}

/// The calling key's mandates, newest first.
async fn mandates(State(edge): State<Shared>, key: SecretKey) -> Response {
    Json(payment_methods::list_mandates(&edge.sandbox, &key.0)).into_response()
}

/// What the calling key has waiting on the clock.
async fn scheduled(State(edge): State<Shared>, key: SecretKey) -> Response {
    Json(scheduled::list(&edge.sandbox, &key.0)).into_response()
}

async fn unknown_url(method: Method, uri: Uri) -> ApiError {
    ApiError {
        status: StatusCode::NOT_FOUND,
        kind: "invalid_request_error",
        code: None,
        message: format!(
            "Unrecognized request URL ({method}: {}). The sandbox implements the Financial Connections API and ACH Direct Debit payments; \
             see the README for what it covers.",
            uri.path()
        ),
        param: None,
    }
}

async fn stripe_shaped(resp: Response) -> Response {
    let resp = if resp.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json(&resp) {
        ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            ..ApiError::invalid("", format!("Request bodies are limited to {MAX_BODY} bytes."))
        }
        .into_response()
    } else {
        resp
    };
    let request_id = new_id("req_");
    let mut resp = with_log_url(resp, &request_id).await;
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("Request-Id", v);
    }
    resp
}

/// An error (but a 401, which no account's log shows) gets Stripe's
/// `request_log_url`: the request's page in the Dashboard's logs.
async fn with_log_url(resp: Response, request_id: &str) -> Response {
    let status = resp.status();
    if status.is_success() || status == StatusCode::UNAUTHORIZED || !is_json(&resp) {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let mut v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let Some(error) = v.get_mut("error").and_then(Value::as_object_mut) else {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    };
    error.insert(
        "request_log_url".into(),
        json!(format!("https://dashboard.stripe.com/test/logs/{request_id}")),
    );
    let out = v.to_string();
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(out))
}

fn is_json(resp: &Response) -> bool {
    resp.headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
}
