//! A registered `webhook_endpoint`: where a key's events go, in which API
//! version, and whether it is enabled.

use super::objects::metadata_bytes;
use super::stored;
use crate::sandbox::clock::{new_id, now};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// A registered `webhook_endpoint`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Endpoint {
    pub id: String,
    #[serde(deserialize_with = "stored::static_str")]
    pub object: stored::Const,
    pub url: String,
    pub enabled_events: Vec<String>,
    pub secret: String,
    /// `enabled` or `disabled`.
    #[serde(deserialize_with = "stored::static_str")]
    pub status: stored::Const,
    pub description: Option<String>,
    pub metadata: Map<String, Value>,
    pub created: i64,
    pub livemode: bool,
    /// Always `None`: no Connect application owns a sandbox endpoint.
    pub application: Option<String>,
    /// The version events are rendered in for it (`None`: the key's default).
    pub api_version: Option<String>,
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
            application: None,
            api_version: None,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn its_size_grows_with_what_is_stored() {
        let mut e = Endpoint::new("http://127.0.0.1/".into(), vec!["*".into()]);
        let before = e.approx_bytes();
        e.metadata.insert("k".into(), json!("v".repeat(500)));
        assert!(e.approx_bytes() >= before + 500);
    }
}
