//! Events and where they go: `GET /v1/events` (`type` with wildcards,
//! `types[]`, `created`, `delivery_success`), `GET /v1/events/{id}`,
//! webhook endpoints (`POST|GET /v1/webhook_endpoints`,
//! `GET|POST|DELETE …/{id}`) and the control surface's delivery log.

use super::list::{paginate, range_filter};
use crate::sandbox::error::ApiError;
use crate::sandbox::event_types;
use crate::sandbox::params::{Params, MAX_STRING};
use crate::sandbox::state::{Delivery, Endpoint, Sandbox, Space};
use crate::sandbox::urls::webhook_url;
use crate::sandbox::version::ApiVersion;
use serde_json::{json, Value};

/// `type` of `GET /v1/events`: a type, or a prefix ending in `*`
/// (`financial_connections.account.*`).
fn type_matches(pattern: &str, t: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => t.starts_with(prefix),
        None => t == pattern,
    }
}

/// Whether every delivery of the event succeeded (an event no endpoint
/// wanted has nothing left to deliver).
fn delivered(s: &Space, event: &str) -> bool {
    s.deliveries
        .iter()
        .filter(|d| d.event == event)
        .all(|d| d.status == "succeeded")
}

/// An event as the API shows it: `pending_webhooks` counts its deliveries still pending.
fn shown(s: &Space, e: &Value) -> Value {
    let mut e = e.clone();
    let id = e["id"].as_str().unwrap_or_default();
    let pending = s.deliveries.iter().filter(|d| d.event == id && d.status == "pending").count();
    e["pending_webhooks"] = json!(pending);
    e
}

/// `GET /v1/events`, newest first: `type` (wildcards with `*`) or up to 20
/// `types[]`, `created` (an integer or a range), `delivery_success`.
pub fn list(sb: &Sandbox, key: &str, q: &Params) -> Result<Value, ApiError> {
    q.only(&[
        "created",
        "delivery_success",
        "ending_before",
        "expand",
        "limit",
        "starting_after",
        "type",
        "types",
    ])?;
    let kind = q.str("type")?;
    let types = q.list("types", &[])?;
    if kind.is_some() && !types.is_empty() {
        return Err(ApiError::invalid("types", "You may only specify one of type and types."));
    }
    if types.len() > 20 {
        return Err(ApiError::invalid("types", "You may filter by at most 20 types."));
    }
    let patterns: Vec<String> = kind.into_iter().chain(types).collect();
    let created = range_filter(q.0.get("created"), "created")?;
    let success = match q.str("delivery_success")?.as_deref() {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => {
            return Err(ApiError::invalid(
                "delivery_success",
                "Invalid boolean: delivery_success must be true or false.",
            ));
        }
    };
    sb.read(key, |s| {
        let items: Vec<Value> = s
            .events
            .iter()
            .rev()
            .filter(|e| {
                let t = e["type"].as_str().unwrap_or_default();
                patterns.is_empty() || patterns.iter().any(|p| type_matches(p, t))
            })
            .filter(|e| created(e["created"].as_i64().unwrap_or_default()))
            .filter(|e| success.is_none_or(|want| delivered(s, e["id"].as_str().unwrap_or_default()) == want))
            .map(|e| shown(s, e))
            .collect();
        paginate(
            items.iter().collect(),
            |e| e["id"].as_str().unwrap_or_default(),
            q,
            "/v1/events",
        )
    })
}

/// `GET /v1/events/{id}`.
pub fn retrieve(sb: &Sandbox, key: &str, id: &str, q: &Params) -> Result<Value, ApiError> {
    q.only(&["expand"])?;
    sb.read(key, |s| s.events.iter().find(|e| e["id"] == id).map(|e| shown(s, e)))
        .ok_or_else(|| ApiError::not_found("event", id, "id"))
}

/// `url`, `enabled_events[]`, `description` and `metadata` of a create or update.
fn endpoint_fields(sb: &Sandbox, p: &Params, e: &mut Endpoint) -> Result<(), ApiError> {
    if let Some(url) = p.str("url")? {
        e.url = webhook_url(&url, sb.webhook_hosts())?;
    }
    if p.0.contains_key("enabled_events") {
        let events = p.list("enabled_events", &[])?;
        if events.is_empty() {
            return Err(ApiError::missing("enabled_events"));
        }
        if let Some((i, bad)) = events.iter().enumerate().find(|(_, e)| !event_types::known(e)) {
            return Err(ApiError::invalid(
                &format!("enabled_events[{i}]"),
                format!("Invalid enabled_events[{i}]: must be one of the event types Stripe lists, or *. Got '{bad}'."),
            ));
        }
        e.enabled_events = events;
    }
    if let Some(d) = p.bounded("description", MAX_STRING)? {
        e.description = (!d.is_empty()).then_some(d);
    }
    p.metadata(&mut e.metadata)
}

/// `POST /v1/webhook_endpoints`: the answer is the only one that shows the
/// secret. The URL must be one this sandbox delivers to (loopback, or the
/// standalone sandbox's allow-list).
pub fn create_endpoint(sb: &Sandbox, key: &str, p: &Params) -> Result<Value, ApiError> {
    p.only(&[
        "url",
        "enabled_events",
        "description",
        "api_version",
        "connect",
        "metadata",
        "expand",
    ])?;
    if p.str("url")?.is_none() {
        return Err(ApiError::missing("url"));
    }
    if !p.0.contains_key("enabled_events") {
        return Err(ApiError::missing("enabled_events"));
    }
    let api_version = match p.str("api_version")? {
        None => None,
        Some(v) => Some(ApiVersion::parse(&v).ok_or_else(|| {
            ApiError::invalid(
                "api_version",
                format!("Invalid API version: {v}. Versions look like 2026-07-29.dahlia."),
            )
        })?),
    };
    // `connect=true` would receive connected accounts' events; the sandbox has none.
    if !matches!(p.str("connect")?.as_deref(), None | Some("true") | Some("false")) {
        return Err(ApiError::invalid(
            "connect",
            "Invalid boolean: connect must be true or false.",
        ));
    }
    let mut endpoint = Endpoint::new(String::new(), Vec::new());
    endpoint.api_version = api_version.map(|v| v.to_string());
    endpoint_fields(sb, p, &mut endpoint)?;
    let body = json!(endpoint);
    sb.with_space(key, |s| s.add_endpoint(endpoint))?;
    Ok(body)
}

/// `POST /v1/webhook_endpoints/{id}`: a new URL is checked as at creation;
/// `disabled=true` stops deliveries to it until `disabled=false`.
pub fn update_endpoint(sb: &Sandbox, key: &str, id: &str, p: &Params) -> Result<Value, ApiError> {
    p.only(&["url", "enabled_events", "description", "disabled", "metadata", "expand"])?;
    let disabled = match p.str("disabled")?.as_deref() {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => {
            return Err(ApiError::invalid(
                "disabled",
                "Invalid boolean: disabled must be true or false.",
            ));
        }
    };
    sb.with_space(key, |s| {
        let e = s
            .endpoint_mut(id)
            .ok_or_else(|| ApiError::not_found("webhook_endpoint", id, "id"))?;
        let mut updated = e.clone();
        endpoint_fields(sb, p, &mut updated)?;
        if let Some(d) = disabled {
            updated.status = if d { "disabled" } else { "enabled" };
        }
        *e = updated;
        Ok(e.without_secret())
    })
}

/// `GET /v1/webhook_endpoints`, newest first, without secrets.
pub fn list_endpoints(sb: &Sandbox, key: &str, q: &Params) -> Result<Value, ApiError> {
    q.only(&["limit", "starting_after", "ending_before", "expand"])?;
    sb.read(key, |s| {
        let items: Vec<Value> = s.webhook_endpoints.iter().rev().map(Endpoint::without_secret).collect();
        paginate(
            items.iter().collect(),
            |e| e["id"].as_str().unwrap_or_default(),
            q,
            "/v1/webhook_endpoints",
        )
    })
}

/// `GET /v1/webhook_endpoints/{id}`, without its secret.
pub fn retrieve_endpoint(sb: &Sandbox, key: &str, id: &str, q: &Params) -> Result<Value, ApiError> {
    q.only(&["expand"])?;
    sb.read(key, |s| {
        s.webhook_endpoints.iter().find(|e| e.id == id).map(Endpoint::without_secret)
    })
    .ok_or_else(|| ApiError::not_found("webhook_endpoint", id, "id"))
}

/// `DELETE /v1/webhook_endpoints/{id}`: its pending deliveries are abandoned.
pub fn delete_endpoint(sb: &Sandbox, key: &str, id: &str, q: &Params) -> Result<Value, ApiError> {
    q.only(&[])?;
    sb.with_space(key, |s| {
        if !s.delete_endpoint(id) {
            return Err(ApiError::not_found("webhook_endpoint", id, "id"));
        }
        Ok(json!({ "id": id, "object": "webhook_endpoint", "deleted": true }))
    })
}

/// Control surface: the key's webhook deliveries and their outcomes.
pub fn deliveries(sb: &Sandbox, key: &str) -> Value {
    let data: Vec<Value> = sb.read(key, |s| s.deliveries.iter().map(Delivery::to_json).collect());
    json!({ "object": "list", "data": data })
}

/// The embedded app's own endpoint: every event to `url`, enabled. The one
/// an earlier start registered at `url` is reused (its secret stays the
/// same); endpoints the key has for an earlier address of the app (another
/// port) are deleted. Returns its signing secret. Nobody but the app holds
/// its key, so every endpoint of the key is the app's.
pub fn app_endpoint(sb: &Sandbox, key: &str, url: &str) -> Result<String, ApiError> {
    sb.with_space(key, |s| {
        let path = url
            .find("://")
            .and_then(|i| url[i + 3..].find('/').map(|j| &url[i + 3 + j..]));
        let stale: Vec<String> = s
            .webhook_endpoints
            .iter()
            .filter(|e| e.url != url && path.is_some_and(|p| e.url.ends_with(p)))
            .map(|e| e.id.clone())
            .collect();
        for id in stale {
            s.delete_endpoint(&id);
        }
        if let Some(e) = s.webhook_endpoints.iter_mut().find(|e| e.url == url) {
            e.status = "enabled";
            e.enabled_events = vec!["*".to_owned()];
            return Ok(e.secret.clone());
        }
        let e = Endpoint::new(url.to_owned(), vec!["*".to_owned()]);
        let secret = e.secret.clone();
        s.add_endpoint(e)?;
        Ok(secret)
    })
}
