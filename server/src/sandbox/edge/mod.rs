//! The HTTP edge of the sandbox: the route table, authentication
//! ([`auth`]), form decoding into [`Params`], idempotency
//! ([`idempotency`]), fault injection ([`faults`]), Stripe-shaped errors and
//! a `Request-Id` on every response, plus the browser's half
//! ([`connect`]: the Stripe.js stand-in and the modal). Handlers only
//! translate HTTP to calls into [`crate::sandbox::resources`].

pub mod auth;
pub mod connect;
pub mod faults;
pub mod idempotency;

use crate::sandbox::clock::new_id;
use crate::sandbox::error::ApiError;
use crate::sandbox::params::Params;
use crate::sandbox::resources::{accounts, customers, events, scheduled, sessions, tokens, transactions};
use crate::sandbox::state::Sandbox;
use auth::SecretKey;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, MethodRouter};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

/// Largest request body the sandbox reads.
pub const MAX_BODY: usize = 64 * 1024;

/// What the edge's handlers share.
pub struct Edge {
    pub sandbox: Arc<Sandbox>,
    /// Serialises idempotent POSTs so a key's first response is stored once.
    idem_lock: Mutex<()>,
}

type Shared = Arc<Edge>;
type Answer = Result<Value, ApiError>;

/// The whole HTTP surface: `/v1` (Stripe's API), `/_sandbox` (the control
/// surface), the Stripe.js stand-in and the modal. Every response carries a
/// `Request-Id`, as Stripe's do, and a body over [`MAX_BODY`] gets a
/// Stripe-shaped 413.
pub fn router(sandbox: Arc<Sandbox>) -> Router {
    let edge = Arc::new(Edge {
        sandbox: sandbox.clone(),
        idem_lock: Mutex::new(()),
    });
    let accounts_path = "/v1/financial_connections/accounts";
    Router::new()
        .route("/v1/customers", create(customers::create))
        .route("/v1/customers/{id}", fetch(customers::retrieve).merge(act(customers::update)))
        .route("/v1/financial_connections/sessions", create(sessions::create))
        .route("/v1/financial_connections/sessions/{id}", fetch(sessions::retrieve))
        .route(accounts_path, read(accounts::list))
        .route(&format!("{accounts_path}/{{id}}"), read_one(accounts::retrieve))
        .route(&format!("{accounts_path}/{{id}}/refresh"), act(accounts::refresh))
        .route(&format!("{accounts_path}/{{id}}/disconnect"), act(accounts::disconnect))
        .route(&format!("{accounts_path}/{{id}}/subscribe"), act(accounts::subscribe))
        .route(&format!("{accounts_path}/{{id}}/unsubscribe"), act(accounts::unsubscribe))
        .route(&format!("{accounts_path}/{{id}}/owners"), read_one(accounts::owners))
        .route("/v1/financial_connections/transactions", read(transactions::list))
        .route("/v1/financial_connections/transactions/{id}", fetch(transactions::retrieve))
        .route("/v1/tokens/{id}", fetch(tokens::retrieve))
        .route(
            "/v1/webhook_endpoints",
            create(events::create_endpoint).merge(read(events::list_endpoints)),
        )
        .route(
            "/v1/webhook_endpoints/{id}",
            fetch(events::retrieve_endpoint)
                .merge(act(events::update_endpoint))
                .merge(remove(events::delete_endpoint)),
        )
        .route("/v1/events", read(events::list))
        .route("/v1/events/{id}", fetch(events::retrieve))
        // Sandbox-only control surface, outside Stripe's /v1 namespace.
        .route("/_sandbox/webhook_deliveries", get(deliveries))
        .route("/_sandbox/scheduled", get(scheduled))
        .route("/_sandbox/reset", post(reset))
        .route("/_sandbox/accounts/{id}/status", control_one(accounts::set_status))
        .route("/_sandbox/refresh_failures", control(accounts::fail_next_refreshes))
        .route("/_sandbox/faults", control(faults::add))
        .fallback(unknown_url)
        .method_not_allowed_fallback(unknown_url)
        .with_state(edge.clone())
        .merge(connect::router(edge))
        .layer(axum::middleware::from_fn_with_state(sandbox, faults::inject))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_BODY))
        .layer(axum::middleware::map_response(stripe_shaped))
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

/// `GET` a collection: `f(sandbox, key, query)`.
fn read(f: fn(&Sandbox, &str, &Params) -> Answer) -> MethodRouter<Shared> {
    get(
        move |State(edge): State<Shared>, key: SecretKey, RawQuery(q): RawQuery| async move {
            reply(query(q).and_then(|q| f(&edge.sandbox, &key.0, &q)))
        },
    )
}

/// `GET` one object with a query: `f(sandbox, key, id, query)`.
fn read_one(f: fn(&Sandbox, &str, &str, &Params) -> Answer) -> MethodRouter<Shared> {
    get(
        move |State(edge): State<Shared>, key: SecretKey, Path(id): Path<String>, RawQuery(q): RawQuery| async move {
            reply(query(q).and_then(|q| f(&edge.sandbox, &key.0, &id, &q)))
        },
    )
}

/// `GET` one object by id: `f(sandbox, key, id)`.
fn fetch(f: fn(&Sandbox, &str, &str) -> Answer) -> MethodRouter<Shared> {
    get(
        move |State(edge): State<Shared>, key: SecretKey, Path(id): Path<String>| async move { reply(f(&edge.sandbox, &key.0, &id)) },
    )
}

/// `DELETE` one object: `f(sandbox, key, id)`.
fn remove(f: fn(&Sandbox, &str, &str) -> Answer) -> MethodRouter<Shared> {
    delete(
        move |State(edge): State<Shared>, key: SecretKey, Path(id): Path<String>| async move { reply(f(&edge.sandbox, &key.0, &id)) },
    )
}

/// Idempotent `POST` to a collection: `f(sandbox, key, body)`.
fn create(f: fn(&Sandbox, &str, &Params) -> Answer) -> MethodRouter<Shared> {
    post(
        move |State(edge): State<Shared>, key: SecretKey, uri: Uri, headers: HeaderMap, body: Bytes| async move {
            idempotency::idempotent(&edge, &key.0, &headers, uri.path(), &body, || {
                let p = Params::parse(&body)?;
                f(&edge.sandbox, &key.0, &p).map(|v| (StatusCode::OK, v))
            })
        },
    )
}

/// Idempotent `POST` to one object or one of its actions: `f(sandbox, key, id, body)`.
fn act(f: fn(&Sandbox, &str, &str, &Params) -> Answer) -> MethodRouter<Shared> {
    post(
        move |State(edge): State<Shared>, key: SecretKey, Path(id): Path<String>, uri: Uri, headers: HeaderMap, body: Bytes| async move {
            idempotency::idempotent(&edge, &key.0, &headers, uri.path(), &body, || {
                let p = Params::parse(&body)?;
                f(&edge.sandbox, &key.0, &id, &p).map(|v| (StatusCode::OK, v))
            })
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
            "Unrecognized request URL ({method}: {}). The sandbox implements the Financial Connections API; \
             see the README for what it covers.",
            uri.path()
        ),
        param: None,
    }
}

async fn stripe_shaped(resp: Response) -> Response {
    let mut resp = if resp.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json(&resp) {
        ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            ..ApiError::invalid("", format!("Request bodies are limited to {MAX_BODY} bytes."))
        }
        .into_response()
    } else {
        resp
    };
    if let Ok(v) = HeaderValue::from_str(&new_id("req_")) {
        resp.headers_mut().insert("Request-Id", v);
    }
    resp
}

fn is_json(resp: &Response) -> bool {
    resp.headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
}
