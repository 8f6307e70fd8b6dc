//! A request's parameters after form decoding ([`super::form`]), with the
//! checks Stripe makes on them: unknown names, strings, hashes, lists and
//! enums, each refused with the offending `param`.

use super::error::ApiError;
use super::form;
use serde_json::{Map, Value};

/// Longest string parameter Stripe takes, in characters.
pub const MAX_STRING: usize = 5000;
/// Stripe's metadata bounds: keys, key length, value length (characters).
pub const MAX_METADATA_KEYS: usize = 50;
pub const MAX_METADATA_KEY: usize = 40;
pub const MAX_METADATA_VALUE: usize = 500;

/// Decoded parameters (body of a POST, query of a GET).
pub struct Params(pub Map<String, Value>);

impl Params {
    pub fn parse(raw: &[u8]) -> Result<Self, ApiError> {
        match form::decode(raw) {
            Ok(Value::Object(m)) => Ok(Params(m)),
            Ok(_) => Err(ApiError::invalid("", "Invalid request body.")),
            Err(e) => Err(ApiError::invalid(&e.param, e.message)),
        }
    }

    /// Refuses any parameter not in `allowed` (`parameter_unknown`).
    pub fn only(&self, allowed: &[&str]) -> Result<(), ApiError> {
        match self.0.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(ApiError::unknown_param(k)),
            None => Ok(()),
        }
    }

    pub fn str(&self, name: &str) -> Result<Option<String>, ApiError> {
        str_at(self.0.get(name), name)
    }

    pub fn obj(&self, name: &str) -> Result<Option<&Map<String, Value>>, ApiError> {
        match self.0.get(name) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(_) => Err(ApiError::invalid(name, format!("Invalid object: {name} must be a hash."))),
        }
    }

    /// A string of at most `max` characters (Stripe's bound for that field).
    pub fn bounded(&self, name: &str, max: usize) -> Result<Option<String>, ApiError> {
        match self.str(name)? {
            Some(s) if s.chars().count() > max => Err(ApiError::invalid(
                name,
                format!("Invalid {name}: must be at most {max} characters."),
            )),
            other => Ok(other),
        }
    }

    /// Applies `metadata[k]=v` to `into` as Stripe does: an empty value unsets
    /// a key, `metadata=` (empty) unsets all; at most 50 keys of 40
    /// characters, values of 500.
    pub fn metadata(&self, into: &mut Map<String, Value>) -> Result<(), ApiError> {
        if self.0.get("metadata").and_then(Value::as_str) == Some("") {
            into.clear();
            return Ok(());
        }
        let Some(meta) = self.obj("metadata")? else {
            return Ok(());
        };
        for (k, v) in meta {
            let param = format!("metadata[{k}]");
            let v = v
                .as_str()
                .ok_or_else(|| ApiError::invalid(&param, "Invalid metadata value: must be a string."))?;
            if k.chars().count() > MAX_METADATA_KEY {
                return Err(ApiError::invalid(
                    &param,
                    format!("Metadata keys can be at most {MAX_METADATA_KEY} characters."),
                ));
            }
            if v.chars().count() > MAX_METADATA_VALUE {
                return Err(ApiError::invalid(
                    &param,
                    format!("Metadata values can be at most {MAX_METADATA_VALUE} characters."),
                ));
            }
            if v.is_empty() {
                into.remove(k);
            } else {
                into.insert(k.clone(), Value::String(v.to_owned()));
            }
        }
        if into.len() > MAX_METADATA_KEYS {
            return Err(ApiError::invalid(
                "metadata",
                format!("An object can have at most {MAX_METADATA_KEYS} metadata keys."),
            ));
        }
        Ok(())
    }

    /// A list parameter (`name[]=…`), deduplicated; `allowed` empty = any value.
    pub fn list(&self, name: &str, allowed: &[&str]) -> Result<Vec<String>, ApiError> {
        list_at(self.0.get(name), name, allowed)
    }
}

/// A string at `v`, named `name` in errors.
pub fn str_at(v: Option<&Value>, name: &str) -> Result<Option<String>, ApiError> {
    match v {
        None => Ok(None),
        // Bytes first: a string that long in bytes may still be short in characters.
        Some(Value::String(s)) if s.len() <= MAX_STRING || s.chars().count() <= MAX_STRING => Ok(Some(s.clone())),
        Some(Value::String(_)) => Err(ApiError::invalid(name, format!("{name} is too long."))),
        Some(_) => Err(ApiError::invalid(name, format!("Invalid string: {name} must be a string."))),
    }
}

/// A list of strings at `v`, deduplicated, each one of `allowed` unless it is empty.
pub fn list_at(v: Option<&Value>, name: &str, allowed: &[&str]) -> Result<Vec<String>, ApiError> {
    let items = match v {
        None => return Ok(vec![]),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(ApiError::invalid(name, format!("Invalid array: {name} must be a list."))),
    };
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let s = item
            .as_str()
            .ok_or_else(|| ApiError::invalid(name, format!("Invalid {name}.")))?;
        if !allowed.is_empty() && !allowed.contains(&s) {
            return Err(ApiError::invalid(
                name,
                format!("Invalid {name}[]: must be one of {}", allowed.join(", ")),
            ));
        }
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    Ok(out)
}

/// Refuses keys of the hash `parent` not in `allowed`.
pub fn expect_keys(m: &Map<String, Value>, parent: &str, allowed: &[&str]) -> Result<(), ApiError> {
    match m.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(ApiError::unknown_param(&format!("{parent}[{k}]"))),
        None => Ok(()),
    }
}
