//! The list of linked accounts: institution, name, last known balance, last
//! four digits, kind, status; each links to its account page.

use crate::model::{AccountStatus, LinkedAccount};
use leptos::prelude::*;

#[component]
pub fn AccountList(accounts: Vec<LinkedAccount>) -> impl IntoView {
    if accounts.is_empty() {
        return view! { <p class="muted" data-testid="no-accounts">"No accounts linked yet."</p> }.into_any();
    }
    view! {
        <ul class="accounts" data-testid="account-list">
            {accounts.into_iter().map(|a| view! { <AccountRow account=a/> }).collect_view()}
        </ul>
    }
    .into_any()
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
    view! {
        <li class="account" data-testid="account" data-account-id=account.id.to_string()>
            <div class="account-main">
                <span class="institution">{account.institution_name.clone()}</span>
                <a class="account-name" href=format!("/accounts/{}", account.id) data-testid="account-link">{name}</a>
            </div>
            <div class="account-meta">
                {account.balance.clone().map(|m| view! { <span class="balance" data-testid="account-balance">{m.format()}</span> })}
                <span class="last4">{last4}</span>
                <span class="kind">{kind}</span>
                <span class=status_class>{status_label}</span>
            </div>
        </li>
    }
}
