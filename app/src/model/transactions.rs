//! Transactions as the app keeps them: the stored copy of Stripe's list, the
//! filters a user may apply to it (parsed at the edge), a page of results and
//! the daily net flow the chart draws.

use super::Money;
use crate::error::AppError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// How many transactions one page shows.
pub const PER_PAGE: u32 = 20;
/// How many days the net-flow chart covers, today included.
pub const CHART_DAYS: usize = 90;
/// Pages past this are refused (180 days of data never get near it).
const MAX_PAGE: u32 = 10_000;
/// Longest description search, in characters.
pub const MAX_SEARCH: usize = 100;

/// Where a transaction stands at the bank.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransactionStatus {
    Pending,
    Posted,
    Void,
}

impl TransactionStatus {
    pub const ALL: [TransactionStatus; 3] = [TransactionStatus::Pending, TransactionStatus::Posted, TransactionStatus::Void];

    pub fn as_str(self) -> &'static str {
        match self {
            TransactionStatus::Pending => "pending",
            TransactionStatus::Posted => "posted",
            TransactionStatus::Void => "void",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TransactionStatus::Pending => "Pending",
            TransactionStatus::Posted => "Posted",
            TransactionStatus::Void => "Void",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// A calendar day in UTC, as days since 1970-01-01. Written `YYYY-MM-DD`
/// (what `<input type="date">` sends).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Day(pub i64);

impl Day {
    pub const SECONDS: i64 = 86_400;

    /// The day a Unix timestamp falls on.
    pub fn of(unix: i64) -> Self {
        Day(unix.div_euclid(Self::SECONDS))
    }

    /// The first second of the day.
    pub fn start(self) -> i64 {
        self.0 * Self::SECONDS
    }

    pub fn plus(self, days: i64) -> Self {
        Day(self.0 + days)
    }

    /// `(year, month, day)`, by Howard Hinnant's civil-from-days.
    pub fn civil(self) -> (i64, u32, u32) {
        let z = self.0 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        (yoe + era * 400 + i64::from(m <= 2), m, d)
    }

    /// The inverse of [`Day::civil`]; `None` for a date that does not exist.
    pub fn from_civil(y: i64, m: u32, d: u32) -> Option<Self> {
        let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
        let days_in_month = match m {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        if d == 0 || d > days_in_month {
            return None;
        }
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let mp = i64::from(if m > 2 { m - 3 } else { m + 9 });
        let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Some(Day(era * 146_097 + doe - 719_468))
    }

    /// Parses `YYYY-MM-DD` (years 1970 to 9999).
    pub fn parse(raw: &str, field: &str) -> Result<Self, AppError> {
        let bad = || AppError::invalid(field, "Expected a date like 2026-11-24.");
        let raw = raw.trim();
        let b = raw.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad());
        }
        let num = |s: &str| {
            if s.bytes().all(|c| c.is_ascii_digit()) {
                s.parse::<u32>().ok()
            } else {
                None
            }
        };
        let (y, m, d) = (
            num(&raw[..4]).ok_or_else(bad)?,
            num(&raw[5..7]).ok_or_else(bad)?,
            num(&raw[8..]).ok_or_else(bad)?,
        );
        if y < 1970 {
            return Err(bad());
        }
        Day::from_civil(i64::from(y), m, d).ok_or_else(bad)
    }

    /// `Nov 24`, for chart labels.
    pub fn short(self) -> String {
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let (_, m, d) = self.civil();
        format!("{} {d}", MONTHS[(m as usize - 1) % 12])
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.civil();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// One transaction as stored locally.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    /// `fctxn_…`
    pub id: String,
    /// Negative is money out.
    pub amount: Money,
    pub description: String,
    pub status: TransactionStatus,
    pub transacted_at: i64,
    /// When Stripe last changed it (e.g. pending → posted).
    pub updated: i64,
}

/// Which stored transactions to show: parsed from the page's filter form.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionFilter {
    /// First day included.
    pub from: Option<Day>,
    /// Last day included.
    pub to: Option<Day>,
    pub status: Option<TransactionStatus>,
    /// Text the description must contain (case-insensitive; trimmed, never empty).
    #[serde(default)]
    pub search: Option<String>,
    /// 1-based.
    pub page: u32,
}

impl TransactionFilter {
    /// Empty strings mean "no limit"; `status` is `pending`, `posted`, `void`
    /// or empty for all; `search` is text of at most [`MAX_SEARCH`]
    /// characters the description contains; `page` is a number from 1.
    pub fn parse(from: &str, to: &str, status: &str, search: &str, page: &str) -> Result<Self, AppError> {
        let day = |raw: &str, field| {
            if raw.trim().is_empty() {
                Ok(None)
            } else {
                Day::parse(raw, field).map(Some)
            }
        };
        let (from, to) = (day(from, "from")?, day(to, "to")?);
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return Err(AppError::invalid("to", "The end date is before the start date."));
            }
        }
        let status = match status.trim() {
            "" | "all" => None,
            s => Some(
                TransactionStatus::parse(s).ok_or_else(|| AppError::invalid("status", "Expected pending, posted or void."))?,
            ),
        };
        let search = search.trim();
        let search = if search.is_empty() {
            None
        } else if search.chars().count() > MAX_SEARCH {
            return Err(AppError::invalid("q", "Search for at most 100 characters."));
        } else if search.chars().any(char::is_control) {
            return Err(AppError::invalid("q", "The search contains characters that are not allowed."));
        } else {
            Some(search.to_owned())
        };
        let page = match page.trim() {
            "" => 1,
            p => p
                .parse::<u32>()
                .ok()
                .filter(|p| (1..=MAX_PAGE).contains(p))
                .ok_or_else(|| AppError::invalid("page", "That page does not exist."))?,
        };
        Ok(TransactionFilter {
            from,
            to,
            status,
            search,
            page,
        })
    }

    /// The search as a `LIKE` pattern on the lowercased description:
    /// lowercased, `%`, `_` and `\` escaped (with `ESCAPE '\'`), in `%…%`.
    pub fn search_pattern(&self) -> Option<String> {
        let s = self.search.as_deref()?;
        let mut p = String::with_capacity(s.len() + 2);
        p.push('%');
        for c in s.to_lowercase().chars() {
            if matches!(c, '%' | '_' | '\\') {
                p.push('\\');
            }
            p.push(c);
        }
        p.push('%');
        Some(p)
    }

    /// `[start, end)` in Unix seconds for the stored-data query.
    pub fn time_range(&self) -> (Option<i64>, Option<i64>) {
        (self.from.map(Day::start), self.to.map(|d| d.plus(1).start()))
    }
}

/// Daily net flow (money in minus money out, void excluded) in one currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyFlow {
    pub currency: String,
    pub first_day: Day,
    /// One entry per day from `first_day`, in minor units.
    pub net: Vec<i64>,
    /// Totals over the period, in minor units (`money_out` is negative).
    pub money_in: i64,
    pub money_out: i64,
}

impl DailyFlow {
    pub fn total(&self, minor: i64) -> Money {
        Money {
            minor,
            currency: self.currency.clone(),
        }
    }
}

/// What the transactions section shows: one page of the stored list, the
/// chart's data and how much is stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionsView {
    pub filter: TransactionFilter,
    pub items: Vec<Transaction>,
    /// How many stored transactions match the filter.
    pub matching: u64,
    /// How many are stored for the account in all.
    pub stored: u64,
    /// When the stored copy last took in a refresh, if ever.
    pub synced_at: Option<i64>,
    /// The last [`CHART_DAYS`] days, one per currency.
    pub flows: Vec<DailyFlow>,
}

impl TransactionsView {
    pub fn page_count(&self) -> u32 {
        (self.matching.div_ceil(u64::from(PER_PAGE))).clamp(1, u64::from(MAX_PAGE)) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip_through_the_calendar() {
        for (text, n) in [
            ("1970-01-01", 0),
            ("2000-02-29", 11_016),
            ("2026-11-24", 20_781),
            ("2024-12-31", 20_088),
        ] {
            let d = Day::parse(text, "from").unwrap();
            assert_eq!(d, Day(n), "{text}");
            assert_eq!(d.to_string(), text);
        }
        for n in 0..30_000 {
            let (y, m, d) = Day(n).civil();
            assert_eq!(Day::from_civil(y, m, d), Some(Day(n)));
        }
        assert_eq!(Day::of(1_492_774_577).to_string(), "2017-04-21");
        assert_eq!(Day(20_781).short(), "Nov 24");
    }

    #[test]
    fn impossible_and_hostile_dates_are_refused() {
        for bad in [
            "2026-02-30",
            "2025-02-29",
            "2026-13-01",
            "2026-00-10",
            "26-11-24",
            "2026/11/24",
            "２０２６-11-24",
            "1969-12-31",
            "",
            "2026-11-24'--",
        ] {
            assert!(Day::parse(bad, "from").is_err(), "{bad:?}");
        }
        assert!(Day::parse("2024-02-29", "from").is_ok());
    }

    #[test]
    fn filters_parse_at_the_edge() {
        let f = TransactionFilter::parse("2026-11-01", "2026-11-24", "posted", "", "2").unwrap();
        assert_eq!(f.status, Some(TransactionStatus::Posted));
        assert_eq!(f.time_range(), (Some(Day(20_758).start()), Some(Day(20_782).start())));
        assert_eq!(
            TransactionFilter::parse("", "", "", "", "").unwrap(),
            TransactionFilter {
                page: 1,
                ..Default::default()
            }
        );
        assert_eq!(TransactionFilter::parse("", "", "all", "", "1").unwrap().status, None);
        let field = |r: Result<TransactionFilter, AppError>| match r {
            Err(AppError::InvalidInput { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(TransactionFilter::parse("2026-11-24", "2026-11-01", "", "", "1")), "to");
        assert_eq!(field(TransactionFilter::parse("", "", "refunded", "", "1")), "status");
        assert_eq!(field(TransactionFilter::parse("", "", "", "", "0")), "page");
        assert_eq!(field(TransactionFilter::parse("", "", "", "", "10001")), "page");
        assert_eq!(field(TransactionFilter::parse("yesterday", "", "", "", "1")), "from");
        assert_eq!(field(TransactionFilter::parse("", "", "", "", "-1")), "page");
        assert_eq!(field(TransactionFilter::parse("", "", "", "", "2.5")), "page");
    }

    #[test]
    fn searches_are_bounded_and_become_escaped_patterns() {
        let f = |q: &str| TransactionFilter::parse("", "", "", q, "");
        assert_eq!(f("  ").unwrap().search, None);
        assert_eq!(f(" Coffee ").unwrap().search_pattern().as_deref(), Some("%coffee%"));
        assert_eq!(f("100%_a\\b").unwrap().search_pattern().as_deref(), Some("%100\\%\\_a\\\\b%"));
        assert_eq!(
            f("'; DROP TABLE x; --").unwrap().search.as_deref(),
            Some("'; DROP TABLE x; --")
        );
        assert!(f(&"x".repeat(MAX_SEARCH)).is_ok());
        for bad in ["x".repeat(MAX_SEARCH + 1), "a\u{0}b".to_owned(), "a\nb".to_owned()] {
            assert!(
                matches!(f(&bad), Err(AppError::InvalidInput { field, .. }) if field == "q"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn page_count_never_says_zero() {
        let view = |matching| TransactionsView {
            filter: TransactionFilter {
                page: 1,
                ..Default::default()
            },
            items: vec![],
            matching,
            stored: matching,
            synced_at: None,
            flows: vec![],
        };
        assert_eq!(view(0).page_count(), 1);
        assert_eq!(view(20).page_count(), 1);
        assert_eq!(view(21).page_count(), 2);
    }
}
