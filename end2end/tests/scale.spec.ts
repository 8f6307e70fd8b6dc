import { expect, test } from "@playwright/test";
import { sandboxPort, scaleA, scaleB, scaleDatabase, scaleKey } from "../playwright.config";
import { linkAccounts, openFirstAccount, withoutPrefetch } from "./fixtures";

// Two app instances on one PostgreSQL, as behind a load balancer: both in
// Stripe mode against the standalone sandbox, whose webhooks reach instance B
// only (scale-server.mjs registers B's endpoint). One browser, one session
// cookie (cookies are per host, so A and B share it as behind one URL).
const SANDBOX = `http://127.0.0.1:${sandboxPort}`;
const auth = { Authorization: `Bearer ${scaleKey}` };

test.skip(
  !scaleDatabase,
  "needs PostgreSQL: set TEST_DATABASE_URL (make test-e2e sets it when one answers on 127.0.0.1:5432)",
);

test("the link journey across two instances: linked on A, seen on B, B's webhooks update A's page live", async ({
  page,
  context,
  request,
}) => {
  // Link on A, in Stripe mode with the sandbox's modal.
  await page.goto(`${scaleA}/`);
  await page.waitForFunction(() => (window as any).__hydrated === true);
  await expect(page.getByTestId("mode-badge")).toContainText("Test");
  await withoutPrefetch(page);
  await linkAccounts(page);
  await openFirstAccount(page);
  await expect(page).toHaveURL(/\/accounts\/fca_/);
  await expect(page.getByTestId("account-name")).toHaveText("Success");
  const account = new URL(page.url()).pathname.split("/").pop()!;

  // B serves the same user and account from the same database.
  const onB = await context.newPage();
  await onB.goto(`${scaleB}/accounts`);
  await expect(onB.getByTestId("account-link")).toHaveCount(1);
  await expect(onB.getByTestId("account-link").first()).toContainText("Success");

  // A refresh asked on A settles at the sandbox, whose webhook reaches B;
  // B tells A over PostgreSQL, and A's page updates without a reload, well
  // before its 10 s fallback poll.
  await page.getByTestId("refresh-balance").click();
  await expect(page.getByTestId("refresh-balance")).toHaveText("Refreshing…");
  await expect(page.getByTestId("balance-current")).toHaveText(/^\$[\d,]+\.\d\d$/, { timeout: 5_000 });

  // A change only a webhook brings (no refresh pending, so no poll at all):
  // the bank deactivates the account.
  const deactivated = await request.post(`${SANDBOX}/_sandbox/accounts/${account}/status`, {
    headers: auth,
    form: { status: "inactive" },
  });
  expect(deactivated.ok()).toBeTruthy();
  await expect(page.getByTestId("account-status")).toHaveText("Inactive");

  // A change made on B (Disconnect) reaches the page open on A too.
  await onB.goto(`${scaleB}/accounts/${account}`);
  await onB.waitForFunction(() => (window as any).__hydrated === true);
  await expect(onB.getByTestId("account-status")).toHaveText("Inactive");
  onB.once("dialog", (d) => d.accept());
  await onB.getByTestId("disconnect").click();
  await expect(onB.getByTestId("account-status")).toHaveText("Disconnected");
  await expect(page.getByTestId("account-status")).toHaveText("Disconnected");

  // Every webhook went to B, and B took them.
  const log = await request.get(`${SANDBOX}/_sandbox/webhook_deliveries`, { headers: auth });
  const deliveries: { url: string; status: string }[] = (await log.json()).data;
  expect(deliveries.length).toBeGreaterThan(0);
  for (const d of deliveries) expect(d.url).toBe(`${scaleB}/webhooks/stripe`);
  expect(deliveries.some((d) => d.status === "succeeded")).toBeTruthy();

  // Both instances are ready for a load balancer.
  for (const base of [scaleA, scaleB]) {
    const ready = await request.get(`${base}/readyz`);
    expect(ready.status()).toBe(200);
    expect((await ready.json()).status).toBe("ready");
  }
});
