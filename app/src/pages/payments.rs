//! `/payments`: every payment of this browser's user, newest first, with
//! live status and Cancel where Stripe allows it. `/payments/new`: pay by
//! bank without linking first — the server creates a PaymentIntent, Stripe.js
//! collects a bank account for it (`collectBankAccountForPayment`) and
//! confirms it (`confirmUsBankAccountPayment`); a cancelled modal leaves
//! nothing paid, and microdeposit verification shows Stripe's hosted link.
//! The client secret lives only in this page's memory, for Stripe.js.

use crate::api::{start_bank_payment, sync_payment};
use crate::components::{business_name, ErrorNotice, ErrorView, LivePayments, PayFields, PayForm};
use crate::model::{mandate_text, Payment};
use crate::stripe_js::{self, IntentOutcome};
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn PaymentsPage() -> impl IntoView {
    view! {
        <section class="card">
            <h1>"Payments"</h1>
            <p class="muted">
                "Pay from a linked account on its page, or "<a href="/payments/new" data-testid="pay-by-bank-link">"pay by bank"</a>
                " without linking first."
            </p>
            <LivePayments account=Signal::derive(|| None::<String>) reload=Signal::derive(|| 0u32)/>
        </section>
    }
}

/// Where a pay-by-bank attempt stands.
#[derive(Clone, Debug, PartialEq)]
enum BankPayState {
    Idle,
    Working(&'static str),
    /// The person closed the bank window: nothing was paid.
    Cancelled,
    Done(Payment),
    Failed(ErrorView),
}

#[component]
pub fn PayByBankPage() -> impl IntoView {
    let business = business_name();
    let mandate = Signal::derive(move || mandate_text(&business.get(), None));
    let form = PayForm::new();
    let state = RwSignal::new(BankPayState::Idle);
    let busy = move || matches!(state.get(), BankPayState::Working(_));
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy() || !form.agreed.get_untracked() {
            return;
        }
        let (amount, description, name, attempt) = (
            form.amount.get_untracked(),
            form.description.get_untracked(),
            form.name.get_untracked(),
            form.attempt(),
        );
        state.set(BankPayState::Working("Starting the payment…"));
        spawn_local(async move {
            let outcome = run_bank_payment(amount, description, name, attempt, state).await;
            if matches!(outcome, BankPayState::Done(_) | BankPayState::Cancelled) {
                form.clear();
            }
            state.set(outcome);
        });
    };
    view! {
        <p><a href="/payments" class="back">"← All payments"</a></p>
        <section class="card">
            <h1>"Pay by bank"</h1>
            <p class="muted">
                "Choose your bank in Stripe's window; the payment is an ACH Direct Debit from the account you pick."
            </p>
            <form on:submit=on_submit data-testid="pay-by-bank-form">
                <PayFields form=form mandate=mandate/>
                <button
                    type="submit"
                    class="primary"
                    data-testid="pay-by-bank-submit"
                    disabled=move || busy() || !form.agreed.get()
                >
                    "Choose bank and pay"
                </button>
            </form>
            <div aria-live="polite">{move || state_view(state.get())}</div>
        </section>
    }
}

fn state_view(state: BankPayState) -> AnyView {
    match state {
        BankPayState::Idle => ().into_any(),
        BankPayState::Working(what) => view! {
            <div class="status working" role="status" data-testid="status-working">
                <span class="spinner" aria-hidden="true"></span>{what}
            </div>
        }
        .into_any(),
        BankPayState::Cancelled => view! {
            <div class="status neutral" role="status" data-testid="pay-cancelled">
                "You closed the bank window, so nothing was paid. You can try again whenever you are ready."
            </div>
        }
        .into_any(),
        BankPayState::Done(p) => {
            let verify = p.verification_url.clone();
            view! {
                <div class="status success" role="status" data-testid="pay-result" data-state=p.state()>
                    {format!("Payment of {}: {}.", p.amount.format(), p.state_label().to_lowercase())}
                    {verify.map(|url| view! {
                        " Stripe sent two small deposits to your account; "
                        <a href=url target="_blank" rel="noopener noreferrer" data-testid="pay-verify-link">"verify them"</a>
                        " to finish the payment."
                    })}
                    " "<a href="/payments">"See all payments"</a>
                </div>
            }
            .into_any()
        }
        BankPayState::Failed(e) => view! { <ErrorNotice error=e testid="pay-error"/> }.into_any(),
    }
}

/// Creates the PaymentIntent, runs Stripe.js's collect then confirm, and
/// stores what Stripe then says about it.
async fn run_bank_payment(
    amount: String,
    description: String,
    name: String,
    attempt: String,
    state: RwSignal<BankPayState>,
) -> BankPayState {
    let start = match start_bank_payment(amount, description, name.clone(), attempt).await {
        Ok(s) => s,
        Err(e) => return BankPayState::Failed(e.into()),
    };
    let id = start.payment.id.to_string();
    state.set(BankPayState::Working("Opening Stripe…"));
    let stripe = match stripe_js::load(&start.client.stripe_js_url, &start.client.publishable_key).await {
        Ok(s) => s,
        Err(e) => return failed(e.0, "stripe_js_unavailable"),
    };
    state.set(BankPayState::Working(
        "Waiting for you to choose a bank account in the Stripe window…",
    ));
    match stripe_js::collect_for_payment(&stripe, &start.client_secret, &name).await {
        Ok(IntentOutcome::Intent(i)) if i.status == "requires_payment_method" => return BankPayState::Cancelled,
        Ok(IntentOutcome::Intent(_)) => {}
        Ok(IntentOutcome::Error(e)) => return BankPayState::Failed(e.into()),
        Err(e) => return failed(e.0, "stripe_js_failed"),
    }
    state.set(BankPayState::Working("Confirming the payment…"));
    let confirmed = match stripe_js::confirm_payment(&stripe, &start.client_secret).await {
        Ok(IntentOutcome::Intent(i)) => i,
        Ok(IntentOutcome::Error(e)) => return BankPayState::Failed(e.into()),
        Err(e) => return failed(e.0, "stripe_js_failed"),
    };
    // The server reads the PaymentIntent from Stripe itself (never trusting
    // the browser's copy) and stores it.
    match sync_payment(id).await {
        Ok(mut p) => {
            if p.verification_url.is_none() {
                p.verification_url = confirmed.verification_url;
            }
            BankPayState::Done(p)
        }
        Err(e) => BankPayState::Failed(e.into()),
    }
}

fn failed(message: String, code: &str) -> BankPayState {
    BankPayState::Failed(ErrorView {
        message,
        code: Some(code.to_owned()),
    })
}
