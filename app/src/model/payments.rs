//! Payments (ACH Direct Debit through a PaymentIntent): what the Pay form
//! sends (parsed at the edge: amount in integer cents, description, the
//! client's attempt id), a stored payment as the pages list it, and the
//! mandate text the person accepts before paying.

use super::{AccountId, ClientConfig, Money, PaymentIntentId};
use crate::error::AppError;
use serde::{Deserialize, Serialize};

/// The only currency ACH Direct Debit takes.
pub const CURRENCY: &str = "usd";

/// Where a PaymentIntent stands, as Stripe names it. A failed ACH debit goes
/// back to `requires_payment_method` with a `last_payment_error`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    RequiresPaymentMethod,
    RequiresConfirmation,
    RequiresAction,
    Processing,
    RequiresCapture,
    Canceled,
    Succeeded,
}

impl PaymentStatus {
    pub const ALL: [PaymentStatus; 7] = [
        PaymentStatus::RequiresPaymentMethod,
        PaymentStatus::RequiresConfirmation,
        PaymentStatus::RequiresAction,
        PaymentStatus::Processing,
        PaymentStatus::RequiresCapture,
        PaymentStatus::Canceled,
        PaymentStatus::Succeeded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::RequiresPaymentMethod => "requires_payment_method",
            PaymentStatus::RequiresConfirmation => "requires_confirmation",
            PaymentStatus::RequiresAction => "requires_action",
            PaymentStatus::Processing => "processing",
            PaymentStatus::RequiresCapture => "requires_capture",
            PaymentStatus::Canceled => "canceled",
            PaymentStatus::Succeeded => "succeeded",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// Nothing changes a PaymentIntent after these.
    pub fn is_final(self) -> bool {
        matches!(self, PaymentStatus::Canceled | PaymentStatus::Succeeded)
    }

    /// Where Stripe allows `POST /v1/payment_intents/{id}/cancel` (not while
    /// an ACH debit is `processing`, nor after a final status).
    pub fn cancelable(self) -> bool {
        matches!(
            self,
            PaymentStatus::RequiresPaymentMethod
                | PaymentStatus::RequiresConfirmation
                | PaymentStatus::RequiresAction
                | PaymentStatus::RequiresCapture
        )
    }

    /// How far along a status is, for telling which of two reads of the same
    /// second is the later one: a status a PaymentIntent reaches later ranks
    /// higher; `failed` (back to `requires_payment_method` with an error)
    /// ranks above `processing`; final statuses rank highest.
    pub fn rank(self, failed: bool) -> i64 {
        match self {
            PaymentStatus::RequiresPaymentMethod if failed => 5,
            PaymentStatus::RequiresPaymentMethod => 0,
            PaymentStatus::RequiresConfirmation => 1,
            PaymentStatus::RequiresAction => 2,
            PaymentStatus::Processing => 3,
            PaymentStatus::RequiresCapture => 4,
            PaymentStatus::Canceled | PaymentStatus::Succeeded => FINAL_RANK,
        }
    }
}

/// The rank of a final status (see [`PaymentStatus::rank`]).
pub const FINAL_RANK: i64 = 6;

/// Why a debit failed, as Stripe's `last_payment_error` says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentFailure {
    /// Stripe's code (`insufficient_funds`, `account_closed`…).
    pub code: Option<String>,
    /// Stripe's message for the code, shown when we have no sentence of our own.
    pub message: Option<String>,
}

impl PaymentFailure {
    /// Our sentence for the codes ACH debits fail with, else Stripe's message.
    pub fn reason(&self) -> String {
        let ours = match self.code.as_deref() {
            Some("insufficient_funds") => Some("The account has insufficient funds to cover this payment."),
            Some("account_closed") => Some("The bank account is closed."),
            Some("no_account" | "account_number_invalid") => Some("The bank could not find this account."),
            Some("debit_not_authorized") => Some("The account holder told their bank the debit was not authorised."),
            Some(
                "payment_method_microdeposit_verification_failed" | "payment_method_microdeposit_verification_attempts_exceeded",
            ) => Some("The bank account could not be verified."),
            _ => None,
        };
        match (ours, &self.message) {
            (Some(s), _) => s.to_owned(),
            (None, Some(m)) if !m.trim().is_empty() => m.chars().take(500).collect(),
            _ => "The bank refused the debit.".to_owned(),
        }
    }
}

/// A payment as the app stored it (the PaymentIntent's last known state).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    pub id: PaymentIntentId,
    /// The linked account it debits; `None` for pay-by-bank, where the
    /// account was collected by Stripe.js for this payment only.
    pub account: Option<AccountId>,
    pub amount: Money,
    pub description: Option<String>,
    pub status: PaymentStatus,
    /// Set when the last attempt failed.
    pub failure: Option<PaymentFailure>,
    /// `requires_action` with microdeposits: Stripe's hosted verification page.
    pub verification_url: Option<String>,
    /// Bank account it debits, as `Bank ••6789` when known.
    pub bank: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    pub updated_at: i64,
}

impl Payment {
    /// What the person sees: `Succeeded`, `Processing`, `Failed`…
    pub fn state_label(&self) -> &'static str {
        match self.status {
            PaymentStatus::RequiresPaymentMethod if self.failure.is_some() => "Failed",
            PaymentStatus::RequiresPaymentMethod => "Needs a bank account",
            PaymentStatus::RequiresConfirmation => "Not confirmed",
            PaymentStatus::RequiresAction => "Needs verification",
            PaymentStatus::Processing => "Processing",
            PaymentStatus::RequiresCapture => "Authorised",
            PaymentStatus::Canceled => "Canceled",
            PaymentStatus::Succeeded => "Succeeded",
        }
    }

    /// A short machine name for the state (`failed`, else Stripe's status),
    /// for styling and tests.
    pub fn state(&self) -> &'static str {
        match self.status {
            PaymentStatus::RequiresPaymentMethod if self.failure.is_some() => "failed",
            s => s.as_str(),
        }
    }

    pub fn cancelable(&self) -> bool {
        self.status.cancelable()
    }
}

/// What the Pay form sends, parsed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRequest {
    /// Integer cents, within [`PaymentRequest::MIN_CENTS`]..=[`PaymentRequest::MAX_CENTS`].
    pub amount_cents: i64,
    pub description: Option<String>,
    /// The account holder's name (Stripe requires a billing name for ACH).
    pub name: String,
    /// The page's id for this attempt: a retried submit of the same attempt
    /// reuses Stripe's idempotency key and cannot pay twice.
    pub attempt: String,
}

impl PaymentRequest {
    /// Stripe's minimum for USD.
    pub const MIN_CENTS: i64 = 50;
    /// This app's maximum per payment: $10,000.00.
    pub const MAX_CENTS: i64 = 1_000_000;
    pub const MAX_DESCRIPTION: usize = 200;
    pub const MAX_NAME: usize = 100;

    /// `amount` is dollars as typed (`12`, `12.5`, `1,234.56`, `$9.99`);
    /// `description` may be empty; `attempt` is 8 to 64 of `A-Za-z0-9_-`.
    pub fn parse(amount: &str, description: &str, name: &str, attempt: &str) -> Result<Self, AppError> {
        let amount_cents = parse_dollars(amount)?;
        let description = description.trim();
        let description = if description.is_empty() {
            None
        } else if description.chars().count() > Self::MAX_DESCRIPTION {
            return Err(AppError::invalid(
                "description",
                "Description is too long (at most 200 characters).",
            ));
        } else if description.chars().any(char::is_control) {
            return Err(AppError::invalid(
                "description",
                "Description contains characters that are not allowed.",
            ));
        } else {
            Some(description.to_owned())
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(AppError::invalid("name", "Enter the account holder's name."));
        }
        if name.chars().count() > Self::MAX_NAME || name.chars().any(char::is_control) {
            return Err(AppError::invalid(
                "name",
                "Enter the account holder's name (at most 100 characters).",
            ));
        }
        let attempt = attempt.trim();
        let attempt_ok =
            (8..=64).contains(&attempt.len()) && attempt.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !attempt_ok {
            return Err(AppError::invalid("attempt", "Reload the page and try again."));
        }
        Ok(PaymentRequest {
            amount_cents,
            description,
            name: name.to_owned(),
            attempt: attempt.to_owned(),
        })
    }

    pub fn amount(&self) -> Money {
        Money {
            minor: self.amount_cents,
            currency: CURRENCY.to_owned(),
        }
    }
}

/// Dollars as typed → integer cents, without floats, within the bounds.
fn parse_dollars(raw: &str) -> Result<i64, AppError> {
    let bad = || AppError::invalid("amount", "Enter an amount in dollars, like 12.50.");
    let s: String = raw.trim().trim_start_matches('$').chars().filter(|c| *c != ',').collect();
    if s.is_empty() || s.len() > 12 {
        return Err(bad());
    }
    let (units, cents) = match s.split_once('.') {
        Some((u, c)) => (u, c),
        None => (s.as_str(), ""),
    };
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if (units.is_empty() && cents.is_empty()) || !digits(units) || !digits(cents) || cents.len() > 2 {
        return Err(bad());
    }
    let units: i64 = if units.is_empty() {
        0
    } else {
        units.parse().map_err(|_| bad())?
    };
    let cents: i64 = match cents.len() {
        0 => 0,
        1 => cents.parse::<i64>().map_err(|_| bad())? * 10,
        _ => cents.parse().map_err(|_| bad())?,
    };
    let total = units.checked_mul(100).and_then(|u| u.checked_add(cents)).ok_or_else(bad)?;
    if !(PaymentRequest::MIN_CENTS..=PaymentRequest::MAX_CENTS).contains(&total) {
        return Err(AppError::invalid("amount", "Enter an amount from $0.50 to $10,000.00."));
    }
    Ok(total)
}

/// Stripe's recommended Nacha authorisation for ACH Direct Debit, naming the
/// business and the account: shown before the person agrees, and what the
/// mandate records they accepted.
pub fn mandate_text(business: &str, last4: Option<&str>) -> String {
    let account = match last4 {
        Some(l) => format!("the bank account ending in {l}"),
        None => "the bank account you choose".to_owned(),
    };
    format!(
        "By clicking Pay, you authorize {business} to debit {account} for any amount owed for charges arising from your \
         use of {business}'s services and/or purchase of products from {business}, pursuant to {business}'s website and \
         terms, until this authorization is revoked. You may amend or cancel this authorization at any time by providing \
         notice to {business} with 30 (thirty) days notice."
    )
}

/// What a page needs to offer Pay: the business the mandate names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayTerms {
    pub business_name: String,
}

/// Pay by bank without linking first: a PaymentIntent made for this page,
/// whose client secret goes only to Stripe.js (in this response body).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BankPaymentStart {
    pub payment: Payment,
    pub client_secret: String,
    pub client: ClientConfig,
    pub business_name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(r: Result<PaymentRequest, AppError>) -> String {
        match r {
            Err(AppError::InvalidInput { field, .. }) => field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn amounts_are_dollars_typed_and_cents_stored() {
        let cents = |a: &str| PaymentRequest::parse(a, "", "Jenny Rosen", "attempt-1").map(|r| r.amount_cents);
        assert_eq!(cents("12").unwrap(), 1_200);
        assert_eq!(cents("12.5").unwrap(), 1_250);
        assert_eq!(cents(" $1,234.56 ").unwrap(), 123_456);
        assert_eq!(cents("0.50").unwrap(), 50);
        assert_eq!(cents(".75").unwrap(), 75);
        assert_eq!(cents("10000").unwrap(), 1_000_000);
        for bad in [
            "",
            "0.49",
            "10000.01",
            "-5",
            "1e3",
            "12.345",
            "NaN",
            "１２",
            "99999999999999999999",
            ".",
            "1.2.3",
            "12 .00",
        ] {
            assert_eq!(field(PaymentRequest::parse(bad, "", "J", "attempt-1")), "amount", "{bad:?}");
        }
    }

    #[test]
    fn description_name_and_attempt_are_bounded() {
        let ok = PaymentRequest::parse("5", "  Invoice 42 ", " Jenny ", "a1b2c3d4").unwrap();
        assert_eq!(ok.description.as_deref(), Some("Invoice 42"));
        assert_eq!(ok.name, "Jenny");
        assert_eq!(PaymentRequest::parse("5", "", "J", "a1b2c3d4").unwrap().description, None);
        assert_eq!(
            field(PaymentRequest::parse("5", &"x".repeat(201), "J", "a1b2c3d4")),
            "description"
        );
        assert_eq!(field(PaymentRequest::parse("5", "a\u{0}b", "J", "a1b2c3d4")), "description");
        assert_eq!(field(PaymentRequest::parse("5", "", "  ", "a1b2c3d4")), "name");
        assert_eq!(field(PaymentRequest::parse("5", "", &"n".repeat(101), "a1b2c3d4")), "name");
        for bad in ["short", "has space 123", "../../etc/x", "a".repeat(65).as_str()] {
            assert_eq!(field(PaymentRequest::parse("5", "", "J", bad)), "attempt", "{bad:?}");
        }
    }

    #[test]
    fn statuses_rank_so_later_states_win_ties_and_final_ones_stay() {
        use PaymentStatus::*;
        assert!(Processing.rank(false) > RequiresConfirmation.rank(false));
        assert!(RequiresPaymentMethod.rank(true) > Processing.rank(false));
        assert!(RequiresPaymentMethod.rank(false) < Processing.rank(false));
        assert_eq!(Succeeded.rank(false), FINAL_RANK);
        assert_eq!(Canceled.rank(false), FINAL_RANK);
        assert!(Succeeded.is_final() && Canceled.is_final() && !Processing.is_final());
        assert!(!Processing.cancelable() && !Succeeded.cancelable() && RequiresAction.cancelable());
        for s in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.as_str()));
        }
    }

    #[test]
    fn the_mandate_names_the_business_and_the_account() {
        let text = mandate_text("Bank Link", Some("6789"));
        assert!(text.starts_with("By clicking Pay, you authorize Bank Link to debit the bank account ending in 6789"));
        assert!(text.contains("30 (thirty) days notice"));
        assert!(mandate_text("Acme", None).contains("the bank account you choose"));
    }

    #[test]
    fn failures_read_in_our_words_for_known_codes() {
        let f = |code: Option<&str>, message: Option<&str>| PaymentFailure {
            code: code.map(str::to_owned),
            message: message.map(str::to_owned),
        };
        assert_eq!(
            f(Some("insufficient_funds"), Some("x")).reason(),
            "The account has insufficient funds to cover this payment."
        );
        assert_eq!(
            f(Some("something_new"), Some("Stripe says why.")).reason(),
            "Stripe says why."
        );
        assert_eq!(f(None, None).reason(), "The bank refused the debit.");
    }
}
