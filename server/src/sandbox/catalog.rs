//! The sandbox's test institutions and the accounts each one offers,
//! mirroring Stripe test mode's "Test Institution".

use app::model::{AccountCategory, AccountStatus, AccountSubcategory};

/// An account an institution offers in the modal.
#[derive(Debug)]
pub struct AccountTemplate {
    /// Stable key the modal sends back when the user ticks it.
    pub key: &'static str,
    pub display_name: &'static str,
    pub category: AccountCategory,
    pub subcategory: AccountSubcategory,
    pub last4: &'static str,
    /// Ticked when the account picker opens.
    pub preselected: bool,
    /// Status the account has once linked.
    pub status: AccountStatus,
    /// Whether it can be used for ACH (`us_bank_account`).
    pub ach: bool,
}

#[derive(Debug)]
pub struct Institution {
    pub id: &'static str,
    pub name: &'static str,
    pub accounts: &'static [AccountTemplate],
}

const fn cash(
    key: &'static str,
    display_name: &'static str,
    subcategory: AccountSubcategory,
    last4: &'static str,
    preselected: bool,
) -> AccountTemplate {
    AccountTemplate {
        key,
        display_name,
        category: AccountCategory::Cash,
        subcategory,
        last4,
        preselected,
        status: AccountStatus::Active,
        ach: true,
    }
}

pub static TEST_INSTITUTION: Institution = Institution {
    id: "test_institution",
    name: "Test Institution",
    accounts: &[
        cash("success", "Success", AccountSubcategory::Checking, "6789", true),
        cash("savings", "Savings", AccountSubcategory::Savings, "4321", false),
        cash("insufficient_funds", "Insufficient Funds", AccountSubcategory::Checking, "2227", false),
        cash("high_balance", "High Balance", AccountSubcategory::Checking, "1111", false),
        AccountTemplate {
            key: "credit_card",
            display_name: "Credit Card",
            category: AccountCategory::Credit,
            subcategory: AccountSubcategory::CreditCard,
            last4: "4242",
            preselected: false,
            status: AccountStatus::Active,
            ach: false,
        },
        AccountTemplate {
            key: "closed",
            display_name: "Closed Account",
            category: AccountCategory::Cash,
            subcategory: AccountSubcategory::Checking,
            last4: "1113",
            preselected: false,
            status: AccountStatus::Inactive,
            ach: true,
        },
    ],
};

pub static INSTITUTIONS: &[&Institution] = &[&TEST_INSTITUTION];

pub fn institution(id: &str) -> Option<&'static Institution> {
    INSTITUTIONS.iter().copied().find(|i| i.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_institution_preselects_only_success() {
        let pre: Vec<_> = TEST_INSTITUTION.accounts.iter().filter(|a| a.preselected).map(|a| a.key).collect();
        assert_eq!(pre, ["success"]);
        assert!(institution("test_institution").is_some());
        assert!(institution("nope").is_none());
    }
}
