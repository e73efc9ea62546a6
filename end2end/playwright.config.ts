import { defineConfig, devices } from "@playwright/test";

// `cargo leptos end-to-end` starts the server at LEPTOS_SITE_ADDR before it
// runs these tests; BASE_URL points them elsewhere.
const baseURL = process.env.BASE_URL ?? `http://${process.env.LEPTOS_SITE_ADDR ?? "127.0.0.1:3000"}`;

// Debian's Chromium: Playwright cannot download its own browser here.
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

// The token-expiry tests need access tokens that expire within seconds: a
// second instance of the release server built by `cargo leptos end-to-end`.
const shortTtlAddr = "127.0.0.1:3101";
const e2eData = process.env.E2E_DATA_DIR ?? "../target/e2e";

export default defineConfig({
  testDir: "./tests",
  globalSetup: "./global-setup.ts",
  webServer: {
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
      APP_URL: `http://${shortTtlAddr}`,
      LEPTOS_SITE_ADDR: shortTtlAddr,
      LEPTOS_SITE_ROOT: "../target/site",
      LEPTOS_OUTPUT_NAME: "accounts",
      LEPTOS_ENV: "PROD",
      DATA_DIR: `${e2eData}/short-ttl`,
      DATABASE_URL: `sqlite://${e2eData}/short-ttl/app.db?mode=rwc`,
      ACCESS_TOKEN_TTL_SECS: "3",
      RUST_LOG: "warn",
    },
  },
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: process.env.CI ? 2 : undefined,
  // The JSON report lets scripts/test.sh confirm that the suite really ran:
  // `cargo leptos end-to-end` exits 0 when its build fails before the tests.
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
