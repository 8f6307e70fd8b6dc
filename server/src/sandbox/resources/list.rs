//! Stripe's list pagination: `limit`, `starting_after`, `ending_before`,
//! over items already in list order (newest first); and the time filters
//! lists share (`created`, `transacted_at`: an integer or `[gt|gte|lt|lte]`).

use crate::sandbox::error::ApiError;
use crate::sandbox::params::{expect_keys, Params};
use serde_json::{json, Value};

/// Stripe list pagination over `items` (already newest first).
pub fn paginate<T: serde::Serialize>(
    items: Vec<&T>,
    id_of: impl Fn(&T) -> &str,
    q: &Params,
    url: &str,
) -> Result<Value, ApiError> {
    let limit = match q.str("limit")? {
        None => 10,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=100).contains(n))
            .ok_or_else(|| ApiError::invalid("limit", "limit must be an integer from 1 to 100."))?,
    };
    let after = q.str("starting_after")?;
    let before = q.str("ending_before")?;
    if after.is_some() && before.is_some() {
        return Err(ApiError::invalid(
            "starting_after",
            "You may only specify one of starting_after and ending_before.",
        ));
    }
    let position = |cursor: &str, param: &str| {
        items
            .iter()
            .position(|i| id_of(i) == cursor)
            .ok_or_else(|| ApiError::not_found("object", cursor, param))
    };
    let (page, has_more): (Vec<&T>, bool) = if let Some(a) = after {
        let start = position(&a, "starting_after")? + 1;
        let rest = &items[start..];
        (rest.iter().take(limit).copied().collect(), rest.len() > limit)
    } else if let Some(b) = before {
        let end = position(&b, "ending_before")?;
        let from = end.saturating_sub(limit);
        (items[from..end].to_vec(), from > 0)
    } else {
        (items.iter().take(limit).copied().collect(), items.len() > limit)
    };
    Ok(json!({ "object": "list", "data": page, "has_more": has_more, "url": url }))
}

/// A time filter: `name=123` (exactly) or `name[gte]=…&name[lt]=…`.
pub fn range_filter(v: Option<&Value>, name: &str) -> Result<Box<dyn Fn(i64) -> bool>, ApiError> {
    let int = |v: &Value, name: &str| -> Result<i64, ApiError> {
        v.as_str()
            .and_then(|s| s.parse::<i64>().ok())
            .ok_or_else(|| ApiError::invalid(name, format!("Invalid integer: {name}")))
    };
    match v {
        None => Ok(Box::new(|_| true)),
        Some(Value::Object(m)) => {
            expect_keys(m, name, &["gt", "gte", "lt", "lte"])?;
            let b = |k: &str| m.get(k).map(|v| int(v, &format!("{name}[{k}]"))).transpose();
            let (gt, gte, lt, lte) = (b("gt")?, b("gte")?, b("lt")?, b("lte")?);
            Ok(Box::new(move |t| {
                gt.is_none_or(|x| t > x) && gte.is_none_or(|x| t >= x) && lt.is_none_or(|x| t < x) && lte.is_none_or(|x| t <= x)
            }))
        }
        Some(v) => {
            let exact = int(v, name)?;
            Ok(Box::new(move |t| t == exact))
        }
    }
}
