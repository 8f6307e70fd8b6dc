//! `expand[]`, as Stripe runs it on every operation (GET and POST): each
//! path names fields the spec marks expandable (`x-expandableFields`), dotted
//! through nested objects (`data.ownership` on a list,
//! `account_holder.customer`), at most four levels deep. A path through
//! anything else is refused before the request runs; an expandable field
//! that holds an id of an object the key has is replaced by that object.

use crate::sandbox::error::ApiError;
use crate::sandbox::params::Params;
use crate::sandbox::state::Space;
use serde_json::{json, Value};

/// What an operation answers with: one object of a kind, or a list of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returns {
    One(&'static str),
    List(&'static str),
}

/// Stripe's deepest expansion.
const MAX_DEPTH: usize = 4;
/// Stripe's limit on `expand[]` entries.
const MAX_PATHS: usize = 50;

/// The expandable fields of an object (`x-expandableFields` of the spec) and
/// what each holds once expanded, where the sandbox knows.
fn expandable(object: &str) -> &'static [(&'static str, Option<&'static str>)] {
    match object {
        "financial_connections.account" => &[
            ("account_holder", Some("bank_connections.account_holder")),
            ("balance", None),
            ("balance_refresh", None),
            ("ownership", Some("financial_connections.account_ownership")),
            ("ownership_refresh", None),
        ],
        "bank_connections.account_holder" => &[("customer", Some("customer")), ("account", None)],
        "financial_connections.account_ownership" => &[("owners", None)],
        "financial_connections.session" => &[
            ("account_holder", Some("bank_connections.account_holder")),
            ("accounts", Some("list:financial_connections.account")),
            ("filters", None),
        ],
        "customer" => &[
            ("address", None),
            ("cash_balance", None),
            ("default_source", None),
            ("discount", None),
            ("invoice_settings", None),
            ("shipping", None),
            ("sources", None),
            ("subscriptions", None),
            ("tax", None),
            ("tax_ids", None),
            ("test_clock", None),
        ],
        "event" => &[("data", None), ("request", None)],
        "payment_intent" => &[
            ("application", None),
            ("customer", Some("customer")),
            ("invoice", None),
            ("latest_charge", None),
            ("on_behalf_of", None),
            ("payment_method", Some("payment_method")),
            ("review", None),
        ],
        "payment_method" => &[("customer", Some("customer"))],
        "mandate" => &[("payment_method", Some("payment_method"))],
        "token" => &[("bank_account", Some("bank_account")), ("card", None)],
        "bank_account" => &[("account", None), ("customer", Some("customer"))],
        _ => &[],
    }
}

/// The `expand[]` of a request, each path checked against what `returns`
/// can expand; refused with Stripe's message otherwise.
pub fn paths(p: &Params, returns: Returns) -> Result<Vec<String>, ApiError> {
    let paths = p.list("expand", &[])?;
    if paths.len() > MAX_PATHS {
        return Err(ApiError::invalid(
            "expand",
            format!("You may expand at most {MAX_PATHS} fields."),
        ));
    }
    for path in &paths {
        check(path, returns)?;
    }
    Ok(paths)
}

fn check(path: &str, returns: Returns) -> Result<(), ApiError> {
    let parts: Vec<&str> = path.split('.').collect();
    if parts.len() > MAX_DEPTH + usize::from(matches!(returns, Returns::List(_))) {
        return Err(ApiError::invalid(
            "expand",
            format!("You cannot expand more than {MAX_DEPTH} levels of a property. Property: {path}"),
        ));
    }
    let (mut object, rest) = match returns {
        Returns::One(o) => (Some(o.to_owned()), &parts[..]),
        Returns::List(o) if parts.first() == Some(&"data") => (Some(o.to_owned()), &parts[1..]),
        Returns::List(o) => {
            let hint = if expandable(o).iter().any(|(f, _)| *f == parts[0]) {
                format!(" You may want to try expanding 'data.{path}' instead.")
            } else {
                String::new()
            };
            return Err(cannot_expand(path, &hint));
        }
    };
    for part in rest {
        let Some(kind) = object.take() else {
            return Err(cannot_expand(path, ""));
        };
        // Through a list, only its `data`.
        if let Some(item) = kind.strip_prefix("list:") {
            if *part != "data" {
                return Err(cannot_expand(path, ""));
            }
            object = Some(item.to_owned());
            continue;
        }
        let Some((_, target)) = expandable(&kind).iter().find(|(f, _)| f == part) else {
            return Err(cannot_expand(path, ""));
        };
        object = target.map(str::to_owned);
    }
    Ok(())
}

fn cannot_expand(path: &str, hint: &str) -> ApiError {
    ApiError::invalid("expand", format!("This property cannot be expanded ({path}).{hint}"))
}

/// Expands `paths` (already checked) in the answer `v`.
pub fn apply(space: &Space, v: &mut Value, paths: &[String]) {
    for path in paths {
        let parts: Vec<&str> = path.split('.').collect();
        expand_at(space, v, &parts);
    }
}

fn expand_at(space: &Space, v: &mut Value, parts: &[&str]) {
    let Some((first, rest)) = parts.split_first() else {
        return;
    };
    if v["object"] == "list" && *first == "data" {
        if let Some(items) = v["data"].as_array_mut() {
            for item in items {
                expand_at(space, item, rest);
            }
        }
        return;
    }
    let Some(field) = v.get_mut(*first) else {
        return;
    };
    if let Some(object) = field.as_str().and_then(|id| lookup(space, id)) {
        *field = object;
    }
    if field.get("object") == Some(&json!("list")) && !rest.is_empty() {
        expand_at(space, field, &["data"].iter().chain(rest).copied().collect::<Vec<_>>());
    } else if field.is_object() {
        expand_at(space, field, rest);
    }
}

/// The object an id names, when the key has it.
fn lookup(space: &Space, id: &str) -> Option<Value> {
    if id.starts_with("fcaowns_") {
        space.ownerships.get(id).map(|o| o.to_json())
    } else if id.starts_with("cus_") {
        space.customers.get(id).map(|c| c.to_json())
    } else if id.starts_with("pm_") {
        space.payments.methods.get(id).map(|m| m.to_json())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(q: &str, r: Returns) -> Result<Vec<String>, ApiError> {
        paths(&Params::parse(q.as_bytes()).unwrap(), r)
    }

    #[test]
    fn paths_follow_the_specs_expandable_fields() {
        let account = Returns::One("financial_connections.account");
        let accounts = Returns::List("financial_connections.account");
        assert!(expand("expand[]=ownership&expand[]=account_holder.customer", account).is_ok());
        assert!(expand("expand[]=data.ownership", accounts).is_ok());
        assert!(expand(
            "expand[]=accounts.data.ownership",
            Returns::One("financial_connections.session")
        )
        .is_ok());
        let e = expand("expand[]=ownership", accounts).unwrap_err();
        assert!(e.message.contains("data.ownership"), "{}", e.message);
        for bad in ["institution_name", "ownership.nothing", "a.b.c.d.e"] {
            let e = expand(&format!("expand[]={bad}"), account).unwrap_err();
            assert_eq!(e.param.as_deref(), Some("expand"), "{bad}");
        }
    }
}
