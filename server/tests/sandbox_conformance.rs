//! Spec conformance: with `Stripe-Version: 2023-08-16`, every operation the
//! sandbox serves of Stripe's OpenAPI subset for that version
//! (`stripe-data/openapi-2023-08-16-conformance.json`, cut by the script
//! beside it) answers with JSON that validates against the operation's
//! response schema; every request parameter the spec lists for it is
//! accepted, or listed with a reason in the README's "not emulated" table
//! (a new gap, or a listed parameter that has since become accepted, fails
//! the test); and the conformance figure in the README is the one this
//! test computes.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::*;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

const VERSION: &str = "2023-08-16";

fn spec() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/stripe-data/openapi-2023-08-16-conformance.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("conformance spec")).expect("spec is JSON")
}

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).expect("README.md")
}

/// OpenAPI 3.0 → JSON Schema: `nullable: true` becomes "or null", and the
/// spec's own `x-…` keys go.
fn json_schema(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                if k.starts_with("x-") || k == "nullable" {
                    continue;
                }
                out.insert(k.clone(), json_schema(v));
            }
            if m.get("nullable") == Some(&Value::Bool(true)) {
                json!({ "anyOf": [Value::Object(out), { "type": "null" }] })
            } else {
                Value::Object(out)
            }
        }
        Value::Array(a) => Value::Array(a.iter().map(json_schema).collect()),
        other => other.clone(),
    }
}

/// A request in the version under test.
fn request(method: &Method, path: &str, form: &str) -> Request<Body> {
    let (uri, body) = if method == Method::POST {
        (path.to_owned(), form.to_owned())
    } else if form.is_empty() {
        (path.to_owned(), String::new())
    } else {
        (format!("{path}?{form}"), String::new())
    };
    Request::builder()
        .method(method.clone())
        .uri(uri)
        .header("Authorization", format!("Bearer {KEY}"))
        .header("Stripe-Version", VERSION)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap()
}

/// The objects a test run made, to fill in the spec's path templates.
struct Ids(BTreeMap<&'static str, String>);

impl Ids {
    fn path(&self, template: &str) -> String {
        let mut p = template.to_owned();
        for (name, id) in &self.0 {
            p = p.replace(&format!("{{{name}}}"), id);
        }
        p
    }
}

async fn ok(app: &axum::Router, method: Method, path: &str, form: &str) -> Value {
    let (s, _, v) = send(app, request(&method, path, form)).await;
    assert_eq!(s, StatusCode::OK, "{method} {path} {form}: {v}");
    v
}

/// Makes one of everything (customer, linked accounts with ownership, a
/// bank token, events, a webhook endpoint, payments) and returns their ids.
async fn world(app: &axum::Router) -> Ids {
    let c = ok(
        app,
        Method::POST,
        "/v1/customers",
        "name=Jenny+Rosen&email=jenny%40example.com",
    )
    .await;
    let cus = c["id"].as_str().unwrap().to_owned();
    let holder = format!(
        "account_holder[type]=customer&account_holder[customer]={cus}&permissions[]=balances&permissions[]=ownership\
         &permissions[]=payment_method&filters[countries][]=US"
    );
    let s = ok(app, Method::POST, "/v1/financial_connections/sessions", &holder).await;
    let session = s["id"].as_str().unwrap().to_owned();
    let done = ok(
        app,
        Method::POST,
        &format!("/_sandbox/sessions/{session}/complete"),
        "accounts[]=success&accounts[]=savings",
    )
    .await;
    let linked = &done["financialConnectionsSession"]["accounts"];
    let account = linked[0]["id"].as_str().unwrap().to_owned();
    let spare = linked[1]["id"].as_str().unwrap().to_owned();
    let refresh = format!("/v1/financial_connections/accounts/{account}/refresh");
    ok(app, Method::POST, &refresh, "features[]=balance&features[]=ownership").await;
    settled(app, KEY, &account, "ownership_refresh").await;
    let a = settled(app, KEY, &account, "balance_refresh").await;
    let ownership = a["ownership"].as_str().unwrap().to_owned();
    let t = ok(app, Method::POST, "/v1/financial_connections/sessions", &holder).await;
    let tok = ok(
        app,
        Method::POST,
        &format!("/_sandbox/sessions/{}/complete", t["id"].as_str().unwrap()),
        "flow=token",
    )
    .await;
    let token = tok["token"]["id"].as_str().unwrap().to_owned();
    let e = ok(
        app,
        Method::POST,
        "/v1/webhook_endpoints",
        "url=http://127.0.0.1:9/hook&enabled_events[]=customer.created",
    )
    .await;
    let endpoint = e["id"].as_str().unwrap().to_owned();
    let events = ok(app, Method::GET, "/v1/events", "").await;
    let event = events["data"][0]["id"].as_str().unwrap().to_owned();
    let doomed = ok(app, Method::POST, "/v1/customers", "").await;
    let payments = payments(app, &cus, &account).await;
    Ids(BTreeMap::from([
        ("customer", cus),
        ("session", session),
        ("account", account),
        ("spare", spare),
        ("token", token),
        ("webhook_endpoint", endpoint),
        ("id", event),
        ("ownership", ownership),
        ("doomed", doomed["id"].as_str().unwrap().to_owned()),
        ("intent", payments[0].clone()),
        ("open_intent", payments[1].clone()),
        ("confirm_intent", payments[2].clone()),
        ("cancel_intent", payments[3].clone()),
        ("payment_method", payments[4].clone()),
    ]))
}

const MANDATE: &str = "mandate_data[customer_acceptance][type]=online\
    &mandate_data[customer_acceptance][online][ip_address]=203.0.113.7\
    &mandate_data[customer_acceptance][online][user_agent]=conformance";

/// The form that pays from `account` (a payment method of it, for `confirm=true`).
fn pay_form(customer: &str, account: &str) -> String {
    format!(
        "amount=1000&currency=usd&customer={customer}&payment_method_types[]=us_bank_account\
         &payment_method_data[type]=us_bank_account\
         &payment_method_data[us_bank_account][financial_connections_account]={account}\
         &payment_method_data[billing_details][name]=Jenny+Rosen"
    )
}

/// PaymentIntents in each state the operations need: one that succeeded,
/// one open to update, one to confirm, one to cancel; and the first one's
/// payment method.
async fn payments(app: &axum::Router, customer: &str, account: &str) -> Vec<String> {
    let paid = ok(
        app,
        Method::POST,
        "/v1/payment_intents",
        &format!("{}&confirm=true&{MANDATE}", pay_form(customer, account)),
    )
    .await;
    let id = paid["id"].as_str().unwrap().to_owned();
    let method = paid["payment_method"].as_str().unwrap().to_owned();
    until(async || {
        let (_, _, pi) = send(app, request(&Method::GET, &format!("/v1/payment_intents/{id}"), "")).await;
        (pi["status"] == "succeeded").then_some(())
    })
    .await;
    let open = ok(app, Method::POST, "/v1/payment_intents", "amount=500&currency=usd").await;
    let to_confirm = ok(app, Method::POST, "/v1/payment_intents", &pay_form(customer, account)).await;
    let to_cancel = ok(app, Method::POST, "/v1/payment_intents", "amount=700&currency=usd").await;
    let id_of = |v: &Value| v["id"].as_str().unwrap().to_owned();
    vec![id, id_of(&open), id_of(&to_confirm), id_of(&to_cancel), method]
}

/// The request that exercises an operation fully (its required parameters,
/// and expansions where the spec allows them).
fn exercise(method: &Method, template: &str, ids: &Ids) -> (String, String) {
    let path = ids.path(template);
    let form = match (method.as_str(), template) {
        ("GET", "/v1/financial_connections/accounts/{account}/owners") => {
            format!("ownership={}", ids.0["ownership"])
        }
        ("GET", "/v1/financial_connections/accounts/{account}") => "expand[]=ownership".to_owned(),
        ("GET", "/v1/financial_connections/accounts") => format!("session={}", ids.0["session"]),
        ("POST", "/v1/financial_connections/accounts/{account}/refresh") => "features[]=balance".to_owned(),
        ("POST", "/v1/financial_connections/sessions") => format!(
            "account_holder[type]=customer&account_holder[customer]={}&permissions[]=balances\
             &return_url=https://example.com/linked",
            ids.0["customer"]
        ),
        ("POST", "/v1/customers/{customer}") => "description=Conformance&metadata[k]=v".to_owned(),
        ("POST", "/v1/webhook_endpoints") => "url=http://127.0.0.1:9/other&enabled_events[]=*&api_version=2023-08-16".to_owned(),
        ("POST", "/v1/webhook_endpoints/{webhook_endpoint}") => "disabled=true".to_owned(),
        ("DELETE", "/v1/customers/{customer}") => return (ids.path("/v1/customers/{doomed}"), String::new()),
        ("GET", "/v1/payment_intents") => format!("customer={}", ids.0["customer"]),
        ("POST", "/v1/payment_intents") => format!(
            "{}&confirm=true&description=Conformance&metadata[k]=v&{MANDATE}",
            pay_form(&ids.0["customer"], &ids.0["account"])
        ),
        ("GET", "/v1/payment_intents/{intent}") => "expand[]=payment_method&expand[]=customer".to_owned(),
        ("POST", "/v1/payment_intents/{intent}") => {
            let path = ids.path("/v1/payment_intents/{open_intent}");
            return (path, "amount=650&description=Updated&metadata[k]=v".to_owned());
        }
        ("POST", "/v1/payment_intents/{intent}/confirm") => {
            return (ids.path("/v1/payment_intents/{confirm_intent}/confirm"), MANDATE.to_owned());
        }
        ("POST", "/v1/payment_intents/{intent}/cancel") => {
            let path = ids.path("/v1/payment_intents/{cancel_intent}/cancel");
            return (path, "cancellation_reason=abandoned".to_owned());
        }
        ("POST", "/v1/financial_connections/accounts/{account}/disconnect") => {
            let path = ids.path("/v1/financial_connections/accounts/{spare}/disconnect");
            return (path, "expand[]=ownership".to_owned());
        }
        _ => String::new(),
    };
    (path, form)
}

/// Whether the sandbox answers an operation at all (rather than Stripe's
/// "Unrecognized request URL"), asked about an object that does not exist.
async fn served(app: &axum::Router, method: &Method, template: &str) -> bool {
    let mut path = template.to_owned();
    while let (Some(a), Some(b)) = (path.find('{'), path.find('}')) {
        path.replace_range(a..=b, "probe_none");
    }
    let (s, _, v) = send(app, request(method, &path, "")).await;
    !(s == StatusCode::NOT_FOUND
        && v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Unrecognized request URL")))
}

/// The README's "not emulated" table: operation → parameters.
fn not_emulated() -> BTreeMap<String, BTreeSet<String>> {
    let text = readme();
    let start = text
        .find("<!-- not-emulated:start -->")
        .expect("README has the not-emulated table");
    let end = text.find("<!-- not-emulated:end -->").expect("the table ends");
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in text[start..end].lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split(" | ").collect();
        let op = cells[0].trim_start_matches("| ").trim_matches('`').to_owned();
        let params = cells[1].split(", ").map(|p| p.trim_matches('`').to_owned());
        out.entry(op).or_default().extend(params);
    }
    out
}

/// The parameters the spec lists for an operation (query, or form body).
fn spec_params(op: &Value) -> Vec<String> {
    let mut out: Vec<String> = op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["in"] == "query")
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    if let Some(props) = op["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]["properties"].as_object() {
        out.extend(props.keys().cloned());
    }
    out
}

/// Every object (by `object`, deleted ones aside) in an answer, with the
/// fields it had.
fn objects(v: &Value, into: &mut BTreeMap<String, BTreeSet<String>>) {
    match v {
        Value::Object(m) => {
            if let Some(kind) = m.get("object").and_then(Value::as_str) {
                if kind != "list" && m.get("deleted") != Some(&Value::Bool(true)) {
                    into.entry(kind.to_owned()).or_default().extend(m.keys().cloned());
                }
            }
            m.values().for_each(|x| objects(x, into));
        }
        Value::Array(a) => a.iter().for_each(|x| objects(x, into)),
        _ => {}
    }
}

#[tokio::test]
async fn responses_and_parameters_conform_to_the_2023_08_16_spec() {
    let spec = spec();
    let components = json_schema(&spec["components"]);
    let app = fast_sandbox();
    let ids = world(&app).await;
    let gaps_listed = not_emulated();

    let (mut total, mut served_ops) = (0, 0);
    let mut failures = Vec::new();
    let mut gaps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut emitted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut ops: Vec<(Method, String, Value)> = Vec::new();
    for (template, item) in spec["paths"].as_object().unwrap() {
        for (m, op) in item.as_object().unwrap() {
            let Ok(method) = m.to_uppercase().parse::<Method>() else {
                continue;
            };
            if !["GET", "POST", "DELETE"].contains(&method.as_str()) {
                continue;
            }
            ops.push((method, template.clone(), op.clone()));
        }
    }
    // Deletions last, so the objects they remove serve the other operations first.
    ops.sort_by_key(|(m, _, _)| *m == Method::DELETE);
    for (method, template, op) in ops {
        total += 1;
        let name = format!("{method} {template}");
        if !served(&app, &method, &template).await {
            continue;
        }
        served_ops += 1;
        // Parameters: each one the spec lists is known (whatever its value
        // does), or listed as not emulated.
        for param in spec_params(&op) {
            if method == Method::DELETE {
                continue;
            }
            let (path, _) = exercise(&method, &template, &ids);
            let (_, _, v) = send(&app, request(&method, &path, &format!("{param}=1"))).await;
            let unknown = v["error"]["code"] == "parameter_unknown" && v["error"]["param"] == param.as_str();
            if unknown {
                gaps.entry(name.clone()).or_default().insert(param);
            }
        }
        // The response: valid against the operation's schema.
        let (path, form) = exercise(&method, &template, &ids);
        let (s, _, body) = send(&app, request(&method, &path, &form)).await;
        if s != StatusCode::OK {
            failures.push(format!("{name}: {s} {body}"));
            continue;
        }
        let mut schema = json_schema(&op["responses"]["200"]["content"]["application/json"]["schema"]);
        schema["components"] = components.clone();
        let validator = jsonschema::validator_for(&schema).expect("the spec's schema compiles");
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .take(5)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        if !errors.is_empty() {
            failures.push(format!("{name}: {}", errors.join("; ")));
        }
        objects(&body, &mut emitted);
    }
    assert!(failures.is_empty(), "responses that break the spec:\n{}", failures.join("\n"));

    let unlisted: Vec<String> = gaps
        .iter()
        .flat_map(|(op, ps)| {
            ps.iter()
                .filter(|p| !gaps_listed.get(op).is_some_and(|l| l.contains(*p)))
                .map(move |p| format!("{op}: {p}"))
        })
        .collect();
    assert!(
        unlisted.is_empty(),
        "parameters the spec lists that the sandbox refuses, missing from the README's not-emulated table:\n{}",
        unlisted.join("\n")
    );
    let stale: Vec<String> = gaps_listed
        .iter()
        .flat_map(|(op, ps)| {
            ps.iter()
                .filter(|p| !gaps.get(op).is_some_and(|g| g.contains(*p)))
                .map(move |p| format!("{op}: {p}"))
        })
        .collect();
    assert!(
        stale.is_empty(),
        "listed as not emulated, but accepted:\n{}",
        stale.join("\n")
    );

    // The figure: operations served, and fields emitted of those the spec
    // gives the objects the served operations return.
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    let (mut in_spec, mut present) = (0, 0);
    for (kind, fields) in &emitted {
        let Some(props) = schemas.get(kind).and_then(|s| s["properties"].as_object()) else {
            continue;
        };
        in_spec += props.len();
        present += props.keys().filter(|k| fields.contains(*k)).count();
        let missing: Vec<&String> = props.keys().filter(|k| !fields.contains(*k)).collect();
        if !missing.is_empty() {
            println!("{kind}: not emitted: {missing:?}");
        }
    }
    let figure = format!(
        "API version 2023-08-16: {served_ops} of the subset's {total} operations served; \
         {present} of the {in_spec} fields the spec gives their objects emitted."
    );
    println!("{figure}");
    assert!(
        readme().contains(&figure),
        "README's conformance figure is out of date; it should read:\n{figure}"
    );
}
