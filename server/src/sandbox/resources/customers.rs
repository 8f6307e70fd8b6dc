//! Customers: `POST /v1/customers`, `GET|POST /v1/customers/{id}`.

use crate::sandbox::clock::{new_id, now};
use crate::sandbox::error::ApiError;
use crate::sandbox::params::Params;
use crate::sandbox::state::{Customer, Sandbox};
use serde_json::{json, Map, Value};

const CUSTOMER_PARAMS: &[&str] = &["name", "email", "description", "phone", "metadata", "expand"];

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

/// `POST /v1/customers`.
pub fn create(sb: &Sandbox, key: &str, p: &Params) -> Result<Value, ApiError> {
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
    customer_fields(p, &mut c)?;
    sb.with_space(key, |s| s.customers.insert(c.id.clone(), c.clone()));
    Ok(json!(c))
}

/// `GET /v1/customers/{id}`.
pub fn retrieve(sb: &Sandbox, key: &str, id: &str) -> Result<Value, ApiError> {
    sb.with_space(key, |s| s.customers.get(id).map(|c| json!(c)))
        .ok_or_else(|| ApiError::not_found("customer", id, "id"))
}

/// `POST /v1/customers/{id}`.
pub fn update(sb: &Sandbox, key: &str, id: &str, p: &Params) -> Result<Value, ApiError> {
    p.only(CUSTOMER_PARAMS)?;
    sb.with_space(key, |s| {
        let c = s
            .customers
            .get_mut(id)
            .ok_or_else(|| ApiError::not_found("customer", id, "id"))?;
        let mut updated = c.clone();
        customer_fields(p, &mut updated)?;
        *c = updated.clone();
        Ok(json!(updated))
    })
}
