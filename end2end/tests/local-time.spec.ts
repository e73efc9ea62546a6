import { test, expect, createVerifiedUser, PASSWORD, signIn, waitForHydration } from "./fixtures";

// A viewer far from UTC, who reads dates the British way.
const TIME_ZONE = "Asia/Kolkata";
const LOCALE = "en-GB";
test.use({ timezoneId: TIME_ZONE, locale: LOCALE });

test("times show in the viewer's own time zone and locale once the page runs", async ({ page, request }) => {
  const user = await createVerifiedUser(request, "Faraway");
  const login = await request.post("/api/auth/login", { data: { email: user.email, password: PASSWORD } });
  const { access_token } = (await login.json()) as { access_token: string };
  const created = await request.post("/api/people", {
    data: { name: "Clockwise Person", email: "", phone: "", notes: "" },
    headers: { Authorization: `Bearer ${access_token}` },
  });
  expect(created.status()).toBe(201);
  const { id, updated_at } = (await created.json()) as { id: string; updated_at: string };
  const expected = new Intl.DateTimeFormat(LOCALE, {
    dateStyle: "medium",
    timeStyle: "short",
    timeZone: TIME_ZONE,
  }).format(new Date(updated_at));

  await signIn(page, user.email);
  await page.goto(`/people/${id}`);
  await waitForHydration(page);
  const changed = page.locator(`time[datetime="${updated_at}"]`);
  await expect(changed).toHaveText(expected);
  expect(expected).not.toContain("UTC");

  // The sessions list too.
  await page.goto("/account");
  const devices = page.getByRole("list", { name: "Where you're signed in" });
  await expect(devices.locator("time").first()).not.toContainText("UTC");
});
