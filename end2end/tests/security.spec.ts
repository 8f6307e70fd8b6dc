import { expect, test } from "@playwright/test";
import { limitedURL } from "../playwright.config";
import { openLinkPage } from "./fixtures";

// Every page runs under a Content-Security-Policy with a per-response nonce
// (the whole suite runs with it enforced). Here: a script without the nonce,
// injected into the page's HTML on its way to the browser, does not run, while
// the app's own scripts (hydration, the wasm, Stripe.js's stand-in) do.
test("an injected inline script without the nonce does not run; the app still works", async ({ page }) => {
  const violations: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  await page.route("**/", async (route) => {
    const response = await route.fetch();
    const csp = response.headers()["content-security-policy"] ?? "";
    expect(csp).toContain("'strict-dynamic'");
    // In <head>: the body is what the wasm hydrates, and must stay as rendered.
    const html = (await response.text()).replace("</head>", "<script>window.__injected = true;</script></head>");
    await route.fulfill({ response, body: html });
  });
  await openLinkPage(page);
  expect(await page.evaluate(() => (window as any).__injected)).toBeUndefined();
  expect(violations.some((v) => v.includes("script"))).toBe(true);
  await page.unroute("**/");

  // The app's scripts still run under the policy: Stripe.js's stand-in loads and opens its modal.
  await page.getByTestId("link-button").click();
  await expect(page.locator('[data-testid="stripe-sandbox-modal"]')).toBeVisible();
});

// A server with a low per-user limit: the page says why a call was refused and when to retry.
test("too many calls: the page shows the 429 message", async ({ page }) => {
  await page.goto(`${limitedURL}/accounts`);
  await page.waitForFunction(() => (window as any).__hydrated === true);
  const save = page.getByTestId("details-save");
  let shown = false;
  for (let i = 0; i < 12 && !shown; i++) {
    await save.click();
    await expect(save).toBeEnabled();
    shown = await page.getByTestId("details-error").isVisible();
  }
  await expect(page.getByTestId("details-error")).toContainText(/Too many requests\. Try again in \d+ seconds?\./);
  await expect(page.getByTestId("details-error")).toContainText("rate_limited");
});
