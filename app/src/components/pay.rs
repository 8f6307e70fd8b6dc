//! Pay by ACH Direct Debit: the form (amount, description, the account
//! holder's name), the Nacha mandate text naming the business and the
//! account, and the required "I agree". [`PaySection`] pays from a linked
//! account (the server creates and confirms the PaymentIntent) and lists
//! that account's payments; `/payments/new` reuses [`PayFields`] for pay by
//! bank.
//!
//! Each submit carries an attempt id made on the page: a retried submit of
//! the same attempt (a double click, a lost answer) reuses Stripe's
//! idempotency key and pays once; editing the form starts a new attempt.

use crate::api::{load_details, load_pay_terms, once_resource, pay_from_account};
use crate::components::{ErrorNotice, ErrorView, LivePayments};
use crate::model::{mandate_text, AccountDetail, Payment};
use leptos::prelude::*;

/// The form's state, shared by both pay flows.
#[derive(Clone, Copy)]
pub struct PayForm {
    pub amount: RwSignal<String>,
    pub description: RwSignal<String>,
    pub name: RwSignal<String>,
    pub agreed: RwSignal<bool>,
    attempt: RwSignal<Option<String>>,
}

impl PayForm {
    pub fn new() -> Self {
        let form = PayForm {
            amount: RwSignal::new(String::new()),
            description: RwSignal::new(String::new()),
            name: RwSignal::new(String::new()),
            agreed: RwSignal::new(false),
            attempt: RwSignal::new(None),
        };
        // Prefill the name the user saved before, unless they already typed.
        let saved = LocalResource::new(load_details);
        Effect::new(move |_| {
            if let Some(Ok(d)) = saved.get() {
                if form.name.get_untracked().is_empty() {
                    form.name.set(d.name.unwrap_or_default());
                }
            }
        });
        form
    }

    /// This attempt's id, made on first use.
    pub fn attempt(&self) -> String {
        if let Some(a) = self.attempt.get_untracked() {
            return a;
        }
        let made = new_attempt_id();
        self.attempt.set(Some(made.clone()));
        made
    }

    /// The form changed or a payment went through: the next submit is a new payment.
    pub fn new_attempt(&self) {
        self.attempt.set(None);
    }

    /// After a payment: empty, ready for the next one.
    pub fn clear(&self) {
        self.amount.set(String::new());
        self.description.set(String::new());
        self.agreed.set(false);
        self.new_attempt();
    }
}

impl Default for PayForm {
    fn default() -> Self {
        Self::new()
    }
}

/// 20 random hex digits and the time (browser only; never on the server).
fn new_attempt_id() -> String {
    #[cfg(feature = "hydrate")]
    {
        let r = || (js_sys::Math::random() * 1e12) as u64;
        format!("{:x}{:x}{:x}", js_sys::Date::now() as u64, r(), r())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        String::from("server-rendered")
    }
}

/// Amount, description, name, the mandate and "I agree".
#[component]
pub fn PayFields(form: PayForm, #[prop(into)] mandate: Signal<String>) -> impl IntoView {
    let edited = move || form.new_attempt();
    view! {
        <div class="pay-fields">
            <label>
                "Amount (USD)"
                <input
                    type="text"
                    inputmode="decimal"
                    placeholder="12.50"
                    data-testid="pay-amount"
                    prop:value=move || form.amount.get()
                    on:input=move |ev| { form.amount.set(event_target_value(&ev)); edited(); }
                />
            </label>
            <label>
                "Description"
                <input
                    type="text"
                    maxlength="200"
                    placeholder="What it is for"
                    data-testid="pay-description"
                    prop:value=move || form.description.get()
                    on:input=move |ev| { form.description.set(event_target_value(&ev)); edited(); }
                />
            </label>
            <label>
                "Account holder's name"
                <input
                    type="text"
                    maxlength="100"
                    autocomplete="name"
                    data-testid="pay-name"
                    prop:value=move || form.name.get()
                    on:input=move |ev| { form.name.set(event_target_value(&ev)); edited(); }
                />
            </label>
            <Suspense fallback=|| ()>
                <p class="mandate" data-testid="mandate-text">{move || mandate.get()}</p>
            </Suspense>
            <label class="agree">
                <input
                    type="checkbox"
                    data-testid="pay-agree"
                    prop:checked=move || form.agreed.get()
                    on:change=move |ev| form.agreed.set(event_target_checked(&ev))
                />
                "I agree to the authorization above."
            </label>
        </div>
    }
}

/// The business the mandate names (loaded once).
pub fn business_name() -> Signal<String> {
    let terms = once_resource(load_pay_terms());
    Signal::derive(move || {
        terms
            .get()
            .and_then(Result::ok)
            .map(|t| t.business_name)
            .unwrap_or_else(|| "this business".to_owned())
    })
}

/// The account page's Pay section: the form when Stripe can debit the
/// account, and the account's payments with their live status. Made once
/// per page (its form keeps what was typed while the account reloads);
/// `account` is the account page's current view of it.
#[component]
pub fn PaySection(#[prop(into)] id: Signal<String>, #[prop(into)] account: Signal<Option<AccountDetail>>) -> impl IntoView {
    // Only what the form needs, so an account reload does not redraw it.
    let payable = Memo::new(move |_| account.with(|d| d.as_ref().map(|d| d.payable)));
    let last4 = Memo::new(move |_| account.with(|d| d.as_ref().and_then(|d| d.account.last4.clone())));
    let business = business_name();
    let mandate = Signal::derive(move || mandate_text(&business.get(), last4.get().as_deref()));
    let form = PayForm::new();
    let reload = RwSignal::new(0u32);
    let error = RwSignal::new(None::<ErrorView>);
    let paid = RwSignal::new(None::<Payment>);
    let pay = Action::new(
        move |(id, amount, description, name, attempt): &(String, String, String, String, String)| {
            pay_from_account(id.clone(), amount.clone(), description.clone(), name.clone(), attempt.clone())
        },
    );
    Effect::new(move |_| match pay.value().get() {
        Some(Ok(p)) => {
            error.set(None);
            paid.set(Some(p));
            form.clear();
            reload.update(|n| *n += 1);
        }
        Some(Err(e)) => error.set(Some(e.into())),
        None => {}
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pay.pending().get_untracked() || !form.agreed.get_untracked() {
            return;
        }
        paid.set(None);
        pay.dispatch((
            id.get_untracked(),
            form.amount.get_untracked(),
            form.description.get_untracked(),
            form.name.get_untracked(),
            form.attempt(),
        ));
    };
    let payments_of = Signal::derive(move || Some(id.get()));
    view! {
        <Show when=move || payable.get().is_some()>
        <section class="card" id="pay" data-testid="pay-card">
            <h2>"Pay"</h2>
            {move || match payable.get() {
                Some(true) => view! {
                    <form on:submit=on_submit data-testid="pay-form">
                        <p class="muted">"Pay by ACH Direct Debit from this account. Bank debits take a few business days to settle."</p>
                        <PayFields form=form mandate=mandate/>
                        <button
                            type="submit"
                            class="primary"
                            data-testid="pay-submit"
                            disabled=move || pay.pending().get() || !form.agreed.get()
                        >
                            {move || if pay.pending().get() { "Paying…" } else { "Pay" }}
                        </button>
                    </form>
                }
                .into_any(),
                Some(false) => view! {
                    <p class="muted" data-testid="pay-unavailable">
                        "Stripe cannot debit this account. To pay from it, "<a href="/">"link it again"</a>
                        " sharing account and routing numbers."
                    </p>
                }
                .into_any(),
                None => ().into_any(),
            }}
            {move || paid.get().map(|p| view! {
                <p class="status success" role="status" data-testid="pay-result">
                    {format!("Payment of {} submitted: {}.", p.amount.format(), p.state_label().to_lowercase())}
                </p>
            })}
            {move || error.get().map(|e| view! { <ErrorNotice error=e testid="pay-error"/> })}
            <h3>"Payments from this account"</h3>
            <LivePayments account=payments_of reload=reload/>
        </section>
        </Show>
    }
}
