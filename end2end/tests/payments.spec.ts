import { expect, test, type Page } from "@playwright/test";
import { callServerFn, linkAccounts, modal, openLinkPage } from "./fixtures";

/** The id of the linked account whose display name is `name`. */
async function accountId(page: Page, name: string): Promise<string> {
  const { json: accounts } = await callServerFn(page, "linked_accounts");
  const found = accounts.find((a: any) => a.display_name === name);
  expect(found, `a linked account named ${name}`).toBeTruthy();
  return found.id;
}

async function openAccount(page: Page, id: string) {
  await page.goto(`/accounts/${id}`);
  await page.waitForFunction(() => (window as any).__hydrated === true);
  await expect(page.getByTestId("pay-card")).toBeVisible();
}

async function fillPay(page: Page, amount: string, description: string) {
  await page.getByTestId("pay-amount").fill(amount);
  await page.getByTestId("pay-description").fill(description);
  await page.getByTestId("pay-name").fill("Jenny Rosen");
}

test("pay from a linked account: the mandate, then processing, then succeeded live", async ({ page }) => {
  await openLinkPage(page);
  await linkAccounts(page);
  await expect(page.getByTestId("status-linked")).toBeVisible();
  await openAccount(page, await accountId(page, "Success"));

  // The Nacha authorisation names the business and the account's last4.
  const mandate = page.getByTestId("mandate-text");
  await expect(mandate).toContainText("you authorize Bank Link to debit the bank account ending in");
  await expect(mandate).toContainText(/ending in \d{4}/);
  await fillPay(page, "12.50", "Invoice 42");
  // Pay needs "I agree".
  await expect(page.getByTestId("pay-submit")).toBeDisabled();
  await page.getByTestId("pay-agree").check();
  await expect(page.getByTestId("pay-submit")).toBeEnabled();
  await page.getByTestId("pay-submit").click();

  await expect(page.getByTestId("pay-result")).toContainText("Payment of $12.50 submitted: processing.");
  const row = page.getByTestId("payment").first();
  await expect(row.getByTestId("payment-amount")).toHaveText("$12.50");
  await expect(row.getByTestId("payment-description")).toHaveText("Invoice 42");
  await expect(row).toHaveAttribute("data-state", "processing");
  // A processing ACH debit cannot be canceled.
  await expect(row.getByTestId("payment-cancel")).toHaveCount(0);
  // Settled by the sandbox's webhook, pushed to the open page: no reload.
  await expect(row).toHaveAttribute("data-state", "succeeded", { timeout: 20_000 });
  await expect(row.getByTestId("payment-status")).toHaveText("Succeeded");

  // The payments page lists it too, and the nav leads there.
  await page.getByTestId("nav-payments").click();
  await expect(page).toHaveURL(/\/payments$/);
  await expect(page.getByTestId("payment").first()).toHaveAttribute("data-state", "succeeded");
});

test("the Insufficient Funds account fails with the bank's reason", async ({ page }) => {
  await openLinkPage(page);
  await linkAccounts(page, ["insufficient_funds"]);
  await expect(page.getByTestId("status-linked")).toBeVisible();
  await openAccount(page, await accountId(page, "Insufficient Funds"));
  await fillPay(page, "100", "Rent");
  await page.getByTestId("pay-agree").check();
  await page.getByTestId("pay-submit").click();
  const row = page.getByTestId("payment").first();
  await expect(row).toHaveAttribute("data-state", "failed", { timeout: 20_000 });
  await expect(row.getByTestId("payment-failure")).toContainText("insufficient funds");
  await expect(row.getByTestId("payment-failure-code")).toHaveText("insufficient_funds");
});

test("an account linked without account numbers offers no Pay", async ({ page }) => {
  await openLinkPage(page);
  await page.getByTestId("permission-payment_method").uncheck();
  await linkAccounts(page);
  await expect(page.getByTestId("status-linked")).toBeVisible();
  await openAccount(page, await accountId(page, "Success"));
  await expect(page.getByTestId("pay-unavailable")).toBeVisible();
  await expect(page.getByTestId("pay-form")).toHaveCount(0);
});

test("pay by bank without linking first; closing the bank window pays nothing", async ({ page }) => {
  await page.goto("/payments/new");
  await page.waitForFunction(() => (window as any).__hydrated === true);
  await expect(page.getByTestId("mandate-text")).toContainText("you authorize Bank Link to debit the bank account you choose");

  // Cancel: the modal closed before choosing an account.
  await fillPay(page, "7", "Order 7");
  await page.getByTestId("pay-agree").check();
  await page.getByTestId("pay-by-bank-submit").click();
  await modal(page).getByRole("button", { name: "Close" }).click();
  await expect(page.getByTestId("pay-cancelled")).toContainText("nothing was paid");

  // Then through: the modal collects an account, the page confirms.
  await fillPay(page, "42", "Order 8");
  await page.getByTestId("pay-agree").check();
  await page.getByTestId("pay-by-bank-submit").click();
  const m = modal(page);
  await m.getByTestId("consent-agree").click();
  await m.locator('[data-institution="test_institution"]').click();
  await m.getByTestId("link-accounts").click();
  await m.getByTestId("done").click();
  await expect(page.getByTestId("pay-result")).toContainText("Payment of $42.00", { timeout: 20_000 });
  await expect(page.getByTestId("pay-result")).toHaveAttribute("data-state", /processing|succeeded/);

  await page.goto("/payments");
  const rows = page.getByTestId("payment");
  await expect(rows.filter({ hasText: "Order 8" })).toHaveAttribute("data-state", "succeeded", { timeout: 20_000 });
  // The cancelled attempt is listed as it stands at Stripe, and can be canceled.
  const cancelled = rows.filter({ hasText: "Order 7" });
  await expect(cancelled).toHaveAttribute("data-state", "requires_payment_method");
  await cancelled.getByTestId("payment-cancel").click();
  await expect(cancelled).toHaveAttribute("data-state", "canceled");
});
