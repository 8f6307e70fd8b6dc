//! The parts of Stripe's objects this app reads. Unknown fields are ignored;
//! unknown enum values fall back to `Other` or are dropped, so a newer API
//! version cannot break decoding.

use app::model::{
    AccountCategory, AccountId, AccountStatus, AccountSubcategory, CustomerId, LinkedAccount, Permission, SessionId,
};
use serde::{Deserialize, Deserializer};

#[derive(Clone, Debug, Deserialize)]
pub struct List<T> {
    pub data: Vec<T>,
    #[serde(default)]
    pub has_more: bool,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Customer {
    pub id: CustomerId,
    pub name: Option<String>,
    pub email: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct AccountHolder {
    #[serde(rename = "type")]
    pub kind: String,
    pub customer: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct FcSession {
    pub id: SessionId,
    #[serde(default)]
    pub client_secret: Option<String>,
    pub account_holder: Option<AccountHolder>,
    pub accounts: List<FcAccount>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct FcAccount {
    pub id: AccountId,
    pub account_holder: Option<AccountHolder>,
    pub institution_name: String,
    pub display_name: Option<String>,
    pub last4: Option<String>,
    pub category: AccountCategory,
    pub subcategory: AccountSubcategory,
    pub status: AccountStatus,
    #[serde(default, deserialize_with = "known_permissions")]
    pub permissions: Vec<Permission>,
}

impl FcAccount {
    pub fn holder_customer(&self) -> Option<&str> {
        self.account_holder.as_ref().and_then(|h| h.customer.as_deref())
    }
}

impl From<FcAccount> for LinkedAccount {
    fn from(a: FcAccount) -> Self {
        LinkedAccount {
            id: a.id,
            institution_name: a.institution_name,
            display_name: a.display_name,
            last4: a.last4,
            category: a.category,
            subcategory: a.subcategory,
            status: a.status,
            permissions: a.permissions,
        }
    }
}

fn known_permissions<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Permission>, D::Error> {
    let raw: Option<Vec<String>> = Option::deserialize(d)?;
    Ok(raw.unwrap_or_default().iter().filter_map(|s| Permission::parse(s)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = include_str!("../../tests/stripe-data/fixtures-fc.json");

    fn fixture(name: &str) -> serde_json::Value {
        let all: serde_json::Value = serde_json::from_str(FIXTURES).unwrap();
        all["resources"][name].clone()
    }

    #[test]
    fn stripe_fixtures_decode() {
        let a: FcAccount = serde_json::from_value(fixture("financial_connections.account")).unwrap();
        assert_eq!(a.institution_name, "StripeBank");
        assert_eq!(a.holder_customer(), Some("cus_QXg1o8vcGmoR32"));
        let s: FcSession = serde_json::from_value(fixture("financial_connections.session")).unwrap();
        assert!(s.accounts.data.is_empty());
        let c: Customer = serde_json::from_value(fixture("customer")).unwrap();
        assert_eq!(c.id.as_str(), "cus_QXg1o8vcGmoR32");
    }

    #[test]
    fn unknown_permissions_are_dropped() {
        let mut v = fixture("financial_connections.account");
        v["permissions"] = serde_json::json!(["balances", "telepathy"]);
        let a: FcAccount = serde_json::from_value(v).unwrap();
        assert_eq!(a.permissions, vec![Permission::Balances]);
    }
}
