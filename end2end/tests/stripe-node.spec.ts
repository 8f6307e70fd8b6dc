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

function client() {
  const key = `sk_test_node_${Date.now()}_${Math.floor(Math.random() * 1e6)}`; // a fresh space per test
  return new Stripe(key, { host: "127.0.0.1", port, protocol: "http", maxNetworkRetries: 1 });
}

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
    filters: { countries: ["US"] },
  });
  expect(session.client_secret).toMatch(/_secret_/);

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
