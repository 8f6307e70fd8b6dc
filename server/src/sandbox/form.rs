//! Decodes Stripe-style form bodies and query strings
//! (`a[b][]=x&a[c]=y&metadata[k]=v`) into a JSON tree, with limits so a
//! hostile body cannot make it do unbounded work.

use serde_json::{Map, Value};

pub const MAX_PAIRS: usize = 512;
pub const MAX_DEPTH: usize = 6;
pub const MAX_KEY_LEN: usize = 200;

/// A form that cannot be read; `param` names the offending key.
#[derive(Debug, PartialEq)]
pub struct FormError {
    pub param: String,
    pub message: String,
}

fn err(param: &str, message: impl Into<String>) -> FormError {
    FormError {
        param: param.to_owned(),
        message: message.into(),
    }
}

/// `a[b][]` → `["a", "b", ""]`.
fn segments(key: &str) -> Result<Vec<&str>, FormError> {
    let (head, mut rest) = match key.find('[') {
        Some(i) => (&key[..i], &key[i..]),
        None => (key, ""),
    };
    if head.is_empty() {
        return Err(err(key, "Invalid parameter name."));
    }
    let mut out = vec![head];
    while !rest.is_empty() {
        let close = rest
            .find(']')
            .filter(|_| rest.starts_with('['))
            .ok_or_else(|| err(key, "Invalid bracket notation."))?;
        out.push(&rest[1..close]);
        rest = &rest[close + 1..];
    }
    if out.len() > MAX_DEPTH {
        return Err(err(key, "Parameters are nested too deeply."));
    }
    Ok(out)
}

fn insert(node: &mut Value, segs: &[&str], value: String, key: &str) -> Result<(), FormError> {
    let (first, rest) = segs.split_first().expect("segments are never empty");
    let is_index = first.is_empty() || first.bytes().all(|b| b.is_ascii_digit());
    if is_index {
        // Arrays: `x[]=a` appends; `x[0]=a` is accepted as Stripe's clients send it.
        if node.is_null() {
            *node = Value::Array(Vec::new());
        }
        let arr = node
            .as_array_mut()
            .ok_or_else(|| err(key, "Mixed list and object parameters."))?;
        if rest.is_empty() {
            arr.push(Value::String(value));
            return Ok(());
        }
        // `x[0][k]=v`: a list of objects, addressed by index.
        let idx: usize = first.parse().map_err(|_| err(key, "Invalid list index."))?;
        if idx > arr.len() || idx >= MAX_PAIRS {
            return Err(err(key, "List indexes must be consecutive."));
        }
        if idx == arr.len() {
            arr.push(Value::Null);
        }
        return insert(&mut arr[idx], rest, value, key);
    }
    if node.is_null() {
        *node = Value::Object(Map::new());
    }
    let obj = node
        .as_object_mut()
        .ok_or_else(|| err(key, "Mixed list and object parameters."))?;
    if rest.is_empty() {
        if obj.contains_key(*first) {
            return Err(err(key, "Parameter given more than once."));
        }
        obj.insert((*first).to_owned(), Value::String(value));
        Ok(())
    } else {
        let child = obj.entry((*first).to_owned()).or_insert(Value::Null);
        insert(child, rest, value, key)
    }
}

/// Decodes a whole body or query string into an object.
pub fn decode(raw: &[u8]) -> Result<Value, FormError> {
    let mut root = Value::Object(Map::new());
    for (n, (k, v)) in form_urlencoded::parse(raw).enumerate() {
        if n >= MAX_PAIRS {
            return Err(err("", "Too many parameters."));
        }
        if k.len() > MAX_KEY_LEN {
            let short: String = k.chars().take(40).collect();
            return Err(err(&short, "Parameter name is too long."));
        }
        let segs = segments(&k)?;
        insert(&mut root, &segs, v.into_owned(), &k)?;
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_objects_and_lists() {
        let v = decode(
            b"account_holder[type]=customer&account_holder[customer]=cus_1\
              &permissions[]=balances&permissions[]=ownership&filters[countries][]=US&limit=3",
        )
        .unwrap();
        assert_eq!(
            v,
            json!({
                "account_holder": {"type": "customer", "customer": "cus_1"},
                "permissions": ["balances", "ownership"],
                "filters": {"countries": ["US"]},
                "limit": "3"
            })
        );
    }

    #[test]
    fn indexed_lists_as_official_clients_send_them() {
        let v = decode(b"permissions[0]=balances&permissions[1]=transactions").unwrap();
        assert_eq!(v, json!({"permissions": ["balances", "transactions"]}));
        let v = decode(b"items[0][a]=1&items[0][b]=2&items[1][a]=3").unwrap();
        assert_eq!(v, json!({"items": [{"a": "1", "b": "2"}, {"a": "3"}]}));
    }

    #[test]
    fn percent_encoded_brackets() {
        let v = decode(b"account_holder%5Btype%5D=customer&name=Zo%C3%AB+R").unwrap();
        assert_eq!(v, json!({"account_holder": {"type": "customer"}, "name": "Zoë R"}));
    }

    #[test]
    fn hostile_forms_are_refused() {
        assert!(decode(b"a[b=1").is_err());
        assert!(decode(b"[x]=1").is_err());
        assert!(decode(b"a=1&a[b]=2").is_err());
        assert!(decode(b"a=1&a=2").is_err());
        assert!(decode(b"a[]=1&a[k]=2").is_err());
        assert!(decode(b"a[b][c][d][e][f][g]=1").is_err());
        assert!(decode(b"a[5][x]=1").is_err());
        let many: String = (0..600).map(|i| format!("k{i}=1&")).collect();
        assert!(decode(many.as_bytes()).is_err());
        let long = format!("{}=1", "é".repeat(300));
        assert!(decode(long.as_bytes()).is_err());
    }
}
