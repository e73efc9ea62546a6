import type { Page, Request } from "@playwright/test";
import {
  test,
  expect,
  createVerifiedUser,
  enableAuthenticatorApp,
  PASSWORD,
  signIn,
  signInWithSecondFactor,
} from "./fixtures";

// The second server (playwright.config.ts): a sign-in older than three
// seconds no longer allows sensitive actions (REAUTH_MAX_AGE_SECS=3).
const SHORT_TTL_URL = process.env.SHORT_TTL_URL ?? "http://localhost:3101";
const REAUTH_MAX_AGE_SECS = 3;
const NEW_PASSWORD = "Cobalt-Lantern-Orchard-64";

// Chromium logs refused requests as console errors: the 401 challenge, the
// 422 of a wrong password.
test.use({ baseURL: SHORT_TTL_URL, expectedConsoleErrors: [/status of 4(01|22)/] });

/** Signs in and opens the account page; returns when the sign-in happened at the latest. */
async function signInToAccount(page: Page, email: string): Promise<number> {
  await signIn(page, email);
  const signedInAt = Date.now();
  await page.goto("/account");
  await expect(page.getByTestId("profile-name")).toBeVisible();
  return signedInAt;
}

/**
 * Waits until the sign-in is older than the server's max_age. Nothing on the
 * page changes when that happens (the server compares the token's auth_time,
 * in whole seconds, with its own clock), so the clock itself is the
 * condition: polled, with a second for the rounding and a little margin.
 */
async function waitUntilSignInIsTooOld(signedInAt: number): Promise<void> {
  const tooOldAt = signedInAt + (REAUTH_MAX_AGE_SECS + 1) * 1_000 + 250;
  await expect.poll(() => Date.now(), { timeout: REAUTH_MAX_AGE_SECS * 4_000 }).toBeGreaterThan(tooOldAt);
}

function record(page: Page): Request[] {
  const requests: Request[] = [];
  page.on("request", (request) => {
    if (request.url().includes("/api/")) requests.push(request);
  });
  return requests;
}

/** Each request's answer: the problem code of a 401, the status otherwise. */
async function outcomes(requests: Request[]): Promise<(string | number | undefined)[]> {
  return Promise.all(
    requests.map(async (request) => {
      const response = await request.response();
      return response?.status() === 401 ? (await response.json()).code : response?.status();
    }),
  );
}

function changePasswordForm(page: Page) {
  const form = page.getByRole("form", { name: "Change password" });
  return {
    current: form.getByLabel("Current password"),
    next: form.getByLabel("New password"),
    submit: form.getByRole("button", { name: "Change password" }),
  };
}

function confirmDialog(page: Page) {
  const dialog = page.getByRole("dialog", { name: "Confirm it's you" });
  return {
    dialog,
    password: dialog.getByLabel("Password", { exact: true }),
    confirm: dialog.getByRole("button", { name: "Confirm" }),
    cancel: dialog.getByRole("button", { name: "Cancel" }),
  };
}

test("a password change after max_age asks to confirm it's you, then completes without retyping", async ({
  page,
  request,
}) => {
  const user = await createVerifiedUser(request, "Stepup");
  await waitUntilSignInIsTooOld(await signInToAccount(page, user.email));

  const requests = record(page);
  const { current, next } = changePasswordForm(page);
  await current.fill(PASSWORD);
  await next.fill(NEW_PASSWORD);
  await next.press("Enter");

  // The server asks for a recent sign-in: the dialog opens, focus in it.
  const { dialog, password, confirm } = confirmDialog(page);
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText("For your security, confirm who you are to continue.");
  await expect(password).toBeFocused();
  await expect(password).toHaveAttribute("autocomplete", "current-password");

  // A wrong password: the server's verdict on the field, and another try.
  await password.fill("Not-My-Password-1");
  await confirm.click();
  await expect(password).toHaveAttribute("aria-invalid", "true");
  await expect(dialog.locator("#reauth-password-error")).toHaveText("That is not your password.");
  await expect(password).toBeFocused();

  await password.fill(PASSWORD);
  await confirm.click();

  // The change completes as it was typed, and the focus is back where it was.
  await expect(page.getByRole("status").filter({ hasText: "Your password has been changed" })).toBeVisible();
  await expect(dialog).toBeHidden();
  await expect(next).toBeFocused();
  await expect(current).toHaveValue("");
  await expect(page.getByTestId("nav-user")).toBeVisible();

  const changes = requests.filter((r) => r.method() === "POST" && r.url().endsWith("/api/me/password"));
  const changed = await outcomes(changes);
  // Exactly one challenge, then the replay succeeded (a token that expired
  // meanwhile may add one renewal-and-replay: 3-second tokens).
  expect(changed.filter((outcome) => outcome === "insufficient_user_authentication")).toHaveLength(1);
  expect(changed.at(-1)).toBe(204);
  expect(new Set(changes.map((r) => r.postData())).size).toBe(1);
  expect(JSON.parse(changes[0].postData() ?? "{}")).toEqual({
    current_password: PASSWORD,
    new_password: NEW_PASSWORD,
  });
  const challenge = await changes[changed.indexOf("insufficient_user_authentication")].response();
  expect(await challenge?.headerValue("www-authenticate")).toContain('error="insufficient_user_authentication"');

  const proofs = await outcomes(requests.filter((r) => r.url().endsWith("/api/auth/reauthenticate")));
  expect(proofs.filter((outcome) => outcome === 422)).toHaveLength(1);
  expect(proofs.filter((outcome) => outcome === 200)).toHaveLength(1);

  const login = await request.post("/api/auth/login", { data: { email: user.email, password: NEW_PASSWORD } });
  expect(login.status()).toBe(200);
});

test("cancelling the confirmation fails the change with a readable message and changes nothing", async ({
  page,
  request,
}) => {
  const user = await createVerifiedUser(request, "Stepdown");
  await waitUntilSignInIsTooOld(await signInToAccount(page, user.email));

  const requests = record(page);
  const { current, next, submit } = changePasswordForm(page);
  await current.fill(PASSWORD);
  await next.fill(NEW_PASSWORD);
  await submit.click();

  const { dialog, password, cancel } = confirmDialog(page);
  await expect(password).toBeFocused();
  await cancel.click();
  await expect(dialog).toBeHidden();
  const cancelled = page.getByRole("alert").filter({ hasText: "Cancelled: confirm your password to do this." });
  await expect(cancelled).toBeVisible();

  // Escape cancels too, and gives the focus back to the field it came from.
  await next.press("Enter");
  await expect(password).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(cancelled).toBeVisible();
  await expect(next).toBeFocused();

  // Still signed in, the change as typed, nothing sent but the two refused tries.
  await expect(page.getByTestId("nav-user")).toBeVisible();
  await expect(next).toHaveValue(NEW_PASSWORD);
  expect(requests.filter((r) => r.url().endsWith("/api/auth/reauthenticate"))).toHaveLength(0);
  const changed = await outcomes(requests.filter((r) => r.url().endsWith("/api/me/password")));
  expect(changed.filter((outcome) => outcome === "insufficient_user_authentication")).toHaveLength(2);
  expect(changed).not.toContain(204);

  const old = await request.post("/api/auth/login", { data: { email: user.email, password: PASSWORD } });
  expect(old.status()).toBe(200);
});

test("with two-step verification on, confirming it's you takes the password, then a code", async ({
  page,
  request,
}) => {
  const user = await createVerifiedUser(request, "Stepcode");
  const { app, codes } = await enableAuthenticatorApp(request, user.email);
  // A recovery code signs in, so that the app's next code is still within
  // the step the server allows when the dialog asks for it.
  await signInWithSecondFactor(page, user.email, codes[0], { recovery: true });
  const signedInAt = Date.now();
  await page.goto("/account");
  await expect(page.getByTestId("profile-name")).toBeVisible();
  await waitUntilSignInIsTooOld(signedInAt);

  const { current, next, submit } = changePasswordForm(page);
  await current.fill(PASSWORD);
  await next.fill(NEW_PASSWORD);
  await submit.click();

  const { dialog, password, confirm } = confirmDialog(page);
  await expect(password).toBeFocused();
  await password.fill(PASSWORD);
  await confirm.click();
  // The password was right: the account's second factor is asked next.
  const code = dialog.getByLabel("Authentication code");
  await expect(code).toBeFocused();
  await expect(code).toHaveAttribute("autocomplete", "one-time-code");
  await code.fill(app.next());
  await confirm.click();

  await expect(page.getByRole("status").filter({ hasText: "Your password has been changed" })).toBeVisible();
  await expect(dialog).toBeHidden();
  const login = await request.post("/api/auth/login", { data: { email: user.email, password: NEW_PASSWORD } });
  expect(login.status()).toBe(202);
});
