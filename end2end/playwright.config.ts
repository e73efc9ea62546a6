import { defineConfig, devices } from "@playwright/test";

// The tests start the release server built by scripts/build-release.sh at
// LEPTOS_SITE_ADDR (the database and data directory come from the
// environment: scripts/test.sh sets them). BASE_URL points them at a server
// that is already running instead.
const siteAddr = process.env.LEPTOS_SITE_ADDR ?? "127.0.0.1:3000";
// The app's own URL when scripts/test.sh gives one (it names the host
// `localhost`: browsers offer passkeys to domain names only).
const baseURL = process.env.BASE_URL ?? process.env.APP_URL ?? `http://${siteAddr}`;

// Debian's Chromium: Playwright cannot download its own browser here.
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

// The token-expiry tests need access tokens that expire within seconds, and
// the reauthentication tests a sign-in that is soon too old for sensitive
// actions: a second instance of the release server.
// scripts/test.sh gives both servers ports that are free at the time.
const shortTtlAddr = process.env.SHORT_TTL_ADDR ?? "127.0.0.1:3101";
// The specs that use it read this (workers inherit the environment). Its
// host is `localhost`, a domain name, so that it offers passkeys too.
process.env.SHORT_TTL_URL ??= `http://localhost:${shortTtlAddr.split(":").pop()}`;
const e2eData = process.env.E2E_DATA_DIR ?? "../target/e2e";

export default defineConfig({
  testDir: "./tests",
  globalSetup: "./global-setup.ts",
  webServer: [
    ...(process.env.BASE_URL
      ? []
      : [
          {
            command: "../target/release/server",
            url: `http://${siteAddr}/api/ready`,
            reuseExistingServer: false,
            timeout: 60_000,
            stdout: "ignore" as const,
            stderr: "pipe" as const,
            // The rest (APP_ENV, APP_URL, DATA_DIR, DATABASE_URL) comes from
            // this process's environment.
            env: {
              LEPTOS_SITE_ADDR: siteAddr,
              LEPTOS_SITE_ROOT: "../target/site",
              LEPTOS_OUTPUT_NAME: "accounts",
              LEPTOS_ENV: "PROD",
              RUST_LOG: process.env.RUST_LOG ?? "warn",
            },
          },
        ]),
    {
    command: "../target/release/server",
    url: `http://${shortTtlAddr}/api/ready`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "ignore",
    stderr: "pipe",
    env: {
      APP_ENV: "development",
      // The suite signs many users up from one address.
      RATE_LIMITS: "off",
      APP_URL: process.env.SHORT_TTL_URL,
      LEPTOS_SITE_ADDR: shortTtlAddr,
      LEPTOS_SITE_ROOT: "../target/site",
      LEPTOS_OUTPUT_NAME: "accounts",
      LEPTOS_ENV: "PROD",
      DATA_DIR: `${e2eData}/short-ttl`,
      DATABASE_URL: `sqlite://${e2eData}/short-ttl/app.db?mode=rwc`,
      ACCESS_TOKEN_TTL_SECS: "3",
      // Sensitive actions ask to confirm it's you three seconds after a
      // sign-in (reauthentication.spec.ts), without a long wait.
      REAUTH_MAX_AGE_SECS: "3",
      RUST_LOG: "warn",
    },
  },
  ],
  // A guard against a test that hangs, not a measure of speed: on a 2-core
  // machine that runs both servers, Chromium and two workers at once, the
  // longest flows (several sign-ins, two devices) have taken past 30 s.
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: process.env.CI ? 2 : undefined,
  // The JSON report lets scripts/test.sh confirm that the suite really ran.
  reporter: [["list"], ["json", { outputFile: `${e2eData}/playwright-results.json` }]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        launchOptions: {
          executablePath: chromiumPath,
          args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
          ],
        },
      },
    },
  ],
});
