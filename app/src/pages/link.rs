//! `/`: "Link your bank account". Explains what is shared, takes an optional
//! name and email, runs the Financial Connections modal and lists what was
//! linked. By default each shared kind of data is fetched at link time
//! (Stripe's `prefetch[]`; for transactions, daily updates too), so the
//! lists show balances as soon as the bank answers; "More options" turns
//! that off.
//!
//! Most visits start here, so the first load carries only what makes the
//! page work: the server renders the saved name and email into the form and
//! the linked accounts into their slot, and the browser hydrates the form
//! and buttons. The link and bank-token flows (with Stripe.js's bindings)
//! and the list's redraw are `#[lazy]`: with `split`, wasm chunks fetched
//! when first used.

use crate::api::{confirm_link, linked_accounts, start_bank_token, start_link};
use crate::components::{AccountList, ErrorNotice, ErrorView, LinkState, StatusPanel};
use crate::model::{AccountSubcategory, BankToken, DataFeature, LinkOptions, LinkedAccount, Permission};
use crate::stripe_js::{self, CollectOutcome, TokenOutcome};
use leptos::either::Either;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn LinkPage() -> impl IntoView {
    let (saved_name, saved_email) = initial_details();
    let name = RwSignal::new(saved_name.clone());
    let email = RwSignal::new(saved_email.clone());
    let permissions = RwSignal::new(Permission::ALL.to_vec());
    let prefetch = RwSignal::new(vec![DataFeature::Balance, DataFeature::Ownership, DataFeature::Transactions]);
    let account_types = RwSignal::new(Vec::<AccountSubcategory>::new());
    let token = RwSignal::new(None::<Result<BankToken, ErrorView>>);
    let (state, set_state) = signal(LinkState::Idle);
    #[cfg(feature = "hydrate")]
    {
        // The linked accounts: server-rendered, redrawn when they change
        // (live: prefetched data arriving for any of them).
        crate::live::on_account_changes(|_| true, redraw_accounts_soon);
        // Shown in place by the router, the page has nothing from the
        // server: the list and the saved details are loaded once it is up.
        if !hydrating() {
            Effect::new(|_| redraw_accounts_soon());
            spawn_local(async move {
                if let Some(d) = saved_details().await {
                    let _ = name.try_update(|n| n.is_empty().then(|| *n = d.name.unwrap_or_default()));
                    let _ = email.try_update(|e| e.is_empty().then(|| *e = d.email.unwrap_or_default()));
                }
            });
        }
    }
    let busy = move || matches!(state.get(), LinkState::Working(_));

    let on_link = move |_| {
        if busy() {
            return; // no double launch
        }
        if permissions.with_untracked(Vec::is_empty) {
            set_state.set(LinkState::Failed(ErrorView {
                message: "Choose at least one kind of data to share.".into(),
                code: Some("invalid_input".into()),
            }));
            return;
        }
        set_state.set(LinkState::Working("Starting a secure session…"));
        let (n, e) = (name.get_untracked(), email.get_untracked());
        let join = |items: Vec<&'static str>| items.join(",");
        let shared = permissions.get_untracked();
        let options = (
            join(shared.iter().map(|p| p.as_str()).collect()),
            // Only what is shared can be fetched.
            join(
                prefetch
                    .get_untracked()
                    .into_iter()
                    .filter(|f| shared.contains(&f.needs()))
                    .map(DataFeature::as_str)
                    .collect(),
            ),
            join(
                account_types
                    .get_untracked()
                    .into_iter()
                    .map(AccountSubcategory::wire)
                    .collect(),
            ),
        );
        spawn_local(async move {
            let outcome = match run_link(n, e, options, set_state).await {
                Ok(linked) => {
                    #[cfg(feature = "hydrate")]
                    redraw_accounts_soon();
                    LinkState::Linked(linked.len())
                }
                Err(state) => state,
            };
            set_state.set(outcome);
        });
    };

    let on_token = move |_| {
        if busy() {
            return;
        }
        set_state.set(LinkState::Working("Opening Stripe for a bank token…"));
        token.set(None);
        spawn_local(async move {
            let result = run_token().await;
            set_state.set(match &result {
                Some(_) => LinkState::Idle,
                None => LinkState::Cancelled,
            });
            token.set(result);
        });
    };

    let button_label = move || match state.get() {
        LinkState::Working(_) => "Linking…",
        LinkState::Failed(_) | LinkState::Cancelled | LinkState::ScriptFailed(_) => "Try again",
        LinkState::Linked(_) => "Link another account",
        LinkState::Idle => "Link your bank account",
    };

    view! {
        <section class="card link-card">
            <h1>"Link your bank account"</h1>
            <p class="lead">
                "Connect an account through Stripe in a few clicks. You pick the bank and the accounts; "
                "we never see your bank login."
            </p>
            <h2 class="small-heading">"What you share"</h2>
            <ul class="permissions" data-testid="permissions">
                {Permission::ALL
                    .into_iter()
                    .map(|p| view! {
                        <li>
                            <label class="choice">
                                <input
                                    type="checkbox"
                                    data-testid=format!("permission-{}", p.as_str())
                                    prop:checked=move || permissions.with(|v| v.contains(&p))
                                    on:change=move |ev| toggle(permissions, p, event_target_checked(&ev))
                                />
                                <span><strong>{p.label()}</strong>": "{p.purpose()}</span>
                            </label>
                        </li>
                    })
                    .collect_view()}
            </ul>
            <details class="options">
                <summary>"More options"</summary>
                <fieldset>
                    <legend>"Fetch right away " <span class="muted">"(untick to fetch later yourself)"</span></legend>
                    {[DataFeature::Balance, DataFeature::Ownership, DataFeature::Transactions]
                        .into_iter()
                        .map(|f| (f, f.needs()))
                        .map(|(f, needs)| view! {
                            <label class="choice">
                                <input
                                    type="checkbox"
                                    data-testid=format!("prefetch-{}", f.as_str())
                                    prop:disabled=move || !permissions.with(|v| v.contains(&needs))
                                    prop:checked=move || prefetch.with(|v| v.contains(&f)) && permissions.with(|v| v.contains(&needs))
                                    on:change=move |ev| toggle(prefetch, f, event_target_checked(&ev))
                                />
                                {match f {
                                    DataFeature::Transactions => "Transactions, then daily updates",
                                    other => other.label(),
                                }}
                            </label>
                        })
                        .collect_view()}
                </fieldset>
                <fieldset>
                    <legend>"Account types " <span class="muted">"(none ticked: all)"</span></legend>
                    {LinkOptions::ACCOUNT_TYPES
                        .into_iter()
                        .map(|t| view! {
                            <label class="choice">
                                <input
                                    type="checkbox"
                                    data-testid=format!("type-{}", t.wire())
                                    prop:checked=move || account_types.with(|v| v.contains(&t))
                                    on:change=move |ev| toggle(account_types, t, event_target_checked(&ev))
                                />
                                {t.label()}
                            </label>
                        })
                        .collect_view()}
                </fieldset>
            </details>
            <form class="details" on:submit=|ev| ev.prevent_default()>
                <label>
                    <span>"Name " <span class="muted">"(optional)"</span></span>
                    <input type="text" name="name" autocomplete="name" maxlength="100" value=saved_name bind:value=name/>
                </label>
                <label>
                    <span>"Email " <span class="muted">"(optional)"</span></span>
                    <input type="email" name="email" autocomplete="email" maxlength="254" value=saved_email bind:value=email/>
                </label>
                <button
                    type="button"
                    class="primary"
                    data-testid="link-button"
                    on:click=on_link
                    disabled=busy
                    aria-busy=move || busy().to_string()
                >
                    {button_label}
                </button>
            </form>
            <div aria-live="polite">
                <StatusPanel state=state/>
            </div>
        </section>
        <section class="card">
            <h2>"Payouts: collect a bank token"</h2>
            <p class="muted">"Get a one-time bank account token (account and routing numbers) to send payouts to, without linking data."</p>
            <button type="button" class="secondary-button" data-testid="token-button" disabled=busy on:click=on_token>
                "Collect bank token"
            </button>
            {move || token.get().map(|t| match t {
                Ok(t) => Either::Left(view! {
                    <dl class="token" data-testid="bank-token">
                        <dt>"Token"</dt><dd data-testid="token-id"><code>{t.id}</code></dd>
                        <dt>"Bank"</dt><dd>{t.bank_name.unwrap_or_default()}</dd>
                        <dt>"Account"</dt><dd>{t.last4.map(|l| format!("•••• {l}")).unwrap_or_default()}</dd>
                        <dt>"Routing number"</dt><dd>{t.routing_number.unwrap_or_default()}</dd>
                    </dl>
                }),
                Err(e) => Either::Right(view! { <ErrorNotice error=e testid="token-error"/> }),
            })}
        </section>
        <section class="card">
            <h2>"Linked accounts"</h2>
            <div id=ACCOUNTS_SLOT>{server_rendered_accounts()}</div>
        </section>
    }
}

/// The name and email the form starts with. On the server: what the user
/// saved before, loaded with the page (`service::SavedDetails`). In the
/// browser, hydrating: what the server put in the inputs (or the user typed
/// since), so the first load needs no call to fetch them.
fn initial_details() -> (String, String) {
    #[cfg(feature = "ssr")]
    {
        let saved = use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<crate::service::SavedDetails>().cloned())
            .map(|saved| saved.0)
            .unwrap_or_default();
        (saved.name.unwrap_or_default(), saved.email.unwrap_or_default())
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        let value = |selector: &str| -> Option<String> {
            let input = leptos::tachys::dom::document().query_selector(selector).ok()??;
            js_sys::Reflect::get(&input, &wasm_bindgen::JsValue::from_str("value"))
                .ok()?
                .as_string()
        };
        if hydrating() {
            (
                value("main form.details input[name=name]").unwrap_or_default(),
                value("main form.details input[name=email]").unwrap_or_default(),
            )
        } else {
            Default::default()
        }
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    Default::default()
}

/// Whether the page is being hydrated over the server's HTML (a first load),
/// rather than shown in place by the router with nothing from the server.
#[cfg(feature = "hydrate")]
fn hydrating() -> bool {
    Owner::current_shared_context().is_some_and(|sc| sc.during_hydration())
}

/// What the user saved before, for the page shown in place by the router.
/// With `split`, a wasm chunk of its own.
#[cfg(feature = "hydrate")]
#[cfg_attr(feature = "split", leptos::lazy)]
async fn saved_details() -> Option<crate::model::CustomerDetails> {
    crate::api::load_details().await.ok()
}

/// The `id` of the element the linked accounts are drawn in.
const ACCOUNTS_SLOT: &str = "linked-accounts";

/// The linked accounts as the server renders them into the page. In the
/// browser the slot is empty: hydration leaves the server's list in place
/// and [`redraw_accounts`] replaces it when it changes, so the first load's
/// wasm carries neither the list's view nor the decoding of its accounts.
#[cfg(not(feature = "hydrate"))]
fn server_rendered_accounts() -> impl IntoView {
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading accounts…"</p> }>
            {Suspend::new(async { accounts_view(linked_accounts().await) })}
        </Suspense>
    }
}

#[cfg(feature = "hydrate")]
fn server_rendered_accounts() {}

/// The list, or why it could not be loaded.
fn accounts_view(result: Result<Vec<LinkedAccount>, crate::error::AppError>) -> impl IntoView {
    match result {
        Ok(list) => Either::Left(view! { <AccountList accounts=list/> }),
        Err(e) => Either::Right(view! { <ErrorNotice error=e.into()/> }),
    }
}

#[cfg(feature = "hydrate")]
fn redraw_accounts_soon() {
    spawn_local(redraw_accounts());
}

#[cfg(feature = "hydrate")]
thread_local! {
    /// How many redraws have started: an older one that answers late must
    /// not replace a newer one's list.
    static REDRAWS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    /// The list drawn last (dropping it unmounts it).
    static DRAWN: std::cell::RefCell<Option<Box<dyn std::any::Any>>> = const { std::cell::RefCell::new(None) };
}

/// Loads the linked accounts and draws them in the page's slot, replacing
/// what is there. With `split`, this and the list's view are a wasm chunk
/// of their own, fetched the first time the list changes.
#[cfg(feature = "hydrate")]
#[cfg_attr(feature = "split", leptos::lazy)]
async fn redraw_accounts() {
    use wasm_bindgen::JsCast;
    let slot = || {
        leptos::tachys::dom::document()
            .get_element_by_id(ACCOUNTS_SLOT)
            .and_then(|e| e.dyn_into::<leptos::web_sys::HtmlElement>().ok())
    };
    let started = REDRAWS.with(|n| {
        n.set(n.get() + 1);
        n.get()
    });
    if let Some(empty) = slot().filter(|s| s.child_element_count() == 0) {
        empty.set_inner_html(r#"<p class="muted">Loading accounts…</p>"#);
    }
    let result = linked_accounts().await;
    // The page has gone, or a newer redraw is under way.
    let Some(slot) = slot().filter(|_| REDRAWS.with(|n| n.get()) == started) else {
        return;
    };
    DRAWN.with_borrow_mut(|drawn| drawn.take());
    slot.set_inner_html("");
    let list = leptos::mount::mount_to(slot, move || accounts_view(result));
    DRAWN.with_borrow_mut(|drawn| *drawn = Some(Box::new(list)));
}

/// Adds or removes `item` as its checkbox says.
fn toggle<T: PartialEq + Send + Sync + 'static>(list: RwSignal<Vec<T>>, item: T, on: bool) {
    list.update(|v| {
        v.retain(|x| *x != item);
        if on {
            v.push(item);
        }
    });
}

/// The bank-token flow; `None` when the user closed the window. With
/// `split`, a wasm chunk of its own, fetched on the first click.
#[cfg_attr(feature = "split", leptos::lazy)]
async fn run_token() -> Option<Result<BankToken, ErrorView>> {
    let session = match start_bank_token().await {
        Ok(s) => s,
        Err(e) => return Some(Err(e.into())),
    };
    let stripe = match stripe_js::load(&session.client.stripe_js_url, &session.client.publishable_key).await {
        Ok(s) => s,
        Err(e) => {
            return Some(Err(ErrorView {
                message: e.0,
                code: None,
            }))
        }
    };
    match stripe_js::collect_bank_token(&stripe, &session.client_secret).await {
        Ok(TokenOutcome::Token(t)) => Some(Ok(t)),
        Ok(TokenOutcome::Cancelled) => None,
        Ok(TokenOutcome::Error(e)) => Some(Err(e.into())),
        Err(e) => Some(Err(ErrorView {
            message: e.0,
            code: None,
        })),
    }
}

/// One click's whole flow: a new session, the modal, then confirmation with
/// Stripe. Returns what was linked (never empty), or the state to show
/// instead. `options` are the comma-separated permissions, prefetch and
/// account types; empty `name` and `email` leave the Customer's as they are.
/// With `split`, a wasm chunk of its own (with Stripe.js's bindings), fetched
/// on the first click.
#[cfg_attr(feature = "split", leptos::lazy)]
pub(crate) async fn run_link(
    name: String,
    email: String,
    (permissions, prefetch, account_types): (String, String, String),
    set_state: WriteSignal<LinkState>,
) -> Result<Vec<LinkedAccount>, LinkState> {
    let session = match start_link(name, email, permissions, Some(prefetch), Some(account_types)).await {
        Ok(s) => s,
        Err(e) => return Err(LinkState::Failed(e.into())),
    };
    set_state.set(LinkState::Working("Opening Stripe…"));
    let stripe = match stripe_js::load(&session.client.stripe_js_url, &session.client.publishable_key).await {
        Ok(s) => s,
        Err(e) => return Err(LinkState::ScriptFailed(e.0)),
    };
    set_state.set(LinkState::Working("Waiting for you to finish in the Stripe window…"));
    let session_id = match stripe_js::collect_accounts(&stripe, &session.client_secret).await {
        Ok(CollectOutcome::Session { id, .. }) => id,
        Ok(CollectOutcome::Error(e)) => return Err(LinkState::Failed(e.into())),
        Err(e) => {
            return Err(LinkState::Failed(ErrorView {
                message: e.0,
                code: None,
            }))
        }
    };
    set_state.set(LinkState::Working("Confirming with Stripe…"));
    match confirm_link(session_id).await {
        Ok(linked) if linked.is_empty() => Err(LinkState::Cancelled),
        Ok(linked) => Ok(linked),
        Err(e) => Err(LinkState::Failed(e.into())),
    }
}
