import { expect, test } from "@playwright/test";
import { modal, openFirstAccount, openLinkPage } from "./fixtures";

test("nothing to share is refused before any session is made", async ({ page }) => {
  await openLinkPage(page);
  for (const p of ["balances", "ownership", "payment_method", "transactions"]) {
    await page.getByTestId(`permission-${p}`).uncheck();
  }
  let calls = 0;
  page.on("request", (r) => r.url().includes("/api/start_link") && calls++);
  await page.getByTestId("link-button").click();
  await expect(page.getByTestId("status-error")).toContainText("Choose at least one kind of data to share.");
  expect(calls).toBe(0);
});

test("the chosen data and account types shape the session", async ({ page }) => {
  await openLinkPage(page);
  await page.getByTestId("permission-ownership").uncheck();
  await page.getByTestId("permission-transactions").uncheck();
  await page.getByText("More options").click();
  await page.getByTestId("type-savings").check();
  await page.getByTestId("prefetch-balance").check();
  await expect(page.getByTestId("prefetch-ownership")).toBeDisabled();

  await page.getByTestId("link-button").click();
  const m = modal(page);
  await expect(m.getByText("Balances")).toBeVisible(); // the consent lists what was chosen
  await expect(m.getByText("Account ownership details")).toHaveCount(0);
  await m.getByTestId("consent-agree").click();
  await m.locator('[data-institution="test_institution"]').click();
  await expect(m.getByTestId("account-savings")).toBeVisible();
  await expect(m.getByTestId("account-success")).toHaveCount(0); // checking filtered out
  await m.getByTestId("account-savings").check();
  await m.getByTestId("link-accounts").click();
  await m.getByTestId("done").click();
  await expect(page.getByTestId("status-linked")).toBeVisible();

  await openFirstAccount(page);
  await expect(page.getByTestId("account-name")).toHaveText("Savings");
  // Prefetched at link time: the balance arrives without pressing Refresh.
  await expect(page.getByTestId("balance-current")).toHaveText(/^\$[\d,]+\.\d\d$/);
  await expect(page.getByTestId("refresh-note-ownership")).toHaveText("Not shared for this account.");
  await expect(page.getByTestId("refresh-ownership")).toBeDisabled();
});

test("collect bank token shows the token for payouts", async ({ page }) => {
  await openLinkPage(page);
  await page.getByTestId("token-button").click();
  const m = modal(page);
  await m.getByTestId("consent-agree").click();
  await m.locator('[data-institution="test_institution"]').click();
  await expect(m.getByTestId("account-success")).toBeChecked();
  await m.getByTestId("link-accounts").click();
  await m.getByTestId("done").click();
  await expect(page.getByTestId("token-id")).toHaveText(/^btok_/);
  await expect(page.getByTestId("bank-token")).toContainText("110000000");
  await expect(page.getByTestId("bank-token")).toContainText("•••• 6789");
});

test("closing the bank token window is a cancel", async ({ page }) => {
  await openLinkPage(page);
  await page.getByTestId("token-button").click();
  await modal(page).getByRole("button", { name: "Close" }).click();
  await expect(page.getByTestId("status-cancelled")).toBeVisible();
  await expect(page.getByTestId("bank-token")).toHaveCount(0);
  await expect(page.getByTestId("token-button")).toBeEnabled();
});
