import { expect, test } from "@playwright/test";
import { linkAccounts, modal, openLinkPage, withoutPrefetch } from "./fixtures";

const hydrated = () => (window as any).__hydrated === true;

test("link → dashboard → each section's data → reload keeps it → others see nothing → disconnect → relink", async ({
  page,
  browser,
}) => {
  await openLinkPage(page);
  await page.getByLabel(/^Name/).fill("Jenny Rosen");
  await withoutPrefetch(page);
  await linkAccounts(page);
  await expect(page.getByTestId("status-linked")).toHaveText("Linked 1 account.");

  // Dashboard: the account as a card, then its page.
  await page.getByRole("navigation").getByRole("link", { name: "Accounts" }).click();
  await expect(page).toHaveURL(/\/accounts$/);
  await expect(page.getByTestId("account")).toHaveCount(1);
  await expect(page.getByTestId("account")).toContainText("•••• 6789");
  await page.getByTestId("account-link").click();
  await expect(page).toHaveURL(/\/accounts\/fca_/);
  const accountUrl = page.url();
  await page.waitForFunction(hydrated);

  // Balance: pending, then settled by a live update (no reload).
  await page.getByTestId("refresh-balance").click();
  await expect(page.getByTestId("refresh-balance")).toHaveText("Refreshing…");
  await expect(page.getByTestId("balance-current")).toHaveText(/^\$[\d,]+\.\d\d$/, { timeout: 5_000 });
  // Ownership: the owner matches the name given.
  await page.getByTestId("refresh-ownership").click();
  await expect(page.getByTestId("name-match")).toHaveText("✓ An owner matches the name you gave.", { timeout: 5_000 });
  // Transactions: daily updates on, the list arrives.
  await page.getByTestId("subscription-toggle").click();
  await expect(page.getByTestId("txn-row")).toHaveCount(20, { timeout: 5_000 });

  const balance = (await page.getByTestId("balance-current").textContent())!;
  const owners = (await page.getByTestId("owners").textContent())!;
  const rows = await page.getByTestId("txn-row").allTextContents();
  const count = (await page.getByTestId("txn-count").textContent())!;

  // A reload renders all of it again from what the app stored.
  await page.reload();
  await expect(page.getByTestId("balance-current")).toHaveText(balance);
  await expect(page.getByTestId("owners")).toHaveText(owners);
  await expect(page.getByTestId("subscription-state")).toContainText("Daily updates are on");
  await expect(page.getByTestId("txn-count")).toHaveText(count);
  await expect(page.getByTestId("txn-row")).toHaveText(rows);
  await page.goto("/accounts");
  await expect(page.getByTestId("account-balance")).toHaveText(balance);

  // Another browser (another user) sees none of it.
  const other = await browser.newContext();
  const stranger = await other.newPage();
  await stranger.goto("/accounts");
  await expect(stranger.getByTestId("no-accounts")).toBeVisible();
  expect(await stranger.content()).not.toContain("6789");
  await other.close();

  // Disconnect: the last data stays, with a relink-needed state.
  await page.goto(accountUrl);
  await page.waitForFunction(hydrated);
  page.once("dialog", (d) => d.accept());
  await page.getByTestId("disconnect").click();
  await expect(page.getByTestId("account-status")).toHaveText("Disconnected");
  await expect(page.getByTestId("relink-needed")).toContainText("Relink needed");
  await expect(page.getByTestId("balance-current")).toHaveText(balance);
  await expect(page.getByTestId("txn-row")).toHaveText(rows);
  await expect(page.getByTestId("subscription-toggle")).toBeDisabled();

  // Relink: a new session in the modal, then the new account's page.
  await page.getByTestId("relink").click();
  const m = modal(page);
  await m.getByTestId("consent-agree").click();
  await m.locator('[data-institution="test_institution"]').click();
  await m.getByTestId("link-accounts").click();
  await m.getByTestId("done").click();
  await expect(page).toHaveURL(/\/accounts\/fca_/);
  await expect(page).not.toHaveURL(accountUrl);
  await expect(page.getByTestId("account-status")).toHaveText("Active");
  await page.goto("/accounts");
  await expect(page.getByTestId("account")).toHaveCount(2);
});
