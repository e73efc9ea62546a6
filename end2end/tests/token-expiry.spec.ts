import type { Page, Request } from "@playwright/test";
import { test, expect, createVerifiedUser, signIn } from "./fixtures";

// A second server whose access tokens live three seconds (playwright.config.ts).
const SHORT_TTL_URL = process.env.SHORT_TTL_URL ?? "http://localhost:3101";
const ACCESS_TOKEN_TTL_MS = 3_000;

test.use({ baseURL: SHORT_TTL_URL, expectedConsoleErrors: [/status of 401/] });

/** Signs in, then freezes the page's timers so the proactive renewal stays out of the way. */
async function signInAndFreezeTimers(page: Page, email: string): Promise<void> {
  await page.clock.install();
  await signIn(page, email);
  await page.goto("/account");
  await expect(page.getByTestId("profile-name")).toBeVisible();
  // The page's fake clock need not agree with this process's clock to the
  // millisecond, so the pause goes just ahead of the page's own time; the
  // renewal it holds back is due seconds later.
  const pageNow = await page.evaluate(() => Date.now());
  await page.clock.pauseAt(pageNow + 250);
}

/** The server's clock is the condition here: wait until the token it issued has expired. */
async function waitForTokenExpiry(signedInAt: number): Promise<void> {
  const expiresAt = signedInAt + ACCESS_TOKEN_TTL_MS + 1_100;
  await expect.poll(() => Date.now(), { timeout: ACCESS_TOKEN_TTL_MS * 3 }).toBeGreaterThan(expiresAt);
}

function record(page: Page): Request[] {
  const requests: Request[] = [];
  page.on("request", (request) => {
    if (request.url().includes("/api/")) requests.push(request);
  });
  return requests;
}

test("an expired token is refreshed once and the request replayed with the same body", async ({ page, request }) => {
  const user = await createVerifiedUser(request, "Expiry");
  await signInAndFreezeTimers(page, user.email);
  const signedInAt = Date.now();
  await waitForTokenExpiry(signedInAt);

  const requests = record(page);
  await page.getByRole("textbox", { name: "Name", exact: true }).fill("Ada Renamed");
  await page.getByRole("button", { name: "Save name" }).click();
  await expect(page.getByTestId("profile-name")).toHaveText("Ada Renamed");

  const patches = requests.filter((r) => r.method() === "PATCH" && r.url().endsWith("/api/me"));
  const refreshes = requests.filter((r) => r.url().endsWith("/api/auth/refresh"));
  expect(refreshes).toHaveLength(1);
  expect(patches).toHaveLength(2);
  const [first, replay] = await Promise.all(patches.map((r) => r.response()));
  expect(first?.status()).toBe(401);
  expect((await first?.json()).code).toBe("token_expired");
  expect(replay?.status()).toBe(200);
  expect(patches[1].postData()).toBe(patches[0].postData());
  expect(JSON.parse(patches[1].postData() ?? "{}")).toEqual({ name: "Ada Renamed" });
  expect(await patches[1].headerValue("authorization")).not.toBe(await patches[0].headerValue("authorization"));
});

test("calls that fail together share exactly one refresh", async ({ page, request }) => {
  const user = await createVerifiedUser(request, "Burst");
  await signInAndFreezeTimers(page, user.email);
  await waitForTokenExpiry(Date.now());

  const requests = record(page);
  await page.getByRole("textbox", { name: "Name", exact: true }).fill("Burst Renamed");
  // Two different calls leave in the same tick.
  await page.evaluate(() => {
    const buttons = [...document.querySelectorAll("button")];
    buttons.find((b) => b.textContent?.includes("Save name"))?.click();
    buttons.find((b) => b.textContent?.includes("Refresh the list"))?.click();
  });
  const calls = () => requests.filter((r) => /\/api\/me(\/sessions)?(\?.*)?$/.test(r.url()));
  await expect.poll(() => calls().length).toBe(4);
  const statuses = await Promise.all(calls().map(async (r) => (await r.response())?.status()));
  expect(statuses.sort()).toEqual([200, 200, 401, 401]);
  const refreshes = requests.filter((r) => r.url().endsWith("/api/auth/refresh"));
  expect(refreshes).toHaveLength(1);

  // The replay saved the name; the server keeps it.
  await page.reload();
  await expect(page.getByTestId("profile-name")).toHaveText("Burst Renamed");
});

test("a session revoked elsewhere ends on the login page", async ({ page, browser, request }) => {
  const user = await createVerifiedUser(request, "Revoked");
  await signInAndFreezeTimers(page, user.email);

  // Another device signs in and signs out everywhere.
  const other = await browser.newContext({ baseURL: SHORT_TTL_URL });
  const login = await other.request.post("/api/auth/login", {
    data: { email: user.email, password: user.password },
  });
  const { access_token: token } = await login.json();
  const everywhere = await other.request.post("/api/auth/logout-all", {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(everywhere.status()).toBe(204);
  await other.close();

  await page.getByRole("button", { name: "Refresh the list" }).click();
  await expect(page).toHaveURL(/\/login\?next=\/account$/);
  await expect(page.getByRole("status").filter({ hasText: "Your session has ended" })).toBeVisible();
});

test("a user who keeps working never meets a 401: the token is renewed before it expires", async ({ page, request }) => {
  const user = await createVerifiedUser(request, "Working");
  const requests = record(page);
  await signIn(page, user.email);
  await page.goto("/account");
  await expect(page.getByTestId("profile-name")).toBeVisible();
  const refreshes = () => requests.filter((r) => r.url().endsWith("/api/auth/refresh"));
  const afterLoad = refreshes().length;

  // At about 80% of the three-second lifetime the app renews on its own.
  await expect.poll(() => refreshes().length, { timeout: ACCESS_TOKEN_TTL_MS * 2 }).toBeGreaterThan(afterLoad);
  await page.getByRole("textbox", { name: "Name", exact: true }).fill("Kept Working");
  await page.getByRole("button", { name: "Save name" }).click();
  await expect(page.getByTestId("profile-name")).toHaveText("Kept Working");

  const statuses = await Promise.all(requests.map(async (r) => (await r.response())?.status()));
  expect(statuses).not.toContain(401);
});
