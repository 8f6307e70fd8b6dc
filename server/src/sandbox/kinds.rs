//! What kind of account the sandbox links and what state it is in, in
//! Stripe's words (`cash`, `line_of_credit`, `inactive`). The sandbox's own
//! enums: it shares no model with the app it stands in for.

use serde::{Deserialize, Serialize};

/// `category` of a `financial_connections.account`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountCategory {
    Cash,
    Credit,
    Investment,
    Other,
}

/// `subcategory` of a `financial_connections.account`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountSubcategory {
    Checking,
    Savings,
    Mortgage,
    LineOfCredit,
    CreditCard,
    Other,
}

impl AccountSubcategory {
    /// Stripe's name (`line_of_credit`), as in `filters[account_subcategories][]`.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountSubcategory::Checking => "checking",
            AccountSubcategory::Savings => "savings",
            AccountSubcategory::Mortgage => "mortgage",
            AccountSubcategory::LineOfCredit => "line_of_credit",
            AccountSubcategory::CreditCard => "credit_card",
            AccountSubcategory::Other => "other",
        }
    }

    /// What the modal shows.
    pub fn label(self) -> &'static str {
        match self {
            AccountSubcategory::Checking => "Checking",
            AccountSubcategory::Savings => "Savings",
            AccountSubcategory::Mortgage => "Mortgage",
            AccountSubcategory::LineOfCredit => "Line of credit",
            AccountSubcategory::CreditCard => "Credit card",
            AccountSubcategory::Other => "Other",
        }
    }
}

/// `status` of a `financial_connections.account`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Active,
    Inactive,
    Disconnected,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Inactive => "inactive",
            AccountStatus::Disconnected => "disconnected",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialised_as_stripe_names_them() {
        assert_eq!(
            serde_json::to_value(AccountSubcategory::LineOfCredit).unwrap(),
            "line_of_credit"
        );
        for s in [
            AccountSubcategory::Checking,
            AccountSubcategory::Savings,
            AccountSubcategory::Mortgage,
            AccountSubcategory::LineOfCredit,
            AccountSubcategory::CreditCard,
            AccountSubcategory::Other,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for s in [AccountStatus::Active, AccountStatus::Inactive, AccountStatus::Disconnected] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(serde_json::to_value(AccountCategory::Credit).unwrap(), "credit");
    }
}
