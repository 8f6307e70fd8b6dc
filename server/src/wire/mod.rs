//! Stripe's wire format, shared by the API client ([`crate::stripe`]), the
//! webhook receiver ([`crate::webhooks`]) and the sandbox
//! ([`crate::sandbox`]); owned by none of them. A leaf: it imports nothing
//! of the app.

pub mod signature;

/// The API version this server speaks and the sandbox reports (`Stripe-Version`).
pub const STRIPE_VERSION: &str = "2026-07-29.dahlia";
