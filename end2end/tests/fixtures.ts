import { test as base, expect, type APIRequestContext, type Page } from "@playwright/test";

type Options = {
  /** Console errors a test provokes on purpose (a 401 it asserts on). */
  expectedConsoleErrors: RegExp[];
};

/**
 * Every test fails if a page logs a console error or throws: a hydration
 * mismatch, a panic or a failed request shows up there first.
 */
export const test = base.extend<Options & { consoleErrors: string[] }>({
  expectedConsoleErrors: [[], { option: true }],
  consoleErrors: [
    async ({ context, expectedConsoleErrors }, use) => {
      const errors: string[] = [];
      const watch = (page: Page) => {
        page.on("console", (message) => {
          if (message.type() === "error") errors.push(message.text());
        });
        page.on("pageerror", (error) => errors.push(error.message));
      };
      context.pages().forEach(watch);
      context.on("page", watch);
      await use(errors);
      const unexpected = errors.filter(
        (error) => !expectedConsoleErrors.some((pattern) => pattern.test(error)),
      );
      expect(unexpected, "console errors").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

export const PASSWORD = "Plum-Quartz-Harbor-91";

/** Resolves once the wasm bundle has hydrated the server-rendered page. */
export async function waitForHydration(page: Page): Promise<void> {
  await page.waitForFunction(() => document.body.dataset.hydrated === "true");
}

export function uniqueEmail(name: string): string {
  const suffix = Math.random().toString(36).slice(2, 10);
  return `${name.toLowerCase()}.${suffix}@example.com`;
}

type MailboxMessage = { to: string; subject: string; links: string[] };

/** The newest verification link mailed to `email`, from the dev mailbox. */
export async function verificationLink(request: APIRequestContext, email: string): Promise<string> {
  let link: string | undefined;
  await expect
    .poll(async () => {
      const response = await request.get("/api/dev/mailbox");
      const { messages } = (await response.json()) as { messages: MailboxMessage[] };
      link = messages
        .find((message) => message.to === email)
        ?.links.find((candidate) => candidate.includes("/verify-email?token="));
      return link;
    })
    .toBeTruthy();
  return link!;
}

/** Registers and verifies an account through the API. */
export async function createVerifiedUser(
  request: APIRequestContext,
  name = "Ada",
): Promise<{ email: string; password: string; name: string }> {
  const email = uniqueEmail(name);
  const response = await request.post("/api/auth/register", {
    data: { email, password: PASSWORD, name },
  });
  expect(response.status()).toBe(202);
  const link = new URL(await verificationLink(request, email));
  const verified = await request.post("/api/auth/verify-email", {
    data: { token: link.searchParams.get("token") },
  });
  expect(verified.status()).toBe(200);
  return { email, password: PASSWORD, name };
}

/** Signs in through the login page and waits until the app says so. */
export async function signIn(page: Page, email: string, password = PASSWORD): Promise<void> {
  if (!page.url().includes("/login")) {
    await page.goto("/login");
  }
  await waitForHydration(page);
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByTestId("nav-user")).toBeVisible();
}
