import type { CDPSession } from "@playwright/test";
import { test, expect, createVerifiedUser, signIn, waitForHydration, type Page } from "./fixtures";

// A refused passkey is a 400 the page shows.
test.use({ expectedConsoleErrors: [/status of 400/] });

/**
 * Chromium's virtual authenticator (the DevTools protocol's WebAuthn
 * domain): a platform authenticator that keeps discoverable credentials,
 * verifies its user and answers without a touch.
 */
async function virtualAuthenticator(page: Page): Promise<{ cdp: CDPSession; id: string }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, id: authenticatorId };
}

/**
 * Signs out and waits for the server to end the session. Not for the
 * "Sign in" link: signing out opens the sign-in page, whose autofill the
 * virtual authenticator may answer at once, signing the user back in
 * with a passkey the server still takes.
 */
async function signOut(page: Page): Promise<void> {
  const ended = page.waitForResponse((response) => response.url().endsWith("/api/auth/logout"));
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  expect((await ended).ok()).toBe(true);
}

/**
 * Opens the sign-in page and types nothing. The page offers the site's
 * passkeys in the email field's autofill as it opens (conditional
 * mediation), and the virtual authenticator answers such a request at once,
 * as a user picking the suggestion would.
 */
async function openSignInAndTypeNothing(page: Page): Promise<void> {
  await page.goto("/login");
}

test("a passkey is added, signs in with no email typed, is removed, and then signs in no more", async ({
  page,
  request,
}) => {
  const user = await createVerifiedUser(request, "Passkey");
  const authenticator = await virtualAuthenticator(page);
  await signIn(page, user.email);
  await page.goto("/account");
  await waitForHydration(page);

  const section = page.getByRole("region", { name: "Passkeys" });
  await expect(section.getByText("No passkeys yet.", { exact: false })).toBeVisible();
  const name = section.getByLabel("Passkey name");
  // Suggested from the device ("Chrome on Linux"), and the user's to change.
  await expect(name).not.toHaveValue("");
  await name.fill("Test laptop");
  await section.getByRole("button", { name: "Add a passkey" }).click();
  await expect(section.getByText("Passkey “Test laptop” added", { exact: false })).toBeVisible();
  const listed = section.getByRole("list", { name: "Your passkeys" }).getByRole("listitem");
  await expect(listed).toHaveCount(1);
  await expect(listed.first()).toContainText("Test laptop");
  await expect(listed.first()).toContainText("Not used yet.");
  const { credentials } = await authenticator.cdp.send("WebAuthn.getCredentials", {
    authenticatorId: authenticator.id,
  });
  expect(credentials).toHaveLength(1);
  expect(credentials[0].isResidentCredential).toBe(true);

  await signOut(page);
  await openSignInAndTypeNothing(page);
  await expect(page.getByTestId("nav-user")).toHaveText(user.name);
  await expect(page).not.toHaveURL(/\/login/);

  await page.goto("/account");
  await expect(listed.first()).toContainText("Last used");
  await listed.first().getByRole("button", { name: "Remove Test laptop" }).click();
  await section.getByRole("button", { name: "Yes, remove it" }).click();
  await expect(section.getByText("Passkey removed", { exact: false })).toBeVisible();
  await expect(section.getByText("No passkeys yet.", { exact: false })).toBeVisible();

  // The authenticator still has it; the server no longer takes it: not
  // from the autofill, nor from the button.
  await signOut(page);
  await openSignInAndTypeNothing(page);
  const refusal = page.getByRole("alert");
  await expect(refusal).toContainText("No account has this passkey");
  await waitForHydration(page);
  const answered = page.waitForResponse((response) => response.url().endsWith("/api/auth/passkey/login"));
  await page.getByRole("button", { name: "Sign in with a passkey" }).click();
  expect((await answered).status()).toBe(400);
  await expect(refusal).toContainText("No account has this passkey");
  await expect(page.getByLabel("Email address")).toHaveValue("");
  await expect(
    page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sign in", exact: true }),
  ).toBeVisible();
});

test("a passkey is renamed", async ({ page, request }) => {
  const user = await createVerifiedUser(request, "Rename");
  await virtualAuthenticator(page);
  await signIn(page, user.email);
  await page.goto("/account");
  await waitForHydration(page);
  const section = page.getByRole("region", { name: "Passkeys" });
  await section.getByLabel("Passkey name").fill("Phone");
  await section.getByRole("button", { name: "Add a passkey" }).click();
  const listed = section.getByRole("list", { name: "Your passkeys" }).getByRole("listitem");
  await expect(listed).toHaveCount(1);

  await listed.first().getByRole("button", { name: "Rename Phone" }).click();
  const rename = listed.first().getByLabel("New name");
  await expect(rename).toBeFocused();
  await rename.fill("Work phone");
  await listed.first().getByRole("button", { name: "Save name" }).click();
  await expect(listed.first()).toContainText("Work phone");
  await expect(section.getByText("Passkey renamed.")).toBeVisible();
});

// The second server (playwright.config.ts): a sign-in older than three
// seconds no longer allows sensitive actions.
const SHORT_TTL_URL = process.env.SHORT_TTL_URL ?? "http://localhost:3101";

test.describe("with a short max_age", () => {
  test.use({ baseURL: SHORT_TTL_URL, expectedConsoleErrors: [/status of 4(00|01)/] });

  test("a stale sign-in is confirmed with the passkey, offered first", async ({ page, request }) => {
    const user = await createVerifiedUser(request, "StepUp");
    await virtualAuthenticator(page);
    await signIn(page, user.email);
    await page.goto("/account");
    await waitForHydration(page);
    const section = page.getByRole("region", { name: "Passkeys" });
    const dialog = page.getByRole("dialog", { name: "Confirm it's you" });

    // Adding one may already ask: with no passkey yet, the password.
    await section.getByLabel("Passkey name").fill("Laptop");
    await section.getByRole("button", { name: "Add a passkey" }).click();
    const added = section.getByText("Passkey “Laptop” added", { exact: false });
    await expect(added.or(dialog)).toBeVisible();
    if (await dialog.isVisible()) {
      await expect(dialog.getByRole("button", { name: "Use your passkey" })).toHaveCount(0);
      await dialog.getByLabel("Password", { exact: true }).fill(user.password);
      await dialog.getByRole("button", { name: "Confirm" }).click();
    }
    await expect(added).toBeVisible();

    // Later (past max_age), removing it asks, and offers the passkey first.
    const listed = section.getByRole("list", { name: "Your passkeys" }).getByRole("listitem");
    await expect.poll(() => Date.now(), { timeout: 15_000 }).toBeGreaterThan(Date.now() + 4_500);
    await listed.first().getByRole("button", { name: "Remove Laptop" }).click();
    await section.getByRole("button", { name: "Yes, remove it" }).click();
    await expect(dialog).toBeVisible();
    const usePasskey = dialog.getByRole("button", { name: "Use your passkey" });
    await expect(usePasskey).toBeVisible();
    await usePasskey.click();
    await expect(dialog).toBeHidden();
    await expect(section.getByText("Passkey removed", { exact: false })).toBeVisible();
  });
});
