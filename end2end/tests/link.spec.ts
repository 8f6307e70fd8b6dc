import { expect, test } from "@playwright/test";
import { linkAccounts, modal, openLinkPage, swapClientSecret } from "./fixtures";

test("the page explains what is shared and says it runs on the sandbox", async ({ page }) => {
  await openLinkPage(page);
  await expect(page.getByRole("heading", { name: "Link your bank account" })).toBeVisible();
  await expect(page.getByTestId("mode-badge")).toHaveText("Sandbox");
  await expect(page.getByTestId("permissions")).toContainText("Balances");
  await expect(page.getByTestId("permissions")).toContainText("Transactions");
  await expect(page.getByTestId("no-accounts")).toBeVisible();
});

test("linking shows the accounts Stripe confirmed", async ({ page }) => {
  await openLinkPage(page);
  await page.getByLabel(/^Name/).fill("Jenny Rosen");
  await page.getByLabel(/^Email/).fill("jenny@example.com");
  await linkAccounts(page, ["savings"]);

  await expect(page.getByTestId("status-linked")).toHaveText("Linked 2 accounts.");
  const accounts = page.getByTestId("account");
  await expect(accounts).toHaveCount(2);
  await expect(page.getByTestId("account-list")).toContainText("Test Institution");
  await expect(page.getByTestId("account-list")).toContainText("•••• 6789");
  await expect(page.getByTestId("account-list")).toContainText("Savings");
  await expect(page.getByTestId("account-list")).toContainText("Cash · Checking");
  await expect(accounts.first()).toHaveAttribute("data-account-id", /^fca_/);
  await expect(page.getByTestId("stripe-sandbox-modal")).toHaveCount(0);

  // The same browser keeps its accounts across a reload.
  await page.reload();
  await expect(page.getByTestId("account")).toHaveCount(2);
});

test("the button cannot launch two flows at once", async ({ page }) => {
  await openLinkPage(page);
  const button = page.getByTestId("link-button");
  await button.click();
  await expect(modal(page).getByTestId("consent-agree")).toBeVisible();
  await expect(button).toBeDisabled();
  await button.click({ force: true }).catch(() => {});
  await expect(page.locator('[data-testid="stripe-sandbox-modal"]')).toHaveCount(1);
});

test("closing the modal is a cancel, and trying again works", async ({ page }) => {
  await openLinkPage(page);
  await page.getByTestId("link-button").click();
  await modal(page).getByRole("button", { name: "Close" }).click();
  await expect(page.getByTestId("status-cancelled")).toContainText("No account was linked");
  await expect(page.getByTestId("link-button")).toBeEnabled();
  await expect(page.getByTestId("link-button")).toHaveText("Try again");

  await linkAccounts(page);
  await expect(page.getByTestId("status-linked")).toHaveText("Linked 1 account.");
});

test("Escape closes the modal like a cancel", async ({ page }) => {
  await openLinkPage(page);
  await page.getByTestId("link-button").click();
  await expect(modal(page).getByTestId("consent-agree")).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(page.getByTestId("status-cancelled")).toBeVisible();
});

test("an invalid client secret shows Stripe's error, and retry makes a fresh session", async ({ page }) => {
  await openLinkPage(page);
  await swapClientSecret(page, "fcsess_bogus_secret_nothing");
  await page.getByTestId("link-button").click();
  await expect(page.getByTestId("status-error")).toContainText("client secret is invalid");
  await expect(page.getByTestId("error-code")).toHaveText("resource_missing");

  await page.unroute("**/api/start_link");
  await linkAccounts(page);
  await expect(page.getByTestId("status-linked")).toBeVisible();
});

test("an already-used client secret is refused", async ({ page }) => {
  await openLinkPage(page);
  let used = "";
  page.on("response", async (r) => {
    if (r.url().endsWith("/api/start_link") && !used) used = (await r.json()).client_secret;
  });
  await linkAccounts(page);
  await expect(page.getByTestId("status-linked")).toBeVisible();
  expect(used).toMatch(/^fcsess_.+_secret_/);

  await swapClientSecret(page, used);
  await page.getByTestId("link-button").click();
  await expect(page.getByTestId("error-code")).toHaveText("session_already_used");
});

test("Stripe.js failing to load gets a clear message", async ({ page }) => {
  await openLinkPage(page);
  await page.route("**/js/stripe.js", (route) => route.abort());
  await page.getByTestId("link-button").click();
  await expect(page.getByTestId("status-script-failed")).toContainText("Stripe.js could not be loaded");

  await page.unroute("**/js/stripe.js");
  await linkAccounts(page);
  await expect(page.getByTestId("status-linked")).toBeVisible();
});

test("another browser sees none of this browser's accounts", async ({ page, browser }) => {
  await openLinkPage(page);
  await linkAccounts(page);
  await expect(page.getByTestId("account")).toHaveCount(1);

  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await openLinkPage(otherPage);
  await expect(otherPage.getByTestId("no-accounts")).toBeVisible();
  await other.close();
});

test("closing the modal after linking keeps the linked accounts", async ({ page }) => {
  await openLinkPage(page);
  await page.getByTestId("link-button").click();
  const m = modal(page);
  await m.getByTestId("consent-agree").click();
  await m.locator('[data-institution="test_institution"]').click();
  await m.getByTestId("link-accounts").click();
  await expect(m.getByTestId("done")).toBeVisible();
  await m.getByRole("button", { name: "Close" }).click();
  await expect(page.getByTestId("status-linked")).toHaveText("Linked 1 account.");
  await expect(page.getByTestId("account")).toHaveCount(1);
});

test("a modal that cannot load ends with an error instead of locking the page", async ({ page }) => {
  await openLinkPage(page);
  await page.route("**/connect/modal", (route) => route.abort());
  await page.getByTestId("link-button").click();
  await expect(page.getByTestId("error-code")).toHaveText("api_connection_error", { timeout: 25_000 });
  await expect(page.locator('[data-stripe-sandbox="overlay"]')).toHaveCount(0);
  await expect(page.getByTestId("link-button")).toBeEnabled();
});

test("an account linked in a tab that closed before confirming is on the accounts page", async ({ page, context }) => {
  await openLinkPage(page);
  // The tab goes away right after Stripe's modal: the app's confirmation never reaches the server.
  await page.route("**/api/confirm_link", (route) => route.abort());
  await linkAccounts(page);
  await page.close();

  // The account is linked (and billable) at Stripe; the app finds it (its webhook, or Stripe's list).
  const later = await context.newPage();
  await expect(async () => {
    await later.goto("/accounts");
    await expect(later.getByTestId("account-link")).toHaveCount(1, { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  await expect(later.getByTestId("account-link")).toHaveText("Success");
});
