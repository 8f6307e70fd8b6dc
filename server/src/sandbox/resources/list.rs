//! Stripe's list pagination: `limit`, `starting_after`, `ending_before`,
//! over items already in list order (newest first).

use crate::sandbox::error::ApiError;
use crate::sandbox::params::Params;
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
