//! Financial Connections transactions: `GET /v1/financial_connections/transactions`
//! (`account`, `transacted_at[gt|gte|lt|lte]`, `transaction_refresh[after]`,
//! pagination) and `GET …/transactions/{id}`.

use super::list::{paginate, range_filter};
use crate::sandbox::error::ApiError;
use crate::sandbox::params::{expect_keys, str_at, Params};
use crate::sandbox::state::{Sandbox, Transaction};
use serde_json::Value;

/// `GET /v1/financial_connections/transactions`, newest first.
pub fn list(sb: &Sandbox, key: &str, q: &Params) -> Result<Value, ApiError> {
    q.only(&[
        "account",
        "transacted_at",
        "transaction_refresh",
        "limit",
        "starting_after",
        "ending_before",
        "expand",
    ])?;
    let account = q.str("account")?.ok_or_else(|| ApiError::missing("account"))?;
    let in_range = range_filter(q.0.get("transacted_at"), "transacted_at")?;
    let after = match q.obj("transaction_refresh")? {
        None => None,
        Some(m) => {
            expect_keys(m, "transaction_refresh", &["after"])?;
            str_at(m.get("after"), "transaction_refresh[after]")?
        }
    };
    sb.read(key, |s| {
        let a = s
            .account(&account)
            .ok_or_else(|| ApiError::not_found("financial_connections.account", &account, "account"))?;
        if !a.has_permission("transactions") {
            return Err(ApiError::invalid(
                "account",
                "The account was not linked with the `transactions` permission.",
            ));
        }
        let min_seq = match &after {
            None => 0,
            Some(r) => s
                .transaction_refreshes
                .get(&account)
                .and_then(|h| h.seq_of(r))
                .map(|seq| seq + 1)
                .ok_or_else(|| ApiError::not_found("transaction_refresh", r, "transaction_refresh[after]"))?,
        };
        let items: Vec<&Transaction> = s
            .transactions
            .get(&account)
            .map(|v| {
                v.iter()
                    .rev()
                    .filter(|t| t.refresh_seq >= min_seq && in_range(t.transacted_at))
                    .collect()
            })
            .unwrap_or_default();
        paginate(items, |t| &t.id, q, "/v1/financial_connections/transactions")
    })
}

/// `GET /v1/financial_connections/transactions/{id}`.
pub fn retrieve(sb: &Sandbox, key: &str, id: &str, q: &Params) -> Result<Value, ApiError> {
    q.only(&["expand"])?;
    sb.read(key, |s| {
        s.transactions
            .values()
            .flat_map(|v| v.iter())
            .find(|t| t.id == id)
            .map(|t| t.to_json())
    })
    .ok_or_else(|| ApiError::not_found("financial_connections.transaction", id, "id"))
}
