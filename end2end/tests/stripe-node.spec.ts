import { expect, test } from "@playwright/test";
import Stripe from "stripe";
import { modal } from "./fixtures";

// Stripe's official Node library, unchanged but for its host, against the
// standalone sandbox; the modal is completed in the browser in between.
const port = Number(process.env.E2E_SANDBOX_PORT ?? 12112);
const SANDBOX = `http://127.0.0.1:${port}`;

// The browser half borrows the app's page as a host for the standalone
// sandbox's Stripe.js; the app's Content-Security-Policy admits only its own
// sandbox, so it is bypassed here (this test is about the library, not the app).
test.use({ bypassCSP: true });

function freshKey() {
  return `sk_test_node_${Date.now()}_${Math.floor(Math.random() * 1e6)}`; // a fresh space per test
}

function client(key = freshKey()) {
  return new Stripe(key, { host: "127.0.0.1", port, protocol: "http", maxNetworkRetries: 1 });
}

/** Links `accounts` of the Test Institution for a new customer, through the
 * sandbox's control surface (the modal's work, without a browser). */
async function linked(stripe: Stripe, key: string, accounts: string[]) {
  const customer = await stripe.customers.create({ name: "Jenny Rosen" });
  const session = await stripe.financialConnections.sessions.create({
    account_holder: { type: "customer", customer: customer.id },
    permissions: ["payment_method"],
    filters: { country: "US" },
  });
  const form = new URLSearchParams(accounts.map((a) => ["accounts[]", a]));
  const r = await fetch(`${SANDBOX}/_sandbox/sessions/${session.id}/complete`, {
    method: "POST",
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/x-www-form-urlencoded" },
    body: form.toString(),
  });
  expect(r.ok).toBe(true);
  const done = await r.json();
  return { customer: customer.id, accounts: done.financialConnectionsSession.accounts.map((a: any) => a.id) as string[] };
}

const mandate_data = {
  customer_acceptance: { type: "online" as const, online: { ip_address: "203.0.113.7", user_agent: "stripe-node e2e" } },
};

async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = await f();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("condition not reached");
}

test("the official Stripe Node library works against the sandbox", async ({ page }) => {
  const stripe = client();
  const customer = await stripe.customers.create({ name: "Jenny Rosen", email: "jenny@example.com" });
  expect(customer.id).toMatch(/^cus_/);
  const session = await stripe.financialConnections.sessions.create({
    account_holder: { type: "customer", customer: customer.id },
    permissions: ["balances", "ownership", "transactions", "payment_method"],
    // The library pins 2026-10-28.endive, where sessions filter by one country.
    filters: { country: "US" },
  });
  expect(session.client_secret).toMatch(/_secret_/);
  expect(session.filters?.country).toBe("US");

  // The browser: a page on another origin loads the sandbox's Stripe.js.
  await page.goto("/");
  await page.addScriptTag({ url: `${SANDBOX}/js/stripe.js` });
  await page.evaluate((clientSecret) => {
    (window as any).__result = (window as any).Stripe("pk_test_node").collectFinancialConnectionsAccounts({ clientSecret });
  }, session.client_secret!);
  const m = modal(page);
  await m.getByTestId("consent-agree").click();
  await m.locator('[data-institution="test_institution"]').click();
  await m.getByTestId("account-savings").check();
  await m.getByTestId("link-accounts").click();
  await m.getByTestId("done").click();
  const result = await page.evaluate(() => (window as any).__result);
  expect(result.financialConnectionsSession.accounts).toHaveLength(2);

  // Back on the server, typed results from the library.
  const retrieved = await stripe.financialConnections.sessions.retrieve(session.id);
  expect(retrieved.accounts.data).toHaveLength(2);
  const listed = await stripe.financialConnections.accounts.list({ session: session.id });
  expect(listed.data.map((a) => a.display_name).sort()).toEqual(["Savings", "Success"]);
  const byCustomer = await stripe.financialConnections.accounts.list({ account_holder: { customer: customer.id } });
  expect(byCustomer.data).toHaveLength(2);
  const account = await stripe.financialConnections.accounts.retrieve(listed.data.find((a) => a.display_name === "Success")!.id);
  expect(account.institution_name).toBe("Test Institution");
  expect(account.last4).toBe("6789");
  expect(account.supported_payment_method_types).toContain("us_bank_account");
  expect(account.account_numbers?.[0]?.supported_networks).toContain("ach");

  const refreshing = await stripe.financialConnections.accounts.refresh(account.id, { features: ["balance", "ownership"] });
  expect(refreshing.balance_refresh?.status).toBe("pending");
  const refreshed = await until(
    () => stripe.financialConnections.accounts.retrieve(account.id),
    (a) => a.balance_refresh?.status === "succeeded" && a.ownership_refresh?.status === "succeeded",
  );
  expect(refreshed.balance?.type).toBe("cash");
  expect(typeof refreshed.balance?.current.usd).toBe("number");
  const owners = await stripe.financialConnections.accounts.listOwners(account.id, { ownership: refreshed.ownership as string });
  expect(owners.data[0].name).toBe("Jenny Rosen");

  const subscribed = await stripe.financialConnections.accounts.subscribe(account.id, { features: ["transactions"] });
  expect(subscribed.subscriptions).toEqual(["transactions"]);
  await until(
    () => stripe.financialConnections.accounts.retrieve(account.id),
    (a) => a.transaction_refresh?.status === "succeeded",
  );
  const firstPage = await stripe.financialConnections.transactions.list({ account: account.id, limit: 10 });
  expect(firstPage.data).toHaveLength(10);
  expect(firstPage.has_more).toBe(true);
  expect(firstPage.data[0].currency).toBe("usd");
  let count = 0;
  for await (const t of stripe.financialConnections.transactions.list({ account: account.id, limit: 100 })) {
    expect(t.object).toBe("financial_connections.transaction");
    count++;
  }
  expect(count).toBeGreaterThan(150);
  const one = await stripe.financialConnections.transactions.retrieve(firstPage.data[0].id);
  expect(one.id).toBe(firstPage.data[0].id);

  const unsubscribed = await stripe.financialConnections.accounts.unsubscribe(account.id, { features: ["transactions"] });
  expect(unsubscribed.subscriptions).toEqual([]);
  const disconnected = await stripe.financialConnections.accounts.disconnect(account.id);
  expect(disconnected.status).toBe("disconnected");

  const events = await stripe.events.list({ limit: 100 });
  expect(events.data.map((e) => e.type)).toContain("financial_connections.account.disconnected");
});

test("the library sees Stripe's errors, typed", async () => {
  const stripe = client();
  const missing = await stripe.customers.retrieve("cus_missing").catch((e) => e);
  expect(missing).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
  expect(missing.statusCode).toBe(404);
  expect(missing.code).toBe("resource_missing");
  expect(missing.requestId).toMatch(/^req_/);

  const customer = await stripe.customers.create({});
  const noPermissions = await stripe.financialConnections.sessions
    .create({ account_holder: { type: "customer", customer: customer.id }, permissions: [] as any })
    .catch((e) => e);
  expect(noPermissions).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
  expect(noPermissions.param).toBe("permissions");
  expect(noPermissions.code).toBe("parameter_missing");

  const badKey = new Stripe("sk_live_wrong", { host: "127.0.0.1", port, protocol: "http" });
  const auth = await badKey.customers.create({}).catch((e) => e);
  expect(auth).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
});

test("the library makes, confirms and cancels ACH Direct Debit payments", async () => {
  const key = freshKey();
  const stripe = client(key);
  const { customer, accounts } = await linked(stripe, key, ["success", "insufficient_funds"]);
  const [success, insufficient] = accounts;
  const pay = (fca: string) => ({
    type: "us_bank_account" as const,
    us_bank_account: { financial_connections_account: fca },
    billing_details: { name: "Jenny Rosen" },
  });

  const paid = await stripe.paymentIntents.create({
    amount: 1250,
    currency: "usd",
    customer,
    description: "Invoice 42",
    payment_method_types: ["us_bank_account"],
    payment_method_data: pay(success),
    mandate_data,
    confirm: true,
  });
  expect(paid.id).toMatch(/^pi_/);
  expect(paid.status).toBe("processing");
  const succeeded = await until(() => stripe.paymentIntents.retrieve(paid.id), (p) => p.status !== "processing");
  expect(succeeded.status).toBe("succeeded");
  expect(succeeded.amount_received).toBe(1250);
  const method = await stripe.paymentMethods.retrieve(paid.payment_method as string);
  expect(method.type).toBe("us_bank_account");
  expect(method.us_bank_account?.financial_connections_account).toBe(success);
  expect(method.us_bank_account?.last4).toBe("6789");

  // Created first, confirmed after: the Insufficient Funds account fails.
  const later = await stripe.paymentIntents.create({
    amount: 5000,
    currency: "usd",
    customer,
    payment_method_types: ["us_bank_account"],
  });
  expect(later.status).toBe("requires_payment_method");
  const confirming = await stripe.paymentIntents.confirm(later.id, { payment_method_data: pay(insufficient), mandate_data });
  expect(confirming.status).toBe("processing");
  const failed = await until(() => stripe.paymentIntents.retrieve(later.id), (p) => p.status !== "processing");
  expect(failed.status).toBe("requires_payment_method");
  expect(failed.last_payment_error?.code).toBe("insufficient_funds");

  const abandoned = await stripe.paymentIntents.create({ amount: 700, currency: "usd", customer });
  const canceled = await stripe.paymentIntents.cancel(abandoned.id, { cancellation_reason: "abandoned" });
  expect(canceled.status).toBe("canceled");
  const listed = await stripe.paymentIntents.list({ customer });
  expect(listed.data.map((p) => p.id)).toEqual([abandoned.id, later.id, paid.id]);

  const events = await stripe.events.list({ type: "payment_intent.*" } as any);
  expect(events.data.map((e) => e.type)).toEqual(
    expect.arrayContaining(["payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled"]),
  );

  const small = await stripe.paymentIntents.create({ amount: 10, currency: "usd" }).catch((e) => e);
  expect(small).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
  expect(small.code).toBe("amount_too_small");
  const card = await stripe.paymentIntents
    .create({ amount: 1000, currency: "usd", payment_method_types: ["card"] })
    .catch((e) => e);
  expect(card.param).toBe("payment_method_types");
});

test("Stripe.js collects a bank account for a payment and confirms it", async ({ page }) => {
  const stripe = client();
  const customer = await stripe.customers.create({ name: "Jenny Rosen" });
  const intent = await stripe.paymentIntents.create({
    amount: 2000,
    currency: "usd",
    customer: customer.id,
    payment_method_types: ["us_bank_account"],
  });

  await page.goto("/");
  await page.addScriptTag({ url: `${SANDBOX}/js/stripe.js` });
  await page.evaluate((clientSecret) => {
    (window as any).__collected = (window as any).Stripe("pk_test_node").collectBankAccountForPayment({
      clientSecret,
      params: {
        payment_method_type: "us_bank_account",
        payment_method_data: { billing_details: { name: "Jenny Rosen", email: "jenny@example.com" } },
      },
    });
  }, intent.client_secret!);
  const m = modal(page);
  await m.getByTestId("consent-agree").click();
  await m.locator('[data-institution="test_institution"]').click();
  await expect(m.getByTestId("account-success")).toBeChecked();
  await m.getByTestId("link-accounts").click();
  await m.getByTestId("done").click();
  const collected = await page.evaluate(() => (window as any).__collected);
  expect(collected.error).toBeUndefined();
  expect(collected.paymentIntent.status).toBe("requires_confirmation");
  expect(collected.paymentIntent.payment_method).toMatch(/^pm_/);

  const confirmed = await page.evaluate(
    (clientSecret) => (window as any).Stripe("pk_test_node").confirmUsBankAccountPayment(clientSecret),
    intent.client_secret!,
  );
  expect(confirmed.error).toBeUndefined();
  expect(confirmed.paymentIntent.status).toBe("processing");
  const done = await until(() => stripe.paymentIntents.retrieve(intent.id), (p) => p.status !== "processing");
  expect(done.status).toBe("succeeded");
  const method = await stripe.paymentMethods.retrieve(done.payment_method as string);
  expect(method.billing_details.email).toBe("jenny@example.com");
});
