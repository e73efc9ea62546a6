import AxeBuilder from "@axe-core/playwright";
import type { APIRequestContext, Page } from "@playwright/test";
import { test, expect, createVerifiedUser, makeAdmin, PASSWORD, signIn, waitForHydration } from "./fixtures";

// Every page, signed out and signed in (as an admin, who sees every page),
// in the light and the dark theme: axe-core finds no serious or critical
// violation of WCAG 2.x A and AA.

// The not-found page answers 404, which Chromium logs.
test.use({ expectedConsoleErrors: [/status of 404/] });

const SIGNED_OUT = [
  "/",
  "/login",
  "/register",
  "/forgot-password",
  "/reset-password?token=none",
  "/verify-email?token=none",
  "/confirm-email?token=none",
  "/undo-email-change?token=none",
  "/no-such-page",
];
const SIGNED_IN = ["/", "/account", "/people", "/people/new", "/admin/users", "/dev/mailbox"];

async function violations(page: Page, path: string): Promise<string[]> {
  await page.goto(path);
  await waitForHydration(page);
  // Wait for what the page loads after hydration (lists, the profile).
  await expect(page.locator('[aria-busy="true"]')).toHaveCount(0);
  await expect(page.locator(".loading")).toHaveCount(0);
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]).analyze();
  return results.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => `${path}: ${violation.id} (${violation.impact}) at ${violation.nodes.map((node) => node.target.join(" ")).join(", ")}`);
}

async function addPerson(request: APIRequestContext, email: string): Promise<string> {
  const login = await request.post("/api/auth/login", { data: { email, password: PASSWORD } });
  const { access_token } = (await login.json()) as { access_token: string };
  const created = await request.post("/api/people", {
    data: { name: "Axe Checked", email: "axe@example.com", phone: "+44 20 7946 0000", notes: "Some notes." },
    headers: { Authorization: `Bearer ${access_token}` },
  });
  expect(created.status()).toBe(201);
  return `/people/${((await created.json()) as { id: string }).id}`;
}

for (const colorScheme of ["light", "dark"] as const) {
  test.describe(`${colorScheme} theme`, () => {
    test.use({ colorScheme });
    // Each test loads and audits every page of its list in turn.
    test.slow();

    test("signed-out pages have no serious accessibility violation", async ({ page }) => {
      const found: string[] = [];
      for (const path of SIGNED_OUT) found.push(...(await violations(page, path)));
      expect(found).toEqual([]);
    });

    test("signed-in pages have no serious accessibility violation", async ({ page, request }) => {
      const admin = await createVerifiedUser(request, "Auditor");
      makeAdmin(admin.email);
      const person = await addPerson(request, admin.email);
      await signIn(page, admin.email);
      const found: string[] = [];
      for (const path of [...SIGNED_IN, person]) found.push(...(await violations(page, path)));
      expect(found).toEqual([]);
    });
  });
}
