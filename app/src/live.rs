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
use std::cell::RefCell;
use std::rc::Rc;
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

/// Every event the tab follows, on its one stream.
const KINDS: [&str; 4] = ["account", "payment", "developer", "resync"];

/// How long the stream stays open after its last follower left: a page
/// that replaces another (a route change) takes it over instead of opening
/// a new one.
const LINGER: Duration = Duration::from_secs(2);

/// One follower: its event kind, which events it wants, what to call.
struct Follower {
    id: u64,
    kind: &'static str,
    wanted: Box<dyn Fn(&str) -> bool>,
    changed: Rc<dyn Fn()>,
}

/// The tab's followers and its one `/events` stream (a browser allows only
/// a few connections per server, and the server a few streams per user).
#[derive(Default)]
struct Hub {
    next_id: u64,
    followers: Vec<Follower>,
    /// Stops the stream's task; `None` while no stream runs.
    stop: Option<oneshot::Sender<()>>,
}

thread_local! {
    static HUB: RefCell<Hub> = RefCell::default();
}

/// Follows `kind` events until the current reactive owner is cleaned up,
/// opening the tab's stream if none is open.
fn while_owner_lives(kind: &'static str, wanted: impl Fn(&str) -> bool + 'static, changed: impl Fn() + 'static) {
    let (id, start) = HUB.with_borrow_mut(|hub| {
        hub.next_id += 1;
        let id = hub.next_id;
        hub.followers.push(Follower {
            id,
            kind,
            wanted: Box::new(wanted),
            changed: Rc::new(changed),
        });
        let start = hub.stop.is_none().then(|| {
            let (stop, stopped) = oneshot::channel::<()>();
            hub.stop = Some(stop);
            stopped
        });
        (id, start)
    });
    if let Some(stopped) = start {
        leptos::task::spawn_local(follow(stopped));
    }
    leptos::prelude::on_cleanup(move || {
        let last = HUB.with_borrow_mut(|hub| {
            hub.followers.retain(|f| f.id != id);
            hub.followers.is_empty()
        });
        if last {
            leptos::prelude::set_timeout(stop_if_unfollowed, LINGER);
        }
    });
}

/// Closes the stream if nobody follows it any more.
fn stop_if_unfollowed() {
    let stop = HUB.with_borrow_mut(|hub| if hub.followers.is_empty() { hub.stop.take() } else { None });
    if let Some(stop) = stop {
        let _ = stop.send(());
    }
}

/// Calls every follower that wants this event (`resync`: all of them).
fn dispatch(event: &str, data: Option<String>) {
    // Called outside the borrow: a call may add or remove followers.
    let calls: Vec<Rc<dyn Fn()>> = HUB.with_borrow(|hub| {
        hub.followers
            .iter()
            .filter(|f| event == "resync" || (f.kind == event && data.as_deref().is_some_and(|d| (f.wanted)(d))))
            .map(|f| f.changed.clone())
            .collect()
    });
    for changed in calls {
        changed();
    }
}

/// Follows `/events`, passing each event to [`dispatch`], until `stopped`
/// fires; reconnects when the browser gives up on the stream.
async fn follow(mut stopped: oneshot::Receiver<()>) {
    loop {
        if let Ok(mut source) = EventSource::new("/events") {
            let streams: Result<Vec<_>, _> = KINDS.iter().map(|kind| source.subscribe(*kind)).collect();
            if let Ok(streams) = streams {
                let mut events = futures::stream::select_all(streams);
                loop {
                    match select(events.next(), &mut stopped).await {
                        Either::Left((Some(Ok((event, message))), _)) => dispatch(&event, message.data().as_string()),
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
        // Wait a little before reconnecting, unless the stream was stopped.
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
