import {
  test as base,
  expect,
  type APIRequestContext,
  type APIResponse,
  type Browser,
  type BrowserContext,
  type Page,
} from "@playwright/test";
import { execFileSync } from "node:child_process";
import * as path from "node:path";

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
export type { Page };

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

/**
 * The newest link mailed to `email` whose address contains `marker`, from the
 * dev mailbox (newest first), leaving out the links in `except`: waits until
 * such a link has arrived.
 */
async function mailedLink(
  request: APIRequestContext,
  email: string,
  marker: string,
  except: string[] = [],
): Promise<string> {
  let link: string | undefined;
  await expect
    .poll(async () => {
      const response = await request.get("/api/dev/mailbox");
      const { messages } = (await response.json()) as { messages: MailboxMessage[] };
      link = messages
        .filter((message) => message.to === email)
        .flatMap((message) => message.links)
        .find((candidate) => candidate.includes(marker) && !except.includes(candidate));
      return link;
    })
    .toBeTruthy();
  return link!;
}

/**
 * The newest verification link mailed to `email`, from the dev mailbox; with
 * `except`, the newest one that is none of those (a later sign-up's link).
 */
export async function verificationLink(
  request: APIRequestContext,
  email: string,
  { except = [] }: { except?: string[] } = {},
): Promise<string> {
  return mailedLink(request, email, "/verify-email?token=", except);
}

/** The newest password reset link mailed to `email`, from the dev mailbox. */
export async function resetLink(request: APIRequestContext, email: string): Promise<string> {
  return mailedLink(request, email, "/reset-password?token=");
}

/** The newest link mailed to `email` to confirm it as an account's new address. */
export async function confirmEmailLink(request: APIRequestContext, email: string, except: string[] = []): Promise<string> {
  return mailedLink(request, email, "/confirm-email?token=", except);
}

/** The newest link mailed to `email` to undo a change of the account's address away from it. */
export async function undoEmailLink(request: APIRequestContext, email: string): Promise<string> {
  return mailedLink(request, email, "/undo-email-change?token=");
}

/**
 * Registers and verifies an account through the API. Confirming a sign-up
 * signs the account in; that session is ended at once, so the account starts
 * with no session (as tests that count sessions expect).
 */
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
    data: { token: link.searchParams.get("token"), password: PASSWORD },
  });
  expect(verified.status()).toBe(200);
  await endSession(request, verified);
  return { email, password: PASSWORD, name };
}

/**
 * Signs out the session that `signedIn` (a login or verify-email answer)
 * opened, with the refresh cookie it set: sent by hand, as the cookie is
 * `Secure` and the request context may hold it back over plain http.
 */
async function endSession(request: APIRequestContext, signedIn: APIResponse): Promise<void> {
  const refreshCookie = signedIn
    .headersArray()
    .filter(({ name }) => name.toLowerCase() === "set-cookie")
    .map(({ value }) => value.split(";")[0].trim())
    .find((cookie) => /^(__Secure-)?refresh_token=/.test(cookie));
  expect(refreshCookie, "the refresh cookie of the new session").toBeTruthy();
  const ended = await request.post("/api/auth/logout", { headers: { cookie: refreshCookie! } });
  expect(ended.status()).toBe(204);
}

/**
 * Signs in through the login page and waits until the app says so.
 * `remember` sets "Keep me signed in" (left as it is, checked, by default).
 */
export async function signIn(
  page: Page,
  email: string,
  password = PASSWORD,
  { remember }: { remember?: boolean } = {},
): Promise<void> {
  if (!page.url().includes("/login")) {
    await page.goto("/login");
  }
  await waitForHydration(page);
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  if (remember !== undefined) {
    await page.getByRole("checkbox", { name: "Keep me signed in" }).setChecked(remember);
  }
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByTestId("nav-user")).toBeVisible();
}

/**
 * Another device: a browser context of its own (its own cookie jar), signed
 * in as `email` and showing the account page. Close its `context` when done.
 */
export async function signedInElsewhere(
  browser: Browser,
  baseURL: string | undefined,
  email: string,
  password = PASSWORD,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await signIn(page, email, password);
  await page.goto("/account");
  await expect(page.getByTestId("profile-email")).toHaveText(email);
  return { context, page };
}

const repoRoot = path.resolve(__dirname, "../..");

/**
 * Makes `email` an admin with the server's CLI (`server admin grant`), run
 * against the e2e server's database: `scripts/test.sh` gives this process
 * the same `DATABASE_URL` and `DATA_DIR` as the server. The account's
 * sessions end, so sign in (again) afterwards.
 */
export function makeAdmin(email: string): void {
  const dataDir = process.env.DATA_DIR ?? path.join(repoRoot, "target/e2e");
  const databaseUrl = process.env.DATABASE_URL ?? `sqlite://${dataDir}/app.db?mode=rwc`;
  execFileSync(path.join(repoRoot, "target/release/server"), ["admin", "grant", email], {
    env: { ...process.env, APP_ENV: "development", DATA_DIR: dataDir, DATABASE_URL: databaseUrl, RUST_LOG: "warn" },
    stdio: "pipe",
    timeout: 30_000,
  });
}

// Two-step verification: an authenticator app, computed here (RFC 6238).

import { createHmac } from "node:crypto";

/** Decodes RFC 4648 base32, ignoring spaces, padding and case. */
export function base32Decode(text: string): Buffer {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of text.replace(/[\s=]/g, "").toUpperCase()) {
    const index = alphabet.indexOf(char);
    if (index < 0) throw new Error(`not a base32 character: ${char}`);
    buffer = ((buffer << 5) | index) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >>> bits) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

/** The RFC 6238 time step of `at` (milliseconds since the epoch): 30 seconds each. */
export function totpStep(at = Date.now()): number {
  return Math.floor(at / 30_000);
}

/** The 6-digit code of `secret` (base32) for time step `step`: HMAC-SHA-1, as authenticator apps do. */
export function totpCode(secret: string, step: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const digest = createHmac("sha1", base32Decode(secret)).update(counter).digest();
  const offset = digest[digest.length - 1] & 0x0f;
  const binary = digest.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 1_000_000).padStart(6, "0");
}

/**
 * An authenticator app for `secret`. The server takes each time step's code
 * once, so every `next()` answers the code of a later step than the one
 * before: the current step, or the one after the last (at most one step
 * ahead, within the drift the server allows, for two codes in a step).
 */
export function authenticator(secret: string): { next(): string } {
  let last = Number.NEGATIVE_INFINITY;
  return {
    next() {
      const step = Math.max(totpStep(), last + 1);
      last = step;
      return totpCode(secret, step);
    },
  };
}

/**
 * Turns an authenticator app on for the account through the API (a session
 * of its own, ended afterwards). Returns the secret, the app (its first
 * code spent) and the ten recovery codes.
 */
export async function enableAuthenticatorApp(
  request: APIRequestContext,
  email: string,
  password = PASSWORD,
): Promise<{ secret: string; app: { next(): string }; codes: string[] }> {
  const login = await request.post("/api/auth/login", { data: { email, password, remember: false } });
  expect(login.status()).toBe(200);
  const { access_token } = (await login.json()) as { access_token: string };
  const headers = { authorization: `Bearer ${access_token}` };
  const started = await request.post("/api/me/totp", { headers });
  expect(started.status()).toBe(200);
  const { secret } = (await started.json()) as { secret: string };
  const app = authenticator(secret);
  const confirmed = await request.post("/api/me/totp/confirm", { headers, data: { code: app.next() } });
  expect(confirmed.status()).toBe(200);
  const { codes } = (await confirmed.json()) as { codes: string[] };
  await endSession(request, login);
  return { secret, app, codes };
}

/**
 * Signs in through the login page as an account with two-step verification:
 * the password, then `code` from the app (or, with `recovery`, a recovery
 * code); waits until the app says signed in.
 */
export async function signInWithSecondFactor(
  page: Page,
  email: string,
  code: string,
  { recovery = false, password = PASSWORD }: { recovery?: boolean; password?: string } = {},
): Promise<void> {
  await page.goto("/login");
  await waitForHydration(page);
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Two-step verification" })).toBeVisible();
  if (recovery) {
    await page.getByRole("button", { name: "Use a recovery code instead" }).click();
    await page.getByLabel("Recovery code").fill(code);
  } else {
    await page.getByLabel("Authentication code").fill(code);
  }
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByTestId("nav-user")).toBeVisible();
}
