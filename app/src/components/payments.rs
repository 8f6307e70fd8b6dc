//! A list of payments as stored (newest first): amount, description, the
//! bank, where each stands (failed ones with the bank's reason, ones waiting
//! for microdeposits with Stripe's verification link) and Cancel where Stripe
//! allows it. [`LivePayments`] loads the user's payments and follows their
//! live updates; [`PaymentList`] only draws.

use crate::api::{cancel_payment, load_payments, resource};
use crate::components::{ErrorNotice, ErrorView};
use crate::model::utc;
use crate::model::Payment;
use leptos::prelude::*;

/// The user's payments (all, or from `account`), reloaded whenever one of
/// them changes (a webhook settled it, or another page acted) and after
/// `reload` changes; each cancelable one has Cancel.
#[component]
pub fn LivePayments(
    /// A `fca_…` to list one account's payments; `None` for all.
    #[prop(into)]
    account: Signal<Option<String>>,
    /// Bumped by the parent after it made a payment.
    #[prop(into)]
    reload: Signal<u32>,
) -> impl IntoView {
    let changed = RwSignal::new(0u32);
    let list = resource(
        move || (account.get(), reload.get(), changed.get()),
        move |(account, _, _)| load_payments(account.unwrap_or_default()),
    );
    let cancel = Action::new(|id: &String| cancel_payment(id.clone()));
    let error = RwSignal::new(None::<ErrorView>);
    Effect::new(move |_| match cancel.value().get() {
        Some(Ok(_)) => {
            error.set(None);
            changed.update(|n| *n += 1);
        }
        Some(Err(e)) => error.set(Some(e.into())),
        None => {}
    });

    #[cfg(feature = "hydrate")]
    crate::live::on_payment_changes(move || changed.update(|n| *n += 1));

    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading payments…"</p> }>
            {move || list.get().map(|r| match r {
                Ok(payments) => view! {
                    <PaymentList
                        payments=payments
                        canceling=cancel.pending()
                        on_cancel=Callback::new(move |id: String| { cancel.dispatch(id); })
                    />
                }
                .into_any(),
                Err(e) => view! { <ErrorNotice error=e.into() testid="payments-error"/> }.into_any(),
            })}
        </Transition>
        {move || error.get().map(|e| view! { <ErrorNotice error=e testid="cancel-error"/> })}
    }
}

#[component]
pub fn PaymentList(payments: Vec<Payment>, canceling: Memo<bool>, on_cancel: Callback<String>) -> impl IntoView {
    if payments.is_empty() {
        return view! { <p class="muted" data-testid="no-payments">"No payments yet."</p> }.into_any();
    }
    view! {
        <ul class="payments" data-testid="payments">
            {payments.into_iter().map(|p| view! { <PaymentRow payment=p canceling=canceling on_cancel=on_cancel/> }).collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn PaymentRow(payment: Payment, canceling: Memo<bool>, on_cancel: Callback<String>) -> impl IntoView {
    let state = payment.state();
    let id = payment.id.to_string();
    let reason = payment.failure.as_ref().filter(|_| state == "failed").map(|f| {
        let code = f.code.clone();
        view! {
            <p class="status error" data-testid="payment-failure">
                <span class="message">{f.reason()}</span>
                {code.map(|c| view! { <code class="code" data-testid="payment-failure-code">{c}</code> })}
            </p>
        }
    });
    let verify = payment.verification_url.clone().map(|url| {
        view! {
            <p class="status neutral" data-testid="payment-verify">
                "Stripe sent two small deposits to this account. "
                <a href=url target="_blank" rel="noopener noreferrer">"Verify them"</a>
                " to finish the payment."
            </p>
        }
    });
    let cancel = payment.cancelable().then(|| {
        let id = id.clone();
        view! {
            <button
                type="button"
                class="secondary-button"
                data-testid="payment-cancel"
                disabled=move || canceling.get()
                on:click=move |_| on_cancel.run(id.clone())
            >
                "Cancel payment"
            </button>
        }
    });
    view! {
        <li class="payment" data-testid="payment" data-payment-id=id data-state=state>
            <div class="payment-head">
                <strong class="amount" data-testid="payment-amount">{payment.amount.format()}</strong>
                <span class=format!("badge payment-{state}") data-testid="payment-status">{payment.state_label()}</span>
            </div>
            <p class="payment-meta">
                {payment.description.clone().map(|d| view! { <span data-testid="payment-description">{d}</span> })}
                {payment.bank.clone().map(|b| view! { <span class="muted">{b}</span> })}
                {payment.account.clone().map(|a| view! { <a href=format!("/accounts/{a}")>"Account"</a> })}
                <span class="muted">{utc(payment.created_at)}</span>
            </p>
            {reason}
            {verify}
            {cancel}
        </li>
    }
}
