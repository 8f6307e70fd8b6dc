import { expect, test } from "@playwright/test";
import { linkAccounts, openFirstAccount, openLinkPage } from "./fixtures";

// The first load: the page links the build's content-hashed JS, wasm and CSS,
// served compressed and immutable, so a second visit fetches none of them;
// the page itself is never stored. Hydration under the CSP is what every
// other spec relies on.
const HASHED = /\/pkg\/fc_app\.[A-Za-z0-9_-]{22}\.(js|wasm|css)$/;

test("hashed assets are compressed and immutable; a second visit loads them from the cache", async ({ page }) => {
  const assets = new Map<string, Record<string, string>>();
  page.on("response", (r) => {
    const path = new URL(r.url()).pathname;
    if (path.startsWith("/pkg/")) assets.set(path, r.headers());
  });
  const first = await page.goto("/");
  expect(first?.headers()["cache-control"]).toBe("no-store");
  await page.waitForFunction(() => (window as any).__hydrated === true);

  const kinds = [...assets.keys()].map((p) => p.match(HASHED)?.[1]).filter(Boolean).sort();
  expect(kinds).toEqual(["css", "js", "wasm"]);
  for (const [path, headers] of assets) {
    if (!HASHED.test(path)) continue;
    expect(headers["cache-control"], path).toBe("public, max-age=31536000, immutable");
    expect(["br", "gzip"], path).toContain(headers["content-encoding"]);
    expect(headers["vary"] ?? "", path).toMatch(/accept-encoding/i);
  }

  // Same tab, another visit: the immutable files come from the browser's cache.
  await openLinkPage(page);
  const transferred = await page.evaluate(() =>
    performance
      .getEntriesByType("resource")
      .filter((e) => /\/pkg\/fc_app\./.test(e.name))
      .map((e) => (e as PerformanceResourceTiming).transferSize),
  );
  expect(transferred.length).toBeGreaterThanOrEqual(2);
  expect(transferred.every((size) => size === 0)).toBe(true);
});

// `make build` and `make release` split the wasm (`cargo leptos build
// --split`): only the link page's code is in the first load (`/` hydrates
// without the router); the router's is a chunk every other page loads, and
// each other page's own is a chunk fetched when that page is first shown.
// Even the link page's flow and its list's redraw wait for their first use.
const ACCOUNT_CHUNK = /\/pkg\/split___account_route_view_\d+\.[A-Za-z0-9_-]{22}\.wasm$/;
const ROUTER_CHUNK = /\/pkg\/split_hydrate_routed_\d+\.[A-Za-z0-9_-]{22}\.wasm/;
// The link page's own chunks: the link flow (Stripe.js's bindings) and the
// list's redraw, fetched when first needed.
const LINK_CHUNK = /\/pkg\/split_run_link_\d+\.[A-Za-z0-9_-]{22}\.wasm$/;
const REDRAW_CHUNK = /\/pkg\/split_redraw_accounts_\d+\.[A-Za-z0-9_-]{22}\.wasm$/;

test("the account page's code loads on demand, and its own first load preloads it", async ({ page }) => {
  const fetched: string[] = [];
  page.on("request", (r) => fetched.push(new URL(r.url()).pathname));
  await openLinkPage(page);
  expect(fetched.filter((p) => p.startsWith("/pkg/") && p.endsWith(".wasm"))).toHaveLength(1);
  expect(fetched.some((p) => ACCOUNT_CHUNK.test(p) || ROUTER_CHUNK.test(p))).toBe(false);

  await linkAccounts(page);
  await expect(page.getByTestId("account")).toHaveCount(1);
  expect(fetched.some((p) => LINK_CHUNK.test(p)), "the link flow's chunk, on the click").toBe(true);
  expect(fetched.some((p) => REDRAW_CHUNK.test(p)), "the list's chunk, once it changed").toBe(true);
  await openFirstAccount(page);
  await expect(page.getByTestId("account-name")).toBeVisible();
  const chunk = fetched.find((p) => ACCOUNT_CHUNK.test(p));
  expect(chunk, "the account page's chunk was fetched on the way there").toBeTruthy();

  // The same page as a first load (the same person, a new tab): the server
  // names the chunk in a preload, and the page hydrates and works.
  const tab = await page.context().newPage();
  const response = await tab.goto(page.url());
  const html = await response!.text();
  const link = html.match(new RegExp(`<link[^>]* href="${chunk}"[^>]*>`))?.[0] ?? "";
  expect(link).toContain('rel="preload"');
  expect(link).toContain('as="fetch"');
  const router = html.match(/<link[^>]*split_hydrate_routed_[^>]*>/)?.[0] ?? "";
  expect(router).toMatch(ROUTER_CHUNK);
  expect(router).toContain('rel="preload"');
  await tab.waitForFunction(() => (window as any).__hydrated === true);
  const headers = (await tab.request.get(chunk!)).headers();
  expect(headers["cache-control"]).toBe("public, max-age=31536000, immutable");
  tab.once("dialog", (d) => d.accept());
  await tab.getByTestId("disconnect").click();
  await expect(tab.getByTestId("account-status")).toHaveText("Disconnected");
});
