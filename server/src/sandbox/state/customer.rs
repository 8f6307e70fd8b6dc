//! A `customer`, with every field the spec gives it and Stripe's defaults
//! for those the sandbox does not change (no balance, no invoices, no
//! sources), and the stub a deleted one leaves behind.

use super::objects::metadata_bytes;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Customer {
    pub id: String,
    pub created: i64,
    pub email: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub phone: Option<String>,
    pub metadata: Map<String, Value>,
    /// `invoice_prefix`: eight letters and digits, made once.
    pub invoice_prefix: String,
    /// Creation order in its key's space (lists are newest first).
    pub seq: u64,
    /// Deleted: retrieving it shows `{id, object, deleted: true}`.
    pub deleted: bool,
}

impl Customer {
    /// As Stripe shows it.
    pub fn to_json(&self) -> Value {
        if self.deleted {
            return json!({ "id": self.id, "object": "customer", "deleted": true });
        }
        json!({
            "id": self.id,
            "object": "customer",
            "address": null,
            "balance": 0,
            "created": self.created,
            "currency": null,
            "default_source": null,
            "delinquent": false,
            "description": self.description,
            "discount": null,
            "email": self.email,
            "invoice_prefix": self.invoice_prefix,
            "invoice_settings": {
                "custom_fields": null,
                "default_payment_method": null,
                "footer": null,
                "rendering_options": null,
            },
            "livemode": false,
            "metadata": self.metadata,
            "name": self.name,
            "next_invoice_sequence": 1,
            "phone": self.phone,
            "preferred_locales": [],
            "shipping": null,
            "tax_exempt": "none",
            "test_clock": null,
        })
    }

    /// Roughly the heap it holds.
    pub fn approx_bytes(&self) -> usize {
        let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        256 + self.id.len()
            + opt(&self.email)
            + opt(&self.name)
            + opt(&self.description)
            + opt(&self.phone)
            + metadata_bytes(&self.metadata)
    }
}
