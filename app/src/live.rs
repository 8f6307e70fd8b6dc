//! Live updates in the browser: follows the server's `/events` stream with
//! gloo-net's EventSource, reconnecting when it drops. An `account` event
//! names the account that changed, a `payment` event the payment, a
//! `developer` event new entries in the developer log; `resync` means updates
//! may have been missed, so the page reloads what it shows. The account page
//! follows its account; the lists follow them all.

use futures::channel::oneshot;
use futures::future::{select, Either};
use futures::StreamExt;
use gloo_net::eventsource::futures::EventSource;
use std::time::Duration;

/// For as long as the current reactive owner (the page or component) lives:
/// calls `changed` whenever the server reports that an account `wanted`
/// accepts changed, or that updates may have been missed.
pub fn on_account_changes(wanted: impl Fn(&str) -> bool + 'static, changed: impl Fn() + 'static) {
    while_owner_lives("account", wanted, changed);
}

/// For as long as the current owner lives: calls `changed` whenever one of
/// the user's payments changed (a `payment` event) or updates may have been
/// missed.
pub fn on_payment_changes(changed: impl Fn() + 'static) {
    while_owner_lives("payment", |_| true, changed);
}

/// For as long as the current owner lives: calls `changed` whenever the
/// user's developer log has new entries (a `developer` event) or updates may
/// have been missed.
pub fn on_developer_log_changes(changed: impl Fn() + 'static) {
    while_owner_lives("developer", |_| true, changed);
}

/// Follows `kind` events until the current reactive owner is cleaned up.
fn while_owner_lives(kind: &'static str, wanted: impl Fn(&str) -> bool + 'static, changed: impl Fn() + 'static) {
    let (stop, stopped) = oneshot::channel::<()>();
    let stop = std::sync::Mutex::new(Some(stop));
    leptos::prelude::on_cleanup(move || {
        if let Some(s) = stop.lock().ok().and_then(|mut s| s.take()) {
            let _ = s.send(());
        }
    });
    leptos::task::spawn_local(follow(kind, wanted, changed, stopped));
}

/// Follows `/events`: calls `changed` for each `kind` event whose data
/// `wanted` accepts, and for every `resync`, until `stopped` fires.
async fn follow(
    kind: &'static str,
    wanted: impl Fn(&str) -> bool + 'static,
    changed: impl Fn() + 'static,
    mut stopped: oneshot::Receiver<()>,
) {
    loop {
        if let Ok(mut source) = EventSource::new("/events") {
            if let (Ok(updates), Ok(resyncs)) = (source.subscribe(kind), source.subscribe("resync")) {
                let mut updates = futures::stream::select(updates, resyncs);
                loop {
                    match select(updates.next(), &mut stopped).await {
                        Either::Left((Some(Ok((event, message))), _)) => {
                            if event == "resync" || message.data().as_string().is_some_and(|d| wanted(&d)) {
                                changed();
                            }
                        }
                        // The browser gave up reconnecting: start a new source below.
                        Either::Left(_) => break,
                        Either::Right(_) => {
                            source.close();
                            return;
                        }
                    }
                }
            }
            source.close();
        }
        // Wait a little before reconnecting, unless the page is gone.
        let pause = gloo_timers_sleep(Duration::from_secs(3));
        if let Either::Right(_) = select(Box::pin(pause), &mut stopped).await {
            return;
        }
    }
}

async fn gloo_timers_sleep(d: Duration) {
    let (tx, rx) = oneshot::channel::<()>();
    leptos::prelude::set_timeout(
        move || {
            let _ = tx.send(());
        },
        d,
    );
    let _ = rx.await;
}
