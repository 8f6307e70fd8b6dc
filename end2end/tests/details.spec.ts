import { expect, test } from "@playwright/test";
import { callServerFn, linkAccounts, openLinkPage } from "./fixtures";

test("name and email are saved, shown again and prefill the link form", async ({ page }) => {
  await page.goto("/accounts");
  await page.waitForFunction(() => (window as any).__hydrated === true);
  await expect(page.getByTestId("details-name")).toHaveValue("");

  // The browser accepts this address; the server does not (no dot in the domain).
  await page.getByTestId("details-email").fill("jenny@localhost");
  await page.getByTestId("details-save").click();
  await expect(page.getByTestId("details-error")).toContainText("Enter a valid email address");
  await expect(page.getByTestId("details-email")).toHaveValue("jenny@localhost"); // nothing typed is lost

  await page.getByTestId("details-name").fill("Jenny Rosen");
  await page.getByTestId("details-email").fill("jenny@example.com");
  await page.getByTestId("details-save").click();
  await expect(page.getByTestId("details-saved")).toHaveText("Saved.");

  await page.reload();
  await expect(page.getByTestId("details-name")).toHaveValue("Jenny Rosen");
  await expect(page.getByTestId("details-email")).toHaveValue("jenny@example.com");
  // The server renders them into the form: the page asks for nothing.
  const calls: string[] = [];
  page.on("request", (r) => calls.push(new URL(r.url()).pathname));
  await openLinkPage(page);
  await expect(page.getByLabel(/^Name/)).toHaveValue("Jenny Rosen");
  await expect(page.getByLabel(/^Email/)).toHaveValue("jenny@example.com");
  expect(calls).not.toContain("/api/load_details");
});

// A first load of `/` gets the saved details and the list in its HTML; the
// same page shown in place by the router (from another page's header) has
// nothing from the server, so it loads both itself.
test("the link page shown in place loads the saved details and the accounts, and redraws the list", async ({ page }) => {
  await openLinkPage(page);
  await linkAccounts(page);
  await expect(page.getByTestId("account")).toHaveCount(1);
  const saved = await callServerFn(page, "save_details", "name=Jenny+Rosen&email=jenny%40example.com");
  expect(saved.status).toBe(200);

  await page.goto("/accounts");
  await page.waitForFunction(() => (window as any).__hydrated === true);
  await page.evaluate(() => ((window as any).__samePage = true));
  await page.getByRole("link", { name: "Link", exact: true }).click();
  await page.waitForURL((u) => u.pathname === "/");
  expect(await page.evaluate(() => (window as any).__samePage)).toBe(true); // no page load
  await expect(page.getByLabel(/^Name/)).toHaveValue("Jenny Rosen");
  await expect(page.getByLabel(/^Email/)).toHaveValue("jenny@example.com");
  await expect(page.getByTestId("account")).toHaveCount(1);

  await linkAccounts(page);
  await expect(page.getByTestId("account")).toHaveCount(2);
});
