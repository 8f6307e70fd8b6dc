import { expect, test } from "@playwright/test";
import { readFileSync } from "node:fs";
import { callServerFn, linkAccounts, openFirstAccount, openLinkPage, withoutPrefetch } from "./fixtures";

const hydrated = () => (window as any).__hydrated === true;

test("linking fetches the data right away: an open dashboard shows the balance live", async ({ page, context }) => {
  // The dashboard is open in another tab before anything is linked.
  const dashboard = await context.newPage();
  await dashboard.goto("/accounts");
  await dashboard.waitForFunction(hydrated);
  await expect(dashboard.getByTestId("no-accounts")).toBeVisible();

  await openLinkPage(page);
  await page.getByText("More options").click();
  for (const f of ["balance", "ownership", "transactions"]) {
    await expect(page.getByTestId(`prefetch-${f}`)).toBeChecked(); // the default
  }
  await linkAccounts(page);
  await expect(page.getByTestId("status-linked")).toHaveText("Linked 1 account.");

  // Without a reload: the account, its balance and each refresh settled.
  await expect(dashboard.getByTestId("account-balance")).toHaveText(/^\$[\d,]+\.\d\d$/);
  for (const f of ["balance", "ownership", "transactions"]) {
    await expect(dashboard.getByTestId(`sync-${f}`)).toHaveAttribute("data-state", "succeeded");
  }
  await expect(dashboard.getByTestId("last-synced")).toHaveText(/^Last synced \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
  await expect(dashboard.getByTestId("balances-unknown")).toHaveCount(0);
  await expect(dashboard.getByTestId("total-cash")).toContainText("$");
  // The link page's own list too.
  await expect(page.getByTestId("account-balance")).toHaveText(/^\$/);

  // Transactions were fetched and daily updates are on.
  await openFirstAccount(page);
  await expect(page.getByTestId("subscription-state")).toContainText("Daily updates are on");
  await expect(page.getByTestId("txn-row")).toHaveCount(20);
  await expect(page.getByTestId("owner")).toHaveCount(1);
});

test("Refresh all starts each refresh allowed now, and the list shows pending → done", async ({ page }) => {
  await openLinkPage(page);
  await withoutPrefetch(page);
  await linkAccounts(page, ["savings"]);
  await expect(page.getByTestId("status-linked")).toHaveText("Linked 2 accounts.");
  await page.goto("/accounts");
  await page.waitForFunction(hydrated);
  await expect(page.getByTestId("balances-unknown")).toHaveText("2 accounts have no balance yet.");
  await expect(page.getByTestId("last-synced")).toHaveText(["Not synced yet", "Not synced yet"]);
  await expect(page.getByTestId("sync-balance").first()).toHaveAttribute("data-state", "never");

  await page.getByTestId("refresh-all").click();
  await expect(page.getByTestId("refresh-all-result")).toHaveText("Refreshing 2 accounts. This list updates as each finishes.");
  for (const f of ["balance", "ownership", "transactions"]) {
    await expect(page.getByTestId(`sync-${f}`)).toHaveCount(2);
    for (const s of await page.getByTestId(`sync-${f}`).all()) await expect(s).toHaveAttribute("data-state", "succeeded");
  }
  await expect(page.getByTestId("account-balance")).toHaveCount(2);
  await expect(page.getByTestId("balances-unknown")).toHaveCount(0);
  await expect(page.getByTestId("last-synced").first()).toHaveText(/^Last synced /);

  // Within the cooldown there is nothing to start.
  await page.getByTestId("refresh-all").click();
  await expect(page.getByTestId("refresh-all-result")).toHaveText(
    "Nothing to refresh right now: each account is up to date or waiting for its next refresh.",
  );
});

test("transactions: search the description, export the filtered list as CSV", async ({ page }) => {
  await openLinkPage(page);
  await linkAccounts(page);
  await openFirstAccount(page);
  await expect(page.getByTestId("txn-row")).toHaveCount(20);

  await page.getByTestId("txn-search").fill("METRO");
  await page.getByTestId("txn-apply").click();
  await expect(page).toHaveURL(/[?&]q=METRO/);
  await expect(page.getByTestId("txn-count")).toContainText("matching");
  for (const row of await page.getByTestId("txn-row").all()) await expect(row).toContainText("Metro Transit");
  const matching = Number((await page.getByTestId("txn-count").textContent())!.match(/of (\d+) matching/)![1]);
  expect(matching).toBeGreaterThan(20);

  // The export: the same filter, every page, downloaded by the browser.
  await expect(page.getByTestId("txn-export")).toHaveAttribute("href", /^\/api\/transactions\.csv\?id=fca_\w+&q=METRO$/);
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("txn-export").click()]);
  expect(download.suggestedFilename()).toMatch(/^transactions-fca_\w+\.csv$/);
  const lines = readFileSync((await download.path())!, "utf8").trim().split("\r\n");
  expect(lines[0]).toBe("date,description,status,amount,currency,id");
  expect(lines.length - 1).toBe(matching);
  for (const l of lines.slice(1)) expect(l).toMatch(/^\d{4}-\d\d-\d\d,Metro Transit,(pending|posted|void),-2\.75,USD,fctxn_\w+$/);

  // Nothing matches: said so, and the export has just the header.
  await page.getByTestId("txn-search").fill("no such shop");
  await page.getByTestId("txn-apply").click();
  await expect(page.getByTestId("txn-count")).toHaveText("No transactions match these filters.");
});

test("a live update changes only what changed: focus, typing and elements stay", async ({ page }) => {
  await openLinkPage(page);
  await withoutPrefetch(page);
  await linkAccounts(page);
  const id = await openFirstAccount(page);
  await expect(page.getByTestId("no-balance")).toBeVisible();
  await page.getByTestId("subscription-toggle").click();
  await expect(page.getByTestId("txn-row")).toHaveCount(20);

  // Someone is typing a search when the update arrives.
  const search = page.getByTestId("txn-search");
  await search.click();
  await search.pressSequentially("rent");
  for (const testid of ["account-card", "balance-card", "ownership-card", "transactions-card", "txn-table", "txn-search"]) {
    await page.getByTestId(testid).evaluate((el) => ((el as any).__kept = true));
  }

  // A refresh started elsewhere (another tab, a script): this page hears of
  // it only through the live update when it settles.
  const { status } = await callServerFn(page, "refresh_account", `id=${id}&feature=balance`);
  expect(status).toBe(200);
  await expect(page.getByTestId("balance-current")).toHaveText(/^\$[\d,]+\.\d\d$/);
  await expect(page.getByTestId("refresh-note-balance")).toContainText("Next refresh available from");

  // The same elements, still focused, with what was typed; nothing jumped.
  for (const testid of ["account-card", "balance-card", "ownership-card", "transactions-card", "txn-table", "txn-search"]) {
    expect(await page.getByTestId(testid).evaluate((el) => (el as any).__kept === true), testid).toBe(true);
  }
  await expect(search).toBeFocused();
  await expect(search).toHaveValue("rent");
});

test.describe("on a phone", () => {
  test.use({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });

  test("lists show the status column too", async ({ page }) => {
    await openLinkPage(page);
    await linkAccounts(page);
    await openFirstAccount(page);
    await expect(page.getByTestId("txn-row")).toHaveCount(20);
    const header = page.getByTestId("txn-table").locator("th").nth(2);
    await expect(header).toHaveText("Status");
    await expect(header).toBeVisible();
    for (const row of await page.getByTestId("txn-row").all()) {
      await expect(row.locator("td").nth(2).locator(".badge")).toBeVisible();
    }
    // The table fits the phone: no sideways scrolling.
    const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    expect(fits).toBe(true);

    await page.goto("/accounts");
    await expect(page.getByTestId("account-status")).toBeVisible();
    await expect(page.getByTestId("last-synced")).toBeVisible();
  });
});
