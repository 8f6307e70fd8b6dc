"""Stripe's official Python library, unchanged but for its base address,
against the sandbox at $SANDBOX_URL: every endpoint the Node library's test
(end2end/tests/stripe-node.spec.ts) uses, Stripe's errors as the library's
typed exceptions, and a delivered webhook verified with the library's own
event constructor. Run by server/tests/stripe_python.rs; exits non-zero
(with the failed assertion) on any difference.
"""

import http.server
import json
import os
import random
import threading
import time
import urllib.request

import stripe

SANDBOX = os.environ["SANDBOX_URL"]


def client(key=None):
    key = key or f"sk_test_python_{int(time.time())}_{random.randrange(10**6)}"  # a fresh space
    return stripe.StripeClient(key, base_addresses={"api": SANDBOX}, max_network_retries=1), key


def until(f, ok, what):
    for _ in range(300):
        v = f()
        if ok(v):
            return v
        time.sleep(0.05)
    raise AssertionError(f"not reached: {what}")


def complete(key, session_id, accounts):
    """The modal's part, without a browser: the sandbox's control call."""
    body = "&".join(f"accounts[]={a}" for a in accounts).encode()
    req = urllib.request.Request(
        f"{SANDBOX}/_sandbox/sessions/{session_id}/complete",
        data=body,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(req) as resp:
        return json.load(resp)


class Hooks(http.server.BaseHTTPRequestHandler):
    """A webhook receiver: keeps (Stripe-Signature, raw body) of each POST."""

    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hooks.received.append((self.headers.get("Stripe-Signature"), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def the_library_works_against_the_sandbox():
    sc, key = client()
    v1 = sc.v1
    fc = v1.financial_connections

    hooks = http.server.HTTPServer(("127.0.0.1", 0), Hooks)
    threading.Thread(target=hooks.serve_forever, daemon=True).start()
    endpoint = v1.webhook_endpoints.create(
        params={
            "url": f"http://127.0.0.1:{hooks.server_port}/hook",
            "enabled_events": ["financial_connections.account.disconnected"],
            # As Stripe advises: events in the version the library speaks.
            "api_version": stripe.api_version,
        }
    )
    assert endpoint.secret.startswith("whsec_"), endpoint

    customer = v1.customers.create(params={"name": "Jenny Rosen", "email": "jenny@example.com"})
    assert customer.id.startswith("cus_"), customer
    assert v1.customers.retrieve(customer.id).email == "jenny@example.com"
    session = fc.sessions.create(
        params={
            "account_holder": {"type": "customer", "customer": customer.id},
            "permissions": ["balances", "ownership", "transactions", "payment_method"],
            # The library pins 2026-10-28.endive, where sessions filter by one country.
            "filters": {"country": "US"},
        }
    )
    assert "_secret_" in session.client_secret, session
    assert session.filters.country == "US", session.filters

    done = complete(key, session.id, ["success", "savings"])
    assert len(done["financialConnectionsSession"]["accounts"]) == 2, done

    retrieved = fc.sessions.retrieve(session.id)
    assert len(retrieved.accounts.data) == 2
    listed = fc.accounts.list(params={"session": session.id})
    assert sorted(a.display_name for a in listed.data) == ["Savings", "Success"], listed
    by_customer = fc.accounts.list(params={"account_holder": {"customer": customer.id}})
    assert len(by_customer.data) == 2
    success = next(a for a in listed.data if a.display_name == "Success")
    account = fc.accounts.retrieve(success.id)
    assert account.institution_name == "Test Institution"
    assert account.last4 == "6789"
    assert "us_bank_account" in account.supported_payment_method_types
    assert "ach" in account.account_numbers[0].supported_networks

    refreshing = fc.accounts.refresh(account.id, params={"features": ["balance", "ownership"]})
    assert refreshing.balance_refresh.status == "pending"
    refreshed = until(
        lambda: fc.accounts.retrieve(account.id),
        lambda a: a.balance_refresh.status == "succeeded" and a.ownership_refresh.status == "succeeded",
        "balance and ownership refreshed",
    )
    assert refreshed.balance.type == "cash"
    assert isinstance(refreshed.balance.current["usd"], int)
    owners = fc.accounts.owners.list(account.id, params={"ownership": refreshed.ownership})
    assert owners.data[0].name == "Jenny Rosen", owners

    subscribed = fc.accounts.subscribe(account.id, params={"features": ["transactions"]})
    assert subscribed.subscriptions == ["transactions"]
    until(
        lambda: fc.accounts.retrieve(account.id),
        lambda a: a.transaction_refresh is not None and a.transaction_refresh.status == "succeeded",
        "transactions refreshed",
    )
    first_page = fc.transactions.list(params={"account": account.id, "limit": 10})
    assert len(first_page.data) == 10
    assert first_page.has_more is True
    assert first_page.data[0].currency == "usd"
    count = 0
    for t in fc.transactions.list(params={"account": account.id, "limit": 100}).auto_paging_iter():
        assert t.object == "financial_connections.transaction"
        count += 1
    assert count > 150, count
    one = fc.transactions.retrieve(first_page.data[0].id)
    assert one.id == first_page.data[0].id

    unsubscribed = fc.accounts.unsubscribe(account.id, params={"features": ["transactions"]})
    assert unsubscribed.subscriptions == []
    disconnected = fc.accounts.disconnect(account.id)
    assert disconnected.status == "disconnected"

    events = v1.events.list(params={"limit": 100})
    assert "financial_connections.account.disconnected" in [e.type for e in events.data]

    # The webhook for the disconnection, verified by the library's own constructors.
    until(lambda: list(Hooks.received), lambda r: len(r) >= 1, "webhook delivered")
    sig, body = Hooks.received[0]
    event = stripe.Webhook.construct_event(body, sig, endpoint.secret)
    assert event.type == "financial_connections.account.disconnected", event.type
    assert event.data.object.id == account.id
    assert event.api_version == stripe.api_version, (event.api_version, stripe.api_version)
    assert sc.construct_event(body, sig, endpoint.secret).id == event.id
    assert v1.events.retrieve(event.id).type == event.type
    try:
        stripe.Webhook.construct_event(body.replace(b"disconnected", b"reconnected"), sig, endpoint.secret)
        raise AssertionError("a changed body verified")
    except stripe.SignatureVerificationError:
        pass
    hooks.shutdown()


def the_library_sees_stripes_errors_typed():
    sc, _ = client()
    try:
        sc.v1.customers.retrieve("cus_missing")
        raise AssertionError("no error")
    except stripe.InvalidRequestError as e:
        assert e.http_status == 404
        assert e.code == "resource_missing"
        assert e.request_id.startswith("req_"), e.request_id

    customer = sc.v1.customers.create()
    try:
        sc.v1.financial_connections.sessions.create(
            params={"account_holder": {"type": "customer", "customer": customer.id}, "permissions": []}
        )
        raise AssertionError("no error")
    except stripe.InvalidRequestError as e:
        assert e.param == "permissions", e.param
        assert e.code == "parameter_missing", e.code

    bad, _ = client("sk_live_wrong")
    try:
        bad.v1.customers.create()
        raise AssertionError("no error")
    except stripe.AuthenticationError:
        pass


if __name__ == "__main__":
    for test in (the_library_works_against_the_sandbox, the_library_sees_stripes_errors_typed):
        test()
        print(f"ok: {test.__name__}")
    print(f"stripe-python {stripe.VERSION} (API {stripe.api_version}): all passed")
