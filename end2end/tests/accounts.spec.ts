import {
  test,
  expect,
  createVerifiedUser,
  PASSWORD,
  signIn,
  uniqueEmail,
  verificationLink,
  waitForHydration,
} from "./fixtures";

test("register, follow the mailed link, enter the password and land signed in on the account", async ({ page }) => {
  const email = uniqueEmail("Grace");
  await page.goto("/register");
  await waitForHydration(page);
  await page.getByLabel("Name").fill("Grace Hopper");
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByTestId("registered")).toContainText(email);
  await expect(page.getByRole("status").filter({ hasText: "check your inbox" })).toBeVisible();

  // From the development mailbox: follow the link, then confirm with the password.
  await page.goto("/dev/mailbox");
  await waitForHydration(page);
  const message = page.getByTestId("mail").filter({ hasText: email });
  await message.getByRole("link").first().click();
  await expect(page).toHaveURL(/\/verify-email\?token=/);
  await waitForHydration(page);
  await page.getByLabel("Your password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Confirm and sign in" }).click();

  // Confirming signs in and lands on the account.
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId("nav-user")).toHaveText("Grace Hopper");
  await expect(page.getByTestId("profile-email")).toHaveText(email);
  await expect(page.getByTestId("profile-name")).toHaveText("Grace Hopper");
});

test("opening the emailed link confirms nothing until the password is entered", async ({ page, request }) => {
  const email = uniqueEmail("Scanner");
  await request.post("/api/auth/register", { data: { email, password: PASSWORD, name: "Scanner" } });
  const link = await verificationLink(request, email);

  // What a mail scanner or a link preview does: load the page, run its scripts.
  await page.goto(link);
  await waitForHydration(page);
  const confirm = page.getByRole("button", { name: "Confirm and sign in" });
  await expect(confirm).toBeEnabled();
  // Not confirmed: signing in answers as for an unknown address.
  const login = await request.post("/api/auth/login", { data: { email, password: PASSWORD } });
  expect(login.status()).toBe(401);
  expect((await login.json()).code).toBe("invalid_credentials");

  await page.getByLabel("Your password", { exact: true }).fill(PASSWORD);
  await confirm.click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId("profile-email")).toHaveText(email);
  const again = await request.post("/api/auth/login", { data: { email, password: PASSWORD } });
  expect(again.status()).toBe(200);
});

test.describe("confirming a sign-up", () => {
  // The refused tries below are 4xx answers the browser logs as console errors.
  test.use({ expectedConsoleErrors: [/status of 4(00|22)/] });

  test("a wrong password is refused under the field; the right one signs in", async ({ page, request }) => {
    const email = uniqueEmail("Whole");
    await page.goto("/register");
    await waitForHydration(page);
    await page.getByLabel("Name").fill("Whole Flow");
    await page.getByLabel("Email address").fill(email);
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page.getByTestId("registered")).toContainText(email);

    await page.goto(await verificationLink(request, email));
    await waitForHydration(page);
    const password = page.getByLabel("Your password", { exact: true });
    await expect(password).toHaveAttribute("autocomplete", "current-password");
    await expect(page.getByText("Enter the password you chose when you signed up")).toBeVisible();

    // Not the password of this sign-up: the server's verdict under the field, the form stays.
    await password.fill("Not-The-Password-1");
    const refused = page.waitForResponse("**/api/auth/verify-email");
    await page.getByRole("button", { name: "Confirm and sign in" }).click();
    expect((await refused).status()).toBe(422);
    await expect(password).toHaveAttribute("aria-invalid", "true");
    await expect(page.locator("#password-error")).not.toBeEmpty();
    await expect(page.getByRole("alert")).toBeVisible();
    await expect(page).toHaveURL(/\/verify-email\?token=/);

    // The link is still good: the right password confirms and signs in.
    await password.fill(PASSWORD);
    await expect(password).toHaveAttribute("aria-invalid", "false");
    await page.getByRole("button", { name: "Confirm and sign in" }).click();
    await expect(page).toHaveURL(/\/account$/);
    await expect(page.getByTestId("nav-user")).toHaveText("Whole Flow");
    await expect(page.getByTestId("profile-email")).toHaveText(email);
  });

  test("a second sign-up for the same address cannot take the account over", async ({
    page,
    browser,
    baseURL,
    request,
  }) => {
    const email = uniqueEmail("Owner");
    const attackerPassword = "Granite-Otter-Lantern-47";

    // The owner signs up, then someone else signs up with the same address.
    const owner = await request.post("/api/auth/register", { data: { email, password: PASSWORD, name: "Owner" } });
    expect(owner.status()).toBe(202);
    const ownerLink = await verificationLink(request, email);
    const attacker = await request.post("/api/auth/register", {
      data: { email, password: attackerPassword, name: "Attacker" },
    });
    expect(attacker.status()).toBe(202);
    const attackerLink = await verificationLink(request, email, { except: [ownerLink] });
    const attackerToken = new URL(attackerLink).searchParams.get("token");
    // The second sign-up's link is live: a wrong password is refused, not the link.
    const probe = await request.post("/api/auth/verify-email", {
      data: { token: attackerToken, password: "Not-The-Password-1" },
    });
    expect(probe.status()).toBe(422);

    // The owner opens the link from the first mail, their own, and confirms with their password.
    await page.goto(ownerLink);
    await waitForHydration(page);
    await page.getByLabel("Your password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Confirm and sign in" }).click();
    await expect(page).toHaveURL(/\/account$/);
    await expect(page.getByTestId("profile-email")).toHaveText(email);
    await expect(page.getByTestId("profile-name")).toHaveText("Owner");

    // The account has the owner's password, not the other one.
    const withAttackers = await request.post("/api/auth/login", { data: { email, password: attackerPassword } });
    expect(withAttackers.status()).toBe(401);
    expect((await withAttackers.json()).code).toBe("invalid_credentials");
    const withOwners = await request.post("/api/auth/login", { data: { email, password: PASSWORD } });
    expect(withOwners.status()).toBe(200);

    // And the other sign-up is gone: its link, with its own password, is dead.
    const elsewhere = await browser.newContext({ baseURL });
    const attackerPage = await elsewhere.newPage();
    await attackerPage.goto(attackerLink);
    await waitForHydration(attackerPage);
    await attackerPage.getByLabel("Your password", { exact: true }).fill(attackerPassword);
    const answered = attackerPage.waitForResponse("**/api/auth/verify-email");
    await attackerPage.getByRole("button", { name: "Confirm and sign in" }).click();
    expect((await answered).status()).toBe(400);
    await expect(attackerPage.getByRole("alert")).toBeVisible();
    await expect(attackerPage.getByLabel("Your password", { exact: true })).toHaveCount(0);
    await expect(attackerPage.getByRole("button", { name: "Send a new link" })).toBeVisible();
    await elsewhere.close();
  });
});

test.describe("refusals", () => {
  test.use({ expectedConsoleErrors: [/status of 4(00|01|03|22)/] });

  test("a wrong password says so", async ({ page, request }) => {
    const user = await createVerifiedUser(request, "Wrong");
    await page.goto("/login");
    await waitForHydration(page);
    await page.getByLabel("Email address").fill(user.email);
    await page.getByLabel("Password", { exact: true }).fill("Not-The-Password-1");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect(page.getByRole("alert")).toContainText("The email address or password is incorrect.");
    await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sign in", exact: true })).toBeVisible();
  });

  test("signing in before verifying explains what to do", async ({ page, request }) => {
    const email = uniqueEmail("Early");
    await request.post("/api/auth/register", { data: { email, password: PASSWORD, name: "Early" } });
    await page.goto("/login");
    await waitForHydration(page);
    await page.getByLabel("Email address").fill(email);
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    // Refused as for a wrong password (the server tells nobody the address is
    // signing up), with a word for those who have just signed up.
    await expect(page.getByRole("alert")).toContainText("The email address or password is incorrect.");
    await expect(page.getByRole("alert")).toContainText(
      "If you have just signed up, confirm your address with the link we emailed you first.",
    );
    // And offers a new link, out of the way until asked for.
    const resend = page.getByRole("button", { name: "Send a new link" });
    await expect(resend).toBeHidden();
    await page.getByText("Didn't get the email?").click();
    await expect(page.getByLabel("Send a new link to")).toHaveValue(email);
    await resend.click();
    await expect(page.getByRole("status").filter({ hasText: "new link" })).toBeVisible();
  });

  test("a verification link without its token says so and offers a new one", async ({ page }) => {
    await page.goto("/verify-email");
    await waitForHydration(page);
    await expect(page.getByRole("alert")).toContainText("This link is incomplete");
    await expect(page.getByRole("button", { name: "Confirm and sign in" })).toHaveCount(0);
    await expect(page.getByLabel("Your password", { exact: true })).toHaveCount(0);
    await expect(page.getByRole("button", { name: "Send a new link" })).toBeVisible();
  });

  test("a used verification link says so after the click", async ({ page, request }) => {
    const user = await createVerifiedUser(request, "Used");
    const link = await verificationLink(request, user.email);
    await page.goto(link);
    await waitForHydration(page);
    await page.getByLabel("Your password", { exact: true }).fill(user.password);
    await page.getByRole("button", { name: "Confirm and sign in" }).click();
    // The link is refused, not the password: the form gives way to a new link.
    await expect(page.getByRole("alert")).toBeVisible();
    await expect(page.getByLabel("Your password", { exact: true })).toHaveCount(0);
    await expect(page.getByRole("button", { name: "Send a new link" })).toBeVisible();
  });

  test("the server's verdict on a weak password appears under the password", async ({ page }) => {
    await page.goto("/register");
    await waitForHydration(page);
    await page.getByLabel("Name").fill("Weak");
    await page.getByLabel("Email address").fill(uniqueEmail("Weak"));
    await page.getByLabel("Password", { exact: true }).fill("password123");
    const responded = page.waitForResponse("**/api/auth/register");
    await page.getByRole("button", { name: "Create account" }).click();
    expect((await responded).status()).toBe(422);
    await expect(page.locator("#password-error")).toContainText("too easy to guess");
    await expect(page.getByLabel("Password", { exact: true })).toHaveAttribute("aria-invalid", "true");
  });
});

test("field errors appear next to their fields", async ({ page }) => {
  await page.goto("/register");
  await waitForHydration(page);
  const email = page.getByLabel("Email address");
  await email.fill("not-an-email");
  await email.blur();
  await expect(email).toHaveAttribute("aria-invalid", "true");
  const describedBy = await email.getAttribute("aria-describedby");
  await expect(page.locator(`#${describedBy}`)).toHaveText("Enter an email address like name@example.com.");

  // Submitting shows every rule at once, without asking the server.
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.locator("#name-error")).toHaveText("Enter your name.");
  await expect(page.locator("#password-error")).toHaveText("Choose a password.");

  // Fixing a field clears its message as the user types.
  await email.fill("grace@example.com");
  await expect(email).toHaveAttribute("aria-invalid", "false");
  await expect(page.locator("#email-error")).toHaveCount(0);
});

test("a reload keeps the user signed in", async ({ page, request }) => {
  const user = await createVerifiedUser(request, "Reload");
  await signIn(page, user.email);
  await page.goto("/account");
  await expect(page.getByTestId("profile-email")).toHaveText(user.email);
  await page.reload();
  await expect(page.getByTestId("profile-email")).toHaveText(user.email);
  await expect(page).toHaveURL(/\/account$/);
});

test("a signed-out visit to the account page returns there after signing in", async ({ page, request }) => {
  const user = await createVerifiedUser(request, "Return");
  await page.goto("/account");
  await expect(page).toHaveURL(/\/login\?next=\/account$/);
  await signIn(page, user.email);
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.getByTestId("profile-email")).toHaveText(user.email);
});

test("a protected page never flashes the login form for a signed-in user", async ({ page, request }) => {
  const user = await createVerifiedUser(request, "Flash");
  await signIn(page, user.email);
  // Hold the session restore back so the in-between state can be seen.
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route("**/api/auth/refresh", async (route) => {
    await held;
    await route.continue();
  });
  await page.goto("/account");
  await expect(page.getByTestId("loading")).toBeVisible();
  await expect(page.getByLabel("Password", { exact: true })).toHaveCount(0);
  await expect(page).toHaveURL(/\/account$/);
  release();
  await expect(page.getByTestId("profile-email")).toHaveText(user.email);
});

test("after login no token is readable by scripts", async ({ page, request, context }) => {
  const user = await createVerifiedUser(request, "Storage");
  const login = page.waitForResponse("**/api/auth/login");
  await signIn(page, user.email);
  const { access_token: accessToken } = await (await login).json();
  const refreshCookie = (await context.cookies()).find((cookie) => cookie.name === "refresh_token");
  expect(refreshCookie?.httpOnly).toBe(true);
  expect(refreshCookie?.sameSite).toBe("Strict");

  const visible = await page.evaluate(() => ({
    local: JSON.stringify({ ...localStorage }),
    session: JSON.stringify({ ...sessionStorage }),
    cookies: document.cookie,
  }));
  for (const secret of [accessToken as string, refreshCookie!.value]) {
    expect(secret.length).toBeGreaterThan(20);
    expect(visible.local).not.toContain(secret);
    expect(visible.session).not.toContain(secret);
    expect(visible.cookies).not.toContain(secret);
  }
  expect(visible.cookies).toBe("session_hint=1");
});

test("signing out in one tab signs out the others at once, told by the tab itself", async ({ context, request }) => {
  const user = await createVerifiedUser(request, "Tabs");
  const first = await context.newPage();
  await signIn(first, user.email);
  const second = await context.newPage();
  await second.goto("/account");
  await expect(second.getByTestId("profile-email")).toHaveText(user.email);

  // The other tab learns of the sign-out from the tab that signed out, not
  // from the server: it waits neither for its access token to be refused
  // nor for its next renewal (minutes away), so it sends no token and asks
  // for no renewal. (The sign-in page it lands on may ask for passkey
  // options, without a token.)
  const asked: string[] = [];
  second.on("request", (sent) => {
    const path = new URL(sent.url()).pathname;
    if (sent.headers()["authorization"] !== undefined || path === "/api/auth/refresh") asked.push(path);
  });
  await first.getByRole("button", { name: "Sign out" }).click();
  await expect(second.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sign in", exact: true })).toBeVisible();
  await expect(second).toHaveURL(/\/login\?next=\/account$/);
  expect(asked).toEqual([]);
});

test("signing in in one tab restores the session in the others", async ({ context, request }) => {
  const user = await createVerifiedUser(request, "Join");
  const waiting = await context.newPage();
  await waiting.goto("/");
  await waitForHydration(waiting);
  await expect(waiting.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sign in", exact: true })).toBeVisible();

  const active = await context.newPage();
  await signIn(active, user.email);
  await expect(waiting.getByTestId("greeting")).toHaveText(`Welcome back, ${user.name}!`);
});

test("signing in and out works from the keyboard alone", async ({ page, request }) => {
  const user = await createVerifiedUser(request, "Keys");
  await page.goto("/login");
  await waitForHydration(page);
  /** Presses Tab until the focused element matches, as a keyboard user would. */
  const tabTo = async (matches: (element: { id: string; text: string }) => boolean, what: string) => {
    for (let step = 0; step < 20; step += 1) {
      await page.keyboard.press("Tab");
      const focused = await page.evaluate(() => ({
        id: document.activeElement?.id ?? "",
        text: document.activeElement?.textContent?.trim() ?? "",
      }));
      if (matches(focused)) return;
    }
    throw new Error(`could not reach ${what} with Tab`);
  };
  await tabTo(({ id }) => id === "email", "the email field");
  await page.keyboard.type(user.email);
  await page.keyboard.press("Tab");
  await page.keyboard.type(user.password);
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("nav-user")).toHaveText(user.name);

  await tabTo(({ text }) => text === "Account", "the account link");
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("profile-email")).toHaveText(user.email);
  await tabTo(({ text }) => text === "Sign out everywhere", "the sign-out-everywhere button");
  await expect(page.getByRole("button", { name: "Sign out everywhere" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Sign in", exact: true })).toBeVisible();
});

test("a new name shows in the header and on the home page at once", async ({ page, request }) => {
  const user = await createVerifiedUser(request, "Ada");
  await signIn(page, user.email);
  await expect(page.getByTestId("nav-user")).toHaveText(user.name);
  const nav = page.getByRole("navigation", { name: "Main" });
  await nav.getByRole("link", { name: "Account", exact: true }).click();
  await expect(page.getByTestId("profile-email")).toHaveText(user.email);

  const renamed = "Ada King";
  await page.getByRole("textbox", { name: "Name", exact: true }).fill(renamed);
  await page.getByRole("button", { name: "Save name" }).click();
  await expect(page.getByTestId("profile-name")).toHaveText(renamed);
  // No reload: the one signed-in user changed, and everything shows it.
  await expect(page.getByTestId("nav-user")).toHaveText(renamed);
  await nav.getByRole("link", { name: "Home", exact: true }).click();
  await expect(page.getByTestId("greeting")).toHaveText(`Welcome back, ${renamed}!`);
});
