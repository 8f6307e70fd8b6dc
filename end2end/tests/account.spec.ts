import { expect, test } from "@playwright/test";
import { linkAccounts, openFirstAccount, openLinkPage, withoutPrefetch } from "./fixtures";

test("an account page refreshes its balance and can be disconnected", async ({ page }) => {
  await openLinkPage(page);
  await withoutPrefetch(page);
  await linkAccounts(page);
  await openFirstAccount(page);
  await expect(page).toHaveURL(/\/accounts\/fca_/);
  await expect(page.getByTestId("account-name")).toHaveText("Success");
  await expect(page.getByTestId("no-balance")).toBeVisible();
  await expect(page.getByTestId("refresh-note-balance")).toHaveText("Never refreshed.");

  await page.getByTestId("refresh-balance").click();
  await expect(page.getByTestId("refresh-balance")).toHaveText("Refreshing…");
  await expect(page.getByTestId("refresh-balance")).toBeDisabled();
  // Settles without a reload, pushed by the server (SSE) well before the 10 s fallback poll.
  await expect(page.getByTestId("balance-current")).toHaveText(/^\$[\d,]+\.\d\d$/, { timeout: 5_000 });
  await expect(page.getByTestId("balance-available")).toContainText("Available: $");
  await expect(page.getByTestId("refresh-note-balance")).toContainText("Next refresh available from");

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

test("a tab follows live updates on one stream, across pages", async ({ page }) => {
  const streams: string[] = [];
  page.on("request", (r) => {
    if (new URL(r.url()).pathname === "/events") streams.push(r.url());
  });
  await openLinkPage(page);
  await withoutPrefetch(page);
  await linkAccounts(page);
  // From the dashboard on, the router moves between pages in place: the
  // dashboard's stream carries on into the account page (its account and its
  // payments follow the same one). The link page, hydrated without the
  // router, links to the others with ordinary page loads.
  streams.length = 0;
  await page.goto("/accounts");
  await page.waitForFunction(() => (window as any).__hydrated === true);
  await openFirstAccount(page);
  await expect(page.getByTestId("account-name")).toHaveText("Success");
  await page.getByTestId("refresh-balance").click();
  await expect(page.getByTestId("balance-current")).toHaveText(/^\$[\d,]+\.\d\d$/, { timeout: 5_000 });
  expect(streams).toHaveLength(1);

  // Loaded directly, the account page opens one stream, and it works.
  streams.length = 0;
  await page.reload();
  await page.waitForFunction(() => (window as any).__hydrated === true);
  await page.getByTestId("refresh-ownership").click();
  await expect(page.getByTestId("owner").first()).toBeVisible({ timeout: 5_000 });
  expect(streams).toHaveLength(1);
});

test("dismissing the confirmation keeps the account connected", async ({ page }) => {
  await openLinkPage(page);
  await linkAccounts(page);
  await openFirstAccount(page);
  page.once("dialog", (d) => d.dismiss());
  await page.getByTestId("disconnect").click();
  await expect(page.getByTestId("account-status")).toHaveText("Active");
});

test("someone else's account page shows nothing of it", async ({ page, browser }) => {
  await openLinkPage(page);
  await linkAccounts(page);
  await openFirstAccount(page);
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

test("ownership shows the owners and whether they match the name given", async ({ page }) => {
  await openLinkPage(page);
  await page.getByLabel(/^Name/).fill("Jenny Rosen");
  await withoutPrefetch(page);
  await linkAccounts(page);
  await openFirstAccount(page);
  await expect(page.getByTestId("no-owners")).toBeVisible();
  await page.getByTestId("refresh-ownership").click();
  await expect(page.getByTestId("owner")).toHaveCount(1, { timeout: 5_000 });
  await expect(page.getByTestId("owners")).toContainText("Jenny Rosen");
  await expect(page.getByTestId("owners")).toContainText("+1 555-555-5555");
  await expect(page.getByTestId("name-match")).toHaveText("✓ An owner matches the name you gave.");
});

test("an owner who is not the person linking is flagged", async ({ page }) => {
  await openLinkPage(page);
  await page.getByLabel(/^Name/).fill("Jenny Rosen");
  await withoutPrefetch(page);
  await page.getByTestId("link-button").click();
  const m = page.frameLocator('[data-testid="stripe-sandbox-modal"]');
  await m.getByTestId("consent-agree").click();
  await m.locator('[data-institution="ownership_accounts"]').click();
  await m.getByTestId("account-owner_matches").uncheck();
  await m.getByTestId("account-owner_differs").check();
  await m.getByTestId("link-accounts").click();
  await m.getByTestId("done").click();
  await openFirstAccount(page);
  await page.getByTestId("refresh-ownership").click();
  await expect(page.getByTestId("owners")).toContainText("Jane Smith");
  await expect(page.getByTestId("name-match")).toHaveText("✗ No owner matches the name you gave.");
});

test("the accounts page totals the cash balances it knows", async ({ page }) => {
  await openLinkPage(page);
  await page.getByText("More options").click();
  await page.getByTestId("prefetch-balance").check();
  await linkAccounts(page, ["savings"]);
  await expect(page.getByTestId("status-linked")).toHaveText("Linked 2 accounts.");

  // Prefetched balances reach the app by webhook; the page shows them on load.
  await expect(async () => {
    await page.goto("/accounts");
    await expect(page.getByTestId("account-balance")).toHaveCount(2, { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  const amounts = await page.getByTestId("account-balance").allTextContents();
  const cents = amounts.map((a) => Math.round(Number(a.replace(/[$,]/g, "")) * 100));
  const total = (cents[0] + cents[1]) / 100;
  const expected = "$" + total.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  await expect(page.getByTestId("total-cash")).toContainText(expected);
  await expect(page.getByTestId("balances-unknown")).toHaveCount(0);

  await openFirstAccount(page);
  await expect(page.getByTestId("balance-current")).toHaveText(amounts[0]);
});
