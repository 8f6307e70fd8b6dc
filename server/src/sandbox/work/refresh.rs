//! Asynchronous refreshes, as Stripe runs them: a refresh starts `pending`,
//! settles `succeeded` (filling in the data) or `failed` after
//! `Timing::refresh_delay`, emits its webhook event, and the next one may
//! start only after `next_refresh_available_at`. A subscribed account
//! refreshes its transactions every `Timing::subscription_interval`.

use crate::sandbox::clock::{new_id, now};
use crate::sandbox::config::Timing;
use crate::sandbox::data;
use crate::sandbox::error::ApiError;
use crate::sandbox::kinds::{AccountCategory, AccountStatus};
use crate::sandbox::state::{Feature, Job, Owner, Ownership, Refresh, RefreshStatus, Space, Transaction};
use serde_json::json;

/// Whether `feature` may be refreshed at all: the account exists, is active
/// and was linked with the permission. Checked for every feature of a call
/// before any of them starts.
pub fn check(space: &Space, account_id: &str, feature: Feature) -> Result<(), ApiError> {
    let account = space
        .account(account_id)
        .ok_or_else(|| ApiError::not_found("financial_connections.account", account_id, "account"))?;
    if account.status != AccountStatus::Active {
        return Err(ApiError {
            code: Some("financial_connections_account_inactive"),
            ..ApiError::invalid(
                "account",
                format!(
                    "The Financial Connections account is {} and its data cannot be refreshed.",
                    account.status.as_str()
                ),
            )
        });
    }
    if !account.has_permission(feature.permission()) {
        return Err(ApiError::invalid(
            "features",
            format!(
                "The account was not linked with the `{}` permission; create a new session that requests it.",
                feature.permission()
            ),
        ));
    }
    Ok(())
}

/// Starts a refresh of `feature` unless one is running or it is too early,
/// and schedules it to settle after the sandbox's delay. Returns whether it started.
pub fn start(space: &mut Space, account_id: &str, feature: Feature, timing: &Timing) -> Result<bool, ApiError> {
    check(space, account_id, feature)?;
    let t = now();
    let Some(account) = space.account_mut(account_id) else {
        return Ok(false);
    };
    let slot = account.refresh_mut(feature);
    let too_early = match slot {
        Some(r) if r.status == RefreshStatus::Pending => true,
        Some(r) => r.next_refresh_available_at.is_some_and(|next| next > t),
        None => false,
    };
    if too_early {
        return Ok(false);
    }
    *slot = Some(Refresh {
        id: (feature == Feature::Transactions).then(|| new_id("fctxnref_")),
        last_attempted_at: t,
        next_refresh_available_at: None,
        status: RefreshStatus::Pending,
    });
    space.schedule(
        timing.refresh_delay,
        Job::Settle {
            account: account_id.to_owned(),
            feature,
        },
    );
    Ok(true)
}

/// Subscribes the account to daily transaction refreshes: one refresh now
/// and one job that repeats while it stays subscribed (never a second one).
pub fn subscribe(space: &mut Space, account_id: &str, timing: &Timing) -> Result<(), ApiError> {
    start(space, account_id, Feature::Transactions, timing)?;
    let account = space.account_or_404(account_id)?;
    if !account.subscribed() {
        account.subscriptions.push("transactions".to_owned());
    }
    if !space.jobs().subscription_scheduled(account_id) {
        space.schedule(
            timing.subscription_interval,
            Job::Subscription {
                account: account_id.to_owned(),
            },
        );
    }
    Ok(())
}

/// A subscription's turn: refresh transactions (unless one is running or too
/// early) and come back after the interval, while the account stays subscribed.
pub fn subscription_tick(space: &mut Space, account_id: &str, timing: &Timing) {
    if !space.account(account_id).is_some_and(|a| a.subscribed()) {
        return; // unsubscribed or disconnected: the job ends
    }
    let _ = start(space, account_id, Feature::Transactions, timing);
    space.schedule(
        timing.subscription_interval,
        Job::Subscription {
            account: account_id.to_owned(),
        },
    );
}

/// Settles a pending refresh: fills in the data, or fails it (the control
/// surface asked for failures, or the account stopped being active while the
/// refresh ran). Either way the `refreshed_*` event is emitted, as Stripe does.
pub fn settle(space: &mut Space, account_id: &str, feature: Feature, cooldown_secs: i64) -> Option<serde_json::Value> {
    let t = now();
    let account = space.account_mut(account_id)?;
    let pending = account
        .refresh_mut(feature)
        .as_ref()
        .filter(|r| r.status == RefreshStatus::Pending)?
        .clone();
    let active = account.status == AccountStatus::Active;
    // A key over its share of memory gets no more transactions.
    let full = feature == Feature::Transactions && space.over_share();
    let fail = !active || full || space.fail_next_refreshes > 0;
    if active && space.fail_next_refreshes > 0 {
        space.fail_next_refreshes -= 1;
    }
    let account = space.account_mut(account_id)?;
    let (template, credit) = (account.template, account.category == AccountCategory::Credit);
    *account.refresh_mut(feature) = Some(Refresh {
        status: if fail {
            RefreshStatus::Failed
        } else {
            RefreshStatus::Succeeded
        },
        next_refresh_available_at: Some(t + cooldown_secs),
        ..pending.clone()
    });
    if !fail {
        match feature {
            Feature::Balance => account.balance = Some(data::balance(account_id, template, credit, t)),
            Feature::Ownership => {
                let id = new_id("fcaowns_");
                let owners = data::owners(template)
                    .iter()
                    .map(|o| Owner {
                        id: new_id("fcaown_"),
                        object: "financial_connections.account_owner",
                        name: o.name,
                        email: o.email,
                        phone: o.phone,
                        raw_address: o.raw_address,
                        refreshed_at: t,
                        ownership: id.clone(),
                    })
                    .collect();
                space.set_ownership(account_id, Ownership { id, created: t, owners });
            }
            Feature::Transactions => {
                let refresh_id = pending.id.unwrap_or_else(|| new_id("fctxnref_"));
                sync_transactions(space, account_id, credit, &refresh_id, t);
            }
        }
    }
    space.emit(feature.event(), account_id)
}

/// Brings an account's stored transactions up to `t`: new ones are added and
/// changed ones (pending → posted) updated, all tagged with `refresh_id` so
/// `transaction_refresh[after]` lists only what this refresh touched.
fn sync_transactions(space: &mut Space, account_id: &str, credit: bool, refresh_id: &str, t: i64) {
    let seq = space.record_transaction_refresh(account_id, refresh_id);
    let stored = space.transactions.entry(account_id.to_owned()).or_default();
    let mut seeds = data::transactions(account_id, credit, t);
    seeds.reverse(); // oldest first, like the store
    for seed in seeds {
        let id = data::Seeded::new(&format!("{account_id}/{}", seed.key)).id("fctxn_");
        let transitions = json!({
            "posted_at": (seed.status == "posted").then_some(seed.transacted_at + 86_400),
            "void_at": (seed.status == "void").then_some(seed.transacted_at + 86_400),
        });
        match stored.iter_mut().find(|x| x.id == id) {
            Some(existing) if existing.status != seed.status => {
                existing.status = seed.status;
                existing.status_transitions = transitions;
                existing.transaction_refresh = refresh_id.to_owned();
                existing.refresh_seq = seq;
                existing.updated = t;
            }
            Some(_) => {}
            None => stored.push(Transaction {
                id,
                object: "financial_connections.transaction",
                account: account_id.to_owned(),
                amount: seed.amount,
                currency: "usd",
                description: seed.description,
                livemode: false,
                status: seed.status,
                status_transitions: transitions,
                transacted_at: seed.transacted_at,
                transaction_refresh: refresh_id.to_owned(),
                updated: t,
                refresh_seq: seq,
            }),
        }
    }
}
