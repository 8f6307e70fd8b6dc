import { expect, test, type Page } from "@playwright/test";
import { callServerFn, linkAccounts, openFirstAccount, openLinkPage } from "./fixtures";

// Stripe secret keys and webhook secrets must never reach the browser.
const SECRET = /(sk|rk)_(test|live)_|whsec_/;

/** Every URL the page requests, and (awaited on demand) the body of every
 * response, as text: what a secret must never appear in. */
function record(page: Page) {
  const pending: Promise<{ url: string; text: string } | null>[] = [];
  const urls: string[] = [];
  page.on("request", (r) => urls.push(r.url()));
  page.on("response", (r) => {
    // A live-update stream (/events) never ends: its body cannot be awaited.
    if (new URL(r.url()).pathname === "/events") return;
    pending.push(
      r.body().then(
        (buf) => ({ url: r.url(), text: buf.toString("latin1") }),
        () => null, // redirects and aborted requests have no body
      ),
    );
  });
  const bodies = async () => (await Promise.all(pending)).filter((b) => b !== null);
  return { urls, bodies };
}

test("no served byte contains a secret key, and no URL a client secret", async ({ page }) => {
  const { urls, bodies } = record(page);

  await openLinkPage(page);
  await linkAccounts(page);
  await expect(page.getByTestId("status-linked")).toBeVisible();
  await page.reload();
  await page.waitForFunction(() => (window as any).__hydrated === true);
  // The developer panel shows every Stripe request and Stripe.js result: redacted.
  await page.goto("/developer");
  await page.waitForFunction(() => (window as any).__hydrated === true);
  await expect(page.getByTestId("log-entry").first()).toBeVisible();
  for (const d of await page.locator("details").all()) await d.locator("summary").click();
  expect(await page.content(), "a client secret on /developer").not.toMatch(/_secret_/);
  const served = await bodies();

  const kinds = served.map((b) => b.url);
  expect(kinds.some((u) => u.endsWith(".wasm"))).toBe(true);
  expect(kinds.some((u) => u.endsWith(".js"))).toBe(true);
  expect(kinds.some((u) => u.includes("/api/start_link"))).toBe(true);
  for (const b of served) {
    expect(b.text, `secret in ${b.url}`).not.toMatch(SECRET);
  }
  // Client secrets travel only in the link-start answers, never on the panel.
  const panel = served.filter((b) => b.url.includes("/developer") || b.url.includes("/api/developer_log"));
  expect(panel.length).toBeGreaterThan(0);
  for (const b of panel) {
    expect(b.text, `client secret in ${b.url}`).not.toMatch(/_secret_/);
  }
  for (const u of urls) {
    expect(u, "client secret in a URL").not.toMatch(/_secret_/);
  }
});

test("the payment pages carry no secret key, and no client secret outside Stripe.js's answer", async ({ page }) => {
  const { urls, bodies } = record(page);

  await openLinkPage(page);
  await linkAccounts(page);
  await expect(page.getByTestId("status-linked")).toBeVisible();
  await openFirstAccount(page);
  await page.waitForFunction(() => (window as any).__hydrated === true);
  await page.getByTestId("pay-amount").fill("3");
  await page.getByTestId("pay-name").fill("Jenny Rosen");
  await page.getByTestId("pay-agree").check();
  await page.getByTestId("pay-submit").click();
  await expect(page.getByTestId("pay-result")).toBeVisible();
  // A pay-by-bank PaymentIntent exists too (its client secret went to this
  // page's call only), then both payment pages are loaded from the server.
  const { json: started } = await callServerFn(
    page,
    "start_bank_payment",
    "amount=5&description=&name=Jenny&attempt=secrets-spec-1",
  );
  expect(started.client_secret).toMatch(/_secret_/);
  for (const path of ["/payments", "/payments/new"]) {
    await page.goto(path);
    await page.waitForFunction(() => (window as any).__hydrated === true);
    await page.waitForLoadState("networkidle");
    expect(await page.content(), `client secret in ${path}`).not.toContain(started.client_secret);
  }
  const served = await bodies();
  expect(served.some((b) => b.url.includes("/api/pay_from_account"))).toBe(true);
  expect(served.some((b) => b.url.includes("/api/payments"))).toBe(true);
  for (const b of served) {
    expect(b.text, `secret in ${b.url}`).not.toMatch(SECRET);
    if (!b.url.includes("/api/start_bank_payment")) {
      expect(b.text, `client secret in ${b.url}`).not.toContain(started.client_secret);
    }
  }
  for (const u of urls) {
    expect(u, "client secret in a URL").not.toMatch(/_secret_/);
  }
});
