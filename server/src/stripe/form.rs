//! Stripe's request encoding: `application/x-www-form-urlencoded` with
//! bracket notation for nesting (`account_holder[customer]=cus_1`) and lists
//! (`permissions[]=balances`).

/// Ordered form fields, encoded once per request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn new() -> Self {
        Form(Vec::new())
    }

    /// `key=value`; `key` may already contain brackets (`a[b]`).
    pub fn field(mut self, key: &str, value: impl Into<String>) -> Self {
        self.0.push((key.to_owned(), value.into()));
        self
    }

    /// `key=value` when `value` is `Some`.
    pub fn opt(self, key: &str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.field(key, v),
            None => self,
        }
    }

    /// `key[]=a&key[]=b`.
    pub fn list<I, S>(mut self, key: &str, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let k = format!("{key}[]");
        for v in values {
            self.0.push((k.clone(), v.into()));
        }
        self
    }

    /// The fields in order (the developer log shows them, redacted).
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn encode(&self) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.0 {
            s.append_pair(k, v);
        }
        s.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_and_lists() {
        let f = Form::new()
            .field("account_holder[type]", "customer")
            .field("account_holder[customer]", "cus_1")
            .list("permissions", ["balances", "ownership"])
            .opt("return_url", None::<String>);
        assert_eq!(
            f.encode(),
            "account_holder%5Btype%5D=customer&account_holder%5Bcustomer%5D=cus_1\
             &permissions%5B%5D=balances&permissions%5B%5D=ownership"
        );
    }

    #[test]
    fn values_are_escaped() {
        let f = Form::new().field("name", "Zoë & Co=1").field("email", "a+b@example.com");
        assert_eq!(f.encode(), "name=Zo%C3%AB+%26+Co%3D1&email=a%2Bb%40example.com");
    }
}
