//! Events and where they go: `GET /v1/events` (`type`), `GET /v1/events/{id}`,
//! webhook endpoints (`POST|GET /v1/webhook_endpoints`,
//! `GET|POST|DELETE …/{id}`) and the control surface's delivery log.

use super::list::paginate;
use crate::sandbox::error::ApiError;
use crate::sandbox::params::{Params, MAX_STRING};
use crate::sandbox::state::{Endpoint, Sandbox};
use crate::sandbox::urls::webhook_url;
use serde_json::{json, Value};

/// `GET /v1/events`, newest first.
pub fn list(sb: &Sandbox, key: &str, q: &Params) -> Result<Value, ApiError> {
    q.only(&["type", "limit", "starting_after", "ending_before", "created"])?;
    let kind = q.str("type")?;
    sb.read(key, |s| {
        let items: Vec<&Value> = s
            .events
            .iter()
            .rev()
            .filter(|e| kind.as_ref().is_none_or(|k| e["type"] == k.as_str()))
            .collect();
        paginate(items, |e| e["id"].as_str().unwrap_or_default(), q, "/v1/events")
    })
}

/// `GET /v1/events/{id}`.
pub fn retrieve(sb: &Sandbox, key: &str, id: &str) -> Result<Value, ApiError> {
    sb.read(key, |s| s.events.iter().find(|e| e["id"] == id).cloned())
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
    p.only(&["url", "enabled_events", "description", "api_version", "metadata", "expand"])?;
    if p.str("url")?.is_none() {
        return Err(ApiError::missing("url"));
    }
    if !p.0.contains_key("enabled_events") {
        return Err(ApiError::missing("enabled_events"));
    }
    let mut endpoint = Endpoint::new(String::new(), Vec::new());
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
            ))
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
    q.only(&["limit", "starting_after", "ending_before"])?;
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
pub fn retrieve_endpoint(sb: &Sandbox, key: &str, id: &str) -> Result<Value, ApiError> {
    sb.read(key, |s| {
        s.webhook_endpoints.iter().find(|e| e.id == id).map(Endpoint::without_secret)
    })
    .ok_or_else(|| ApiError::not_found("webhook_endpoint", id, "id"))
}

/// `DELETE /v1/webhook_endpoints/{id}`: its pending deliveries are abandoned.
pub fn delete_endpoint(sb: &Sandbox, key: &str, id: &str) -> Result<Value, ApiError> {
    sb.with_space(key, |s| {
        if !s.delete_endpoint(id) {
            return Err(ApiError::not_found("webhook_endpoint", id, "id"));
        }
        Ok(json!({ "id": id, "object": "webhook_endpoint", "deleted": true }))
    })
}

/// Control surface: the key's webhook deliveries and their outcomes.
pub fn deliveries(sb: &Sandbox, key: &str) -> Value {
    let data: Vec<Value> = sb.read(key, |s| s.deliveries.iter().map(|d| json!(d)).collect());
    json!({ "object": "list", "data": data })
}
