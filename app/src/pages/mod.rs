//! Routed pages. Each page owns its state and calls server functions.

mod account;
mod dashboard;
mod link;
mod not_found;

pub use account::AccountPage;
pub use dashboard::Dashboard;
pub use link::LinkPage;
pub use not_found::NotFound;
