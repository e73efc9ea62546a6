import type { APIRequestContext, Page } from "@playwright/test";
import {
  test,
  expect,
  createVerifiedUser,
  makeAdmin,
  PASSWORD,
  signIn,
  signedInElsewhere,
  waitForHydration,
} from "./fixtures";

// Refusals the tests provoke on purpose show up as console errors: 401 for
// a session that has ended, 403 for a user at an admin action, 412 for a
// stale edit, 404 for a deleted person, 422 for a refused field.
test.use({ expectedConsoleErrors: [/status of 4(01|03|04|12|22)/] });

function unique(prefix: string): string {
  return `${prefix} ${Math.random().toString(36).slice(2, 8)}`;
}

/** Adds a person through the API, signed in as `email`; returns the person's page. */
async function addPersonViaApi(request: APIRequestContext, email: string, name: string): Promise<string> {
  const login = await request.post("/api/auth/login", { data: { email, password: PASSWORD } });
  expect(login.status()).toBe(200);
  const { access_token } = (await login.json()) as { access_token: string };
  const created = await request.post("/api/people", {
    data: { name, email: "", phone: "+44 20 7946 0000", notes: "" },
    headers: { Authorization: `Bearer ${access_token}` },
  });
  expect(created.status()).toBe(201);
  const { id } = (await created.json()) as { id: string };
  return `/people/${id}`;
}

function mainNav(page: Page) {
  return page.getByRole("navigation", { name: "Main" });
}

async function openPerson(page: Page, href: string, name: string): Promise<void> {
  await page.goto(href);
  await waitForHydration(page);
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
}

test("a user adds, finds and edits a person but cannot delete; an admin deletes after confirming", async ({
  page,
  browser,
  baseURL,
  request,
}) => {
  const admin = await createVerifiedUser(request, "Admina");
  makeAdmin(admin.email);
  const user = await createVerifiedUser(request, "Uma");
  const name = unique("Grace Hopper");

  await signIn(page, user.email);
  await expect(mainNav(page).getByRole("link", { name: "People" })).toBeVisible();
  await expect(mainNav(page).getByRole("link", { name: "Users" })).toHaveCount(0);
  await mainNav(page).getByRole("link", { name: "People" }).click();
  await expect(page).toHaveURL(/\/people$/);

  // A search that matches nobody says so.
  await page.getByLabel("Search people").fill("zz-nobody-here");
  await expect(page.getByTestId("people-summary")).toHaveText("Nobody matches “zz-nobody-here”.");

  await page.getByRole("link", { name: "Add a person" }).click();
  await expect(page).toHaveURL(/\/people\/new$/);
  await waitForHydration(page);
  // The shared rules apply before anything is sent.
  // Leaving a field shows its verdict; submitting shows every field's.
  await page.getByLabel("Email", { exact: true }).fill("not-an-address");
  await page.getByLabel("Email", { exact: true }).blur();
  await expect(page.locator("#email-error")).toHaveText("Enter an email address like name@example.com.");
  await expect(page.getByLabel("Name", { exact: true })).toHaveAttribute("aria-invalid", "false");
  await page.getByRole("button", { name: "Add person" }).click();
  await expect(page.getByLabel("Name", { exact: true })).toHaveAttribute("aria-invalid", "true");
  await expect(page.getByRole("alert").filter({ hasText: "Please correct the fields below." })).toBeVisible();

  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Email", { exact: true }).fill("grace@example.com");
  await page.getByLabel("Phone").fill("+1 212 555 0100");
  await page.getByLabel("Notes").fill("Found the first bug.");
  await page.getByRole("button", { name: "Add person" }).click();
  await expect(page).toHaveURL(/\/people\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  await expect(page.getByTestId("person-phone")).toHaveText("+1 212 555 0100");
  const personPath = new URL(page.url()).pathname;

  // Edit.
  await page.getByRole("button", { name: "Edit" }).click();
  await page.getByLabel("Phone").fill("+1 212 555 0199");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Your changes have been saved." })).toBeVisible();
  await expect(page.getByTestId("person-phone")).toHaveText("+1 212 555 0199");

  // No delete for a user.
  await expect(page.getByRole("button", { name: "Delete person" })).toHaveCount(0);

  // Search as you type finds the person.
  await page.getByRole("link", { name: "← All people" }).click();
  await expect(page).toHaveURL(/\/people$/);
  await page.getByLabel("Search people").fill(name.slice(0, -2));
  await expect(page.getByRole("table", { name: "People" }).getByRole("link", { name })).toBeVisible();
  await expect(page.getByTestId("people-summary")).toHaveText("1 person on this page.");

  // The admin sees the delete button, which asks first.
  const elsewhere = await signedInElsewhere(browser, baseURL, admin.email);
  const adminPage = elsewhere.page;
  await expect(mainNav(adminPage).getByRole("link", { name: "Users" })).toBeVisible();
  await openPerson(adminPage, personPath, name);
  await adminPage.getByRole("button", { name: "Delete person" }).click();
  const confirm = adminPage.getByRole("alertdialog", { name: `Delete ${name}?` });
  await expect(confirm).toBeVisible();
  await confirm.getByRole("button", { name: "Cancel" }).click();
  await expect(confirm).toHaveCount(0);
  await expect(adminPage.getByTestId("person-name")).toHaveText(name);
  await adminPage.getByRole("button", { name: "Delete person" }).click();
  await expect(adminPage.getByRole("button", { name: "Yes, delete" })).toBeFocused();
  await adminPage.getByRole("button", { name: "Yes, delete" }).click();
  await expect(adminPage.getByTestId("person-deleted")).toContainText(`${name} has been deleted`);
  await elsewhere.context.close();

  // Gone for the user too.
  await openPerson(page, personPath, "Person not found");
  await expect(page.getByTestId("person-missing")).toBeVisible();
});

test("a user who reaches an admin action anyway gets a clear message, not a broken page", async ({
  page,
  request,
}) => {
  const user = await createVerifiedUser(request, "Sneaky");
  const name = unique("Alan Turing");
  const personPath = await addPersonViaApi(request, user.email, name);

  // /admin/users is for admins: a user gets the 403 page.
  await signIn(page, user.email);
  await page.goto("/admin/users");
  await waitForHydration(page);
  await expect(page.getByRole("alert").filter({ hasText: "This page is for admins" })).toBeVisible();
  await expect(page.getByRole("table", { name: "Users" })).toHaveCount(0);

  // The page believes the user is an admin (a stale role, say): the delete
  // button shows, and the server's refusal is explained.
  await page.route("**/api/auth/refresh", async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    if (body.user) body.user.role = "admin";
    await route.fulfill({ response, json: body });
  });
  await openPerson(page, personPath, name);
  await page.getByRole("button", { name: "Delete person" }).click();
  await page.getByRole("button", { name: "Yes, delete" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Only admins can delete people" })).toContainText(
    `${name} has not been deleted.`,
  );
  await expect(page.getByTestId("person-name")).toHaveText(name);
  await page.unrouteAll({ behavior: "wait" });

  // Still there.
  await openPerson(page, personPath, name);
});

test("an admin demotes another admin, who is signed out at their next action", async ({
  page,
  browser,
  baseURL,
  request,
}) => {
  const admin = await createVerifiedUser(request, "Boss");
  const other = await createVerifiedUser(request, "Deputy");
  makeAdmin(admin.email);
  makeAdmin(other.email);

  const elsewhere = await signedInElsewhere(browser, baseURL, other.email);
  const otherPage = elsewhere.page;
  await otherPage.goto("/admin/users");
  await waitForHydration(otherPage);
  await expect(otherPage.getByRole("table", { name: "Users" })).toBeVisible();

  await signIn(page, admin.email);
  await mainNav(page).getByRole("link", { name: "Users" }).click();
  await expect(page).toHaveURL(/\/admin\/users$/);
  await expect(page.getByText("There must always be at least one enabled admin")).toBeVisible();
  await page.getByLabel("Search users").fill(other.email);
  const row = page.getByRole("row").filter({ hasText: other.email });
  await expect(row).toHaveCount(1);
  await expect(row.getByRole("cell", { name: "Admin", exact: true })).toBeVisible();
  await row.getByRole("button", { name: "Remove admin role" }).click();
  await expect(page.getByRole("status").filter({ hasText: "is no longer an admin" })).toBeVisible();
  await expect(row.getByRole("cell", { name: "User", exact: true })).toBeVisible();
  await expect(row.getByRole("button", { name: "Make admin" })).toBeVisible();

  // The demoted admin's next action signs them out.
  await otherPage.getByLabel("Search users").fill("a");
  // Back to the list as it was, search included (kept in the address).
  await expect(otherPage).toHaveURL(/\/login\?next=\/admin\/users%3Fq%3Da$/);
  await expect(mainNav(otherPage).getByRole("link", { name: "Sign in", exact: true })).toBeVisible();
  // Signed in again, they are a user: no admin link, the 403 page.
  await signIn(otherPage, other.email);
  await expect(otherPage).toHaveURL(/\/admin\/users\?q=a$/);
  await expect(mainNav(otherPage).getByRole("link", { name: "Users" })).toHaveCount(0);
  await expect(otherPage.getByRole("alert").filter({ hasText: "This page is for admins" })).toBeVisible();
  await elsewhere.context.close();

  // Disable and enable again.
  await row.getByRole("button", { name: "Disable" }).click();
  await expect(page.getByRole("status").filter({ hasText: "is disabled and cannot sign in" })).toBeVisible();
  await expect(row.getByRole("cell", { name: "Disabled", exact: true })).toBeVisible();
  const refused = await request.post("/api/auth/login", { data: { email: other.email, password: PASSWORD } });
  expect(refused.status()).toBe(403);
  await row.getByRole("button", { name: "Enable" }).click();
  await expect(page.getByRole("status").filter({ hasText: "is enabled and can sign in again" })).toBeVisible();
});

test("a stale edit shows the conflict and overwrites nothing; Reload brings the current version", async ({
  page,
  context,
  request,
}) => {
  const user = await createVerifiedUser(request, "Twotabs");
  const name = unique("Ada Lovelace");
  const personPath = await addPersonViaApi(request, user.email, name);

  await signIn(page, user.email);
  await openPerson(page, personPath, name);
  await page.getByRole("button", { name: "Edit" }).click();

  // Another tab saves first.
  const other = await context.newPage();
  await openPerson(other, personPath, name);
  await other.getByRole("button", { name: "Edit" }).click();
  const renamed = `${name} King`;
  await other.getByLabel("Name", { exact: true }).fill(renamed);
  await other.getByRole("button", { name: "Save changes" }).click();
  await expect(other.getByRole("status").filter({ hasText: "Your changes have been saved." })).toBeVisible();

  // The first tab's save is refused and says why.
  await page.getByLabel("Phone").fill("+44 20 7946 0999");
  await page.getByRole("button", { name: "Save changes" }).click();
  const conflict = page.getByRole("alert").filter({ hasText: "Someone changed this person since you opened it." });
  await expect(conflict).toBeVisible();
  await expect(page.getByLabel("Phone")).toHaveValue("+44 20 7946 0999");

  // Nothing was overwritten.
  await other.reload();
  await waitForHydration(other);
  await expect(other.getByTestId("person-name")).toHaveText(renamed);
  await expect(other.getByTestId("person-phone")).toHaveText("+44 20 7946 0000");

  // Reload shows the current version; saving then works.
  await conflict.getByRole("button", { name: "Reload" }).click();
  await expect(conflict).toHaveCount(0);
  await expect(page.getByLabel("Name", { exact: true })).toHaveValue(renamed);
  await page.getByLabel("Phone").fill("+44 20 7946 0999");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Your changes have been saved." })).toBeVisible();
  await expect(page.getByTestId("person-name")).toHaveText(renamed);
  await expect(page.getByTestId("person-phone")).toHaveText("+44 20 7946 0999");
});

test("the list's search and page live in the address: reload, back and a shared link show the same list", async ({
  page,
  browser,
  baseURL,
  request,
}) => {
  const user = await createVerifiedUser(request, "Pager");
  const login = await request.post("/api/auth/login", { data: { email: user.email, password: PASSWORD } });
  const { access_token } = (await login.json()) as { access_token: string };
  const family = `Paged ${Math.random().toString(36).slice(2, 8)}`;
  for (let n = 1; n <= 23; n++) {
    const created = await request.post("/api/people", {
      data: { name: `${family} ${String(n).padStart(2, "0")}`, email: "", phone: "", notes: "" },
      headers: { Authorization: `Bearer ${access_token}` },
    });
    expect(created.status()).toBe(201);
  }

  await signIn(page, user.email);
  await page.goto("/people");
  await waitForHydration(page);
  const search = page.getByLabel("Search people");
  await search.fill(family);
  const rows = page.getByRole("table", { name: "People" }).getByRole("link");
  await expect(rows).toHaveCount(20);
  await expect(page).toHaveURL(/[?&]q=Paged(%20|\+)/);

  await page.getByRole("button", { name: "Next page" }).click();
  await expect(rows).toHaveCount(3);
  await expect(page.getByTestId("page-number")).toHaveText("Page 2");
  await expect(page).toHaveURL(/[?&]pages=[\w-]+/);
  const secondPage = page.url();

  // A reload shows the same page of the same search.
  await page.reload();
  await waitForHydration(page);
  await expect(page.getByTestId("page-number")).toHaveText("Page 2");
  await expect(rows).toHaveCount(3);
  await expect(search).toHaveValue(family);

  // Back goes to the first page, forward to the second again.
  await page.goBack();
  await expect(page.getByTestId("page-number")).toHaveText("Page 1");
  await expect(rows).toHaveCount(20);
  await page.goForward();
  await expect(page.getByTestId("page-number")).toHaveText("Page 2");

  // The address, shared with someone else, shows them the same list.
  const elsewhere = await signedInElsewhere(browser, baseURL, user.email);
  await elsewhere.page.goto(secondPage);
  await expect(elsewhere.page.getByTestId("page-number")).toHaveText("Page 2");
  await expect(elsewhere.page.getByRole("table", { name: "People" }).getByRole("link")).toHaveCount(3);
  await expect(elsewhere.page.getByLabel("Search people")).toHaveValue(family);
  await elsewhere.context.close();
});
