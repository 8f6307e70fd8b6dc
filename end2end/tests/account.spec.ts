import { expect, test } from "@playwright/test";
import { linkAccounts, openLinkPage } from "./fixtures";

test("an account page refreshes its balance and can be disconnected", async ({ page }) => {
  await openLinkPage(page);
  await linkAccounts(page);
  await page.getByTestId("account-link").first().click();
  await expect(page).toHaveURL(/\/accounts\/fca_/);
  await expect(page.getByTestId("account-name")).toHaveText("Success");
  await expect(page.getByTestId("no-balance")).toBeVisible();
  await expect(page.getByTestId("refresh-note")).toHaveText("Never refreshed.");

  await page.getByTestId("refresh-balance").click();
  await expect(page.getByTestId("refresh-balance")).toHaveText("Refreshing…");
  await expect(page.getByTestId("refresh-balance")).toBeDisabled();
  // Settles without a reload.
  await expect(page.getByTestId("balance-current")).toHaveText(/^\$[\d,]+\.\d\d$/);
  await expect(page.getByTestId("balance-available")).toContainText("Available: $");
  await expect(page.getByTestId("refresh-note")).toContainText("Next refresh available from");

  page.once("dialog", (d) => d.accept());
  await page.getByTestId("disconnect").click();
  await expect(page.getByTestId("account-status")).toHaveText("Disconnected");
  await expect(page.getByTestId("relink-needed")).toBeVisible();
  await expect(page.getByTestId("balance-current")).toBeVisible(); // the last data stays
  await expect(page.getByTestId("refresh-balance")).toBeDisabled();

  // A full page load of the same URL renders on the server with the same state.
  await page.reload();
  await expect(page.getByTestId("account-status")).toHaveText("Disconnected");
});

test("dismissing the confirmation keeps the account connected", async ({ page }) => {
  await openLinkPage(page);
  await linkAccounts(page);
  await page.getByTestId("account-link").first().click();
  page.once("dialog", (d) => d.dismiss());
  await page.getByTestId("disconnect").click();
  await expect(page.getByTestId("account-status")).toHaveText("Active");
});

test("someone else's account page shows nothing of it", async ({ page, browser }) => {
  await openLinkPage(page);
  await linkAccounts(page);
  await page.getByTestId("account-link").first().click();
  await expect(page.getByTestId("account-name")).toBeVisible();
  const url = page.url();

  const other = await browser.newContext();
  const stranger = await other.newPage();
  const response = await stranger.goto(url);
  await expect(stranger.getByTestId("account-missing")).toBeVisible();
  await expect(stranger.getByTestId("account-name")).toHaveCount(0);
  expect(await stranger.content()).not.toContain("6789");
  expect(response?.status()).toBeLessThan(500);
  await other.close();
});
