//! Reusable view pieces: no server calls, only props in, markup out.

mod account_list;
mod mode_badge;
mod status_panel;
mod transactions;

pub use account_list::AccountList;
pub use mode_badge::ModeBadge;
pub use status_panel::{ErrorNotice, ErrorView, LinkState, StatusPanel};
pub use transactions::TransactionsPanel;
