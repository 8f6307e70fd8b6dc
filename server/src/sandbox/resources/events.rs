//! Events and where they go: `GET /v1/events` (`type`), `GET /v1/events/{id}`,
//! webhook endpoints (`POST|GET /v1/webhook_endpoints`,
//! `GET|DELETE …/{id}`) and the control surface's delivery log.

use super::list::paginate;
use crate::sandbox::error::ApiError;
use crate::sandbox::params::Params;
use crate::sandbox::state::{Endpoint, Sandbox};
use serde_json::{json, Value};

/// Webhook endpoints one key may register.
pub const MAX_ENDPOINTS: usize = 16;

/// `GET /v1/events`, newest first.
pub fn list(sb: &Sandbox, key: &str, q: &Params) -> Result<Value, ApiError> {
    q.only(&["type", "limit", "starting_after", "ending_before", "created"])?;
    let kind = q.str("type")?;
    sb.with_space(key, |s| {
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
    sb.with_space(key, |s| s.events.iter().find(|e| e["id"] == id).cloned())
        .ok_or_else(|| ApiError::not_found("event", id, "id"))
}

/// `POST /v1/webhook_endpoints`: the answer is the only one that shows the secret.
pub fn create_endpoint(sb: &Sandbox, key: &str, p: &Params) -> Result<Value, ApiError> {
    p.only(&["url", "enabled_events", "description", "api_version", "metadata", "expand"])?;
    let url = p.str("url")?.ok_or_else(|| ApiError::missing("url"))?;
    if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() > 2048 {
        return Err(ApiError::invalid("url", "url must be an http(s) URL."));
    }
    let events = p.list("enabled_events", &[])?;
    if events.is_empty() {
        return Err(ApiError::missing("enabled_events"));
    }
    let endpoint = Endpoint::new(url, events);
    sb.with_space(key, |s| {
        if s.webhook_endpoints.len() >= MAX_ENDPOINTS {
            return Err(ApiError::invalid(
                "url",
                format!("At most {MAX_ENDPOINTS} webhook endpoints per key."),
            ));
        }
        s.webhook_endpoints.push(endpoint.clone());
        Ok(())
    })?;
    Ok(json!(endpoint))
}

/// `GET /v1/webhook_endpoints`, newest first, without secrets.
pub fn list_endpoints(sb: &Sandbox, key: &str, q: &Params) -> Result<Value, ApiError> {
    q.only(&["limit", "starting_after", "ending_before"])?;
    sb.with_space(key, |s| {
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
    sb.with_space(key, |s| {
        s.webhook_endpoints.iter().find(|e| e.id == id).map(Endpoint::without_secret)
    })
    .ok_or_else(|| ApiError::not_found("webhook_endpoint", id, "id"))
}

/// `DELETE /v1/webhook_endpoints/{id}`.
pub fn delete_endpoint(sb: &Sandbox, key: &str, id: &str) -> Result<Value, ApiError> {
    sb.with_space(key, |s| {
        let before = s.webhook_endpoints.len();
        s.webhook_endpoints.retain(|e| e.id != id);
        if s.webhook_endpoints.len() == before {
            return Err(ApiError::not_found("webhook_endpoint", id, "id"));
        }
        Ok(json!({ "id": id, "object": "webhook_endpoint", "deleted": true }))
    })
}

/// Control surface: the key's webhook deliveries and their outcomes.
pub fn deliveries(sb: &Sandbox, key: &str) -> Value {
    json!({ "object": "list", "data": sb.deliveries.for_key(key) })
}
