//! Shared domain types: what crosses between the browser, the server functions
//! and the services. Input is parsed into these at the edge; past that point
//! the code never handles a raw id or permission string. One file per domain;
//! everything is re-exported here, so callers write `crate::model::X`.

pub mod accounts;
pub mod developer;
pub mod ids;
pub mod link;
pub mod money;
pub mod payments;
pub mod sync;
pub mod transactions;

pub use accounts::*;
pub use ids::*;
pub use link::*;
pub use money::*;
pub use payments::{mandate_text, BankPaymentStart, PayTerms, Payment, PaymentFailure, PaymentRequest, PaymentStatus};
pub use sync::{utc, Refreshes};
pub use transactions::{DailyFlow, Day, Transaction, TransactionFilter, TransactionStatus, TransactionsView};
