//! Bank account tokens: the `btok_…` a `collectBankAccountToken` flow makes
//! for its one account, and `GET /v1/tokens/{id}`.

use crate::sandbox::clock::{new_id, now};
use crate::sandbox::data;
use crate::sandbox::error::ApiError;
use crate::sandbox::params::Params;
use crate::sandbox::state::{Sandbox, Space};
use serde_json::{json, Value};

/// The routing number the sandbox's bank tokens carry (Stripe's test one).
pub const TEST_ROUTING_NUMBER: &str = "110000000";

/// Makes the token for a linked account.
pub fn bank_token(space: &mut Space, account_id: &str, routing_number: &str) -> Option<Value> {
    let a = space.account(account_id)?;
    let holder = data::owners(a.template).first().map(|o| o.name);
    let token = json!({
        "id": new_id("btok_"),
        "object": "token",
        "client_ip": null,
        "created": now(),
        "livemode": false,
        "type": "bank_account",
        "used": false,
        "bank_account": {
            "id": new_id("ba_"),
            "object": "bank_account",
            "account_holder_name": holder,
            "account_holder_type": "individual",
            "account_type": a.subcategory,
            "bank_name": a.institution_name.to_uppercase(),
            "country": "US",
            "currency": "usd",
            "fingerprint": data::Seeded::new(&a.id).id("")[..16].to_owned(),
            "last4": a.last4,
            "routing_number": routing_number,
            "status": "new",
        },
    });
    space.add_token(token["id"].as_str().unwrap_or_default().to_owned(), token.clone());
    Some(token)
}

/// `GET /v1/tokens/{id}`.
pub fn retrieve(sb: &Sandbox, key: &str, id: &str, q: &Params) -> Result<Value, ApiError> {
    q.only(&["expand"])?;
    sb.read(key, |s| s.tokens.get(id).cloned())
        .ok_or_else(|| ApiError::not_found("token", id, "token"))
}
