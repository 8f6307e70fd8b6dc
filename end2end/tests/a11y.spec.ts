import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { modal, openFirstAccount, openLinkPage } from "./fixtures";

// Every page (the link page, the accounts, an account with Pay, the payments,
// pay by bank, the developer panel, not found) and every screen of the
// sandbox's modal (consent, bank list, an institution that is down, accounts,
// success), checked by axe-core
// against WCAG 2.x A and AA on a desktop and on a phone: no violations.

const hydrated = () => (window as any).__hydrated === true;

/** Runs axe on the page (the modal's frame included) and expects nothing. */
async function expectAccessible(page: Page, screen: string) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  const found = results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.map((n) => `${n.target.join(" ")} ${n.failureSummary ?? ""}`).join("\n    ")}`,
  );
  expect(found, `${screen}:\n${found.join("\n")}`).toEqual([]);
}

for (const [device, viewport] of [
  ["desktop", { width: 1280, height: 800 }],
  ["phone", { width: 390, height: 844 }],
] as const) {
  test.describe(`accessibility on a ${device}`, () => {
    test.use({ viewport });

    test("every page and every modal screen has no axe violations", async ({ page }) => {
      await openLinkPage(page);
      await expectAccessible(page, "/ (nothing linked)");

      await page.getByTestId("link-button").click();
      const m = modal(page);
      await expect(m.getByTestId("consent-agree")).toBeVisible();
      await expectAccessible(page, "modal: consent");
      await m.getByTestId("consent-agree").click();
      await expect(m.locator('[data-institution="test_institution"]')).toBeVisible();
      await expectAccessible(page, "modal: bank list");
      await m.locator('[data-institution="down_bank_error"]').click();
      await expect(m.getByTestId("institution-down")).toBeVisible();
      await expectAccessible(page, "modal: error (institution down)");
      await m.getByRole("button", { name: "Choose another bank" }).click();
      await m.locator('[data-institution="test_institution"]').click();
      await expect(m.getByTestId("account-success")).toBeVisible();
      await expectAccessible(page, "modal: accounts");
      await m.getByTestId("link-accounts").click();
      await expect(m.getByTestId("done")).toBeVisible();
      await expectAccessible(page, "modal: success");
      await m.getByTestId("done").click();
      await expect(page.getByTestId("status-linked")).toBeVisible();
      await expect(page.getByTestId("account-balance")).toBeVisible();
      await expectAccessible(page, "/ (linked)");

      await page.goto("/accounts");
      await page.waitForFunction(hydrated);
      await expect(page.getByTestId("sync-transactions")).toHaveAttribute("data-state", "succeeded");
      await expectAccessible(page, "/accounts");

      await openFirstAccount(page);
      await page.waitForFunction(hydrated);
      await expect(page.getByTestId("txn-row")).toHaveCount(20);
      await expect(page.getByTestId("owner")).toHaveCount(1);
      await expectAccessible(page, "/accounts/{id}");

      await page.goto("/payments");
      await page.waitForFunction(hydrated);
      await expect(page.getByTestId("no-payments").or(page.getByTestId("payment").first())).toBeVisible();
      await expectAccessible(page, "/payments");

      await page.goto("/payments/new");
      await page.waitForFunction(hydrated);
      await expect(page.getByTestId("pay-by-bank-form")).toBeVisible();
      await expectAccessible(page, "/payments/new");

      await page.goto("/developer");
      await page.waitForFunction(hydrated);
      await expect(page.getByTestId("log-entry").first()).toBeVisible();
      await page.locator("details.log-json").first().evaluate((d) => ((d as HTMLDetailsElement).open = true));
      await expectAccessible(page, "/developer");

      await page.goto("/no-such-page");
      await expectAccessible(page, "not found");
    });
  });
}
