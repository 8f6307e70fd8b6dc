//! The account page's parts that change as data arrives: the balance, the
//! owners and a refresh button with its honest status line. Each takes
//! signals of just its slice of the account, so a live update redraws only
//! the part whose data changed (no flicker; focus and scroll stay put).

use crate::model::{utc, Balance, DataFeature, NameMatch, Owner, RefreshState, RefreshStatus};
use leptos::prelude::*;

/// A refresh button with its status line.
#[component]
pub fn RefreshControl(
    feature: DataFeature,
    #[prop(into)] state: Signal<Option<RefreshState>>,
    /// The account is active and was linked with the permission.
    #[prop(into)]
    allowed: Signal<bool>,
    /// An action on this account is running.
    #[prop(into)]
    refreshing: Signal<bool>,
    on_refresh: Callback<DataFeature>,
) -> impl IntoView {
    let pending = move || state.with(|s| s.as_ref().is_some_and(|r| r.status == RefreshStatus::Pending));
    let what = feature.as_str();
    let note = move || {
        state.with(|s| {
            if allowed.get() || s.is_some() {
                refresh_note(s.as_ref())
            } else {
                "Not shared for this account.".to_owned()
            }
        })
    };
    view! {
        <div class="actions-row">
            <button
                type="button"
                class="primary"
                data-testid=format!("refresh-{what}")
                disabled=move || pending() || refreshing.get() || !allowed.get()
                on:click=move |_| on_refresh.run(feature)
            >
                {move || if pending() { "Refreshing…".to_owned() } else { format!("Refresh {what}") }}
            </button>
            <span class="muted" data-testid=format!("refresh-note-{what}")>{note}</span>
        </div>
    }
}

/// "Refreshed at …. Next refresh available from …." and the like.
pub fn refresh_note(r: Option<&RefreshState>) -> String {
    match r {
        None => "Never refreshed.".to_owned(),
        Some(r) => match r.status {
            RefreshStatus::Pending => format!("Refresh started {}; Stripe is asking the bank.", utc(r.last_attempted_at)),
            RefreshStatus::Succeeded | RefreshStatus::Failed => {
                let outcome = if r.status == RefreshStatus::Failed {
                    "The last refresh failed"
                } else {
                    "Refreshed"
                };
                match r.next_refresh_available_at {
                    Some(next) => format!(
                        "{outcome} at {}. Next refresh available from {}.",
                        utc(r.last_attempted_at),
                        utc(next)
                    ),
                    None => format!("{outcome} at {}.", utc(r.last_attempted_at)),
                }
            }
        },
    }
}

/// The owners the bank reported, and whether one matches the name given.
#[component]
pub fn OwnersView(
    #[prop(into)] owners: Signal<Option<Vec<Owner>>>,
    #[prop(into)] name_match: Signal<NameMatch>,
) -> impl IntoView {
    move || {
        let Some(owners) = owners.get() else {
            return view! { <p class="muted" data-testid="no-owners">"Owners not fetched yet. Refresh to ask the bank."</p> }
                .into_any();
        };
        let (class, text) = match name_match.get() {
            NameMatch::Matches => ("status success", "✓ An owner matches the name you gave."),
            NameMatch::DoesNotMatch => ("status error", "✗ No owner matches the name you gave."),
            NameMatch::NoNameGiven => ("status neutral", "Give your name when linking to compare it with the owners."),
            NameMatch::NoOwnerData => ("status neutral", "The bank reported no owner names for this account."),
        };
        view! {
            <p class=class data-testid="name-match">{text}</p>
            <ul class="owners" data-testid="owners">
                {owners
                    .into_iter()
                    .map(|o| view! {
                        <li class="owner" data-testid="owner">
                            <strong>{o.name.unwrap_or_else(|| "(no name)".to_owned())}</strong>
                            {o.email.map(|e| view! { <span>{e}</span> })}
                            {o.phone.map(|p| view! { <span>{p}</span> })}
                            {o.address.map(|a| view! { <span class="muted">{a}</span> })}
                        </li>
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    }
}

/// The balance: current, available or credit used, as of when.
#[component]
pub fn BalanceView(#[prop(into)] balance: Signal<Option<Balance>>) -> impl IntoView {
    move || match balance.get() {
        None => view! { <p class="muted" data-testid="no-balance">"No balance yet. Refresh to fetch it from the bank."</p> }
            .into_any(),
        Some(b) => view! {
            <p class="amount" data-testid="balance-current">{b.current.format()}</p>
            {b.available.map(|m| view! { <p data-testid="balance-available">"Available: "{m.format()}</p> })}
            {b.credit_used.map(|m| view! { <p data-testid="balance-credit-used">"Credit used: "{m.format()}</p> })}
            <p class="muted">"As of "{utc(b.as_of)}</p>
        }
        .into_any(),
    }
}
