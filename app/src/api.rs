//! Server functions: the typed contract between the page and the server.
//! Each one parses its input into domain types, finds the current user and
//! calls the service. Nothing else happens here.

use crate::error::AppError;
use crate::model::{
    AccountDetail, BankPaymentStart, ClientConfig, CustomerDetails, LinkSession, LinkedAccount, PayTerms, Payment,
    TransactionsView,
};
use leptos::prelude::*;

pub mod developer;

/// The codec of this app's resources: JSON, as Leptos's default, but decoded
/// from bytes like the server functions' answers are, so the wasm carries one
/// JSON decoder per type rather than one for each (`from_str` and
/// `from_slice` are separate instantiations of every `Deserialize`).
pub struct Json;

impl<T: serde::Serialize> leptos::server::codee::Encoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(val: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(val)
    }
}

impl<T: serde::de::DeserializeOwned> leptos::server::codee::Decoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(val: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(val.as_bytes())
    }
}

/// A resource (server-rendered, then hydrated) in this app's codec.
#[track_caller]
pub fn resource<S, T, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Resource<T, Json>
where
    S: PartialEq + Clone + Send + Sync + 'static,
    T: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}

/// A resource that loads once, in this app's codec.
#[track_caller]
pub fn once_resource<T, Fut>(fut: Fut) -> OnceResource<T, Json>
where
    T: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    OnceResource::new_with_options(fut, false)
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::error::AppError;
    use crate::service::{SharedService, UserId};
    use leptos::prelude::*;

    pub fn service() -> Result<SharedService, AppError> {
        use_context::<SharedService>().ok_or_else(|| {
            tracing_log("LinkService missing from context");
            AppError::Internal
        })
    }

    /// The user the session middleware attached to this request.
    pub fn current_user() -> Result<UserId, AppError> {
        use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<UserId>().cloned())
            .ok_or_else(|| {
                tracing_log("request has no UserId (session middleware missing)");
                AppError::Internal
            })
    }

    pub fn payments() -> Result<crate::service::SharedPayments, AppError> {
        use_context::<crate::service::SharedPayments>().ok_or_else(|| {
            tracing_log("PaymentService missing from context");
            AppError::Internal
        })
    }

    /// How the person accepted a mandate: the client address the edge
    /// resolved (through trusted proxies only) and the browser's User-Agent.
    pub fn acceptance() -> Result<crate::service::CustomerAcceptance, AppError> {
        let parts = use_context::<http::request::Parts>().ok_or(AppError::Internal)?;
        let ip = parts
            .extensions
            .get::<crate::service::ClientAddr>()
            .map(|a| a.0)
            .ok_or_else(|| {
                tracing_log("request has no ClientAddr (edge middleware missing)");
                AppError::Internal
            })?;
        let user_agent: String = parts
            .headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_control())
            .take(500)
            .collect();
        if user_agent.trim().is_empty() {
            return Err(AppError::invalid(
                "user_agent",
                "Your browser sent no User-Agent; the bank mandate needs one.",
            ));
        }
        Ok(crate::service::CustomerAcceptance { ip, user_agent })
    }

    /// Gives an error its HTTP status on the server-function response.
    pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
        if let Err(e) = &result {
            if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
                resp.set_status(e.status());
            }
        }
        result
    }

    fn tracing_log(msg: &str) {
        leptos::logging::error!("{msg}");
    }
}

/// The mode the server runs in, for the document's header (SSR only; `None`
/// outside a request).
#[cfg(feature = "ssr")]
pub fn current_mode() -> Option<crate::model::Mode> {
    ssr::service().ok().map(|s| s.client_config().mode)
}

/// Mode, publishable key and Stripe.js URL. The page itself reads the mode
/// from the server-rendered header and gets the rest with each session
/// (`LinkSession::client`); this answers other clients of the API.
#[server(endpoint = "client_config")]
pub async fn load_client_config() -> Result<ClientConfig, AppError> {
    ssr::respond(ssr::service().map(|s| s.client_config()))
}

/// Starts a link: the Customer (once per user), then a new Session.
/// `name` and `email` may be empty. `permissions` (required, at least one),
/// `prefetch` and `account_types` are comma-separated wire names, e.g.
/// `balances,transactions`; no account types means all. `prefetch`
/// (`balance`, `ownership`, `transactions`, each needing its permission;
/// omitted or empty: none) is fetched at link time, and `transactions` also
/// turns on daily updates when the link is confirmed. The page sends all
/// that is shared unless the person unticks it.
#[server(endpoint = "start_link")]
pub async fn start_link(
    name: String,
    email: String,
    permissions: String,
    #[server(default)] prefetch: Option<String>,
    #[server(default)] account_types: Option<String>,
) -> Result<LinkSession, AppError> {
    ssr::respond(
        async {
            let details = crate::model::CustomerDetails::parse(&name, &email)?;
            let options = crate::model::LinkOptions::parse(
                &permissions,
                prefetch.as_deref().unwrap_or(""),
                account_types.as_deref().unwrap_or(""),
            )?;
            let user = ssr::current_user()?;
            ssr::service()?.start_link(&user, details, options).await
        }
        .await,
    )
}

/// The name and email the user gave, for prefilling forms.
#[server(endpoint = "load_details")]
pub async fn load_details() -> Result<CustomerDetails, AppError> {
    ssr::respond(
        async {
            let user = ssr::current_user()?;
            ssr::service()?.details(&user).await
        }
        .await,
    )
}

/// Saves the user's name and email (on their Stripe Customer too); blank
/// clears a field.
#[server(endpoint = "save_details")]
pub async fn save_details(name: String, email: String) -> Result<CustomerDetails, AppError> {
    ssr::respond(
        async {
            let details = CustomerDetails::parse(&name, &email)?;
            let user = ssr::current_user()?;
            ssr::service()?.save_details(&user, details).await
        }
        .await,
    )
}

/// A session for collecting a bank account token (payouts).
#[server(endpoint = "start_bank_token")]
pub async fn start_bank_token() -> Result<LinkSession, AppError> {
    ssr::respond(
        async {
            let user = ssr::current_user()?;
            ssr::service()?.start_bank_token(&user).await
        }
        .await,
    )
}

/// Confirms what the modal linked by asking Stripe, not the browser.
#[server(endpoint = "confirm_link")]
pub async fn confirm_link(session_id: String) -> Result<Vec<LinkedAccount>, AppError> {
    ssr::respond(
        async {
            let session = crate::model::SessionId::parse(&session_id)?;
            let user = ssr::current_user()?;
            ssr::service()?.confirm_link(&user, &session).await
        }
        .await,
    )
}

/// The current user's linked accounts.
#[server(endpoint = "linked_accounts")]
pub async fn linked_accounts() -> Result<Vec<LinkedAccount>, AppError> {
    ssr::respond(
        async {
            let user = ssr::current_user()?;
            ssr::service()?.linked_accounts(&user).await
        }
        .await,
    )
}

/// One of the current user's accounts, fresh from Stripe.
#[server(endpoint = "load_account")]
pub async fn load_account(id: String) -> Result<AccountDetail, AppError> {
    ssr::respond(
        async {
            let id = crate::model::AccountId::parse(&id)?;
            let user = ssr::current_user()?;
            ssr::service()?.account(&user, &id).await
        }
        .await,
    )
}

/// Starts a refresh (`balance`, `ownership` or `transactions`) on one of the
/// current user's accounts.
#[server(endpoint = "refresh_account")]
pub async fn refresh_account(id: String, feature: String) -> Result<AccountDetail, AppError> {
    ssr::respond(
        async {
            let id = crate::model::AccountId::parse(&id)?;
            let feature = crate::model::DataFeature::parse(&feature)?;
            let user = ssr::current_user()?;
            ssr::service()?.refresh(&user, &id, feature).await
        }
        .await,
    )
}

/// Starts every refresh the current user's accounts allow now (one per
/// active account and shared kind of data, none running and none cooling
/// down); answers the accounts with their refreshes as they now stand.
#[server(endpoint = "refresh_all")]
pub async fn refresh_all() -> Result<Vec<LinkedAccount>, AppError> {
    ssr::respond(
        async {
            let user = ssr::current_user()?;
            ssr::service()?.refresh_all(&user).await
        }
        .await,
    )
}

/// Disconnects one of the current user's accounts.
#[server(endpoint = "disconnect_account")]
pub async fn disconnect_account(id: String) -> Result<AccountDetail, AppError> {
    ssr::respond(
        async {
            let id = crate::model::AccountId::parse(&id)?;
            let user = ssr::current_user()?;
            ssr::service()?.disconnect(&user, &id).await
        }
        .await,
    )
}

/// Subscribes the account to daily transaction refreshes (`subscribed =
/// true`) or unsubscribes it.
#[server(endpoint = "set_subscription")]
pub async fn set_subscription(id: String, subscribed: String) -> Result<AccountDetail, AppError> {
    ssr::respond(
        async {
            let id = crate::model::AccountId::parse(&id)?;
            let subscribed = match subscribed.as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(AppError::invalid("subscribed", "Expected true or false.")),
            };
            let user = ssr::current_user()?;
            ssr::service()?.set_subscription(&user, &id, subscribed).await
        }
        .await,
    )
}

/// One page of an account's stored transactions. `from` and `to` are
/// `YYYY-MM-DD` or empty, `status` is `pending`, `posted`, `void` or empty,
/// `q` is text the description contains (or empty), `page` starts at 1
/// (empty is 1). The same filter without the page is
/// `GET /api/transactions.csv?id=…&from=…&to=…&status=…&q=…` (a CSV download).
#[server(endpoint = "load_transactions")]
pub async fn load_transactions(
    id: String,
    #[server(default)] from: String,
    #[server(default)] to: String,
    #[server(default)] status: String,
    #[server(default)] q: String,
    #[server(default)] page: String,
) -> Result<TransactionsView, AppError> {
    ssr::respond(
        async {
            let id = crate::model::AccountId::parse(&id)?;
            let filter = crate::model::TransactionFilter::parse(&from, &to, &status, &q, &page)?;
            let user = ssr::current_user()?;
            ssr::service()?.transactions(&user, &id, filter).await
        }
        .await,
    )
}

/// The business the ACH mandate names.
#[server(endpoint = "pay_terms")]
pub async fn load_pay_terms() -> Result<PayTerms, AppError> {
    ssr::respond(ssr::payments().map(|p| p.pay_terms()))
}

/// Pays from one of the current user's linked accounts: `amount` in dollars
/// as typed (`12.50`), `description` may be empty, `name` is the account
/// holder's, `attempt` is the page's id for this attempt (the same again
/// pays once). Sending it means the person accepted the mandate shown.
#[server(endpoint = "pay_from_account")]
pub async fn pay_from_account(
    id: String,
    amount: String,
    #[server(default)] description: String,
    name: String,
    attempt: String,
) -> Result<Payment, AppError> {
    ssr::respond(
        async {
            let id = crate::model::AccountId::parse(&id)?;
            let request = crate::model::PaymentRequest::parse(&amount, &description, &name, &attempt)?;
            let acceptance = ssr::acceptance()?;
            let user = ssr::current_user()?;
            ssr::payments()?.pay_from_account(&user, &id, request, acceptance).await
        }
        .await,
    )
}

/// The current user's payments, newest first; `account` (a `fca_…`) or
/// empty for all.
#[server(endpoint = "payments")]
pub async fn load_payments(#[server(default)] account: String) -> Result<Vec<Payment>, AppError> {
    ssr::respond(
        async {
            let account = match account.trim() {
                "" => None,
                a => Some(crate::model::AccountId::parse(a)?),
            };
            let user = ssr::current_user()?;
            ssr::payments()?.payments(&user, account.as_ref()).await
        }
        .await,
    )
}

/// Cancels one of the current user's payments, where Stripe allows it.
#[server(endpoint = "cancel_payment")]
pub async fn cancel_payment(id: String) -> Result<Payment, AppError> {
    ssr::respond(
        async {
            let id = crate::model::PaymentIntentId::parse(&id)?;
            let user = ssr::current_user()?;
            ssr::payments()?.cancel_payment(&user, &id).await
        }
        .await,
    )
}

/// Pay by bank without linking first: creates the PaymentIntent; its client
/// secret is in this response body only, for Stripe.js.
#[server(endpoint = "start_bank_payment")]
pub async fn start_bank_payment(
    amount: String,
    #[server(default)] description: String,
    name: String,
    attempt: String,
) -> Result<BankPaymentStart, AppError> {
    ssr::respond(
        async {
            let request = crate::model::PaymentRequest::parse(&amount, &description, &name, &attempt)?;
            let user = ssr::current_user()?;
            ssr::payments()?.start_bank_payment(&user, request).await
        }
        .await,
    )
}

/// Reads one of the current user's payments from Stripe again (after
/// Stripe.js changed it) and returns what is stored.
#[server(endpoint = "sync_payment")]
pub async fn sync_payment(id: String) -> Result<Payment, AppError> {
    ssr::respond(
        async {
            let id = crate::model::PaymentIntentId::parse(&id)?;
            let user = ssr::current_user()?;
            ssr::payments()?.sync_payment(&user, &id).await
        }
        .await,
    )
}

#[cfg(test)]
mod tests {
    use super::Json;
    use crate::error::AppError;
    use leptos::server::codee::{Decoder, Encoder};

    type Answer = Result<Vec<String>, AppError>;

    #[test]
    fn the_resource_codec_writes_serde_json_and_reads_it_back() {
        for value in [
            Ok(vec!["fca_1".to_owned(), "€ and \"quotes\"".to_owned()]),
            Err(AppError::NotFound),
        ] {
            let encoded = <Json as Encoder<Answer>>::encode(&value).unwrap();
            assert_eq!(encoded, serde_json::to_string(&value).unwrap());
            assert_eq!(<Json as Decoder<Answer>>::decode(&encoded).unwrap(), value);
        }
    }

    #[test]
    fn the_resource_codec_refuses_what_is_not_its_json() {
        for bad in ["", "{", "[1,2]", r#"{"Ok":[1]}"#, r#"{"Err":"NoSuchError"}"#] {
            assert!(<Json as Decoder<Answer>>::decode(bad).is_err(), "{bad}");
        }
    }
}
