import { expect, test, type Page } from "@playwright/test";
import { modal, openLinkPage, startBankTokenFlow } from "./fixtures";

// The sandbox's Stripe.js stand-in and modal, as a person uses them.

async function toInstitutions(page: Page) {
  await page.getByTestId("link-button").click();
  await modal(page).getByTestId("consent-agree").click();
}

test("search narrows the institutions", async ({ page }) => {
  await openLinkPage(page);
  await toInstitutions(page);
  const m = modal(page);
  await expect(m.getByTestId("institution")).toHaveCount(7);
  await m.getByTestId("institution-search").fill("down");
  await expect(m.getByTestId("institution")).toHaveCount(3);
  await m.getByTestId("institution-search").fill("zzz");
  await expect(m.getByTestId("no-institution")).toBeVisible();
});

test("an OAuth institution signs in through a popup window", async ({ page }) => {
  await openLinkPage(page);
  await toInstitutions(page);
  const m = modal(page);
  const popupOpened = page.waitForEvent("popup");
  await m.locator('[data-institution="test_oauth_institution"]').click();
  const popup = await popupOpened;
  await expect(m.getByTestId("oauth-waiting")).toBeVisible();
  await Promise.all([popup.waitForEvent("close"), popup.getByTestId("oauth-approve").click()]);
  await expect(m.getByTestId("account-success")).toBeChecked();
  await m.getByTestId("link-accounts").click();
  await m.getByTestId("done").click();
  await expect(page.getByTestId("status-linked")).toHaveText("Linked 1 account.");
  await expect(page.getByTestId("account-list")).toContainText("Test OAuth Institution");
});

test("a down bank ends the flow with its error code", async ({ page }) => {
  await openLinkPage(page);
  await toInstitutions(page);
  const m = modal(page);
  await m.locator('[data-institution="down_bank_unscheduled"]').click();
  await expect(m.getByTestId("institution-down")).toContainText("unavailable");
  await m.getByTestId("give-up").click();
  await expect(page.getByTestId("error-code")).toHaveText("institution_down_unscheduled");
  await expect(page.getByTestId("link-button")).toHaveText("Try again");
});

test("collectBankAccountToken resolves with a bank account token", async ({ page }) => {
  await openLinkPage(page);
  await startBankTokenFlow(page);
  const m = modal(page);
  await m.getByTestId("consent-agree").click();
  await m.locator('[data-institution="test_institution"]').click();
  await expect(m.getByTestId("account-credit_card")).toBeDisabled(); // no ACH: not for payouts
  await m.getByTestId("account-savings").check();
  await expect(m.getByTestId("account-success")).not.toBeChecked(); // one account only
  await m.getByTestId("link-accounts").click();
  await m.getByTestId("done").click();
  const result = await page.evaluate(() => (window as any).__token);
  expect(result.error).toBeUndefined();
  expect(result.token.id).toMatch(/^btok_/);
  expect(result.token.bank_account.last4).toBe("4321");
  expect(result.token.bank_account.routing_number).toBe("110000000");
  expect(result.financialConnectionsSession.accounts).toHaveLength(1);
});

test("cancelling collectBankAccountToken gives neither token nor error", async ({ page }) => {
  await openLinkPage(page);
  await startBankTokenFlow(page);
  await modal(page).getByRole("button", { name: "Close" }).click();
  const result = await page.evaluate(() => (window as any).__token);
  expect(result.token).toBeUndefined();
  expect(result.error).toBeUndefined();
  expect(result.financialConnectionsSession.accounts).toEqual([]);
});

test.describe("on a phone", () => {
  test.use({ viewport: { width: 375, height: 667 } });

  test("the modal fits the screen and keeps keyboard focus inside", async ({ page }) => {
    await openLinkPage(page);
    await page.getByTestId("link-button").click();
    const frame = page.locator('[data-testid="stripe-sandbox-modal"]');
    const m = modal(page);
    await expect(m.getByTestId("consent-agree")).toBeFocused();
    const box = await frame.boundingBox();
    expect(box!.width).toBeLessThanOrEqual(375);
    expect(box!.height).toBeLessThanOrEqual(667);
    for (let i = 0; i < 5; i++) {
      await page.keyboard.press("Tab");
      const inside = await m.locator(":focus").count();
      expect(inside, `focus left the modal after ${i + 1} Tab presses`).toBe(1);
    }
    await page.keyboard.press("Enter"); // activates the focused control (close or agree)
    await page.keyboard.press("Escape");
    await expect(page.getByTestId("stripe-sandbox-modal")).toHaveCount(0);
  });
});

test("Ownership Accounts and Invalid Payment Accounts link like any bank", async ({ page }) => {
  await openLinkPage(page);
  await toInstitutions(page);
  let m = modal(page);
  await m.getByTestId("institution-search").fill("ownership");
  await m.locator('[data-institution="ownership_accounts"]').click();
  await expect(m.getByTestId("account-owner_matches")).toBeChecked();
  await m.getByTestId("account-owner_differs").check();
  await m.getByTestId("account-owner_missing").check();
  await m.getByTestId("link-accounts").click();
  await m.getByTestId("done").click();
  await expect(page.getByTestId("status-linked")).toHaveText("Linked 3 accounts.");

  await toInstitutions(page);
  m = modal(page);
  await m.locator('[data-institution="invalid_payment_accounts"]').click();
  await m.getByTestId("link-accounts").click();
  await m.getByTestId("done").click();
  await expect(page.getByTestId("status-linked")).toHaveText("Linked 1 account.");
  await expect(page.getByTestId("account-list")).toContainText("Checking (no ACH)");
  await expect(page.getByTestId("account")).toHaveCount(4);
});
