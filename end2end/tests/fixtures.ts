import { expect, type Page, type FrameLocator } from "@playwright/test";

/** Opens `/` and waits until the wasm has hydrated, so clicks are handled. */
export async function openLinkPage(page: Page) {
  await page.goto("/");
  await page.waitForFunction(() => (window as any).__hydrated === true);
}

/**
 * Opens the first account in the list through its link and waits until that
 * page has hydrated; returns its id. From `/` the link is a full page load,
 * so a click right after it could land before the account page's wasm
 * handles it.
 */
export async function openFirstAccount(page: Page): Promise<string> {
  await page.getByTestId("account-link").first().click();
  await page.waitForURL(/\/accounts\/fca_/);
  await page.waitForFunction(() => (window as any).__hydrated === true);
  return new URL(page.url()).pathname.split("/").pop()!;
}

/**
 * Unticks "Fetch right away" (on by default) for the next link: the account
 * arrives with no data, for tests of what a manual refresh does.
 */
export async function withoutPrefetch(page: Page) {
  await page.getByText("More options").click();
  for (const f of ["balance", "ownership", "transactions"]) await page.getByTestId(`prefetch-${f}`).uncheck();
}

/** The sandbox's Financial Connections modal (an iframe, like Stripe's). */
export function modal(page: Page): FrameLocator {
  return page.frameLocator('[data-testid="stripe-sandbox-modal"]');
}

/** Clicks the link button and completes the modal, ticking `extra` accounts too. */
export async function linkAccounts(page: Page, extra: string[] = []) {
  await page.getByTestId("link-button").click();
  const m = modal(page);
  await m.getByTestId("consent-agree").click();
  await m.locator('[data-institution="test_institution"]').click();
  await expect(m.getByTestId("account-success")).toBeChecked();
  for (const key of extra) await m.getByTestId(`account-${key}`).check();
  await m.getByTestId("link-accounts").click();
  await m.getByTestId("done").click();
}

/** Replaces the client secret in the next start_link responses. */
export async function swapClientSecret(page: Page, secret: string) {
  await page.route("**/api/start_link", async (route) => {
    const response = await route.fetch();
    const json = await response.json();
    json.client_secret = secret;
    await route.fulfill({ response, json });
  });
}

/**
 * Calls server function `name` from inside the page, as the page's own code
 * would (same origin, this browser's session cookie), with a form body.
 */
export async function callServerFn(page: Page, name: string, body = ""): Promise<{ status: number; json: any }> {
  return page.evaluate(
    async ([name, body]) => {
      const r = await fetch(`/api/${name}`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body,
      });
      const text = await r.text();
      let json = null;
      try {
        json = JSON.parse(text);
      } catch {
        // not JSON (an empty or plain-text answer): the status says what happened
      }
      return { status: r.status, json };
    },
    [name, body] as const,
  );
}

/**
 * Starts `collectBankAccountToken` through the page's own Stripe.js (a session
 * made by the app's start_link); its result lands in `window.__token`.
 */
export async function startBankTokenFlow(page: Page) {
  const { json: session } = await callServerFn(
    page,
    "start_link",
    "name=&email=&permissions=balances,ownership,payment_method,transactions",
  );
  await page.addScriptTag({ url: session.client.stripe_js_url });
  await page.evaluate((clientSecret) => {
    (window as any).__token = (window as any).Stripe("pk_test_sandbox").collectBankAccountToken({ clientSecret });
  }, session.client_secret);
}
