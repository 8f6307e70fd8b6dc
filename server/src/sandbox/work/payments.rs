//! Bank payments settling, as Stripe's ACH Direct Debit does it: a confirmed
//! PaymentIntent is `processing` for `Timing::payment_delay`, then
//! `succeeded` (`payment_intent.succeeded`), or back to
//! `requires_payment_method` with `last_payment_error`
//! (`payment_intent.payment_failed`) when its PaymentMethod's account fails
//! the way Stripe's test accounts do ("Insufficient Funds": `insufficient_funds`).

use crate::sandbox::state::{IntentStatus, Job, Space};
use serde_json::{json, Value};
use std::time::Duration;

/// Puts a confirmed intent in `processing` and schedules it to settle.
pub fn start(space: &mut Space, intent_id: &str, delay: Duration) {
    let Some(pi) = space.payments.intents.get_mut(intent_id) else {
        return;
    };
    pi.status = IntentStatus::Processing;
    pi.next_action = None;
    pi.last_payment_error = None;
    let object = pi.to_json();
    space.emit_object("payment_intent.processing", object);
    space.schedule(
        delay,
        Job::SettlePayment {
            intent: intent_id.to_owned(),
        },
    );
}

/// Settles a processing intent; returns the event emitted. An intent that
/// is no longer processing (gone with its key) is left alone.
pub fn settle(space: &mut Space, intent_id: &str) -> Option<Value> {
    let pi = space.payments.intents.get(intent_id)?;
    if pi.status != IntentStatus::Processing {
        return None;
    }
    let method = pi.payment_method.as_ref().and_then(|m| space.payments.methods.get(m));
    let failure = method.and_then(|m| m.outcome.failure());
    let method_json = method.map(|m| m.to_json());
    let pi = space.payments.intents.get_mut(intent_id)?;
    let kind = match failure {
        None => {
            pi.status = IntentStatus::Succeeded;
            pi.amount_received = pi.amount;
            "payment_intent.succeeded"
        }
        Some((code, message)) => {
            pi.status = IntentStatus::RequiresPaymentMethod;
            pi.payment_method = None;
            pi.last_payment_error = Some(json!({
                "code": code,
                "doc_url": format!("https://stripe.com/docs/error-codes/{}", code.replace('_', "-")),
                "message": message,
                "payment_method": method_json,
                "payment_method_type": "us_bank_account",
                "type": "invalid_request_error",
            }));
            "payment_intent.payment_failed"
        }
    };
    let object = pi.to_json();
    Some(space.emit_object(kind, object))
}
