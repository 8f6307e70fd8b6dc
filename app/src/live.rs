//! Live account updates in the browser: follows the server's `/events`
//! stream with gloo-net's EventSource, reconnecting when it drops. An
//! `account` event names the account that changed; `resync` means updates
//! may have been missed, so the page reloads what it shows.

use futures::channel::oneshot;
use futures::future::{select, Either};
use futures::StreamExt;
use gloo_net::eventsource::futures::EventSource;
use std::time::Duration;

/// Calls `changed` whenever the server reports that the account `id()`
/// changed or that updates may have been missed, until `stopped` fires (the
/// page went away).
pub async fn follow_account(id: impl Fn() -> String + 'static, changed: impl Fn() + 'static, mut stopped: oneshot::Receiver<()>) {
    loop {
        if let Ok(mut source) = EventSource::new("/events") {
            if let (Ok(accounts), Ok(resyncs)) = (source.subscribe("account"), source.subscribe("resync")) {
                let mut updates = futures::stream::select(accounts, resyncs);
                loop {
                    match select(updates.next(), &mut stopped).await {
                        Either::Left((Some(Ok((kind, message))), _)) => {
                            if kind == "resync" || message.data().as_string().as_deref() == Some(id().as_str()) {
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
