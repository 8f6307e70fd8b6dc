//! An account's stored transactions: the 90-day net-flow chart, filters
//! (dates, status, a search of the description) and a paged list, with a
//! CSV export of everything the filters match. Filters and page live in the
//! URL query, so a reload, the back button or a shared link shows the same
//! view, and the form, page links and export work before the wasm has loaded.

use crate::api::{load_transactions, resource};
use crate::components::ErrorNotice;
use crate::model::transactions::PER_PAGE;
use crate::model::{DailyFlow, Day, Money, RefreshState, Transaction, TransactionStatus, TransactionsView};
use leptos::html;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

/// The list and chart for account `id`, read from the app's own copy; read
/// again when `refreshed` (the account's transaction refresh) changes.
#[component]
pub fn TransactionsPanel(id: String, #[prop(into)] refreshed: Signal<Option<RefreshState>>) -> impl IntoView {
    let query = use_query_map();
    let q = move |k: &str| query.read().get(k).unwrap_or_default();
    let account = id.clone();
    let view_data = resource(
        move || {
            let filter = TransactionFilterQuery::from_query(&q);
            (filter, q("page"), refreshed.get())
        },
        move |(f, page, _)| load_transactions(account.clone(), f.from, f.to, f.status, f.q, page),
    );
    let base = format!("/accounts/{id}");
    let (action, clear) = (base.clone(), base.clone());
    // The export: the same filter, every page, as CSV.
    let export = move || {
        let f = TransactionFilterQuery::from_query(&q);
        f.href(&format!("/api/transactions.csv?id={}", encode_component(&id)), 1)
    };
    let (from_input, to_input, status_input, search_input) = (
        NodeRef::<html::Input>::new(),
        NodeRef::<html::Input>::new(),
        NodeRef::<html::Select>::new(),
        NodeRef::<html::Input>::new(),
    );
    // A plain GET form without the wasm; with it, the same query by client
    // navigation (leptos_router's <Form> lowercases the action, and Stripe
    // ids are case-sensitive).
    let navigate = use_navigate();
    let target = action.clone();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let from = from_input.get().map(|i| i.value()).unwrap_or_default();
        let to = to_input.get().map(|i| i.value()).unwrap_or_default();
        let status = status_input.get().map(|s| s.value()).unwrap_or_default();
        let q = search_input.get().map(|i| i.value()).unwrap_or_default();
        let filter = TransactionFilterQuery { from, to, status, q };
        navigate(
            &filter.href(&target, 1),
            NavigateOptions {
                scroll: false,
                ..Default::default()
            },
        );
    };
    view! {
        <form method="get" action=action on:submit=on_submit>
            <div class="filters" data-testid="txn-filters">
                <label>"From"<input type="date" name="from" node_ref=from_input data-testid="txn-from" value=move || q("from") prop:value=move || q("from")/></label>
                <label>"To"<input type="date" name="to" node_ref=to_input data-testid="txn-to" value=move || q("to") prop:value=move || q("to")/></label>
                <label>
                    "Status"
                    <select name="status" node_ref=status_input data-testid="txn-status" prop:value=move || q("status")>
                        <option value="">"All"</option>
                        {TransactionStatus::ALL
                            .into_iter()
                            .map(|s| view! { <option value=s.as_str() selected=move || q("status") == s.as_str()>{s.label()}</option> })
                            .collect_view()}
                    </select>
                </label>
                <label>
                    "Description"
                    <input type="search" name="q" maxlength="100" node_ref=search_input data-testid="txn-search"
                        placeholder="e.g. coffee" value=move || q("q") prop:value=move || q("q")/>
                </label>
                <button type="submit" class="secondary-button" data-testid="txn-apply">"Apply"</button>
                <a href=clear class="clear" data-noscroll="true" data-testid="txn-clear">"Clear"</a>
                <a href=export class="export" download rel="external" data-testid="txn-export">"Export CSV"</a>
            </div>
        </form>
        <Transition fallback=|| view! { <p class="muted">"Loading transactions…"</p> }>
            {move || {
                let base = base.clone();
                view_data.get().map(move |r| match r {
                    Ok(v) => view! { <TransactionsBody view=v base=base/> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e.into() testid="txn-error"/> }.into_any(),
                })
            }}
        </Transition>
    }
}

/// The filter as it travels in the URL.
#[derive(Clone, Debug, PartialEq)]
struct TransactionFilterQuery {
    from: String,
    to: String,
    status: String,
    /// The description search.
    q: String,
}

impl TransactionFilterQuery {
    /// The filter in the page's URL query (`get` reads one parameter).
    fn from_query(get: &impl Fn(&str) -> String) -> Self {
        TransactionFilterQuery {
            from: get("from"),
            to: get("to"),
            status: get("status"),
            q: get("q"),
        }
    }

    /// `base?from=…&to=…&status=…&q=…&page=p`, leaving out what is empty
    /// (`&` instead of `?` when `base` has a query already).
    fn href(&self, base: &str, page: u32) -> String {
        let enc = |v: &str| encode_component(v);
        let mut q: Vec<String> = [
            ("from", &self.from),
            ("to", &self.to),
            ("status", &self.status),
            ("q", &self.q),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect();
        if page > 1 {
            q.push(format!("page={page}"));
        }
        let join = if base.contains('?') { '&' } else { '?' };
        if q.is_empty() {
            base.to_owned()
        } else {
            format!("{base}{join}{}", q.join("&"))
        }
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn encode_component(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[component]
fn TransactionsBody(view: TransactionsView, base: String) -> impl IntoView {
    if view.stored == 0 {
        return view! {
            <p class="muted" data-testid="no-transactions">
                "No transactions stored yet. Subscribe or refresh to fetch them from the bank."
            </p>
        }
        .into_any();
    }
    let page = view.filter.page;
    let pages = view.page_count();
    let first = (u64::from(page) - 1) * u64::from(PER_PAGE) + 1;
    let last = (first + view.items.len() as u64).saturating_sub(1);
    let href = {
        let f = &view.filter;
        let query = TransactionFilterQuery {
            from: f.from.map(|d| d.to_string()).unwrap_or_default(),
            to: f.to.map(|d| d.to_string()).unwrap_or_default(),
            status: f.status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
            q: f.search.clone().unwrap_or_default(),
        };
        move |p: u32| query.href(&base, p)
    };
    let past_end = view.items.is_empty() && view.matching > 0;
    let count = if view.matching == 0 {
        "No transactions match these filters.".to_owned()
    } else if past_end {
        format!(
            "This page is past the end: {} matching, on {}.",
            view.matching,
            crate::model::count_of(pages as usize, "page", "pages")
        )
    } else {
        format!("{first}–{last} of {} matching ({} stored)", view.matching, view.stored)
    };
    view! {
        {view.flows.into_iter().map(|f| view! { <FlowChart flow=f/> }).collect_view()}
        <p class="muted" data-testid="txn-count">{count}</p>
        {(!view.items.is_empty()).then(|| view! {
            <table class="transactions" data-testid="txn-table">
                <thead><tr><th>"Date"</th><th>"Description"</th><th>"Status"</th><th class="num">"Amount"</th></tr></thead>
                <tbody>{view.items.into_iter().map(|t| view! { <TransactionRow t=t/> }).collect_view()}</tbody>
            </table>
        })}
        <nav class="pager" aria-label="Transaction pages">
            {if page > 1 {
                let newer = if past_end { pages } else { page - 1 };
                view! { <a href=href(newer) data-noscroll="true" data-testid="txn-prev">"← Newer"</a> }.into_any()
            } else {
                view! { <span class="muted">"← Newer"</span> }.into_any()
            }}
            <span data-testid="txn-page">{if past_end { format!("Past page {pages}") } else { format!("Page {page} of {pages}") }}</span>
            {if page < pages {
                view! { <a href=href(page + 1) data-noscroll="true" data-testid="txn-next">"Older →"</a> }.into_any()
            } else {
                view! { <span class="muted">"Older →"</span> }.into_any()
            }}
        </nav>
    }
    .into_any()
}

#[component]
fn TransactionRow(t: Transaction) -> impl IntoView {
    let sign = if t.amount.minor < 0 { "out" } else { "in" };
    view! {
        <tr data-testid="txn-row" data-status=t.status.as_str()>
            <td class="date">{Day::of(t.transacted_at).to_string()}</td>
            <td>{t.description}</td>
            <td><span class=format!("badge txn-{}", t.status.as_str())>{t.status.label()}</span></td>
            <td class=format!("num amount-{sign}") data-testid="txn-amount">{t.amount.format()}</td>
        </tr>
    }
}

/// Daily net flow as bars above (money in) and below (money out) a zero line.
#[component]
fn FlowChart(flow: DailyFlow) -> impl IntoView {
    const W: f64 = 900.0;
    const H: f64 = 160.0;
    let days = flow.net.len().max(1);
    let slot = W / days as f64;
    let top = flow.net.iter().copied().max().unwrap_or(0).max(0) as f64;
    let bottom = flow.net.iter().copied().min().unwrap_or(0).min(0) as f64;
    let range = (top - bottom).max(1.0);
    let zero = H * top / range;
    let money = |minor| flow.total(minor).format();
    let net_total = flow.money_in.saturating_add(flow.money_out);
    let first = flow.first_day;
    let label = format!(
        "Daily net flow for the last {days} days ({}): {} in, {} out, {} net.",
        flow.currency.to_uppercase(),
        money(flow.money_in),
        money(flow.money_out),
        money(net_total)
    );
    let bars = flow
        .net
        .iter()
        .enumerate()
        .filter(|(_, n)| **n != 0)
        .map(|(i, &n)| {
            let h = (n.unsigned_abs() as f64 / range * H).max(1.0);
            let y = if n > 0 { zero - h } else { zero };
            let title = format!(
                "{}: {}",
                first.plus(i as i64).short(),
                Money {
                    minor: n,
                    currency: flow.currency.clone()
                }
                .format()
            );
            view! {
                <rect
                    class={if n > 0 { "bar in" } else { "bar out" }}
                    x=format!("{:.1}", i as f64 * slot + 1.0)
                    y=format!("{y:.1}")
                    width=format!("{:.1}", (slot - 2.0).max(1.0))
                    height=format!("{h:.1}")
                >
                    <title>{title}</title>
                </rect>
            }
        })
        .collect_view();
    view! {
        <figure class="flow" data-testid="flow-chart">
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=label.clone() preserveAspectRatio="none">
                <line class="zero" x1="0" x2=W.to_string() y1=format!("{zero:.1}") y2=format!("{zero:.1}")/>
                {bars}
            </svg>
            <div class="flow-axis muted"><span>{first.short()}</span><span>{first.plus(days as i64 - 1).short()}</span></div>
            <figcaption>
                <span>"In "<strong class="amount-in" data-testid="flow-in">{money(flow.money_in)}</strong></span>
                <span>"Out "<strong class="amount-out" data-testid="flow-out">{money(flow.money_out)}</strong></span>
                <span>"Net "<strong data-testid="flow-net">{money(net_total)}</strong></span>
                <span class="muted">{format!("last {days} days, void excluded")}</span>
            </figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_links_keep_the_filter_and_encode_it() {
        let q = TransactionFilterQuery {
            from: "2026-11-01".into(),
            to: String::new(),
            status: "posted".into(),
            q: String::new(),
        };
        assert_eq!(
            q.href("/accounts/fca_Ab", 2),
            "/accounts/fca_Ab?from=2026-11-01&status=posted&page=2"
        );
        assert_eq!(
            q.href("/accounts/fca_Ab", 1),
            "/accounts/fca_Ab?from=2026-11-01&status=posted"
        );
        let empty = TransactionFilterQuery {
            from: String::new(),
            to: String::new(),
            status: String::new(),
            q: String::new(),
        };
        assert_eq!(empty.href("/a", 1), "/a");
        let hostile = TransactionFilterQuery {
            from: "x&page=9#".into(),
            to: String::new(),
            status: String::new(),
            q: "café & co".into(),
        };
        assert_eq!(hostile.href("/a", 1), "/a?from=x%26page%3D9%23&q=caf%C3%A9%20%26%20co");
        assert_eq!(
            hostile.href("/api/transactions.csv?id=fca_1", 1),
            "/api/transactions.csv?id=fca_1&from=x%26page%3D9%23&q=caf%C3%A9%20%26%20co"
        );
    }
}
