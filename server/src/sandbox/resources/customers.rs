//! Customers: `POST /v1/customers`, `GET|POST /v1/customers/{id}`.

use crate::sandbox::clock::{new_id, now};
use crate::sandbox::error::ApiError;
use crate::sandbox::params::{Params, MAX_STRING};
use crate::sandbox::state::{Customer, Sandbox};
use serde_json::{json, Map, Value};

const CUSTOMER_PARAMS: &[&str] = &["name", "email", "description", "phone", "metadata", "expand"];

/// Stripe's bounds on a customer's strings (characters).
const MAX_NAME: usize = 256;
const MAX_EMAIL: usize = 512;
const MAX_PHONE: usize = 20;

fn customer_fields(p: &Params, c: &mut Customer) -> Result<(), ApiError> {
    if let Some(email) = p.bounded("email", MAX_EMAIL)? {
        if !email.is_empty() && !email.contains('@') {
            return Err(ApiError {
                code: Some("email_invalid"),
                ..ApiError::invalid("email", format!("Invalid email address: {email}"))
            });
        }
        c.email = (!email.is_empty()).then_some(email);
    }
    if let Some(name) = p.bounded("name", MAX_NAME)? {
        c.name = (!name.is_empty()).then_some(name);
    }
    if let Some(d) = p.bounded("description", MAX_STRING)? {
        c.description = (!d.is_empty()).then_some(d);
    }
    if let Some(ph) = p.bounded("phone", MAX_PHONE)? {
        c.phone = (!ph.is_empty()).then_some(ph);
    }
    p.metadata(&mut c.metadata)
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
    let body = json!(c);
    sb.with_space(key, |s| s.add_customer(c))?;
    Ok(body)
}

/// `GET /v1/customers/{id}`.
pub fn retrieve(sb: &Sandbox, key: &str, id: &str) -> Result<Value, ApiError> {
    sb.read(key, |s| s.customers.get(id).map(|c| json!(c)))
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
