import { expect, test } from "@playwright/test";
import { linkAccounts, openFirstAccount, openLinkPage } from "./fixtures";

// The developer panel (/developer): what the server asked Stripe on this
// browser's behalf, webhooks and Stripe.js results, redacted, updating live.

const SECRET = /(sk|rk)_(test|live)_|whsec_|_secret_/;

test("the panel lists the session creation and the account retrieval, redacted, live", async ({ page, context }) => {
  // The panel is open in another tab before anything happens.
  const panel = await context.newPage();
  await panel.goto("/developer");
  await panel.waitForFunction(() => (window as any).__hydrated === true);
  await expect(panel.getByTestId("log-empty")).toBeVisible();

  await openLinkPage(page);
  await expect(page.getByTestId("footer-developer")).toHaveAttribute("href", "/developer");
  await linkAccounts(page);
  await expect(page.getByTestId("status-linked")).toBeVisible();

  // Live: the panel was not reloaded.
  const entries = panel.getByTestId("log-entry");
  const created = entries.filter({
    has: panel.getByTestId("log-path").getByText("/v1/financial_connections/sessions", { exact: true }),
  });
  await expect(created).toHaveCount(1);
  await expect(created.getByTestId("log-status")).toHaveText("200");
  await expect(created.getByTestId("request-id")).toHaveText(/^req_/);
  await expect(created.getByTestId("idempotency-key")).not.toBeEmpty();
  await created.getByText("Response").click();
  const response = created.getByTestId("log-response");
  await expect(response).toContainText('"client_secret": "[redacted]"');
  await expect(response).toContainText('"id": "fcsess_');
  await created.getByText("Parameters").click();
  await expect(created.getByTestId("log-params")).toContainText('"permissions[]"');
  // What Stripe.js resolved with in the other tab.
  await expect(entries.filter({ has: panel.getByTestId("log-call") }).first()).toContainText(
    "stripe.collectFinancialConnectionsAccounts()",
  );

  // Opening the account retrieves it from Stripe: that shows up too.
  await openFirstAccount(page);
  await expect(page).toHaveURL(/\/accounts\/fca_/);
  const id = page.url().split("/").pop()!;
  const retrieved = entries.filter({
    has: panel.getByTestId("log-path").getByText(`/v1/financial_connections/accounts/${id}`, { exact: true }),
  });
  await expect(retrieved.first()).toBeVisible();
  await expect(retrieved.first().getByTestId("log-summary")).toContainText("GET");

  // Filters: only webhooks (the account.created events), only Stripe.js.
  await panel.getByTestId("filter-webhook").click();
  await expect(panel).toHaveURL(/kind=webhook/);
  await expect(entries.first()).toHaveAttribute("data-kind", "webhook");
  for (const kind of await entries.evaluateAll((els) => els.map((e) => e.getAttribute("data-kind")))) {
    expect(kind).toBe("webhook");
  }
  await panel.getByTestId("filter-stripe_js").click();
  await expect(entries.first()).toHaveAttribute("data-kind", "stripe_js");
  await panel.getByTestId("filter-all").click();
  await expect(entries.first()).toBeVisible();

  // Nothing secret anywhere on the panel, expanded or not.
  expect(await panel.content()).not.toMatch(SECRET);
});

test("another browser's panel is empty", async ({ browser }) => {
  const mine = await browser.newContext();
  const page = await mine.newPage();
  await openLinkPage(page);
  await linkAccounts(page);
  await expect(page.getByTestId("status-linked")).toBeVisible();
  const theirs = await (await browser.newContext()).newPage();
  await theirs.goto("/developer");
  await expect(theirs.getByTestId("log-empty")).toBeVisible();
});
