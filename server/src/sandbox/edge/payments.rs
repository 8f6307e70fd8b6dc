//! The edge of the payment routes: operations whose parameters or errors
//! depend on the API version (`create_v`, `act_v`), and the two a
//! publishable key may also call with the intent's client secret, as
//! Stripe.js does: retrieve and confirm.

use super::auth::{Caller, Who};
use super::{idempotency, operation, query, reply, versioned, Answer, Shared};
use crate::sandbox::params::Params;
use crate::sandbox::resources::confirm;
use crate::sandbox::resources::expand::Returns;
use crate::sandbox::resources::payment_intents;
use crate::sandbox::state::Sandbox;
use crate::sandbox::version::ApiVersion;
use axum::body::Bytes;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::Request;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Extension;
use std::net::SocketAddr;

pub const PAYMENT_INTENT: &str = "payment_intent";

/// Idempotent `POST` to a collection: `f(sandbox, key, version, body)`.
pub fn create_v(f: fn(&Sandbox, &str, &ApiVersion, &Params) -> Answer, returns: Returns) -> MethodRouter<Shared> {
    post(
        move |State(edge): State<Shared>, c: Caller, uri: Uri, headers: HeaderMap, body: Bytes| async move {
            let resp = idempotency::idempotent(&edge, &c.key, &headers, uri.path(), &body, || {
                let p = Params::parse(&body)?;
                operation(&edge, &c, &p, returns, || f(&edge.sandbox, &c.key, &c.version, &p)).map(|v| (StatusCode::OK, v))
            });
            versioned(resp, &c.version)
        },
    )
}

/// Idempotent `POST` to one object: `f(sandbox, key, version, id, body)`.
pub fn act_v(f: fn(&Sandbox, &str, &ApiVersion, &str, &Params) -> Answer, returns: Returns) -> MethodRouter<Shared> {
    post(
        move |State(edge): State<Shared>, c: Caller, Path(id): Path<String>, uri: Uri, headers: HeaderMap, body: Bytes| async move {
            let resp = idempotency::idempotent(&edge, &c.key, &headers, uri.path(), &body, || {
                let p = Params::parse(&body)?;
                operation(&edge, &c, &p, returns, || f(&edge.sandbox, &c.key, &c.version, &id, &p)).map(|v| (StatusCode::OK, v))
            });
            versioned(resp, &c.version)
        },
    )
}

/// `GET /v1/payment_intents/{id}`: with a secret key, or a publishable key
/// and `client_secret`.
pub fn retrieve_intent() -> MethodRouter<Shared> {
    get(
        move |State(edge): State<Shared>, who: Who, Path(id): Path<String>, RawQuery(q): RawQuery| async move {
            match who {
                Who::Secret(c) => {
                    let answer = query(q).and_then(|q| {
                        operation(&edge, &c, &q, Returns::One(PAYMENT_INTENT), || {
                            payment_intents::retrieve(&edge.sandbox, &c.key, &id, &q)
                        })
                    });
                    versioned(reply(answer), &c.version)
                }
                Who::Publishable => reply(query(q).and_then(|q| confirm::retrieve_client(&edge.sandbox, &id, &q))),
            }
        },
    )
}

/// `POST /v1/payment_intents/{id}/confirm`: with a secret key (idempotent,
/// `mandate_data` required), or a publishable key and `client_secret` (the
/// mandate accepted online from this request's address and user agent).
pub fn confirm_intent() -> MethodRouter<Shared> {
    post(
        move |State(edge): State<Shared>,
              who: Who,
              Path(id): Path<String>,
              uri: Uri,
              headers: HeaderMap,
              peer: Option<Extension<ConnectInfo<SocketAddr>>>,
              body: Bytes| async move {
            match who {
                Who::Secret(c) => {
                    let resp = idempotency::idempotent(&edge, &c.key, &headers, uri.path(), &body, || {
                        let p = Params::parse(&body)?;
                        operation(&edge, &c, &p, Returns::One(PAYMENT_INTENT), || {
                            payment_intents::confirm(&edge.sandbox, &c.key, &c.version, &id, &p)
                        })
                        .map(|v| (StatusCode::OK, v))
                    });
                    versioned(resp, &c.version)
                }
                Who::Publishable => {
                    let ip = peer.map(|Extension(ConnectInfo(a))| a.ip().to_string());
                    let agent = headers
                        .get("user-agent")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    reply(Params::parse(&body).and_then(|p| confirm::confirm_client(&edge.sandbox, &id, &p, ip, &agent)))
                }
            }
        },
    )
}

/// Middleware: Stripe.js's PaymentIntent calls may come from a page on
/// another origin than a standalone sandbox, as pages call api.stripe.com:
/// publishable-key requests to `/v1/payment_intents/…` get
/// `Access-Control-Allow-Origin: *` (no cookies are involved), and their
/// preflight is answered.
pub async fn cors(req: Request, next: Next) -> Response {
    let intents = req.uri().path().starts_with("/v1/payment_intents/");
    if intents && req.method() == Method::OPTIONS {
        return (
            StatusCode::NO_CONTENT,
            [
                (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
                (header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST"),
                (header::ACCESS_CONTROL_ALLOW_HEADERS, "authorization, content-type"),
                (header::ACCESS_CONTROL_MAX_AGE, "600"),
            ],
        )
            .into_response();
    }
    let publishable = intents && super::auth::publishable(req.headers());
    let mut resp = next.run(req).await;
    if publishable {
        resp.headers_mut()
            .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    }
    resp
}
