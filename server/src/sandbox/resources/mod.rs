//! What the API's requests do, one module per resource family. Each function
//! takes the calling key and its decoded [`Params`](crate::sandbox::params::Params),
//! checks them as Stripe does, acts on the key's space and returns Stripe's
//! JSON or an [`ApiError`](crate::sandbox::error::ApiError). Nothing here
//! knows about HTTP: routing, authentication, idempotency and faults are the
//! edge's ([`crate::sandbox::edge`]), which calls in, never the reverse.

pub mod accounts;
pub mod collect_for_payment;
pub mod confirm;
pub mod customers;
pub mod events;
pub mod expand;
pub mod keys;
pub mod list;
pub mod modal;
pub mod notices;
pub mod payment_intents;
pub mod payment_methods;
pub mod requests;
pub mod scheduled;
pub mod sessions;
pub mod tokens;
pub mod transactions;
