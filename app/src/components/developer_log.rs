//! One developer-log entry: a summary line (what, when, outcome) and the
//! redacted JSON behind it in `<details>`. Request ids link to Stripe's
//! Dashboard in Stripe mode.

use crate::model::developer::{
    dashboard_url, timestamp_utc, LogDetail, LogEntry, StripeJsLog, StripeRequestLog, WebhookLog, WebhookOutcome,
};
use crate::model::Mode;
use leptos::prelude::*;

#[component]
pub fn LogEntryView(entry: LogEntry, mode: Mode) -> impl IntoView {
    let kind = entry.kind();
    let when = timestamp_utc(entry.at_ms);
    let body = match entry.detail {
        LogDetail::StripeRequest(r) => stripe_request(r, mode).into_any(),
        LogDetail::Webhook(w) => webhook(w).into_any(),
        LogDetail::StripeJs(j) => stripe_js(j).into_any(),
    };
    view! {
        <li class="log-entry" data-testid="log-entry" data-kind=kind.as_str() data-id=entry.id.to_string()>
            <div class="log-head">
                <time class="muted">{when}</time>
                <span class=format!("badge log-kind log-kind-{}", kind.as_str())>{kind_label(kind)}</span>
            </div>
            {body}
        </li>
    }
}

fn kind_label(kind: crate::model::developer::LogKind) -> &'static str {
    use crate::model::developer::LogKind;
    match kind {
        LogKind::StripeRequest => "Stripe API",
        LogKind::Webhook => "Webhook",
        LogKind::StripeJs => "Stripe.js",
    }
}

fn stripe_request(r: StripeRequestLog, mode: Mode) -> impl IntoView {
    let ok = r.status.is_some_and(|s| (200..300).contains(&s));
    let status = r.status.map(|s| s.to_string()).unwrap_or_else(|| "no answer".to_owned());
    let request_id = r.request_id.map(|id| match dashboard_url(mode, &id) {
        Some(url) => view! {
            <a href=url target="_blank" rel="noopener noreferrer" data-testid="request-id"><code>{id}</code></a>
        }
        .into_any(),
        None => view! { <code data-testid="request-id">{id}</code> }.into_any(),
    });
    let retries = r.retries;
    let status_class = if ok { "badge status-active" } else { "badge status-inactive" };
    view! {
        <p class="log-summary" data-testid="log-summary">
            <code class="log-method">{r.method}</code>" "
            <code data-testid="log-path">{r.path}</code>" "
            <span class=status_class data-testid="log-status">{status}</span>
            " "<span class="muted">{format!("{} ms", r.duration_ms)}</span>
            {(r.attempts > 1).then(|| view! { " " <span class="muted" data-testid="log-attempts">{format!("{} attempts", r.attempts)}</span> })}
        </p>
        <dl class="log-facts">
            {request_id.map(|id| view! { <dt>"Request-Id"</dt><dd>{id}</dd> })}
            {r.idempotency_key.map(|k| view! { <dt>"Idempotency-Key"</dt><dd><code data-testid="idempotency-key">{k}</code></dd> })}
            {r.error.map(|e| view! { <dt>"Error"</dt><dd>{e}</dd> })}
        </dl>
        {(!retries.is_empty()).then(|| view! {
            <ul class="log-retries" data-testid="log-retries">
                {retries.into_iter().map(|n| view! {
                    <li>{format!("Attempt {}: {}, retried after {} ms", n.attempt, n.outcome, n.delay_ms)}</li>
                }).collect_view()}
            </ul>
        })}
        <details class="log-json">
            <summary>"Parameters"</summary>
            <pre data-testid="log-params">{r.params}</pre>
        </details>
        {r.response.map(|body| view! {
            <details class="log-json">
                <summary>"Response"</summary>
                <pre data-testid="log-response">{body}</pre>
            </details>
        })}
    }
}

fn webhook(w: WebhookLog) -> impl IntoView {
    let outcome_class = if w.outcome == WebhookOutcome::Failed {
        "badge status-inactive"
    } else {
        "badge status-active"
    };
    view! {
        <p class="log-summary" data-testid="log-summary">
            <code data-testid="log-event-type">{w.event_type}</code>" "
            <span class=outcome_class data-testid="log-outcome">{w.outcome.label()}</span>
            " "<span class="muted">{format!("{} ms", w.processing_ms)}</span>
        </p>
        <dl class="log-facts">
            <dt>"Event"</dt><dd><code>{w.event_id}</code></dd>
        </dl>
    }
}

fn stripe_js(j: StripeJsLog) -> impl IntoView {
    view! {
        <p class="log-summary" data-testid="log-summary">
            <code data-testid="log-call">{format!("stripe.{}()", j.call.js_name())}</code>" resolved"
        </p>
        <details class="log-json">
            <summary>"Result"</summary>
            <pre data-testid="log-result">{j.result}</pre>
        </details>
    }
}
