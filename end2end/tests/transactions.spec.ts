import { expect, test, type Page } from "@playwright/test";
import { linkAccounts, openFirstAccount, openLinkPage, withoutPrefetch } from "./fixtures";

/** Links an account, opens its page and turns on daily updates; waits for the first sync. */
async function accountWithTransactions(page: Page) {
  await openLinkPage(page);
  await withoutPrefetch(page);
  await linkAccounts(page);
  await openFirstAccount(page);
  await expect(page).toHaveURL(/\/accounts\/fca_/);
  await page.waitForFunction(() => (window as any).__hydrated === true);
  await expect(page.getByTestId("no-transactions")).toBeVisible();
  await expect(page.getByTestId("subscription-state")).toHaveText("Daily updates are off.");

  await page.getByTestId("subscription-toggle").click();
  await expect(page.getByTestId("subscription-state")).toContainText("Daily updates are on");
  // Subscribing starts a refresh; the webhook that says it settled reaches
  // the open page by server-sent events, and the list appears without a reload.
  await expect(page.getByTestId("txn-row")).toHaveCount(20, { timeout: 5_000 });
  await expect(page.getByTestId("refresh-note-transactions")).toContainText("Refreshed at");
}

test("subscribing fills the list and chart, which page and filter", async ({ page }) => {
  await accountWithTransactions(page);
  await expect(page.getByTestId("flow-chart")).toBeVisible();
  await expect(page.getByTestId("flow-chart").locator("rect.bar.out").first()).toBeAttached();
  await expect(page.getByTestId("flow-out")).toHaveText(/^-\$[\d,]+\.\d\d$/);
  await expect(page.getByTestId("txn-amount").first()).toHaveText(/^-?\$[\d,]+\.\d\d$/);
  const pageLine = page.getByTestId("txn-page");
  await expect(pageLine).toHaveText(/^Page 1 of \d+$/);
  const pages = Number((await pageLine.textContent())!.match(/of (\d+)/)![1]);
  expect(pages).toBeGreaterThan(3);

  // Paging: older transactions, newest first throughout.
  const firstOnPage1 = await page.getByTestId("txn-row").first().textContent();
  await page.getByTestId("txn-next").click();
  await expect(page).toHaveURL(/page=2/);
  await expect(pageLine).toHaveText(`Page 2 of ${pages}`);
  await expect(page.getByTestId("txn-row").first()).not.toHaveText(firstOnPage1!);
  await page.getByTestId("txn-prev").click();
  await expect(pageLine).toHaveText(`Page 1 of ${pages}`);
  await expect(page.getByTestId("txn-row").first()).toHaveText(firstOnPage1!);

  // Status filter.
  await page.getByTestId("txn-status").selectOption("pending");
  await page.getByTestId("txn-apply").click();
  await expect(page).toHaveURL(/status=pending/);
  await expect(pageLine).toHaveText("Page 1 of 1");
  const statuses = await page.getByTestId("txn-row").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-status")));
  expect(statuses.length).toBeGreaterThan(0);
  expect(new Set(statuses)).toEqual(new Set(["pending"]));

  // Date range: one day, both ends included.
  await page.getByTestId("txn-clear").click();
  await expect(pageLine).toHaveText(`Page 1 of ${pages}`);
  const day = (await page.locator('[data-testid="txn-row"] .date').nth(5).textContent())!;
  await page.getByTestId("txn-from").fill(day);
  await page.getByTestId("txn-to").fill(day);
  await page.getByTestId("txn-apply").click();
  await expect(page).toHaveURL(new RegExp(`from=${day}&to=${day}`));
  await expect(page.getByTestId("txn-count")).toContainText("matching");
  const dates = await page.locator('[data-testid="txn-row"] .date').allTextContents();
  expect(dates.length).toBeGreaterThan(0);
  expect(new Set(dates)).toEqual(new Set([day]));

  // A reload renders the same filtered view from the stored copy.
  await page.reload();
  await expect(page.getByTestId("txn-from")).toHaveValue(day);
  await expect(page.locator('[data-testid="txn-row"] .date')).toHaveText(dates);

  // An impossible range is refused with the field's message, and nothing is lost.
  await page.goto(page.url().replace(`to=${day}`, "to=2000-01-01"));
  await expect(page.getByTestId("txn-error")).toContainText("The end date is before the start date.");
  await page.getByTestId("txn-clear").click();
  await expect(pageLine).toHaveText(`Page 1 of ${pages}`);

  // Past the last page: it says so and links back to the last one.
  await page.goto(page.url().split("?")[0] + "?page=999");
  await expect(pageLine).toHaveText(`Past page ${pages}`);
  await page.getByTestId("txn-prev").click();
  await expect(pageLine).toHaveText(`Page ${pages} of ${pages}`);
  await expect(page.getByTestId("txn-row").first()).toBeVisible();
});

test("daily updates can be turned off again", async ({ page }) => {
  await accountWithTransactions(page);
  await page.getByTestId("subscription-toggle").click();
  await expect(page.getByTestId("subscription-state")).toHaveText("Daily updates are off.");
  await expect(page.getByTestId("txn-row")).toHaveCount(20); // what was fetched stays
  await page.reload();
  await expect(page.getByTestId("subscription-state")).toHaveText("Daily updates are off.");
});

test("an account linked without transactions says so", async ({ page }) => {
  await openLinkPage(page);
  await page.getByTestId("permission-transactions").uncheck();
  await linkAccounts(page);
  await openFirstAccount(page);
  await expect(page.getByTestId("transactions-not-shared")).toBeVisible();
  await expect(page.getByTestId("subscription-toggle")).toBeDisabled();
  await expect(page.getByTestId("refresh-transactions")).toBeDisabled();
});
