//! Customers: `POST|GET /v1/customers` (create; list by `email`, `created`,
//! pages), `GET|POST|DELETE /v1/customers/{id}`. A deleted customer is
//! retrieved as Stripe's stub (`deleted: true`) and is otherwise gone.

use super::list::{paginate, range_filter};
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
        created: now(),
        email: None,
        name: None,
        description: None,
        phone: None,
        metadata: Map::new(),
        invoice_prefix: new_id("")[..8].to_uppercase(),
        seq: 0,
        deleted: false,
    };
    customer_fields(p, &mut c)?;
    sb.with_space(key, |s| s.add_customer(c))
}

/// `GET /v1/customers`: newest first, not the deleted; `email` is exact
/// (case-sensitive, as Stripe), `created` an integer or a range.
pub fn list(sb: &Sandbox, key: &str, q: &Params) -> Result<Value, ApiError> {
    q.only(&[
        "created",
        "email",
        "ending_before",
        "expand",
        "limit",
        "starting_after",
        "test_clock",
    ])?;
    let email = q.bounded("email", MAX_EMAIL)?;
    let created = range_filter(q.0.get("created"), "created")?;
    let test_clock = q.str("test_clock")?;
    sb.read(key, |s| {
        let mut items: Vec<&Customer> = s
            .customers
            .values()
            .filter(|c| !c.deleted && created(c.created))
            .filter(|c| email.as_ref().is_none_or(|e| c.email.as_ref() == Some(e)))
            // No customer here has a test clock.
            .filter(|_| test_clock.is_none())
            .collect();
        items.sort_by_key(|c| std::cmp::Reverse(c.seq));
        let rendered: Vec<Value> = items.iter().map(|c| c.to_json()).collect();
        paginate(
            rendered.iter().collect(),
            |c| c["id"].as_str().unwrap_or_default(),
            q,
            "/v1/customers",
        )
    })
}

/// `GET /v1/customers/{id}` (a deleted one is its stub).
pub fn retrieve(sb: &Sandbox, key: &str, id: &str, q: &Params) -> Result<Value, ApiError> {
    q.only(&["expand"])?;
    sb.read(key, |s| s.customers.get(id).map(Customer::to_json))
        .ok_or_else(|| ApiError::not_found("customer", id, "id"))
}

/// `POST /v1/customers/{id}`.
pub fn update(sb: &Sandbox, key: &str, id: &str, p: &Params) -> Result<Value, ApiError> {
    p.only(CUSTOMER_PARAMS)?;
    sb.with_space(key, |s| {
        let c = s
            .customers
            .get_mut(id)
            .filter(|c| !c.deleted)
            .ok_or_else(|| ApiError::not_found("customer", id, "id"))?;
        let mut updated = c.clone();
        customer_fields(p, &mut updated)?;
        *c = updated;
        Ok(c.to_json())
    })
}

/// `DELETE /v1/customers/{id}`: what is left is the stub.
pub fn delete(sb: &Sandbox, key: &str, id: &str, q: &Params) -> Result<Value, ApiError> {
    q.only(&[])?;
    sb.with_space(key, |s| {
        let c = s
            .customers
            .get_mut(id)
            .filter(|c| !c.deleted)
            .ok_or_else(|| ApiError::not_found("customer", id, "id"))?;
        c.deleted = true;
        c.metadata.clear();
        (c.email, c.name, c.description, c.phone) = (None, None, None, None);
        Ok(json!({ "id": id, "object": "customer", "deleted": true }))
    })
}
