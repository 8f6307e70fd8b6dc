//! The developer panel's records (`/developer`): every Stripe API request the
//! server made on a user's behalf, every webhook event that touched their
//! data and every Stripe.js result their pages received. The server redacts
//! secrets before anything is stored; these types only carry the result.

use crate::error::AppError;
use crate::model::Mode;
use serde::{Deserialize, Serialize};

/// Entries one page of the panel shows at most.
pub const PAGE_SIZE: u32 = 50;
/// Longest Stripe.js result (JSON text) a page may report.
pub const MAX_STRIPE_JS_RESULT: usize = 48 * 1024;

/// What an entry records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogKind {
    StripeRequest,
    Webhook,
    StripeJs,
}

impl LogKind {
    pub const ALL: [LogKind; 3] = [LogKind::StripeRequest, LogKind::Webhook, LogKind::StripeJs];

    pub fn as_str(self) -> &'static str {
        match self {
            LogKind::StripeRequest => "stripe_request",
            LogKind::Webhook => "webhook",
            LogKind::StripeJs => "stripe_js",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            LogKind::StripeRequest => "Stripe requests",
            LogKind::Webhook => "Webhooks",
            LogKind::StripeJs => "Stripe.js",
        }
    }

    /// `None` for empty (every kind); anything else unknown is refused.
    pub fn parse(raw: &str) -> Result<Option<Self>, AppError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == raw)
            .map(Some)
            .ok_or_else(|| AppError::invalid("kind", "Expected stripe_request, webhook or stripe_js."))
    }
}

/// One recorded thing, newest first on the page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Increasing per database; pages continue below the last one shown.
    pub id: i64,
    /// When it happened (Unix ms).
    pub at_ms: i64,
    pub detail: LogDetail,
}

impl LogEntry {
    pub fn kind(&self) -> LogKind {
        self.detail.kind()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LogDetail {
    StripeRequest(StripeRequestLog),
    Webhook(WebhookLog),
    StripeJs(StripeJsLog),
}

impl LogDetail {
    pub fn kind(&self) -> LogKind {
        match self {
            LogDetail::StripeRequest(_) => LogKind::StripeRequest,
            LogDetail::Webhook(_) => LogKind::Webhook,
            LogDetail::StripeJs(_) => LogKind::StripeJs,
        }
    }
}

/// One call of the Stripe API, its retries included.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StripeRequestLog {
    pub method: String,
    /// The path without the query string (`/v1/financial_connections/sessions`).
    pub path: String,
    /// The final answer's status; `None` when Stripe could not be reached.
    pub status: Option<u16>,
    /// Stripe's `Request-Id` of the final answer.
    pub request_id: Option<String>,
    pub idempotency_key: Option<String>,
    /// Attempts made (1 without retries).
    pub attempts: u32,
    /// Why each retried attempt was retried.
    pub retries: Vec<RetryNote>,
    pub duration_ms: u64,
    /// The parameters sent (query or form), as pretty JSON, redacted.
    pub params: String,
    /// The answer's body as pretty JSON, redacted; `None` without one.
    pub response: Option<String>,
    /// Why there was no usable answer (network error, unreadable body).
    pub error: Option<String>,
}

/// A retried attempt: what it got, and how long the client waited after it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryNote {
    pub attempt: u32,
    /// `HTTP 500`, `connection failed`…
    pub outcome: String,
    pub delay_ms: u64,
}

/// A webhook event that touched the user's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookLog {
    pub event_id: String,
    pub event_type: String,
    pub outcome: WebhookOutcome,
    pub processing_ms: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookOutcome {
    /// Applied to the user's data.
    Applied,
    /// A redelivery of an event already applied: nothing changed.
    Duplicate,
    /// Not processed; Stripe delivers it again.
    Failed,
}

impl WebhookOutcome {
    pub fn label(self) -> &'static str {
        match self {
            WebhookOutcome::Applied => "applied",
            WebhookOutcome::Duplicate => "duplicate (already applied)",
            WebhookOutcome::Failed => "failed (Stripe retries)",
        }
    }
}

/// The Stripe.js functions whose results a page reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StripeJsCall {
    CollectFinancialConnectionsAccounts,
    CollectBankAccountToken,
    CollectBankAccountForPayment,
    ConfirmUsBankAccountPayment,
}

impl StripeJsCall {
    pub const ALL: [StripeJsCall; 4] = [
        StripeJsCall::CollectFinancialConnectionsAccounts,
        StripeJsCall::CollectBankAccountToken,
        StripeJsCall::CollectBankAccountForPayment,
        StripeJsCall::ConfirmUsBankAccountPayment,
    ];

    /// Stripe.js's own name of the function.
    pub fn js_name(self) -> &'static str {
        match self {
            StripeJsCall::CollectFinancialConnectionsAccounts => "collectFinancialConnectionsAccounts",
            StripeJsCall::CollectBankAccountToken => "collectBankAccountToken",
            StripeJsCall::CollectBankAccountForPayment => "collectBankAccountForPayment",
            StripeJsCall::ConfirmUsBankAccountPayment => "confirmUsBankAccountPayment",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, AppError> {
        Self::ALL
            .into_iter()
            .find(|c| c.js_name() == raw.trim())
            .ok_or_else(|| AppError::invalid("call", "Expected the name of a Stripe.js function this app uses."))
    }
}

/// What a Stripe.js call resolved with, as the page received it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StripeJsLog {
    pub call: StripeJsCall,
    /// The resolved value as pretty JSON, redacted.
    pub result: String,
}

/// Which entries a page asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogQuery {
    /// `None`: every kind.
    pub kind: Option<LogKind>,
    /// Only entries older than this id (the next page).
    pub before: Option<i64>,
}

impl LogQuery {
    /// `kind` as [`LogKind::parse`]; `before` empty or a positive id.
    pub fn parse(kind: &str, before: &str) -> Result<Self, AppError> {
        let before = match before.trim() {
            "" => None,
            raw => Some(
                raw.parse::<i64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| AppError::invalid("before", "Expected an entry id."))?,
            ),
        };
        Ok(LogQuery {
            kind: LogKind::parse(kind)?,
            before,
        })
    }
}

/// One page of the panel: entries newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogPage {
    pub entries: Vec<LogEntry>,
    /// Older entries exist (ask again with `before` = the last id).
    pub more: bool,
    /// Decides where request ids link.
    pub mode: Mode,
}

/// Where Stripe's Dashboard shows the log of a request: test or live logs in
/// Stripe mode; nothing in sandbox mode (the sandbox's own request log needs
/// its secret key, which never reaches a browser). Only well-formed request
/// ids (`req_` and letters, digits, underscores) are linked.
pub fn dashboard_url(mode: Mode, request_id: &str) -> Option<String> {
    let well_formed = request_id.len() > 4
        && request_id.len() <= 255
        && request_id.starts_with("req_")
        && request_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !well_formed {
        return None;
    }
    match mode {
        Mode::Test => Some(format!("https://dashboard.stripe.com/test/logs/{request_id}")),
        Mode::Live => Some(format!("https://dashboard.stripe.com/logs/{request_id}")),
        Mode::Sandbox => None,
    }
}

/// `2026-11-30 15:32:08.123 UTC`.
pub fn timestamp_utc(at_ms: i64) -> String {
    let secs = at_ms.div_euclid(1000);
    let (y, m, d) = crate::model::Day::of(secs).civil();
    let in_day = secs.rem_euclid(crate::model::Day::SECONDS);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:03} UTC",
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60,
        at_ms.rem_euclid(1000)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_queries_parse_or_name_the_field() {
        assert_eq!(LogQuery::parse("", "").unwrap(), LogQuery::default());
        let q = LogQuery::parse("webhook", "42").unwrap();
        assert_eq!((q.kind, q.before), (Some(LogKind::Webhook), Some(42)));
        for (kind, before, field) in [
            ("nope", "", "kind"),
            ("", "-1", "before"),
            ("", "x", "before"),
            ("", "0", "before"),
        ] {
            match LogQuery::parse(kind, before) {
                Err(AppError::InvalidInput { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{kind:?} {before:?}: {other:?}"),
            }
        }
        assert!(StripeJsCall::parse("collectFinancialConnectionsAccounts").is_ok());
        assert!(StripeJsCall::parse("eval").is_err());
    }

    #[test]
    fn request_ids_link_to_the_right_dashboard_only_when_well_formed() {
        assert_eq!(
            dashboard_url(Mode::Test, "req_abc123").as_deref(),
            Some("https://dashboard.stripe.com/test/logs/req_abc123")
        );
        assert_eq!(
            dashboard_url(Mode::Live, "req_abc123").as_deref(),
            Some("https://dashboard.stripe.com/logs/req_abc123")
        );
        assert_eq!(dashboard_url(Mode::Sandbox, "req_abc123"), None);
        for hostile in ["req_", "req_a/../x", "javascript:alert(1)", "req_a\"b", ""] {
            assert_eq!(dashboard_url(Mode::Test, hostile), None, "{hostile}");
        }
    }

    #[test]
    fn timestamps_are_utc_to_the_millisecond() {
        assert_eq!(timestamp_utc(0), "1970-01-01 00:00:00.000 UTC");
        assert_eq!(timestamp_utc(1_796_052_728_123), "2026-11-30 15:32:08.123 UTC");
    }

    #[test]
    fn entries_round_trip_as_json() {
        let e = LogEntry {
            id: 1,
            at_ms: 2,
            detail: LogDetail::Webhook(WebhookLog {
                event_id: "evt_1".into(),
                event_type: "financial_connections.account.refreshed_balance".into(),
                outcome: WebhookOutcome::Applied,
                processing_ms: 3,
            }),
        };
        let json = serde_json::to_string(&e).unwrap();
        assert!(json.contains(r#""kind":"webhook""#), "{json}");
        assert_eq!(serde_json::from_str::<LogEntry>(&json).unwrap(), e);
    }
}
