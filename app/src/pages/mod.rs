//! Routed pages. Each page owns its state and calls server functions.

mod link;
mod not_found;

pub use link::LinkPage;
pub use not_found::NotFound;
