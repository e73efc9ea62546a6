import * as path from "node:path";
import { test, expect, createVerifiedUser, signIn } from "./fixtures";

// Writes the README's screenshots to docs/screenshots/, so it runs only when
// asked for: `scripts/screenshots.sh` (or `npm run screenshots` against a
// running development server). Check the pictures by eye before committing.
test.skip(!process.env.SCREENSHOTS, "writes docs/screenshots/; run scripts/screenshots.sh");

const outDir = path.resolve(__dirname, "../../docs/screenshots");
const sizes = [
  { width: 375, height: 812 },
  { width: 1280, height: 800 },
];

test("the account page at phone and desktop widths, light and dark", async ({ page, request }) => {
  const { email } = await createVerifiedUser(request, "Ada");
  await signIn(page, email);
  await page.goto("/account");
  await expect(page.getByTestId("profile-email")).toHaveText(email);

  for (const theme of ["Light", "Dark"]) {
    await page.getByRole("combobox", { name: "Theme" }).selectOption({ label: theme });
    await expect(page.locator("html")).toHaveAttribute("data-theme", theme.toLowerCase());
    // No focus ring on the picker in the pictures.
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    for (const { width, height } of sizes) {
      await page.setViewportSize({ width, height });
      await expect(page.getByTestId("loading")).toHaveCount(0);
      await page.screenshot({
        path: path.join(outDir, `account-${width}-${theme.toLowerCase()}.png`),
        animations: "disabled",
      });
    }
  }
});
