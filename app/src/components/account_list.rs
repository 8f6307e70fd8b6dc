//! The list of linked accounts: institution, name, last known balance, last
//! four digits, kind, status, when it last synced and where each kind of
//! data's refresh stands (refreshing → updated); each links to its page.

use crate::model::{utc, AccountStatus, DataFeature, LinkedAccount, RefreshStatus, Refreshes};
use leptos::either::Either;
use leptos::prelude::*;

#[component]
pub fn AccountList(accounts: Vec<LinkedAccount>) -> impl IntoView {
    if accounts.is_empty() {
        return Either::Left(view! { <p class="muted" data-testid="no-accounts">"No accounts linked yet."</p> });
    }
    Either::Right(view! {
        <ul class="accounts" data-testid="account-list">
            {accounts.into_iter().map(|a| view! { <AccountRow account=a/> }).collect_view()}
        </ul>
    })
}

#[component]
fn AccountRow(account: LinkedAccount) -> impl IntoView {
    let status = account.status;
    let status_class = format!("badge status-{}", status.as_str());
    let status_label = match status {
        AccountStatus::Active => "Active",
        AccountStatus::Inactive => "Inactive",
        AccountStatus::Disconnected => "Disconnected",
        AccountStatus::Unknown => "Unknown",
    };
    let name = account
        .display_name
        .clone()
        .unwrap_or_else(|| account.subcategory.label().to_owned());
    let last4 = account.last4.clone().map(|l| format!("•••• {l}")).unwrap_or_default();
    let kind = format!("{} · {}", account.category.label(), account.subcategory.label());
    let synced = match account.refreshes.synced_at() {
        Some(t) => format!("Last synced {}", utc(t)),
        None => "Not synced yet".to_owned(),
    };
    let shared: Vec<DataFeature> = Refreshes::FEATURES
        .into_iter()
        .filter(|f| account.permissions.contains(&f.needs()))
        .collect();
    let refreshes = account.refreshes.clone();
    view! {
        <li class="account" data-testid="account" data-account-id=account.id.to_string()>
            <div class="account-main">
                <span class="institution">{account.institution_name.clone()}</span>
                <a class="account-name" href=format!("/accounts/{}", account.id) data-testid="account-link">{name}</a>
                <span class="synced muted" data-testid="last-synced">{synced}</span>
            </div>
            <div class="account-meta">
                {account.balance.clone().map(|m| view! { <span class="balance" data-testid="account-balance">{m.format()}</span> })}
                <span class="last4">{last4}</span>
                <span class="kind">{kind}</span>
                <span class=status_class data-testid="account-status">{status_label}</span>
            </div>
            {(!shared.is_empty()).then(|| view! {
                <ul class="sync-states" aria-label="Data refreshes">
                    {shared.into_iter().map(|f| view! { <SyncState feature=f refreshes=refreshes.clone()/> }).collect_view()}
                </ul>
            })}
        </li>
    }
}

/// One kind of data's refresh, in a word: refreshing, updated, failed, never.
#[component]
fn SyncState(feature: DataFeature, refreshes: Refreshes) -> impl IntoView {
    let (state, text) = match refreshes.get(feature).map(|r| r.status) {
        None => ("never", "not fetched yet"),
        Some(RefreshStatus::Pending) => ("pending", "refreshing…"),
        Some(RefreshStatus::Succeeded) => ("succeeded", "updated"),
        Some(RefreshStatus::Failed) => ("failed", "last refresh failed"),
    };
    view! {
        <li class=format!("sync sync-{state}") data-testid=format!("sync-{}", feature.as_str()) data-state=state>
            {feature.label()}": "{text}
        </li>
    }
}
