//! Amounts in minor units (never floats) and how amounts and counts are
//! written for people.

use serde::{Deserialize, Serialize};

/// An amount in the currency's minor unit (cents for USD), never a float.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    /// ISO 4217, lowercase as Stripe sends it (`usd`).
    pub currency: String,
}

impl Money {
    /// `$1,234.56`, `-$12.00`, or `1,234.56 EUR` for other currencies.
    pub fn format(&self) -> String {
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        let (units, cents) = (abs / 100, abs % 100);
        let digits = units.to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        match self.currency.as_str() {
            "usd" => format!("{sign}${grouped}.{cents:02}"),
            other => format!("{sign}{grouped}.{cents:02} {}", other.to_uppercase()),
        }
    }
}

/// "1 account", "2 accounts": a count with its noun in the right number.
pub fn count_of(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_formats_in_minor_units() {
        let usd = |minor| Money {
            minor,
            currency: "usd".into(),
        };
        assert_eq!(usd(0).format(), "$0.00");
        assert_eq!(usd(5).format(), "$0.05");
        assert_eq!(usd(123_456_789).format(), "$1,234,567.89");
        assert_eq!(usd(-1_200).format(), "-$12.00");
        assert_eq!(
            Money {
                minor: 100_000,
                currency: "eur".into()
            }
            .format(),
            "1,000.00 EUR"
        );
        assert_eq!(usd(i64::MIN).format(), "-$92,233,720,368,547,758.08");
    }

    #[test]
    fn counts_take_the_right_number() {
        assert_eq!(count_of(0, "account", "accounts"), "0 accounts");
        assert_eq!(count_of(1, "account", "accounts"), "1 account");
        assert_eq!(count_of(2, "page", "pages"), "2 pages");
    }
}
