//! The sandbox's background work, driven by the clock: refreshes settling,
//! subscribed accounts refreshing, bank payments settling, webhook
//! deliveries being sent and retried.
//! One driver task per sandbox sleeps until the next job any key has waiting
//! (or until a new one is scheduled) and runs what is due, then writes what
//! it changed to the state file; the jobs themselves live in their key's
//! space, so forgetting a key stops its work, and a restart resumes it.

pub mod delivery;
pub mod payments;
pub mod refresh;

use crate::sandbox::state::{Job, Sandbox};
use std::sync::{Arc, Weak};
use std::time::Instant;
use tokio::sync::Notify;

/// Starts the sandbox's driver on the current Tokio runtime (once per
/// sandbox; outside a runtime nothing runs and jobs wait).
pub fn start(sandbox: &Arc<Sandbox>) {
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return;
    };
    if !sandbox.claim_driver() {
        return;
    }
    handle.spawn(drive(Arc::downgrade(sandbox), sandbox.wake(), delivery::client()));
}

/// Runs due jobs until the sandbox is dropped.
async fn drive(sandbox: Weak<Sandbox>, wake: Arc<Notify>, http: reqwest::Client) {
    loop {
        let next = {
            let Some(sb) = sandbox.upgrade() else {
                return;
            };
            for (key, job) in sb.take_due(Instant::now()) {
                run(&sb, &http, key, job);
            }
            sb.flush().await;
            sb.next_due()
        };
        match next {
            Some(at) => {
                tokio::select! {
                    _ = tokio::time::sleep_until(at.into()) => {}
                    _ = wake.notified() => {}
                }
            }
            None => wake.notified().await,
        }
    }
}

fn run(sb: &Arc<Sandbox>, http: &reqwest::Client, key: String, job: Job) {
    match job {
        Job::Settle { account, feature } => {
            let cooldown = sb.timing.refresh_cooldown_secs;
            let event = sb
                .with_existing_space(&key, |s| refresh::settle(s, &account, feature, cooldown))
                .flatten();
            if let Some(e) = event {
                tracing::debug!(event = %e["type"], account = %account, "sandbox refresh settled");
            }
        }
        Job::Subscription { account } => {
            let timing = sb.timing;
            sb.with_existing_space(&key, |s| refresh::subscription_tick(s, &account, &timing));
        }
        Job::Deliver(attempt) => delivery::run(sb, http, key, attempt),
        Job::SettlePayment { intent } => {
            let event = sb.with_existing_space(&key, |s| payments::settle(s, &intent)).flatten();
            if let Some(e) = event {
                tracing::debug!(event = %e["type"], intent = %intent, "sandbox payment settled");
            }
        }
    }
}
