import { expect, test } from "@playwright/test";
import { linkAccounts, openLinkPage } from "./fixtures";

// Stripe secret keys and webhook secrets must never reach the browser.
const SECRET = /(sk|rk)_(test|live)_|whsec_/;

test("no served byte contains a secret key, and no URL a client secret", async ({ page }) => {
  const pending: Promise<{ url: string; text: string } | null>[] = [];
  const urls: string[] = [];
  page.on("request", (r) => urls.push(r.url()));
  page.on("response", (r) => {
    pending.push(
      r.body().then(
        (buf) => ({ url: r.url(), text: buf.toString("latin1") }),
        () => null, // redirects and aborted requests have no body
      ),
    );
  });

  await openLinkPage(page);
  await linkAccounts(page);
  await expect(page.getByTestId("status-linked")).toBeVisible();
  await page.reload();
  await page.waitForFunction(() => (window as any).__hydrated === true);
  await page.waitForLoadState("networkidle");
  const bodies = (await Promise.all(pending)).filter((b) => b !== null);

  const kinds = bodies.map((b) => b.url);
  expect(kinds.some((u) => u.endsWith(".wasm"))).toBe(true);
  expect(kinds.some((u) => u.endsWith(".js"))).toBe(true);
  expect(kinds.some((u) => u.includes("/api/start_link"))).toBe(true);
  for (const b of bodies) {
    expect(b.text, `secret in ${b.url}`).not.toMatch(SECRET);
  }
  for (const u of urls) {
    expect(u, "client secret in a URL").not.toMatch(/_secret_/);
  }
});
