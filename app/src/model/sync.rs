//! Where an account's data stands with the bank: the last refresh of each
//! kind of data (as last read from Stripe), when the account last synced,
//! and which refreshes may start now (what **Refresh all** starts).

use super::{DataFeature, Day, Permission, RefreshState, RefreshStatus};
use serde::{Deserialize, Serialize};

/// `2026-11-24 13:05:09 UTC`, the same on the server and in the browser.
pub fn utc(ts: i64) -> String {
    let secs = ts.rem_euclid(Day::SECONDS);
    format!(
        "{} {:02}:{:02}:{:02} UTC",
        Day::of(ts),
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// The last refresh of each kind of data; `None` where none ever ran.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refreshes {
    pub balance: Option<RefreshState>,
    pub ownership: Option<RefreshState>,
    pub transactions: Option<RefreshState>,
}

impl Refreshes {
    pub const FEATURES: [DataFeature; 3] = [DataFeature::Balance, DataFeature::Ownership, DataFeature::Transactions];

    pub fn get(&self, feature: DataFeature) -> Option<&RefreshState> {
        match feature {
            DataFeature::Balance => self.balance.as_ref(),
            DataFeature::Ownership => self.ownership.as_ref(),
            DataFeature::Transactions => self.transactions.as_ref(),
        }
    }

    /// When data last arrived from the bank: the newest refresh that
    /// succeeded (Unix seconds), if any.
    pub fn synced_at(&self) -> Option<i64> {
        Self::FEATURES
            .into_iter()
            .filter_map(|f| self.get(f))
            .filter(|r| r.status == RefreshStatus::Succeeded)
            .map(|r| r.last_attempted_at)
            .max()
    }

    /// Whether a refresh of `feature` may start at `now` (Unix seconds): none
    /// is running and Stripe's cooldown, if any, is over.
    pub fn may_start(&self, feature: DataFeature, now: i64) -> bool {
        match self.get(feature) {
            None => true,
            Some(r) if r.status == RefreshStatus::Pending => false,
            Some(r) => r.next_refresh_available_at.is_none_or(|next| next <= now),
        }
    }

    /// Whether any refresh is still running.
    pub fn any_pending(&self) -> bool {
        Self::FEATURES
            .into_iter()
            .any(|f| self.get(f).is_some_and(|r| r.status == RefreshStatus::Pending))
    }
}

impl DataFeature {
    /// The permission a refresh of this data needs.
    pub fn needs(self) -> Permission {
        match self {
            DataFeature::Balance => Permission::Balances,
            DataFeature::Ownership => Permission::Ownership,
            DataFeature::Transactions => Permission::Transactions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(status: RefreshStatus, at: i64, next: Option<i64>) -> Option<RefreshState> {
        Some(RefreshState {
            status,
            last_attempted_at: at,
            next_refresh_available_at: next,
        })
    }

    #[test]
    fn utc_times_are_formatted_without_a_clock() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_492_774_577), "2017-04-21 11:36:17 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
    }

    #[test]
    fn synced_at_is_the_newest_success() {
        let r = Refreshes {
            balance: state(RefreshStatus::Succeeded, 100, Some(110)),
            ownership: state(RefreshStatus::Failed, 300, None),
            transactions: state(RefreshStatus::Succeeded, 200, None),
        };
        assert_eq!(r.synced_at(), Some(200), "a failure is not a sync");
        assert_eq!(Refreshes::default().synced_at(), None);
        let pending = Refreshes {
            balance: state(RefreshStatus::Pending, 500, None),
            ..Default::default()
        };
        assert_eq!(pending.synced_at(), None);
        assert!(pending.any_pending() && !r.any_pending());
    }

    #[test]
    fn a_refresh_may_start_when_none_runs_and_the_cooldown_is_over() {
        let r = Refreshes {
            balance: state(RefreshStatus::Succeeded, 100, Some(110)),
            ownership: state(RefreshStatus::Pending, 100, None),
            transactions: None,
        };
        assert!(!r.may_start(DataFeature::Balance, 109));
        assert!(r.may_start(DataFeature::Balance, 110));
        assert!(!r.may_start(DataFeature::Ownership, 10_000));
        assert!(r.may_start(DataFeature::Transactions, 0));
        let failed = Refreshes {
            balance: state(RefreshStatus::Failed, 100, None),
            ..Default::default()
        };
        assert!(failed.may_start(DataFeature::Balance, 100));
    }
}
