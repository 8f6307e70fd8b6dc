//! `/accounts/{id}`: one linked account — its balance, its owners (with
//! whether they match the name the user gave) and its transactions (daily
//! updates on or off, chart, filtered pages), each with an honest,
//! asynchronous Refresh (pending → succeeded/failed, and when the next one
//! may run), and Disconnect with confirmation. Inactive and disconnected
//! accounts keep their last data and offer a relink.

use crate::api::{disconnect_account, load_account, refresh_account, set_subscription};
use crate::components::{ErrorNotice, ErrorView, LinkState, StatusPanel, TransactionsPanel};
use crate::model::{
    AccountDetail, AccountStatus, AccountSubcategory, Balance, DataFeature, LinkOptions, NameMatch, Owner, Permission,
    RefreshState, RefreshStatus,
};
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};

/// `2026-11-24 13:05:09 UTC`, the same on the server and in the browser.
pub fn utc(ts: i64) -> String {
    let secs = ts.rem_euclid(crate::model::Day::SECONDS);
    format!(
        "{} {:02}:{:02}:{:02} UTC",
        crate::model::Day::of(ts),
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let reload = RwSignal::new(0u32);
    let detail = Resource::new(move || (id(), reload.get()), |(id, _)| load_account(id));
    // The newest answer from any action, shown in place of the loaded one
    // (only for the account in the URL: a relink moves to another).
    let latest = RwSignal::new(None::<AccountDetail>);
    let action_answer = move || latest.get().filter(|d| d.account.id.as_str() == id());
    let error = RwSignal::new(None::<ErrorView>);
    Effect::new(move |prev: Option<String>| {
        let now = id();
        if prev.is_some_and(|p| p != now) {
            error.set(None);
        }
        now
    });

    let refresh = Action::new(|(id, feature): &(String, DataFeature)| refresh_account(id.clone(), feature.as_str().to_owned()));
    let disconnect = Action::new(|id: &String| disconnect_account(id.clone()));
    let subscribe = Action::new(|(id, on): &(String, bool)| set_subscription(id.clone(), on.to_string()));
    Effect::new(move |_| {
        for result in [refresh.value().get(), disconnect.value().get(), subscribe.value().get()]
            .into_iter()
            .flatten()
        {
            match result {
                Ok(d) => {
                    error.set(None);
                    latest.set(Some(d));
                }
                Err(e) => error.set(Some(e.into())),
            }
        }
    });

    // Live: the server says when a webhook changed this account (SSE).
    #[cfg(feature = "hydrate")]
    {
        let (stop, stopped) = futures::channel::oneshot::channel::<()>();
        let stop = std::sync::Mutex::new(Some(stop));
        on_cleanup(move || {
            if let Some(s) = stop.lock().ok().and_then(|mut s| s.take()) {
                let _ = s.send(());
            }
        });
        let changed = move || {
            latest.set(None);
            reload.update(|n| *n += 1);
        };
        leptos::task::spawn_local(crate::live::follow_account(id, changed, stopped));
    }

    // Without webhooks (real Stripe and no `stripe listen`) nothing would say
    // a refresh finished: look again, slowly, while one is pending.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let current = AccountDetail::newest(action_answer(), detail.get().and_then(Result::ok));
        if current.is_some_and(|d| d.refreshing()) {
            set_timeout(
                move || {
                    latest.set(None);
                    reload.update(|n| *n += 1);
                },
                std::time::Duration::from_secs(10),
            );
        }
    });

    // Relink: a new session with the same permissions and account type; on
    // success, the new account's page.
    let (relink_state, set_relink_state) = signal(LinkState::Idle);
    let navigate = use_navigate();
    let on_relink = move |(permissions, subcategory): (Vec<Permission>, AccountSubcategory)| {
        if matches!(relink_state.get_untracked(), LinkState::Working(_)) {
            return;
        }
        set_relink_state.set(LinkState::Working("Starting a secure session…"));
        let permissions = permissions.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(",");
        let types = if LinkOptions::ACCOUNT_TYPES.contains(&subcategory) {
            subcategory.wire()
        } else {
            ""
        };
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            let options = (permissions, String::new(), types.to_owned());
            match crate::pages::link::run_link(String::new(), String::new(), options, set_relink_state).await {
                Ok(linked) => {
                    set_relink_state.set(LinkState::Idle);
                    navigate(&format!("/accounts/{}", linked[0].id), Default::default());
                }
                Err(state) => set_relink_state.set(state),
            }
        });
    };

    let on_disconnect = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let ok = web_sys::window()
                .and_then(|w| {
                    w.confirm_with_message(
                        "Disconnect this account? The app keeps the data it already has, but cannot refresh it.",
                    )
                    .ok()
                })
                .unwrap_or(false);
            if ok {
                disconnect.dispatch(id());
            }
        }
    };

    view! {
        <p><a href="/accounts" class="back">"← All accounts"</a></p>
        <Suspense fallback=|| view! { <section class="card"><p class="muted">"Loading account…"</p></section> }>
            {move || {
                let loaded = detail.get()?;
                let shown = match (action_answer(), loaded) {
                    (Some(action), Ok(reloaded)) => {
                        Ok(action.newer(reloaded))
                    }
                    (Some(action), Err(_)) => Ok(action),
                    (None, loaded) => loaded,
                };
                Some(match shown {
                    Err(e) => view! {
                        <section class="card" data-testid="account-missing">
                            <h1>"Account not available"</h1>
                            <ErrorNotice error=e.into()/>
                        </section>
                    }
                    .into_any(),
                    Ok(d) => view! {
                        <AccountView
                            detail=d
                            refreshing=refresh.pending()
                            on_refresh=Callback::new(move |f: DataFeature| { refresh.dispatch((id(), f)); })
                            on_disconnect=Callback::new(on_disconnect)
                            disconnecting=disconnect.pending()
                            on_subscribe=Callback::new(move |on: bool| { subscribe.dispatch((id(), on)); })
                            subscribing=subscribe.pending()
                            on_relink=Callback::new(on_relink.clone())
                            relink_state=relink_state
                        />
                    }
                    .into_any(),
                })
            }}
        </Suspense>
        {move || error.get().map(|e| view! { <ErrorNotice error=e testid="account-error"/> })}
    }
}

#[component]
fn AccountView(
    detail: AccountDetail,
    refreshing: Memo<bool>,
    on_refresh: Callback<DataFeature>,
    on_disconnect: Callback<()>,
    disconnecting: Memo<bool>,
    on_subscribe: Callback<bool>,
    subscribing: Memo<bool>,
    on_relink: Callback<(Vec<Permission>, AccountSubcategory)>,
    relink_state: ReadSignal<LinkState>,
) -> impl IntoView {
    let a = detail.account.clone();
    let status = a.status;
    let active = status == AccountStatus::Active;
    let name = a.display_name.clone().unwrap_or_else(|| a.subcategory.label().to_owned());
    let can = |p: Permission| active && a.permissions.contains(&p);
    let (balance_ok, ownership_ok, transactions_ok) = (
        can(Permission::Balances),
        can(Permission::Ownership),
        can(Permission::Transactions),
    );
    let shares_transactions = a.permissions.contains(&Permission::Transactions);
    let subscribed = detail.subscribed;
    let id = a.id.to_string();
    let status_label = match status {
        AccountStatus::Active => "Active",
        AccountStatus::Inactive => "Inactive",
        AccountStatus::Disconnected => "Disconnected",
        AccountStatus::Unknown => "Unknown",
    };
    view! {
        <section class="card">
            <p class="institution">{a.institution_name.clone()}</p>
            <h1 data-testid="account-name">{name}</h1>
            <p class="account-meta">
                <span class="last4">{a.last4.clone().map(|l| format!("•••• {l}"))}</span>
                <span class="kind">{format!("{} · {}", a.category.label(), a.subcategory.label())}</span>
                <span class=format!("badge status-{}", status.as_str()) data-testid="account-status">{status_label}</span>
            </p>
            {detail.stored_at.map(|t| view! {
                <div class="status neutral" role="status" data-testid="stored-copy">
                    "Stripe cannot be reached right now, so this is what the app stored at "{utc(t)}
                    ". Refreshes and other actions may fail until it is back."
                </div>
            })}
            {(!active).then(|| {
                let again = (a.permissions.clone(), a.subcategory);
                view! {
                    <div class="status neutral" data-testid="relink-needed">
                        <span>"Relink needed: Stripe can no longer read this account, so its data below may be out of date."</span>
                        <button
                            type="button"
                            class="secondary-button"
                            data-testid="relink"
                            disabled=move || matches!(relink_state.get(), LinkState::Working(_))
                            on:click=move |_| on_relink.run(again.clone())
                        >
                            "Relink"
                        </button>
                    </div>
                    <div aria-live="polite"><StatusPanel state=relink_state/></div>
                }
            })}
        </section>
        <section class="card" data-testid="balance-card">
            <h2>"Balance"</h2>
            <BalanceView balance=detail.balance.clone()/>
            <RefreshControl
                feature=DataFeature::Balance
                state=detail.balance_refresh.clone()
                allowed=balance_ok
                refreshing=refreshing
                on_refresh=on_refresh
            />
        </section>
        <section class="card" data-testid="ownership-card">
            <h2>"Ownership"</h2>
            <OwnersView owners=detail.owners.clone() name_match=detail.name_match/>
            <RefreshControl
                feature=DataFeature::Ownership
                state=detail.ownership_refresh.clone()
                allowed=ownership_ok
                refreshing=refreshing
                on_refresh=on_refresh
            />
        </section>
        <section class="card" id="transactions" data-testid="transactions-card">
            <h2>"Transactions"</h2>
            <div class="actions-row subscription">
                <span data-testid="subscription-state">
                    {if subscribed { "Daily updates are on: Stripe refreshes these every day." } else { "Daily updates are off." }}
                </span>
                <button
                    type="button"
                    class="secondary-button"
                    data-testid="subscription-toggle"
                    disabled=move || subscribing.get() || !transactions_ok
                    on:click=move |_| on_subscribe.run(!subscribed)
                >
                    {move || match (subscribing.get(), subscribed) {
                        (true, _) => "Saving…",
                        (false, true) => "Turn off daily updates",
                        (false, false) => "Turn on daily updates",
                    }}
                </button>
            </div>
            <RefreshControl
                feature=DataFeature::Transactions
                state=detail.transaction_refresh.clone()
                allowed=transactions_ok
                refreshing=refreshing
                on_refresh=on_refresh
            />
            {if shares_transactions {
                view! { <TransactionsPanel id=id/> }.into_any()
            } else {
                view! {
                    <p class="muted" data-testid="transactions-not-shared">
                        "Transactions were not shared when this account was linked. "<a href="/">"Link it again"</a>
                        " with the transactions permission to see them."
                    </p>
                }
                .into_any()
            }}
        </section>
        {(status != AccountStatus::Disconnected).then(|| view! {
            <section class="card">
                <h2>"Disconnect"</h2>
                <p class="muted">"Stop sharing this account's data. Linked data already here stays visible."</p>
                <button
                    type="button"
                    class="danger"
                    data-testid="disconnect"
                    disabled=move || disconnecting.get()
                    on:click=move |_| on_disconnect.run(())
                >
                    "Disconnect account"
                </button>
            </section>
        })}
    }
}

/// A refresh button with its honest status line.
#[component]
fn RefreshControl(
    feature: DataFeature,
    state: Option<RefreshState>,
    /// The account is active and was linked with the permission.
    allowed: bool,
    refreshing: Memo<bool>,
    on_refresh: Callback<DataFeature>,
) -> impl IntoView {
    let pending = state.as_ref().is_some_and(|r| r.status == RefreshStatus::Pending);
    let what = feature.as_str();
    let note = if allowed || state.is_some() {
        refresh_note(state.as_ref())
    } else {
        "Not shared for this account.".to_owned()
    };
    view! {
        <div class="actions-row">
            <button
                type="button"
                class="primary"
                data-testid=format!("refresh-{what}")
                disabled=move || pending || refreshing.get() || !allowed
                on:click=move |_| on_refresh.run(feature)
            >
                {if pending { "Refreshing…".to_owned() } else { format!("Refresh {what}") }}
            </button>
            <span class="muted" data-testid=format!("refresh-note-{what}")>{note}</span>
        </div>
    }
}

#[component]
fn OwnersView(owners: Option<Vec<Owner>>, name_match: NameMatch) -> impl IntoView {
    let Some(owners) = owners else {
        return view! { <p class="muted" data-testid="no-owners">"Owners not fetched yet. Refresh to ask the bank."</p> }
            .into_any();
    };
    let (class, text) = match name_match {
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

fn refresh_note(r: Option<&RefreshState>) -> String {
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

#[component]
fn BalanceView(balance: Option<Balance>) -> impl IntoView {
    match balance {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times_are_formatted_without_a_clock() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_492_774_577), "2017-04-21 11:36:17 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
    }
}
