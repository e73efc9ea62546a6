import { test, expect, createVerifiedUser, signIn, waitForHydration } from "./fixtures";

test("the home page is rendered on the server", async ({ request }) => {
  const response = await request.get("/");
  expect(response.status()).toBe(200);
  const html = await response.text();
  expect(html).toContain("Your account, done right");
  expect(html).toContain('aria-label="Main"');
});

test("the page hydrates: links then navigate inside the app, without reloading it", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Your account, done right");
  await expect(page.getByRole("button", { name: /try me/i })).toHaveCount(0);
  await waitForHydration(page);

  // A mark on this document survives only a navigation the app handles.
  await page.evaluate(() => ((window as unknown as { mark: number }).mark = 42));
  await page.getByRole("main").getByRole("link", { name: "Create an account" }).click();
  await expect(page).toHaveURL(/\/register$/);
  await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  expect(await page.evaluate(() => (window as unknown as { mark?: number }).mark)).toBe(42);
});

test("the header navigation and skip link work from the keyboard", async ({ page }) => {
  await page.goto("/");
  await waitForHydration(page);
  await page.keyboard.press("Tab");
  const skip = page.getByRole("link", { name: "Skip to content" });
  await expect(skip).toBeFocused();
  await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
});

test("an unknown page says so with a 404", async ({ page, consoleErrors }) => {
  const response = await page.goto("/no/such/page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await waitForHydration(page);
  // Chromium reports the 404 document load itself; that one is expected.
  const expected = /status of 404/;
  expect(consoleErrors.filter((error) => expected.test(error))).toHaveLength(1);
  consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((error) => !expected.test(error)));
});

test("unknown API paths answer problem+json, not the app", async ({ request }) => {
  const response = await request.get("/api/no-such-endpoint");
  expect(response.status()).toBe(404);
  expect(response.headers()["content-type"]).toBe("application/problem+json");
  const body = await response.json();
  expect(body.code).toBe("not_found");
});

test("the bundle's files carry their hash, are cached for good and are sent precompressed", async ({ request }) => {
  const home = await request.get("/");
  expect(home.headers()["cache-control"]).toBe("no-cache");
  const html = await home.text();
  const files = ["wasm", "js", "css"].map((extension) => {
    const file = html.match(new RegExp(`/pkg/accounts\\.[\\w-]{10,}\\.${extension}\\b`))?.[0];
    expect(file, `a hashed .${extension} in the page`).toBeTruthy();
    return file!;
  });

  for (const file of files) {
    const plain = await request.get(file, { headers: { "Accept-Encoding": "identity" } });
    expect(plain.status()).toBe(200);
    expect(plain.headers()["content-encoding"]).toBeUndefined();
    for (const encoding of ["br", "gzip"]) {
      const response = await request.get(file, { headers: { "Accept-Encoding": encoding } });
      expect(response.status(), `${file} in ${encoding}`).toBe(200);
      expect(response.headers()["content-encoding"]).toBe(encoding);
      expect(response.headers()["cache-control"]).toBe("public, max-age=31536000, immutable");
      expect(response.headers()["vary"]).toContain("accept-encoding");
      // Decoded, the precompressed copy is the file itself.
      expect((await response.body()).equals(await plain.body())).toBe(true);
    }
  }
});

test.describe("Content-Security-Policy", () => {
  // Chromium reports the refused script itself, as it should.
  test.use({ expectedConsoleErrors: [/Content Security Policy/] });

  test("the hydration script runs under the policy and an injected one does not", async ({ page }) => {
    const response = await page.goto("/");
    const policy = response?.headers()["content-security-policy"] ?? "";
    expect(policy).toMatch(/script-src 'self' 'nonce-[\w-]{22,}'/);
    await waitForHydration(page);

    const outcome = await page.evaluate(async () => {
      const violation = new Promise<string>((resolve) =>
        document.addEventListener("securitypolicyviolation", (event) => resolve(event.effectiveDirective), {
          once: true,
        }),
      );
      const script = document.createElement("script");
      script.textContent = "document.body.dataset.injected = 'ran'";
      document.body.append(script);
      return { directive: await violation, injected: document.body.dataset.injected ?? "blocked" };
    });
    expect(outcome).toEqual({ directive: "script-src-elem", injected: "blocked" });
  });
});

test("the header's links, the user's name and Sign out share one baseline", async ({ page, request }) => {
  const user = await createVerifiedUser(request, "Baseline");
  await signIn(page, user.email);
  const nav = page.getByRole("navigation", { name: "Main" });
  // The bottom of each item's text: its box's bottom less its bottom padding and border.
  const textBottom = (locator: ReturnType<typeof nav.getByRole>) =>
    locator.evaluate((element) => {
      const box = element.getBoundingClientRect();
      const style = getComputedStyle(element);
      return box.bottom - parseFloat(style.paddingBottom) - parseFloat(style.borderBottomWidth);
    });
  const account = await textBottom(nav.getByRole("link", { name: "Account" }));
  const signOut = await textBottom(nav.getByRole("button", { name: "Sign out" }));
  const name = await textBottom(page.getByTestId("nav-user"));
  expect(Math.abs(account - signOut)).toBeLessThanOrEqual(1);
  expect(Math.abs(account - name)).toBeLessThanOrEqual(1);
});

test("the files under public/ are cached for a day", async ({ request }) => {
  const icon = await request.get("/favicon.svg");
  expect(icon.status()).toBe(200);
  expect(icon.headers()["cache-control"]).toBe("public, max-age=86400, stale-while-revalidate=604800");
});

test.describe("a sign-out that does not reach the server", () => {
  // The aborted request, as the browser reports it.
  test.use({ expectedConsoleErrors: [/net::ERR_FAILED/] });

  test("says so, and the user stays signed in until one does", async ({ page, request }) => {
    const user = await createVerifiedUser(request, "Stays");
    await signIn(page, user.email);
    const nav = page.getByRole("navigation", { name: "Main" });
    await page.route("**/api/auth/logout", (route) => route.abort());
    await nav.getByRole("button", { name: "Sign out" }).click();
    await expect(nav.getByRole("alert")).toContainText("Not signed out");
    await expect(page.getByTestId("nav-user")).toHaveText(user.name);
    await expect(page).not.toHaveURL(/\/login$/);

    await page.unroute("**/api/auth/logout");
    await nav.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login$/);
    await expect(nav.getByRole("alert")).toHaveCount(0);
    // Really over: a reload does not bring the session back.
    await page.reload();
    await waitForHydration(page);
    await expect(nav.getByRole("link", { name: "Sign in" })).toBeVisible();
  });
});
