//! Stripe.js through wasm-bindgen: load the script once, call the global
//! `Stripe(pk)` factory, run `collectFinancialConnectionsAccounts`,
//! `collectBankAccountToken`, `collectBankAccountForPayment` and
//! `confirmUsBankAccountPayment`, and turn their resolved values into typed
//! Rust. Browser only; the SSR twin only errors.
//! Every resolved value is also reported to the server's developer log
//! (`report_stripe_js`, in the background; the server redacts it).

use crate::model::{BankToken, StripeJsError};

/// How a `collectFinancialConnectionsAccounts` call ended.
#[derive(Clone, Debug, PartialEq)]
pub enum CollectOutcome {
    /// The modal finished (possibly with no account: that is a cancel on the web).
    Session { id: String, accounts: usize },
    /// The flow could not start or failed.
    Error(StripeJsError),
}

/// How a `collectBankAccountToken` call ended.
#[derive(Clone, Debug, PartialEq)]
pub enum TokenOutcome {
    Token(BankToken),
    /// Closed without choosing an account: no token and no error.
    Cancelled,
    Error(StripeJsError),
}

/// The PaymentIntent as Stripe.js resolves it (publishable-key view: no
/// secret in it is kept).
#[derive(Clone, Debug, PartialEq)]
pub struct IntentView {
    pub id: String,
    /// Stripe's status (`requires_payment_method` after a cancel,
    /// `requires_confirmation` after collecting, `processing`, `requires_action`…).
    pub status: String,
    /// `requires_action` with microdeposits: where the person verifies them.
    pub verification_url: Option<String>,
}

/// How `collectBankAccountForPayment` or `confirmUsBankAccountPayment` ended.
#[derive(Clone, Debug, PartialEq)]
pub enum IntentOutcome {
    Intent(IntentView),
    Error(StripeJsError),
}

/// Why Stripe.js could not be used at all.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadError(pub String);

#[cfg(feature = "hydrate")]
mod imp {
    use super::*;
    use serde::Deserialize;
    use std::cell::RefCell;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;

    #[wasm_bindgen]
    extern "C" {
        /// What `Stripe(pk)` returns.
        #[derive(Clone)]
        pub type StripeInstance;

        #[wasm_bindgen(catch, js_name = Stripe)]
        fn stripe_factory(publishable_key: &str) -> Result<StripeInstance, JsValue>;

        #[wasm_bindgen(method, catch, js_name = collectFinancialConnectionsAccounts)]
        fn collect_financial_connections_accounts(this: &StripeInstance, options: &JsValue) -> Result<js_sys::Promise, JsValue>;

        #[wasm_bindgen(method, catch, js_name = collectBankAccountToken)]
        fn collect_bank_account_token(this: &StripeInstance, options: &JsValue) -> Result<js_sys::Promise, JsValue>;

        #[wasm_bindgen(method, catch, js_name = collectBankAccountForPayment)]
        fn collect_bank_account_for_payment(this: &StripeInstance, options: &JsValue) -> Result<js_sys::Promise, JsValue>;

        #[wasm_bindgen(method, catch, js_name = confirmUsBankAccountPayment)]
        fn confirm_us_bank_account_payment(this: &StripeInstance, client_secret: &str) -> Result<js_sys::Promise, JsValue>;
    }

    const SCRIPT_ID: &str = "stripe-js";

    thread_local! {
        /// One `Stripe` instance per publishable key, made once.
        static INSTANCE: RefCell<Option<(String, StripeInstance)>> = const { RefCell::new(None) };
    }

    /// Waits for a Stripe.js call's promise and reads what it resolved with
    /// as JSON (the decoder the server functions' answers use, so the wasm
    /// carries one per type); sends the same text to the developer log in
    /// the background (a failure to report changes nothing for the flow).
    async fn resolve<T: serde::de::DeserializeOwned>(
        call: crate::model::developer::StripeJsCall,
        promise: js_sys::Promise,
    ) -> Result<T, LoadError> {
        let value = JsFuture::from(promise).await.map_err(|e| LoadError(js_message(&e)))?;
        let json = js_sys::JSON::stringify(&value)
            .ok()
            .and_then(|s| s.as_string())
            .ok_or_else(|| LoadError("unexpected Stripe.js result: not JSON".into()))?;
        let parsed = serde_json::from_slice(json.as_bytes()).map_err(|e| LoadError(format!("unexpected Stripe.js result: {e}")));
        if json.len() <= crate::model::developer::MAX_STRIPE_JS_RESULT {
            wasm_bindgen_futures::spawn_local(async move {
                let _ = crate::api::developer::report_stripe_js(call.js_name().to_owned(), json).await;
            });
        }
        parsed
    }

    fn js_message(value: &JsValue) -> String {
        value
            .dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .or_else(|| value.as_string())
            .unwrap_or_else(|| "unknown error".to_owned())
    }

    fn stripe_global_defined() -> bool {
        js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("Stripe"))
            .map(|v| v.is_function())
            .unwrap_or(false)
    }

    /// Injects `<script src=url>` once and waits for it to load.
    async fn ensure_script(url: &str) -> Result<(), LoadError> {
        if stripe_global_defined() {
            return Ok(());
        }
        let document = web_sys::window()
            .and_then(|w| w.document())
            .ok_or_else(|| LoadError("no document".into()))?;
        // A previous attempt that failed leaves its element behind: start afresh.
        if let Some(old) = document.get_element_by_id(SCRIPT_ID) {
            old.remove();
        }
        let script: web_sys::HtmlScriptElement = document
            .create_element("script")
            .map_err(|e| LoadError(js_message(&e)))?
            .unchecked_into();
        script.set_id(SCRIPT_ID);
        script.set_src(url);
        script.set_async(true);
        let loaded = js_sys::Promise::new(&mut |resolve, reject| {
            script.set_onload(Some(resolve.unchecked_ref()));
            script.set_onerror(Some(reject.unchecked_ref()));
        });
        let head = document.head().ok_or_else(|| LoadError("no <head>".into()))?;
        head.append_child(&script).map_err(|e| LoadError(js_message(&e)))?;
        JsFuture::from(loaded)
            .await
            .map_err(|_| LoadError(format!("Stripe.js could not be loaded from {url}.")))?;
        if stripe_global_defined() {
            Ok(())
        } else {
            Err(LoadError("Stripe.js loaded but did not define `Stripe`.".into()))
        }
    }

    pub async fn load(url: &str, publishable_key: &str) -> Result<StripeInstance, LoadError> {
        if let Some(found) = INSTANCE.with(|i| {
            i.borrow()
                .as_ref()
                .filter(|(pk, _)| pk == publishable_key)
                .map(|(_, s)| s.clone())
        }) {
            return Ok(found);
        }
        ensure_script(url).await?;
        let stripe = stripe_factory(publishable_key).map_err(|e| LoadError(js_message(&e)))?;
        INSTANCE.with(|i| *i.borrow_mut() = Some((publishable_key.to_owned(), stripe.clone())));
        Ok(stripe)
    }

    #[derive(Deserialize)]
    struct RawResult {
        #[serde(rename = "financialConnectionsSession")]
        session: Option<RawSession>,
        error: Option<StripeJsError>,
    }

    #[derive(Deserialize)]
    struct RawSession {
        id: String,
        #[serde(default)]
        accounts: Vec<serde::de::IgnoredAny>,
    }

    fn secret_options(client_secret: &str) -> Result<JsValue, LoadError> {
        let options = js_sys::Object::new();
        js_sys::Reflect::set(&options, &"clientSecret".into(), &client_secret.into()).map_err(|e| LoadError(js_message(&e)))?;
        Ok(options.into())
    }

    #[derive(Deserialize)]
    struct RawToken {
        id: String,
        #[serde(default)]
        bank_account: Option<RawBankAccount>,
    }

    #[derive(Deserialize)]
    struct RawBankAccount {
        bank_name: Option<String>,
        last4: Option<String>,
        routing_number: Option<String>,
    }

    #[derive(Deserialize)]
    struct RawTokenResult {
        token: Option<RawToken>,
        error: Option<StripeJsError>,
    }

    pub async fn collect_bank_token(stripe: &StripeInstance, client_secret: &str) -> Result<TokenOutcome, LoadError> {
        let promise = stripe
            .collect_bank_account_token(&secret_options(client_secret)?)
            .map_err(|e| LoadError(js_message(&e)))?;
        let raw: RawTokenResult = resolve(crate::model::developer::StripeJsCall::CollectBankAccountToken, promise).await?;
        Ok(match (raw.error, raw.token) {
            (Some(e), _) => TokenOutcome::Error(e),
            (None, Some(t)) => {
                let b = t.bank_account;
                TokenOutcome::Token(BankToken {
                    id: t.id,
                    bank_name: b.as_ref().and_then(|b| b.bank_name.clone()),
                    last4: b.as_ref().and_then(|b| b.last4.clone()),
                    routing_number: b.and_then(|b| b.routing_number),
                })
            }
            // On the web, closing the modal gives neither (the types do not say so).
            (None, None) => TokenOutcome::Cancelled,
        })
    }

    #[derive(Deserialize)]
    struct RawIntentResult {
        #[serde(rename = "paymentIntent")]
        intent: Option<RawIntent>,
        error: Option<StripeJsError>,
    }

    #[derive(Deserialize)]
    struct RawIntent {
        id: String,
        status: String,
        #[serde(default)]
        next_action: Option<RawNextAction>,
    }

    #[derive(Deserialize)]
    struct RawNextAction {
        #[serde(default)]
        verify_with_microdeposits: Option<RawMicrodeposits>,
    }

    #[derive(Deserialize)]
    struct RawMicrodeposits {
        #[serde(default)]
        hosted_verification_url: Option<String>,
    }

    async fn intent_outcome(
        call: crate::model::developer::StripeJsCall,
        promise: js_sys::Promise,
    ) -> Result<IntentOutcome, LoadError> {
        let raw: RawIntentResult = resolve(call, promise).await?;
        match (raw.error, raw.intent) {
            (Some(e), _) => Ok(IntentOutcome::Error(e)),
            (None, Some(i)) => Ok(IntentOutcome::Intent(IntentView {
                verification_url: i
                    .next_action
                    .and_then(|n| n.verify_with_microdeposits)
                    .and_then(|v| v.hosted_verification_url)
                    .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
                id: i.id,
                status: i.status,
            })),
            (None, None) => Err(LoadError("Stripe.js returned neither a PaymentIntent nor an error.".into())),
        }
    }

    /// `collectBankAccountForPayment`: the modal collects a bank account and
    /// attaches it to the PaymentIntent, billed to `name`.
    pub async fn collect_for_payment(
        stripe: &StripeInstance,
        client_secret: &str,
        name: &str,
    ) -> Result<IntentOutcome, LoadError> {
        let set = |o: &js_sys::Object, k: &str, v: &JsValue| {
            js_sys::Reflect::set(o, &k.into(), v)
                .map(|_| ())
                .map_err(|e| LoadError(js_message(&e)))
        };
        let (options, params, data, billing) = (
            js_sys::Object::new(),
            js_sys::Object::new(),
            js_sys::Object::new(),
            js_sys::Object::new(),
        );
        set(&billing, "name", &JsValue::from_str(name))?;
        set(&data, "billing_details", billing.as_ref())?;
        set(&params, "payment_method_type", &JsValue::from_str("us_bank_account"))?;
        set(&params, "payment_method_data", data.as_ref())?;
        set(&options, "clientSecret", &JsValue::from_str(client_secret))?;
        set(&options, "params", params.as_ref())?;
        let promise = stripe
            .collect_bank_account_for_payment(&options)
            .map_err(|e| LoadError(js_message(&e)))?;
        intent_outcome(crate::model::developer::StripeJsCall::CollectBankAccountForPayment, promise).await
    }

    /// `confirmUsBankAccountPayment`: records the mandate and confirms.
    pub async fn confirm_payment(stripe: &StripeInstance, client_secret: &str) -> Result<IntentOutcome, LoadError> {
        let promise = stripe
            .confirm_us_bank_account_payment(client_secret)
            .map_err(|e| LoadError(js_message(&e)))?;
        intent_outcome(crate::model::developer::StripeJsCall::ConfirmUsBankAccountPayment, promise).await
    }

    pub async fn collect_accounts(stripe: &StripeInstance, client_secret: &str) -> Result<CollectOutcome, LoadError> {
        let promise = stripe
            .collect_financial_connections_accounts(&secret_options(client_secret)?)
            .map_err(|e| LoadError(js_message(&e)))?;
        let raw: RawResult = resolve(
            crate::model::developer::StripeJsCall::CollectFinancialConnectionsAccounts,
            promise,
        )
        .await?;
        match (raw.error, raw.session) {
            (Some(error), _) => Ok(CollectOutcome::Error(error)),
            (None, Some(s)) => Ok(CollectOutcome::Session {
                id: s.id,
                accounts: s.accounts.len(),
            }),
            (None, None) => Err(LoadError("Stripe.js returned neither a session nor an error.".into())),
        }
    }
}

/// Loads Stripe.js from `url` (once) and returns `Stripe(publishable_key)`.
#[cfg(feature = "hydrate")]
pub use imp::{collect_accounts, collect_bank_token, collect_for_payment, confirm_payment, load, StripeInstance};

#[cfg(not(feature = "hydrate"))]
mod imp_ssr {
    use super::*;

    /// Placeholder type on the server: Stripe.js only exists in a browser.
    #[derive(Clone)]
    pub struct StripeInstance;

    pub async fn load(_url: &str, _publishable_key: &str) -> Result<StripeInstance, LoadError> {
        Err(LoadError("Stripe.js runs only in the browser.".into()))
    }

    pub async fn collect_accounts(_stripe: &StripeInstance, _client_secret: &str) -> Result<CollectOutcome, LoadError> {
        Err(LoadError("Stripe.js runs only in the browser.".into()))
    }

    pub async fn collect_bank_token(_stripe: &StripeInstance, _client_secret: &str) -> Result<TokenOutcome, LoadError> {
        Err(LoadError("Stripe.js runs only in the browser.".into()))
    }

    pub async fn collect_for_payment(
        _stripe: &StripeInstance,
        _client_secret: &str,
        _name: &str,
    ) -> Result<IntentOutcome, LoadError> {
        Err(LoadError("Stripe.js runs only in the browser.".into()))
    }

    pub async fn confirm_payment(_stripe: &StripeInstance, _client_secret: &str) -> Result<IntentOutcome, LoadError> {
        Err(LoadError("Stripe.js runs only in the browser.".into()))
    }
}

#[cfg(not(feature = "hydrate"))]
pub use imp_ssr::{collect_accounts, collect_bank_token, collect_for_payment, confirm_payment, load, StripeInstance};
