//! Settings of a secret key, as a Stripe account has them: its default API
//! version (`POST /_sandbox/api_version`), used by requests without
//! `Stripe-Version` and by events for endpoints that pinned none.

use crate::sandbox::error::ApiError;
use crate::sandbox::params::Params;
use crate::sandbox::state::Sandbox;
use crate::sandbox::version::ApiVersion;
use serde_json::{json, Value};

/// `version=YYYY-MM-DD[.name]`, or `version=` to go back to the sandbox's own.
pub fn set_api_version(sb: &Sandbox, key: &str, p: &Params) -> Result<Value, ApiError> {
    p.only(&["version"])?;
    let given = p.str("version")?.ok_or_else(|| ApiError::missing("version"))?;
    let version = if given.is_empty() {
        None
    } else {
        Some(ApiVersion::parse(&given).ok_or_else(|| {
            ApiError::invalid(
                "version",
                format!("Invalid API version: {given}. Versions look like 2026-07-29.dahlia."),
            )
        })?)
    };
    let now = sb.with_space(key, |s| {
        s.api_version = version;
        s.default_version()
    });
    Ok(json!({ "api_version": now.as_str() }))
}
