//! The sandbox's test institutions and the accounts each one offers,
//! mirroring Stripe test mode's "Test Institution".

use super::kinds::{AccountCategory, AccountStatus, AccountSubcategory};

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
    /// Login happens in an OAuth popup window, as at OAuth banks.
    pub oauth: bool,
    /// The institution is down: picking it fails with this error code.
    pub down: Option<(&'static str, &'static str)>,
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

const fn no_ach(
    key: &'static str,
    display_name: &'static str,
    subcategory: AccountSubcategory,
    last4: &'static str,
    preselected: bool,
) -> AccountTemplate {
    AccountTemplate {
        ach: false,
        ..cash(key, display_name, subcategory, last4, preselected)
    }
}

const TEST_ACCOUNTS: &[AccountTemplate] = &[
    cash("success", "Success", AccountSubcategory::Checking, "6789", true),
    cash("savings", "Savings", AccountSubcategory::Savings, "4321", false),
    cash(
        "insufficient_funds",
        "Insufficient Funds",
        AccountSubcategory::Checking,
        "2227",
        false,
    ),
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
];

pub static TEST_INSTITUTION: Institution = Institution {
    id: "test_institution",
    name: "Test Institution",
    accounts: TEST_ACCOUNTS,
    oauth: false,
    down: None,
};

pub static INSTITUTIONS: &[&Institution] = &[
    &TEST_INSTITUTION,
    &Institution {
        id: "test_oauth_institution",
        name: "Test OAuth Institution",
        accounts: TEST_ACCOUNTS,
        oauth: true,
        down: None,
    },
    &Institution {
        id: "ownership_accounts",
        name: "Ownership Accounts",
        accounts: &[
            cash("owner_matches", "Owner Matches", AccountSubcategory::Checking, "0001", true),
            cash("owner_differs", "Owner Differs", AccountSubcategory::Checking, "0002", false),
            cash("owner_missing", "No Owner Data", AccountSubcategory::Savings, "0003", false),
        ],
        oauth: false,
        down: None,
    },
    &Institution {
        id: "invalid_payment_accounts",
        name: "Invalid Payment Accounts",
        accounts: &[
            no_ach(
                "no_ach_checking",
                "Checking (no ACH)",
                AccountSubcategory::Checking,
                "0004",
                true,
            ),
            no_ach(
                "no_ach_savings",
                "Savings (no ACH)",
                AccountSubcategory::Savings,
                "0005",
                false,
            ),
        ],
        oauth: false,
        down: None,
    },
    &Institution {
        id: "down_bank_scheduled",
        name: "Down Bank (Scheduled)",
        accounts: &[],
        oauth: false,
        down: Some((
            "institution_down_scheduled",
            "Down Bank is under scheduled maintenance. Try another bank or come back later.",
        )),
    },
    &Institution {
        id: "down_bank_unscheduled",
        name: "Down Bank (Unscheduled)",
        accounts: &[],
        oauth: false,
        down: Some((
            "institution_down_unscheduled",
            "Down Bank is unavailable right now. Try another bank or come back later.",
        )),
    },
    &Institution {
        id: "down_bank_error",
        name: "Down Bank (Error)",
        accounts: &[],
        oauth: false,
        down: Some(("institution_error", "Down Bank returned an error while connecting.")),
    },
];

pub fn institution(id: &str) -> Option<&'static Institution> {
    INSTITUTIONS.iter().copied().find(|i| i.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_institution_preselects_only_success() {
        let pre: Vec<_> = TEST_INSTITUTION
            .accounts
            .iter()
            .filter(|a| a.preselected)
            .map(|a| a.key)
            .collect();
        assert_eq!(pre, ["success"]);
        assert!(institution("test_institution").is_some());
        assert!(institution("test_oauth_institution").unwrap().oauth);
        assert!(institution("down_bank_error").unwrap().down.is_some());
        assert!(institution("nope").is_none());
    }
}
