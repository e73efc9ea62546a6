import type { Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import {
  test,
  expect,
  authenticator,
  createVerifiedUser,
  enableAuthenticatorApp,
  makeAdmin,
  PASSWORD,
  signIn,
  signInWithSecondFactor,
  totpCode,
  totpStep,
  waitForHydration,
} from "./fixtures";

// Chromium logs refused requests as console errors: the 422 of a wrong
// code, the 400 of a sign-in that is over, a 401 of a signed-out page.
test.use({ expectedConsoleErrors: [/status of 4(00|01|09|22)/] });

/** The "Two-step verification" part of the account page. */
function twoStep(page: Page) {
  return page.getByRole("region", { name: "Two-step verification" });
}

async function openAccount(page: Page): Promise<void> {
  await page.goto("/account");
  await expect(page.getByTestId("profile-name")).toBeVisible();
}

async function signOut(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sign in", exact: true })).toBeVisible();
}

/** The code step of the login page, after the password. */
async function passwordStep(page: Page, email: string): Promise<void> {
  await page.goto("/login");
  await waitForHydration(page);
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Two-step verification" })).toBeVisible();
}

/** A 6-digit code that is none of `secret`'s around now. */
function wrongCode(secret: string): string {
  const now = totpStep();
  const right = new Set([-1, 0, 1, 2].map((offset) => totpCode(secret, now + offset)));
  for (let candidate = 0; ; candidate += 111_111) {
    const code = String(candidate % 1_000_000).padStart(6, "0");
    if (!right.has(code)) return code;
  }
}

test("turn on an authenticator app, then sign in with a code and with a recovery code", async ({
  page,
  context,
  request,
}) => {
  const user = await createVerifiedUser(request, "Twostep");
  await signIn(page, user.email);
  await openAccount(page);

  const section = twoStep(page);
  await expect(section).toContainText("Signing in asks only for your password.");
  await section.getByRole("button", { name: "Set up an authenticator app" }).click();
  await expect(section.getByRole("img", { name: "QR code for your authenticator app" })).toBeVisible();
  await expect(section.getByRole("heading", { name: "Set up your authenticator app" })).toBeFocused();

  // Nothing can scan here: the key typed into an app, as a person would.
  const secret = await section.getByLabel("Setup key").inputValue();
  expect(secret.replace(/\s/g, "")).toMatch(/^[A-Z2-7]{32}$/);
  const app = authenticator(secret);
  const code = section.getByLabel("Code from the app");
  await expect(code).toHaveAttribute("autocomplete", "one-time-code");
  await expect(code).toHaveAttribute("inputmode", "numeric");
  await code.fill(app.next());
  await section.getByRole("button", { name: "Turn on" }).click();

  const list = section.getByRole("list", { name: "Recovery codes" });
  await expect(list.getByRole("listitem")).toHaveCount(10);
  const codes = (await list.getByRole("listitem").allTextContents()).map((text) => text.trim());
  for (const recoveryCode of codes) expect(recoveryCode).toMatch(/^[a-z2-7]{4}(-[a-z2-7]{4}){3}$/);
  expect(new Set(codes).size).toBe(10);
  await expect(page.getByRole("status").filter({ hasText: "Two-step verification is on" })).toBeVisible();

  // Kept as a file, or copied into a password manager.
  const download = page.waitForEvent("download");
  await section.getByRole("link", { name: "Save as a file" }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe("recovery-codes.txt");
  const saved = readFileSync((await file.path())!, "utf8");
  for (const recoveryCode of codes) expect(saved).toContain(`${recoveryCode}\n`);
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  await section.getByRole("button", { name: "Copy the codes" }).click();
  await expect(section.getByRole("status").filter({ hasText: "The codes are copied." })).toBeVisible();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  expect(copied).toBe(saved);
  await section.getByRole("button", { name: "Done" }).click();
  // Shown once: gone for good once done.
  await expect(list).toHaveCount(0);
  await expect(section).toContainText("10 recovery codes left.");

  // The password alone no longer signs in: the app's code finishes it.
  await signOut(page);
  await passwordStep(page, user.email);
  const authCode = page.getByLabel("Authentication code");
  await expect(authCode).toBeFocused();
  await expect(authCode).toHaveAttribute("autocomplete", "one-time-code");
  await expect(authCode).toHaveAttribute("inputmode", "numeric");
  await expect(authCode).toHaveAttribute("pattern", "[0-9]*");
  await authCode.fill(app.next());
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByTestId("nav-user")).toHaveText(user.name);

  // Without the app: a recovery code, which works once.
  await signOut(page);
  await passwordStep(page, user.email);
  await page.getByRole("button", { name: "Use a recovery code instead" }).click();
  const recovery = page.getByLabel("Recovery code");
  await expect(recovery).toBeVisible();
  await recovery.fill(codes[0]);
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByTestId("nav-user")).toHaveText(user.name);

  await openAccount(page);
  await expect(twoStep(page)).toContainText("9 recovery codes left.");
});

test("a wrong code is refused on its field; out of tries, the sign-in starts over", async ({ page, request }) => {
  const user = await createVerifiedUser(request, "Mistyped");
  const { secret, app } = await enableAuthenticatorApp(request, user.email);

  await passwordStep(page, user.email);
  const code = page.getByLabel("Authentication code");
  const verify = page.getByRole("button", { name: "Verify" });

  // Checked before anything is sent.
  await verify.click();
  await expect(code).toHaveAttribute("aria-invalid", "true");
  await expect(page.locator("#code-error")).toHaveText("Enter the code from your authenticator app.");

  // The switch goes both ways.
  await page.getByRole("button", { name: "Use a recovery code instead" }).click();
  await expect(page.getByLabel("Recovery code")).toBeVisible();
  await page.getByRole("button", { name: "Use your authenticator app instead" }).click();
  await expect(code).toBeVisible();

  const wrong = wrongCode(secret);
  await code.fill(wrong);
  await verify.click();
  await expect(page.locator("#code-error")).toHaveText(
    "That code is not right, or was used already. 4 tries left.",
  );
  await expect(code).toHaveAttribute("aria-invalid", "true");
  await expect(code).toBeFocused();

  // Five tries in all; the next one finds the sign-in over (before any
  // code is checked, so a wrong one shows it as well as a right one).
  for (const left of ["3 tries left.", "2 tries left.", "One try left.", "Sign in again to get more tries."]) {
    await code.fill(wrong);
    await verify.click();
    await expect(page.locator("#code-error")).toContainText(left);
  }
  await code.fill(wrong);
  await verify.click();
  await expect(page.getByRole("alert")).toContainText("This sign-in has expired or had too many wrong codes.");
  await expect(page.getByLabel("Email address")).toHaveValue(user.email);
  await expect(page.getByLabel("Password", { exact: true })).toBeFocused();

  // The password again, then a right code.
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByLabel("Authentication code").fill(app.next());
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByTestId("nav-user")).toHaveText(user.name);
});

test("new recovery codes replace the old ones; turning the app off asks first", async ({ page, request }) => {
  const user = await createVerifiedUser(request, "Rotator");
  const { app, codes: oldCodes } = await enableAuthenticatorApp(request, user.email);
  await signInWithSecondFactor(page, user.email, app.next());
  await openAccount(page);

  const section = twoStep(page);
  await expect(section).toContainText("10 recovery codes left.");
  await section.getByRole("button", { name: "Make new recovery codes" }).click();
  const list = section.getByRole("list", { name: "Recovery codes" });
  await expect(list.getByRole("listitem")).toHaveCount(10);
  const newCodes = (await list.getByRole("listitem").allTextContents()).map((text) => text.trim());
  expect(newCodes.filter((code) => oldCodes.includes(code))).toEqual([]);
  await section.getByRole("button", { name: "Done" }).click();
  await expect(section).toContainText("10 recovery codes left.");

  // An old code no longer signs in.
  const challenge = await request.post("/api/auth/login", { data: { email: user.email, password: PASSWORD } });
  expect(challenge.status()).toBe(202);
  const refused = await request.post("/api/auth/login/second-factor", {
    data: { challenge: (await challenge.json()).challenge, recovery_code: oldCodes[0] },
  });
  expect(refused.status()).toBe(422);

  await section.getByRole("button", { name: "Turn off" }).click();
  const question = section.getByRole("alertdialog", { name: "Turn off two-step verification?" });
  await expect(question.getByRole("button", { name: "Yes, turn it off" })).toBeFocused();
  await question.getByRole("button", { name: "Cancel" }).click();
  await expect(question).toHaveCount(0);
  await expect(section).toContainText("10 recovery codes left.");

  await section.getByRole("button", { name: "Turn off" }).click();
  await question.getByRole("button", { name: "Yes, turn it off" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Two-step verification is off" })).toBeVisible();
  await expect(section.getByRole("button", { name: "Set up an authenticator app" })).toBeVisible();

  // The password alone signs in again.
  await signOut(page);
  await signIn(page, user.email);
});

test("an admin removes the two-step verification of a user who lost their phone", async ({
  page,
  browser,
  baseURL,
  request,
}) => {
  const user = await createVerifiedUser(request, "Phoneless");
  await enableAuthenticatorApp(request, user.email);
  const admin = await createVerifiedUser(request, "Helpdesk");
  makeAdmin(admin.email);
  await signIn(page, admin.email);
  await page.goto("/admin/users");
  await page.getByLabel("Search users").fill(user.email);
  const row = page.getByTestId("user-row").filter({ hasText: user.email });
  await expect(row).toHaveCount(1);

  await row.getByRole("button", { name: "Remove two-step verification" }).click();
  await expect(page.getByRole("status").filter({ hasText: `${user.name}'s two-step verification is removed` })).toBeVisible();
  // Nothing left to remove: the server says so, and the page tells.
  await row.getByRole("button", { name: "Remove two-step verification" }).click();
  await expect(page.getByRole("status").filter({ hasText: "does not use two-step verification" })).toBeVisible();

  // Both activity lists show it.
  await row.getByRole("button", { name: "Activity" }).click();
  const theirs = page.getByRole("list", { name: `Recent activity of ${user.name}` });
  await expect(theirs.getByRole("listitem").first()).toContainText("Authenticator app turned off");
  await page.goto("/account");
  const mine = page.getByRole("list", { name: "Recent activity" });
  await expect(mine.getByRole("listitem").first()).toContainText("Authenticator app turned off");

  // The password alone signs the user in again.
  const context = await browser.newContext({ baseURL });
  const userPage = await context.newPage();
  await signIn(userPage, user.email);
  await context.close();
});
