//! `/developer`: the developer panel for this browser's user. Every Stripe
//! API request the server made on their behalf, every webhook event that
//! touched their data and every Stripe.js result their pages received,
//! newest first, filtered by kind (`?kind=` in the URL, so filters work
//! before the wasm loads and survive a reload), with the redacted JSON in
//! `<details>`. New entries arrive live over `/events`.

use crate::api::developer::developer_log;
use crate::api::resource;
use crate::components::{ErrorNotice, LogEntryView};
use crate::model::developer::{LogEntry, LogKind};
use crate::model::Mode;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn DeveloperPage() -> impl IntoView {
    let query = use_query_map();
    let q = move |k: &str| query.read().get(k).unwrap_or_default();
    // Bumped by live updates: the page reads the log again.
    let reload = RwSignal::new(0u32);
    let log = resource(
        move || (q("kind"), q("before"), reload.get()),
        |(kind, before, _)| developer_log(kind, before),
    );

    #[cfg(feature = "hydrate")]
    crate::live::on_developer_log_changes(move || reload.update(|n| *n += 1));

    let page = move || log.get().and_then(Result::ok);
    let mode = Memo::new(move |_| page().map(|p| p.mode).unwrap_or(Mode::Sandbox));
    // The next page: below the last entry shown, same filter.
    let older = move || {
        let last = page().filter(|p| p.more)?.entries.last()?.id;
        let kind = q("kind");
        Some(if kind.is_empty() {
            format!("/developer?before={last}")
        } else {
            format!("/developer?kind={kind}&before={last}")
        })
    };

    let filter = move |kind: Option<LogKind>| {
        let value = kind.map(LogKind::as_str).unwrap_or("");
        let href = if value.is_empty() {
            "/developer".to_owned()
        } else {
            format!("/developer?kind={value}")
        };
        let label = kind.map(LogKind::label).unwrap_or("All");
        let testid = format!("filter-{}", if value.is_empty() { "all" } else { value });
        view! {
            <a href=href data-testid=testid class="filter-link"
                aria-current=move || (q("kind") == value).then_some("page")>{label}</a>
        }
    };

    view! {
        <section class="card developer">
            <h1>"Developer panel"</h1>
            <p class="lead">
                "What this app said to Stripe on your behalf and what Stripe answered, the webhook events "
                "that changed your data, and what Stripe.js returned to your pages. Newest first; secrets "
                "and client secrets are redacted."
            </p>
            <nav class="filters log-filters" aria-label="Show" data-testid="log-filters">
                {filter(None)}
                {LogKind::ALL.into_iter().map(|k| filter(Some(k))).collect_view()}
            </nav>
            <Transition fallback=|| view! { <p class="muted">"Loading the log…"</p> }>
                {move || log.get().and_then(Result::err).map(|e| view! { <ErrorNotice error=e.into()/> })}
                <Show when=move || page().is_some_and(|p| p.entries.is_empty())>
                    <p class="muted" data-testid="log-empty">
                        "Nothing recorded yet. Link an account and the requests show up here as they happen."
                    </p>
                </Show>
                // Keyed by id: a live update adds the new entries and keeps the
                // ones shown (and any <details> opened) as they are.
                <ol class="log" data-testid="log">
                    <For
                        each=move || page().map(|p| p.entries).unwrap_or_default()
                        key=|e: &LogEntry| e.id
                        children=move |entry: LogEntry| view! { <LogEntryView entry=entry mode=mode.get_untracked()/> }
                    />
                </ol>
                {move || older().map(|href| view! { <a class="button-link" href=href data-testid="log-older">"Older entries"</a> })}
            </Transition>
        </section>
    }
}
