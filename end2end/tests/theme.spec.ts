import { test, expect, waitForHydration, type Page } from "./fixtures";

/** The relative luminance (0 black … 1 white) of the page's background. */
async function backgroundLuminance(page: Page): Promise<number> {
  const color = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const [r, g, b] = (color.match(/\d+(\.\d+)?/g) ?? []).map(Number);
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}

const themePicker = (page: Page) => page.getByRole("combobox", { name: "Theme" });
const html = (page: Page) => page.locator("html");

test("choosing Dark darkens the page and survives a reload without a flash", async ({ page }) => {
  await page.emulateMedia({ colorScheme: "light" });
  await page.goto("/");
  await waitForHydration(page);
  await expect(themePicker(page)).toHaveValue("system");
  await expect.poll(() => backgroundLuminance(page)).toBeGreaterThan(0.8);

  await themePicker(page).selectOption({ label: "Dark" });
  await expect(html(page)).toHaveAttribute("data-theme", "dark");
  await expect.poll(() => backgroundLuminance(page)).toBeLessThan(0.2);
  expect(await page.evaluate(() => localStorage.getItem("theme"))).toBe('"dark"');

  // Reload with the wasm bundle held back: only the inline script in
  // <head> can set the theme, and it must do so before <body> exists.
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route(/\/pkg\/[^/]+\.(js|wasm)$/, async (route) => {
    await held;
    await route.continue();
  });
  await page.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (!document.body) return;
      (window as { themeAtBody?: string }).themeAtBody = document.documentElement.dataset.theme ?? "none";
      observer.disconnect();
    }).observe(document, { childList: true, subtree: true });
  });
  await page.reload({ waitUntil: "domcontentloaded" });
  expect(await page.evaluate(() => (window as { themeAtBody?: string }).themeAtBody)).toBe("dark");
  await expect(html(page)).toHaveAttribute("data-theme", "dark");
  await expect.poll(() => backgroundLuminance(page)).toBeLessThan(0.2);
  expect(await page.evaluate(() => document.body.dataset.hydrated)).toBeUndefined();

  // Once hydrated, the picker shows the stored choice.
  release();
  await waitForHydration(page);
  await expect(themePicker(page)).toHaveValue("dark");
  await expect(html(page)).toHaveAttribute("data-theme", "dark");
});

test("another tab follows a change of theme", async ({ page, context }) => {
  await page.goto("/");
  await waitForHydration(page);
  const other = await context.newPage();
  await other.goto("/");
  await waitForHydration(other);

  await themePicker(page).selectOption({ label: "Dark" });
  await expect(html(other)).toHaveAttribute("data-theme", "dark");
  await expect(themePicker(other)).toHaveValue("dark");

  await themePicker(page).selectOption({ label: "Light" });
  await expect(html(other)).toHaveAttribute("data-theme", "light");
  await expect(themePicker(other)).toHaveValue("light");

  await themePicker(page).selectOption({ label: "System" });
  await expect(html(other)).not.toHaveAttribute("data-theme");
  await expect(themePicker(other)).toHaveValue("system");
  expect(await other.evaluate(() => localStorage.getItem("theme"))).toBeNull();
});

test("System follows the operating system; Light and Dark override it", async ({ page }) => {
  await page.goto("/");
  await waitForHydration(page);
  await expect(themePicker(page)).toHaveValue("system");
  await expect(html(page)).not.toHaveAttribute("data-theme");

  await page.emulateMedia({ colorScheme: "dark" });
  await expect.poll(() => backgroundLuminance(page)).toBeLessThan(0.2);
  await page.emulateMedia({ colorScheme: "light" });
  await expect.poll(() => backgroundLuminance(page)).toBeGreaterThan(0.8);

  await themePicker(page).selectOption({ label: "Dark" });
  await expect.poll(() => backgroundLuminance(page)).toBeLessThan(0.2);

  await page.emulateMedia({ colorScheme: "dark" });
  await themePicker(page).selectOption({ label: "Light" });
  await expect(html(page)).toHaveAttribute("data-theme", "light");
  await expect.poll(() => backgroundLuminance(page)).toBeGreaterThan(0.8);
});

test("the theme picker works from the keyboard", async ({ page }) => {
  await page.emulateMedia({ colorScheme: "light" });
  await page.goto("/");
  await waitForHydration(page);
  // It follows the header navigation in tab order.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link").last().focus();
  await page.keyboard.press("Tab");
  await expect(themePicker(page)).toBeFocused();
  await page.keyboard.press("ArrowDown");
  await expect(themePicker(page)).toHaveValue("light");
  await page.keyboard.press("ArrowDown");
  await expect(themePicker(page)).toHaveValue("dark");
  await expect(html(page)).toHaveAttribute("data-theme", "dark");
});
