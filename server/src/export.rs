//! `GET /api/transactions.csv?id=fca_…&from=…&to=…&status=…&q=…`: the
//! account's stored transactions that match the page's filter (all pages),
//! as a CSV download. Only the account's own user gets it (anyone else: 404,
//! as for every account read); the filter is parsed exactly as the page's.
//!
//! Cells follow RFC 4180 (quoted when they hold `,`, `"`, CR or LF; quotes
//! doubled), and text a spreadsheet would run as a formula (starting with
//! `=`, `+`, `-`, `@`, tab or CR) is prefixed with `'` (OWASP's CSV
//! injection advice). Amounts are numbers this module writes, never text
//! from the bank.

use crate::AppState;
use app::error::AppError;
use app::model::{AccountId, Day, Transaction, TransactionFilter};
use app::service::UserId;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;

/// The export's query: the page's filter without its page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ExportQuery {
    pub id: String,
    pub from: String,
    pub to: String,
    pub status: String,
    pub q: String,
}

/// The header row.
pub const HEADER: &str = "date,description,status,amount,currency,id";

/// The handler (behind the session middleware, which supplies the user or,
/// without a session cookie, answers `NoSession` itself).
pub async fn transactions_csv(
    State(state): State<AppState>,
    Extension(user): Extension<UserId>,
    query: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    match export(&state, &user, query).await {
        Ok((id, rows)) => {
            let disposition = format!("attachment; filename=\"transactions-{id}.csv\"");
            let mut resp = (
                [(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"))],
                render(&rows),
            )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&disposition) {
                resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
            }
            resp
        }
        Err(e) => crate::web::app_error_response(&e),
    }
}

async fn export(
    state: &AppState,
    user: &UserId,
    query: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<(AccountId, Vec<Transaction>), AppError> {
    let Query(q) = query.map_err(|_| AppError::invalid("query", "The export's parameters could not be read."))?;
    let id = AccountId::parse(&q.id)?;
    let filter = TransactionFilter::parse(&q.from, &q.to, &q.status, &q.q, "")?;
    let rows = state.service.export_transactions(user, &id, filter).await?;
    Ok((id, rows))
}

/// The whole CSV: the header, then one line per transaction, CRLF-ended.
pub fn render(rows: &[Transaction]) -> String {
    let mut out = String::with_capacity(64 * (rows.len() + 1));
    out.push_str(HEADER);
    out.push_str("\r\n");
    for t in rows {
        let cells = [
            Day::of(t.transacted_at).to_string(),
            text_cell(&t.description),
            t.status.as_str().to_owned(),
            decimal(t.amount.minor),
            t.amount.currency.to_uppercase(),
            text_cell(&t.id),
        ];
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

/// A text cell: defused if a spreadsheet would read it as a formula, then
/// quoted if it needs to be.
pub fn text_cell(raw: &str) -> String {
    let defused = if raw.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{raw}")
    } else {
        raw.to_owned()
    };
    if defused.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

/// Minor units as a plain decimal with two places: `-1234.50`.
pub fn decimal(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::{Money, TransactionStatus};

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(text_cell("Coffee"), "Coffee");
        assert_eq!(text_cell("a,b"), "\"a,b\"");
        assert_eq!(text_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(text_cell("two\nlines"), "\"two\nlines\"");
        assert_eq!(text_cell("=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
        for risky in ["+1", "-1+2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(text_cell(risky).trim_start_matches('"').starts_with('\''), "{risky:?}");
        }
        assert_eq!(text_cell("x=1"), "x=1", "only a leading sign is a formula");
    }

    #[test]
    fn amounts_are_plain_decimals() {
        assert_eq!(decimal(0), "0.00");
        assert_eq!(decimal(5), "0.05");
        assert_eq!(decimal(-123_456), "-1234.56");
        assert_eq!(decimal(i64::MIN), "-92233720368547758.08");
    }

    #[test]
    fn rows_render_with_a_header_and_crlf() {
        let t = Transaction {
            id: "fctxn_1".into(),
            amount: Money {
                minor: -1_050,
                currency: "usd".into(),
            },
            description: "=cmd|' /C calc'!A0, \"lunch\"".into(),
            status: TransactionStatus::Posted,
            transacted_at: 1_700_000_000,
            updated: 1_700_000_000,
        };
        assert_eq!(
            render(&[t]),
            "date,description,status,amount,currency,id\r\n\
             2023-11-14,\"'=cmd|' /C calc'!A0, \"\"lunch\"\"\",posted,-10.50,USD,fctxn_1\r\n"
        );
        assert_eq!(render(&[]), "date,description,status,amount,currency,id\r\n");
    }
}
