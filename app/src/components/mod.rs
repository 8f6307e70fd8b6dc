//! Reusable view pieces: no server calls, only props in, markup out.

mod account_list;
mod account_sections;
mod developer_log;
mod mode_badge;
mod pay;
mod payments;
mod status_panel;
mod transactions;

pub use account_list::AccountList;
pub use account_sections::{BalanceView, OwnersView, RefreshControl};
pub use developer_log::LogEntryView;
pub use mode_badge::ModeBadge;
pub use pay::{business_name, PayFields, PayForm, PaySection};
pub use payments::{LivePayments, PaymentList};
pub use status_panel::{ErrorNotice, ErrorView, LinkState, StatusPanel};
pub use transactions::TransactionsPanel;
