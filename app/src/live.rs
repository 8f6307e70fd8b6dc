//! Live account updates in the browser: follows the server's `/events`
//! stream with gloo-net's EventSource, reconnecting when it drops.

use futures::channel::oneshot;
use futures::future::{select, Either};
use futures::StreamExt;
use gloo_net::eventsource::futures::EventSource;
use std::time::Duration;

/// Calls `changed` whenever the server reports that the account `id()`
/// changed, until `stopped` fires (the page went away).
pub async fn follow_account(id: impl Fn() -> String + 'static, changed: impl Fn() + 'static, mut stopped: oneshot::Receiver<()>) {
    loop {
        if let Ok(mut source) = EventSource::new("/events") {
            if let Ok(mut updates) = source.subscribe("account") {
                loop {
                    match select(updates.next(), &mut stopped).await {
                        Either::Left((Some(Ok((_, message))), _)) => {
                            if message.data().as_string().as_deref() == Some(id().as_str()) {
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
