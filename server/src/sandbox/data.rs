//! Deterministic, realistic data for a linked account, seeded by its id:
//! balances in integer cents, owners, and 180 days of transactions. The same
//! account always gets the same data, so tests and screenshots are stable.

use serde_json::{json, Value};

/// How far back transactions go.
pub const HISTORY_DAYS: i64 = 180;
/// Transactions this recent are still pending.
pub const PENDING_DAYS: i64 = 3;
const DAY: i64 = 86_400;

/// splitmix64: small, fast, good enough for fake data.
pub struct Seeded(u64);

impl Seeded {
    pub fn new(seed: &str) -> Self {
        // FNV-1a over the seed string.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in seed.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Seeded(h)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % ((hi - lo + 1) as u64)) as i64
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }

    /// 24 id characters.
    pub fn id(&mut self, prefix: &str) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let tail: String = (0..24).map(|_| ALPHABET[(self.next_u64() % 62) as usize] as char).collect();
        format!("{prefix}{tail}")
    }
}

/// The balance object for an account, as of `now`.
/// `template` is the catalog key the account was linked from.
pub fn balance(account_id: &str, template: &str, credit: bool, now: i64) -> Value {
    let mut r = Seeded::new(&format!("{account_id}/balance"));
    if credit {
        let used = r.range(15_000, 480_000);
        return json!({
            "as_of": now,
            "type": "credit",
            "current": { "usd": -used },
            "credit": { "used": { "usd": used } },
        });
    }
    let current = match template {
        "insufficient_funds" => r.range(0, 900),
        "high_balance" => r.range(250_000_000, 900_000_000),
        "savings" => r.range(1_200_000, 4_800_000),
        _ => r.range(180_000, 1_250_000),
    };
    let available = (current - r.range(0, current / 20 + 1)).max(0);
    json!({
        "as_of": now,
        "type": "cash",
        "current": { "usd": current },
        "cash": { "available": { "usd": available } },
    })
}

/// An owner as the sandbox reports it.
pub struct Owner {
    pub name: &'static str,
    pub email: &'static str,
    pub phone: &'static str,
    pub raw_address: &'static str,
}

const JENNY: Owner = Owner {
    name: "Jenny Rosen",
    email: "jenny.rosen@example.com",
    phone: "+1 555-555-5555",
    raw_address: "354 Oyster Point Blvd, South San Francisco, CA 94080",
};
const JANE: Owner = Owner {
    name: "Jane Smith",
    email: "jane.smith@example.com",
    phone: "+1 555-555-1234",
    raw_address: "123 Main Street, Everytown, NY 10001",
};

/// The owners the institution reports for an account template.
pub fn owners(template: &str) -> &'static [Owner] {
    match template {
        "owner_differs" => &[JANE],
        "owner_missing" => &[],
        "savings" => &[JENNY, JANE],
        _ => &[JENNY],
    }
}

/// A transaction before it is given ids and refresh references.
#[derive(Clone, Debug, PartialEq)]
pub struct TxnSeed {
    /// Stable per account and position: the id suffix.
    pub key: String,
    pub amount: i64,
    pub description: &'static str,
    pub transacted_at: i64,
    pub status: &'static str,
}

const SPEND: &[(&str, i64, i64)] = &[
    ("Blue Bottle Coffee", 450, 1_200),
    ("Rocket Rides", 900, 4_500),
    ("Whole Foods Market", 2_500, 18_000),
    ("Shell Gas Station", 3_000, 7_500),
    ("Amazon Marketplace", 1_200, 25_000),
    ("Netflix", 1_549, 1_549),
    ("City Power & Light", 6_000, 14_000),
    ("Corner Pharmacy", 800, 5_000),
    ("Trattoria Roma", 3_500, 12_000),
    ("Metro Transit", 275, 275),
    ("Hardware Depot", 1_500, 22_000),
    ("Spotify", 1_199, 1_199),
];

/// The last 180 days of transactions as of `now`, newest first.
///
/// Each calendar day is generated from its own seed and its transactions are
/// keyed by day, so the same transaction keeps its id, amount and time on
/// every later refresh: only its status moves (pending → posted or void) and
/// new days appear.
pub fn transactions(account_id: &str, credit: bool, now: i64) -> Vec<TxnSeed> {
    let today = now.div_euclid(DAY);
    let mut seeds = Vec::new();
    for day in (today - HISTORY_DAYS + 1)..=today {
        let mut r = Seeded::new(&format!("{account_id}/day/{day}"));
        let start = day * DAY;
        let mut entries: Vec<(&'static str, i64, i64)> = Vec::new();
        // Paydays every 14 days on cash accounts; rent or a card payment monthly.
        if day % 14 == 3 && !credit {
            entries.push(("Payroll ACME Corp", r.range(310_000, 340_000), start + 9 * 3600));
        }
        if day % 30 == 10 {
            entries.push(if credit {
                ("Payment, thank you", r.range(20_000, 90_000), start + 8 * 3600)
            } else {
                ("Rent", -r.range(180_000, 185_000), start + 8 * 3600)
            });
        }
        // A commute every day, so the last days always hold pending transactions.
        entries.push(("Metro Transit", -275, start + 7 * 3600 + 30 * 60));
        for _ in 0..r.range(0, 3) {
            let (what, lo, hi) = *r.pick(SPEND);
            entries.push((what, -r.range(lo, hi), start + r.range(7 * 3600, 22 * 3600)));
        }
        for (n, (description, amount, transacted_at)) in entries.into_iter().enumerate() {
            if transacted_at > now {
                continue;
            }
            let key = format!("{day}-{n}");
            let age_days = (now - transacted_at) / DAY;
            let status = if age_days < PENDING_DAYS {
                "pending"
            } else if Seeded::new(&format!("{account_id}/void/{key}")).chance(2) {
                "void"
            } else {
                "posted"
            };
            seeds.push(TxnSeed {
                key,
                amount,
                description,
                transacted_at,
                status,
            });
        }
    }
    seeds.sort_by(|a, b| b.transacted_at.cmp(&a.transacted_at).then(b.key.cmp(&a.key)));
    seeds
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_780_000_000;

    #[test]
    fn the_same_account_gets_the_same_data() {
        assert_eq!(
            balance("fca_1", "success", false, NOW),
            balance("fca_1", "success", false, NOW)
        );
        assert_ne!(
            balance("fca_1", "success", false, NOW),
            balance("fca_2", "success", false, NOW)
        );
        assert_eq!(transactions("fca_1", false, NOW), transactions("fca_1", false, NOW));
    }

    #[test]
    fn balances_fit_their_template() {
        let low = balance("fca_1", "insufficient_funds", false, NOW);
        assert!(low["current"]["usd"].as_i64().unwrap() < 1_000);
        let high = balance("fca_1", "high_balance", false, NOW);
        assert!(high["current"]["usd"].as_i64().unwrap() >= 250_000_000);
        let cash = balance("fca_1", "success", false, NOW);
        assert!(cash["cash"]["available"]["usd"].as_i64() <= cash["current"]["usd"].as_i64());
        let credit = balance("fca_1", "credit_card", true, NOW);
        assert_eq!(credit["type"], "credit");
        assert!(credit["credit"]["used"]["usd"].as_i64().unwrap() > 0);
    }

    #[test]
    fn history_is_stable_from_one_day_to_the_next() {
        let before = transactions("fca_1", false, NOW);
        let after = transactions("fca_1", false, NOW + 5 * DAY);
        let later: std::collections::HashMap<_, _> = after.iter().map(|t| (&t.key, t)).collect();
        let oldest_kept = NOW + 5 * DAY - HISTORY_DAYS * DAY;
        let mut posted_since = 0;
        for t in before.iter().filter(|t| t.transacted_at >= oldest_kept + DAY) {
            let same = later.get(&t.key).unwrap_or_else(|| panic!("{} vanished", t.key));
            assert_eq!(
                (same.amount, same.transacted_at, same.description),
                (t.amount, t.transacted_at, t.description)
            );
            if t.status == "pending" && same.status != "pending" {
                posted_since += 1;
            }
        }
        assert!(posted_since > 0, "pending transactions settle as days pass");
        assert!(after.iter().any(|t| t.transacted_at > NOW), "new days bring new transactions");
    }

    #[test]
    fn transactions_cover_180_days_newest_first_with_all_statuses() {
        let t = transactions("fca_1", false, NOW);
        assert!(
            t.last().unwrap().transacted_at < NOW - (HISTORY_DAYS - 3) * DAY,
            "reaches back ~180 days"
        );
        assert!(t.len() > 150, "{}", t.len());
        assert!(t.windows(2).all(|w| w[0].transacted_at >= w[1].transacted_at));
        assert!(t.last().unwrap().transacted_at >= NOW - HISTORY_DAYS * DAY - DAY);
        assert!(t.iter().all(|x| x.transacted_at <= NOW));
        for status in ["pending", "posted", "void"] {
            assert!(t.iter().any(|x| x.status == status), "no {status}");
        }
        assert!(t.iter().any(|x| x.amount > 0) && t.iter().any(|x| x.amount < 0));
        let keys: std::collections::HashSet<_> = t.iter().map(|x| &x.key).collect();
        assert_eq!(keys.len(), t.len(), "keys are unique");
    }

    #[test]
    fn the_last_days_always_hold_something_pending() {
        for i in 0..200 {
            for hour in [0, 1, 7, 8, 23] {
                let now = NOW - NOW.rem_euclid(DAY) + hour * 3600 + i * 7;
                let t = transactions(&format!("fca_{i}"), i % 3 == 0, now);
                assert!(t.iter().any(|x| x.status == "pending"), "fca_{i} at {hour}h");
            }
        }
    }
}
