import { test, expect, createVerifiedUser, makeAdmin, signIn, PASSWORD } from "./fixtures";

// The wrong password below is a 401 the browser logs as a console error.
test.use({ expectedConsoleErrors: [/status of 401/] });

test("the account page lists recent activity, failed sign-ins marked; an admin sees it too", async ({
  page,
  browser,
  baseURL,
  request,
}) => {
  const user = await createVerifiedUser(request, "Watchful");
  const wrong = await request.post("/api/auth/login", {
    data: { email: user.email, password: `${PASSWORD}-wrong` },
  });
  expect(wrong.status()).toBe(401);

  await signIn(page, user.email);
  await page.goto("/account");
  const activity = page.getByRole("list", { name: "Recent activity" });
  await expect(activity.getByRole("listitem").first()).toContainText("Signed in");
  await expect(activity.getByRole("listitem").nth(1)).toContainText("Failed sign-in");
  await expect(activity.getByRole("listitem").first()).toContainText("IP address");

  const admin = await createVerifiedUser(request, "Overseer");
  makeAdmin(admin.email);
  const context = await browser.newContext({ baseURL });
  const adminPage = await context.newPage();
  await signIn(adminPage, admin.email);
  await adminPage.goto("/admin/users");
  await adminPage.getByLabel("Search users").fill(user.email);
  const row = adminPage.getByTestId("user-row").filter({ hasText: user.email });
  await expect(row).toHaveCount(1);
  await row.getByRole("button", { name: "Activity" }).click();
  const theirs = adminPage.getByRole("list", { name: `Recent activity of ${user.name}` });
  await expect(theirs.getByRole("listitem").first()).toContainText("Signed in");
  await expect(theirs).toContainText("Failed sign-in");
  await context.close();
});
