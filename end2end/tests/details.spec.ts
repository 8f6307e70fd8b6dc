import { expect, test } from "@playwright/test";
import { openLinkPage } from "./fixtures";

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
  await openLinkPage(page);
  await expect(page.getByLabel(/^Name/)).toHaveValue("Jenny Rosen");
  await expect(page.getByLabel(/^Email/)).toHaveValue("jenny@example.com");
});
