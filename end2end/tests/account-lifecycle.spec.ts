import { readFileSync } from "node:fs";
import type { APIRequestContext, Page } from "@playwright/test";
import {
  test,
  expect,
  confirmEmailLink,
  createVerifiedUser,
  makeAdmin,
  PASSWORD,
  resetLink,
  signIn,
  undoEmailLink,
  uniqueEmail,
  waitForHydration,
} from "./fixtures";

// The account's lifecycle from its page: moving to another address (the
// link to the new one, the undo from the old one), the download of its
// data, and deleting it (by its owner, and by an admin).

// Refused sign-ins and dead links answer 4xx, which Chromium logs.
test.use({ expectedConsoleErrors: [/status of 4(00|01)/] });

async function openAccount(page: Page, email: string): Promise<void> {
  await signIn(page, email);
  await page.goto("/account");
  await expect(page.getByTestId("profile-email")).toHaveText(email);
}

async function signInStatus(request: APIRequestContext, email: string, password = PASSWORD): Promise<number> {
  return (await request.post("/api/auth/login", { data: { email, password } })).status();
}

function emailSection(page: Page) {
  return page.getByRole("region", { name: "Email address" });
}

async function askForChange(page: Page, newEmail: string): Promise<void> {
  const section = emailSection(page);
  await section.getByLabel("New email address").fill(newEmail);
  await section.getByRole("button", { name: "Send confirmation link" }).click();
  await expect(section.getByRole("status").filter({ hasText: "Check the new address's inbox" })).toBeVisible();
  await expect(section.getByTestId("pending-email-change")).toContainText(newEmail);
}

/** Opens a mailed link and presses its one button. */
async function followLink(page: Page, link: string, button: string): Promise<void> {
  await page.goto(link);
  await waitForHydration(page);
  await page.getByRole("button", { name: button }).click();
}

test("a new address is confirmed from its mail, and the old address can undo it", async ({ page, request, browser, baseURL }) => {
  const user = await createVerifiedUser(request, "Mover");
  const newEmail = uniqueEmail("moved");
  await openAccount(page, user.email);
  await askForChange(page, newEmail);
  // Until the link is opened, sign-in keeps the old address.
  expect(await signInStatus(request, newEmail)).toBe(401);

  await followLink(page, await confirmEmailLink(request, newEmail), "Confirm new address");
  await expect(page.getByRole("status").filter({ hasText: `Your email address is now ${newEmail}` })).toBeVisible();
  expect(await signInStatus(request, newEmail)).toBe(200);
  expect(await signInStatus(request, user.email)).toBe(401);
  await page.getByRole("link", { name: "Go to your account" }).click();
  await expect(page.getByTestId("profile-email")).toHaveText(newEmail);
  await expect(emailSection(page).getByTestId("current-email")).toHaveText(newEmail);
  await expect(emailSection(page).getByTestId("pending-email-change")).toHaveCount(0);

  // The old address was told, with a way back: from another browser.
  const context = await browser.newContext({ baseURL });
  const elsewhere = await context.newPage();
  await followLink(elsewhere, await undoEmailLink(request, user.email), "Undo the change");
  await expect(elsewhere.getByRole("status").filter({ hasText: `Your email address is ${user.email} again` })).toBeVisible();
  await context.close();

  // The address is back, the password no longer works, a reset link went
  // to the old address, and this browser's session has ended.
  expect(await signInStatus(request, user.email)).toBe(401);
  expect(await signInStatus(request, newEmail)).toBe(401);
  expect(await resetLink(request, user.email)).toContain("/reset-password?token=");
  await page.reload();
  await expect(page).toHaveURL(/\/login/);
});

test("a waiting change can be sent again and cancelled, and its link then does nothing", async ({ page, request }) => {
  const user = await createVerifiedUser(request, "Hesitant");
  const newEmail = uniqueEmail("maybe");
  await openAccount(page, user.email);
  await askForChange(page, newEmail);
  const first = await confirmEmailLink(request, newEmail);

  const section = emailSection(page);
  await section.getByRole("button", { name: "Send the link again" }).click();
  const second = await confirmEmailLink(request, newEmail, [first]);
  expect(second).not.toBe(first);

  await section.getByRole("button", { name: "Cancel the change" }).click();
  await expect(section.getByRole("status").filter({ hasText: "The change is cancelled" })).toBeVisible();
  await expect(section.getByTestId("pending-email-change")).toHaveCount(0);
  await page.reload();
  await expect(emailSection(page).getByTestId("current-email")).toHaveText(user.email);
  await expect(emailSection(page).getByTestId("pending-email-change")).toHaveCount(0);

  await followLink(page, second, "Confirm new address");
  await expect(page.getByTestId("invalid-link")).toContainText("This link is not valid");
  expect(await signInStatus(request, newEmail)).toBe(401);
});

test("the account's data downloads as JSON holding no secret", async ({ page, request }) => {
  const user = await createVerifiedUser(request, "Exporter");
  await openAccount(page, user.email);
  const section = page.getByRole("region", { name: "Your data" });
  const download = page.waitForEvent("download");
  await section.getByRole("button", { name: "Download your data" }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe("account-export.json");
  const text = readFileSync((await file.path())!, "utf8");
  const data = JSON.parse(text);
  expect(data.profile.email).toBe(user.email);
  expect(data.profile.name).toBe("Exporter");
  expect(data.sessions.length).toBeGreaterThan(0);
  expect(data.activity.map((event: { kind: string }) => event.kind)).toContain("signed_in");
  expect(text).not.toMatch(/argon2|hash|secret|token/i);
  await expect(section.getByRole("status")).toContainText("account-export.json");
});

test("deleting the account after its confirmation signs out to the home page, and the account is gone", async ({ page, request }) => {
  const user = await createVerifiedUser(request, "Leaver");
  await openAccount(page, user.email);
  const section = page.getByRole("region", { name: "Delete your account" });
  await section.getByRole("button", { name: "Delete account…" }).click();
  const question = section.getByRole("alertdialog");
  await expect(question).toContainText(`Delete the account ${user.email} and everything in it?`);
  const confirm = question.getByRole("button", { name: "Yes, delete my account" });
  await expect(confirm).toBeFocused();

  // Changing one's mind changes nothing.
  await question.getByRole("button", { name: "Keep my account" }).click();
  await expect(section.getByRole("alertdialog")).toHaveCount(0);
  expect(await signInStatus(request, user.email)).toBe(200);

  await section.getByRole("button", { name: "Delete account…" }).click();
  await section.getByRole("button", { name: "Yes, delete my account" }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("status").filter({ hasText: "Your account and everything in it has been deleted." })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sign in", exact: true })).toBeVisible();
  expect(await signInStatus(request, user.email)).toBe(401);

  // Signing in with it through the page fails too.
  await page.goto("/login");
  await waitForHydration(page);
  await page.getByLabel("Email address").fill(user.email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("alert").filter({ hasText: "The email address or password is incorrect" })).toBeVisible();
});

test("an admin deletes another account after a confirmation that names it", async ({ page, request }) => {
  const admin = await createVerifiedUser(request, "Deleter");
  makeAdmin(admin.email);
  const victim = await createVerifiedUser(request, "Removable");
  await signIn(page, admin.email);
  await page.goto("/admin/users");
  await waitForHydration(page);
  await page.getByLabel("Search users").fill(victim.email);
  const row = page.getByTestId("user-row").filter({ hasText: victim.email });
  await expect(row).toHaveCount(1);
  // One's own row has no delete button.
  await page.getByLabel("Search users").fill(admin.email);
  await expect(page.getByTestId("user-row").filter({ hasText: admin.email })).toHaveCount(1);
  await expect(page.getByTestId("user-row").filter({ hasText: admin.email }).getByRole("button", { name: "Delete…" })).toHaveCount(0);

  await page.getByLabel("Search users").fill(victim.email);
  await row.getByRole("button", { name: "Delete…" }).click();
  const question = page.getByRole("alertdialog");
  await expect(question).toContainText(`Delete the account of Removable (${victim.email}) and everything in it?`);
  await question.getByRole("button", { name: "Yes, delete the account" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Removable's account and everything in it is deleted" })).toBeVisible();
  await expect(row).toHaveCount(0);
  expect(await signInStatus(request, victim.email)).toBe(401);
});

test("a list answer read before a deletion does not bring the deleted account back", async ({ page, request }) => {
  const admin = await createVerifiedUser(request, "Lister");
  makeAdmin(admin.email);
  const victim = await createVerifiedUser(request, "Reappearing");
  await signIn(page, admin.email);
  await page.goto("/admin/users");
  await waitForHydration(page);
  const search = page.getByLabel("Search users");
  await search.fill(victim.email);
  const row = page.getByTestId("user-row").filter({ hasText: victim.email });
  await expect(row).toHaveCount(1);
  await expect(page).toHaveURL(/[?&]q=/);

  // The next list request is answered by the server at once (the account
  // still exists) but reaches the page only after the deletion has.
  let deleted!: () => void;
  const deletion = new Promise<void>((resolve) => (deleted = resolve));
  let held = false;
  await page.route(/\/api\/users\?/, async (route) => {
    if (held) return route.continue();
    held = true;
    const answer = await route.fetch();
    await deletion;
    await route.fulfill({ response: answer });
  });
  page.on("response", (response) => {
    if (response.request().method() === "DELETE" && /\/api\/users\//.test(response.url())) deleted();
  });
  const listed = page.waitForRequest(/\/api\/users\?/);
  // A narrower search that still finds the account starts the request.
  await search.fill(victim.email.slice(0, -1));
  await listed;

  await row.getByRole("button", { name: "Delete…" }).click();
  await page.getByRole("alertdialog").getByRole("button", { name: "Yes, delete the account" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Reappearing's account and everything in it is deleted" })).toBeVisible();
  await expect(row).toHaveCount(0);
  await expect(page.getByRole("status").filter({ hasText: "No account matches" })).toBeVisible();
});
