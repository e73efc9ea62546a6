import type { Page } from "@playwright/test";
import {
  test,
  expect,
  createVerifiedUser,
  PASSWORD,
  resetLink,
  signIn,
  signedInElsewhere,
  waitForHydration,
} from "./fixtures";

const NEW_PASSWORD = "Violet-Anchor-Meadow-37";

// A refused request is logged by Chromium as a console error: a 401 when a
// signed-out session asks, a 400 for a dead link, a 422 for a refused field.
test.use({ expectedConsoleErrors: [/status of 4(00|01|04|22)/] });

/** The list of sessions on the account page. */
function sessionList(page: Page) {
  return page.getByRole("list", { name: "Where you're signed in" });
}

/** What a signed-out device sees at its next action on the account page. */
async function expectSignedOut(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Refresh the list" }).click();
  await expect(page).toHaveURL(/\/login\?next=\/account$/);
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sign in", exact: true })).toBeVisible();
}

test("forgot password: the mailed link sets a new password and signs every device out", async ({
  page,
  browser,
  baseURL,
  request,
}) => {
  const user = await createVerifiedUser(request, "Forgetful");
  const elsewhere = await signedInElsewhere(browser, baseURL, user.email);

  await page.goto("/login");
  await waitForHydration(page);
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await expect(page).toHaveURL(/\/forgot-password$/);
  await page.getByLabel("Email address").fill(user.email);
  await page.getByRole("button", { name: "Send reset link" }).click();
  await expect(page.getByRole("status")).toContainText(`if an account uses ${user.email}`);

  await page.goto(await resetLink(request, user.email));
  await waitForHydration(page);
  // The shared rules apply before anything is sent.
  const newPassword = page.getByLabel("New password");
  await newPassword.fill("short");
  await page.getByRole("button", { name: "Set new password" }).click();
  await expect(newPassword).toHaveAttribute("aria-invalid", "true");
  await expect(page.locator("#password-error")).toHaveText("Use at least 8 characters.");

  await newPassword.fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Set new password" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Your password has been changed" })).toBeVisible();

  // The device that was signed in is signed out at its next action.
  await expectSignedOut(elsewhere.page);
  await elsewhere.context.close();

  // The old password no longer works; the new one does.
  const old = await request.post("/api/auth/login", { data: { email: user.email, password: PASSWORD } });
  expect(old.status()).toBe(401);
  await page.getByRole("main").getByRole("link", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/login$/);
  await signIn(page, user.email, NEW_PASSWORD);
});

test("asking for a reset link says the same for an address without an account", async ({ page }) => {
  const email = `nobody.${Math.random().toString(36).slice(2, 10)}@example.com`;
  await page.goto("/forgot-password");
  await waitForHydration(page);
  await page.getByLabel("Email address").fill(email);
  await page.getByRole("button", { name: "Send reset link" }).click();
  await expect(page.getByRole("status")).toHaveText(
    `Check your inbox: if an account uses ${email}, we have sent it a link to choose a new password.`,
  );
});

test("a reset link works once; a used, unknown or incomplete one offers a new one", async ({ page, request }) => {
  const user = await createVerifiedUser(request, "Twice");
  await request.post("/api/auth/forgot-password", { data: { email: user.email } });
  const link = await resetLink(request, user.email);

  await page.goto(link);
  await waitForHydration(page);
  await page.getByLabel("New password").fill(NEW_PASSWORD);
  await page.getByRole("button", { name: "Set new password" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Your password has been changed" })).toBeVisible();

  for (const address of [link, "/reset-password?token=not-a-real-token"]) {
    await page.goto(address);
    await waitForHydration(page);
    await page.getByLabel("New password").fill("Another-Strong-Pass-58");
    await page.getByRole("button", { name: "Set new password" }).click();
    await expect(page.getByRole("alert")).toContainText("This password reset link is not valid");
    await expect(page.getByRole("link", { name: "Ask for a new link" })).toHaveAttribute("href", "/forgot-password");
  }

  // Without a token there is nothing to submit.
  await page.goto("/reset-password");
  await waitForHydration(page);
  await expect(page.getByRole("alert")).toContainText("This password reset link is not valid");
  await expect(page.getByLabel("New password")).toHaveCount(0);
  await page.getByRole("link", { name: "Ask for a new link" }).click();
  await expect(page).toHaveURL(/\/forgot-password$/);
});

test("a weak new password is refused under its field", async ({ page, request }) => {
  const user = await createVerifiedUser(request, "Weakling");
  await request.post("/api/auth/forgot-password", { data: { email: user.email } });
  await page.goto(await resetLink(request, user.email));
  await waitForHydration(page);
  const newPassword = page.getByLabel("New password");
  await newPassword.fill("password123");
  const responded = page.waitForResponse("**/api/auth/reset-password");
  await page.getByRole("button", { name: "Set new password" }).click();
  expect((await responded).status()).toBe(422);
  await expect(newPassword).toHaveAttribute("aria-invalid", "true");
  await expect(page.locator("#password-error")).not.toBeEmpty();
});

test("changing the password keeps this tab signed in and signs the other device out", async ({
  page,
  browser,
  baseURL,
  request,
}) => {
  const user = await createVerifiedUser(request, "Changer");
  await signIn(page, user.email);
  const elsewhere = await signedInElsewhere(browser, baseURL, user.email);
  await page.goto("/account");
  await expect(sessionList(page).getByRole("listitem")).toHaveCount(2);

  const form = page.getByRole("form", { name: "Change password" });
  const current = form.getByLabel("Current password");
  const next = form.getByLabel("New password");

  // A wrong current password: the server's verdict under that field.
  await current.fill("Not-The-Password-1");
  await next.fill(NEW_PASSWORD);
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(current).toHaveAttribute("aria-invalid", "true");
  await expect(page.locator("#current-password-error")).not.toBeEmpty();
  await expect(next).toHaveAttribute("aria-invalid", "false");

  // A weak new password: under the new password.
  await current.fill(PASSWORD);
  await next.fill("password123");
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(next).toHaveAttribute("aria-invalid", "true");
  await expect(page.locator("#new-password-error")).not.toBeEmpty();

  await next.fill(NEW_PASSWORD);
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Your password has been changed" })).toBeVisible();
  await expect(current).toHaveValue("");
  await expect(next).toHaveValue("");

  // Only this device is left in the list, and this tab keeps working.
  await expect(sessionList(page).getByRole("listitem")).toHaveCount(1);
  await expect(sessionList(page).getByRole("listitem")).toContainText("This device");
  await page.getByRole("button", { name: "Refresh the list" }).click();
  await expect(sessionList(page).getByRole("listitem")).toContainText("This device");
  await page.reload();
  await expect(page.getByTestId("profile-email")).toHaveText(user.email);
  await expect(page).toHaveURL(/\/account$/);

  await expectSignedOut(elsewhere.page);
  await elsewhere.context.close();

  const login = await request.post("/api/auth/login", { data: { email: user.email, password: NEW_PASSWORD } });
  expect(login.status()).toBe(200);
});

test("signing another device out from the list ends its session at once", async ({
  page,
  browser,
  baseURL,
  request,
}) => {
  const user = await createVerifiedUser(request, "Revoker");
  await signIn(page, user.email);
  const elsewhere = await signedInElsewhere(browser, baseURL, user.email);
  await page.goto("/account");

  const sessions = sessionList(page).getByRole("listitem");
  await expect(sessions).toHaveCount(2);
  // Case matters: the other row's button says "Sign out this device".
  const here = sessions.filter({ hasText: /This device/ });
  await expect(here).toHaveCount(1);
  await expect(here.getByRole("button")).toHaveCount(0);
  await expect(sessions.first()).toContainText("Last used");
  const other = sessions.filter({ hasNotText: /This device/ });
  await expect(other.getByRole("button", { name: "Sign out this device" })).toHaveCount(1);

  await other.getByRole("button", { name: "Sign out this device" }).click();
  await expect(page.getByRole("status").filter({ hasText: "has been signed out" })).toBeVisible();
  await expect(sessions).toHaveCount(1);
  await expect(sessions).toContainText("This device");

  await expectSignedOut(elsewhere.page);
  await elsewhere.context.close();

  // This tab is still signed in.
  await page.getByRole("button", { name: "Refresh the list" }).click();
  await expect(sessions).toHaveCount(1);
  await expect(page.getByTestId("profile-email")).toHaveText(user.email);
});

test.describe("keep me signed in", () => {
  async function refreshCookie(page: Page) {
    const cookies = await page.context().cookies();
    return cookies.find((cookie) => cookie.name === "refresh_token");
  }

  test("unchecked, the refresh cookie lasts only as long as the browser", async ({ page, request }) => {
    const user = await createVerifiedUser(request, "Fleeting");
    await page.goto("/login");
    await waitForHydration(page);
    await signIn(page, user.email, PASSWORD, { remember: false });
    expect((await refreshCookie(page))?.expires).toBe(-1);

    // A renewal (the restore on reload) keeps it a browser-session cookie.
    await page.goto("/account");
    await expect(page.getByTestId("profile-email")).toHaveText(user.email);
    await expect.poll(async () => (await refreshCookie(page))?.expires).toBe(-1);
  });

  test("checked (the default), the refresh cookie has an expiry", async ({ page, request }) => {
    const user = await createVerifiedUser(request, "Lasting");
    await page.goto("/login");
    await waitForHydration(page);
    await expect(page.getByRole("checkbox", { name: "Keep me signed in" })).toBeChecked();
    await signIn(page, user.email);
    const cookie = await refreshCookie(page);
    expect(cookie).toBeDefined();
    expect(cookie!.expires).toBeGreaterThan(Date.now() / 1000 + 60);
  });
});
