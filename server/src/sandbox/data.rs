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

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % ((hi - lo + 1) as u64)) as i64
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }

    /// 24 id characters.
    pub fn id(&mut self, prefix: &str) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let tail: String = (0..24).map(|_| ALPHABET[(self.next() % 62) as usize] as char).collect();
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

/// 180 days of transactions ending at `now`, newest first.
pub fn transactions(account_id: &str, credit: bool, now: i64) -> Vec<TxnSeed> {
    let mut r = Seeded::new(&format!("{account_id}/transactions"));
    let today = now - now.rem_euclid(DAY);
    let mut out = Vec::new();
    for day in (0..HISTORY_DAYS).rev() {
        let start = today - day * DAY;
        // Paydays every 14 days on cash accounts; a card payment monthly on credit ones.
        if day % 14 == 3 && !credit {
            out.push(("Payroll ACME Corp", r.range(310_000, 340_000), start + 9 * 3600));
        }
        if day % 30 == 10 {
            let (what, amount) = if credit { ("Payment, thank you", r.range(20_000, 90_000)) } else { ("Rent", -r.range(180_000, 185_000)) };
            out.push((what, amount, start + 8 * 3600));
        }
        for _ in 0..r.range(0, 3) {
            let (what, lo, hi) = *r.pick(SPEND);
            out.push((what, -r.range(lo, hi), start + r.range(7 * 3600, 22 * 3600)));
        }
    }
    let mut seeds: Vec<TxnSeed> = out
        .into_iter()
        .filter(|(_, _, at)| *at <= now)
        .enumerate()
        .map(|(i, (description, amount, transacted_at))| {
            let age_days = (now - transacted_at) / DAY;
            let status = if age_days < PENDING_DAYS {
                "pending"
            } else if r.chance(2) {
                "void"
            } else {
                "posted"
            };
            TxnSeed { key: format!("{i:05}"), amount, description, transacted_at, status }
        })
        .collect();
    seeds.sort_by(|a, b| b.transacted_at.cmp(&a.transacted_at).then(b.key.cmp(&a.key)));
    seeds
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_780_000_000;

    #[test]
    fn the_same_account_gets_the_same_data() {
        assert_eq!(balance("fca_1", "success", false, NOW), balance("fca_1", "success", false, NOW));
        assert_ne!(balance("fca_1", "success", false, NOW), balance("fca_2", "success", false, NOW));
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
    fn transactions_cover_180_days_newest_first_with_all_statuses() {
        let t = transactions("fca_1", false, NOW);
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
}
