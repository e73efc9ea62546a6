import type { Page } from "@playwright/test";
import { test, expect, createVerifiedUser, PASSWORD, uniqueEmail, waitForHydration } from "./fixtures";

/**
 * Holds back every file under /pkg (the app's JavaScript and wasm) until the
 * returned function is called: the page stays the server's HTML meanwhile.
 */
async function holdBackTheApp(page: Page): Promise<() => void> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  await page.route("**/pkg/**", async (route) => {
    await released;
    await route.continue();
  });
  return release;
}

/** Opens `path` without waiting for the held-back scripts. */
async function openBeforeTheApp(page: Page, path: string): Promise<void> {
  await page.goto(path, { waitUntil: "commit" });
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
}

/**
 * Counts the page's form submissions from now on. Enter in a field submits
 * its form (if at all) while the key press is handled: the `submit` event
 * fires before any navigation starts, and before `press` returns. So the
 * count read right after the key presses is final, with nothing to wait for.
 */
async function watchSubmissions(page: Page): Promise<() => Promise<number>> {
  await page.evaluate(() => {
    const counter = window as unknown as { submissions: number };
    counter.submissions = 0;
    document.addEventListener("submit", () => (counter.submissions += 1), { capture: true });
  });
  return () => page.evaluate(() => (window as unknown as { submissions: number }).submissions);
}

/** Nothing typed into a form may ever reach the address bar. */
function expectNoFieldsIn(page: Page, path: string | null, secrets: string[]): void {
  if (path !== null) expect(new URL(page.url()).pathname).toBe(path);
  for (const secret of [...secrets, "password=", "email="]) {
    expect(page.url()).not.toContain(encodeURIComponent(secret));
    expect(page.url()).not.toContain(secret);
  }
}

test("Enter in the sign-in form before the app has loaded sends nothing, and the form works once it has", async ({
  page,
  request,
}) => {
  const user = await createVerifiedUser(request, "Early");
  const release = await holdBackTheApp(page);
  await openBeforeTheApp(page, "/login");

  const button = page.getByRole("button", { name: "Loading…" });
  await expect(button).toBeVisible();
  await expect(button).toBeDisabled();
  await expect(page.getByRole("button", { name: "Sign in", exact: true })).toHaveCount(0);

  await page.getByLabel("Email address").fill(user.email);
  await page.getByLabel("Password", { exact: true }).fill(user.password);
  const submissions = await watchSubmissions(page);
  await page.getByLabel("Password", { exact: true }).press("Enter");
  expect(await submissions()).toBe(0);
  await page.getByLabel("Email address").press("Enter");
  expect(await submissions()).toBe(0);
  expectNoFieldsIn(page, "/login", [user.email, user.password]);

  release();
  await waitForHydration(page);
  await expect(button).toHaveCount(0);
  await page.getByLabel("Email address").fill(user.email);
  await page.getByLabel("Password", { exact: true }).fill(user.password);
  await page.getByLabel("Password", { exact: true }).press("Enter");
  await expect(page.getByTestId("nav-user")).toHaveText(user.name);
  expectNoFieldsIn(page, null, [user.email, user.password]);
});

test("Enter in the registration form before the app has loaded sends nothing, and the form works once it has", async ({
  page,
}) => {
  const email = uniqueEmail("Early");
  const release = await holdBackTheApp(page);
  await openBeforeTheApp(page, "/register");

  const button = page.getByRole("button", { name: "Loading…" });
  await expect(button).toBeVisible();
  await expect(button).toBeDisabled();

  await page.getByLabel("Name").fill("Early Bird");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  const submissions = await watchSubmissions(page);
  await page.getByLabel("Password", { exact: true }).press("Enter");
  expect(await submissions()).toBe(0);
  await page.getByLabel("Name").press("Enter");
  expect(await submissions()).toBe(0);
  expectNoFieldsIn(page, "/register", [email, PASSWORD, "Early Bird"]);

  release();
  await waitForHydration(page);
  await expect(page.getByRole("button", { name: "Create account" })).toBeEnabled();
  await page.getByLabel("Name").fill("Early Bird");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByLabel("Password", { exact: true }).press("Enter");
  await expect(page.getByTestId("registered")).toContainText(email);
  expectNoFieldsIn(page, "/register", [email, PASSWORD, "Early Bird"]);
});
