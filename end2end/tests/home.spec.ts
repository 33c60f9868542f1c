import { test, expect } from '@playwright/test';

test('the home page hydrates and refreshes health through a server function', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('An AI workspace for your Airtable bases');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);

  const health = page.getByRole('region', { name: 'System health' });
  await expect(health.getByRole('list', { name: 'Checks' })).toContainText('database');

  // A click handled by the WASM app calls the server function and re-renders the card.
  const roundTrip = page.waitForResponse(
    (r) => r.url().endsWith('/api/system/health') && r.request().method() === 'POST',
  );
  await health.getByRole('button', { name: 'Check again' }).click();
  const response = await roundTrip;
  expect(response.status()).toBe(200);
  const report = await response.json();
  expect(report.status).toBe('healthy');
  await expect(health).toContainText(`Version ${report.version}`);
  await expect(health.getByRole('button', { name: 'Check again' })).toBeEnabled();

  await page.screenshot({ path: 'screenshots/home.png', fullPage: true });
});

test('an unknown address shows the 404 page, and its link leads home without a reload', async ({ page }) => {
  const response = await page.goto('/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);

  await page.evaluate(() => ((window as any).__sameDocument = true));
  await page.getByRole('link', { name: 'Go to the home page' }).click();
  await expect(page).toHaveURL('/');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('An AI workspace for your Airtable bases');
  // Client-side routing: the window object survived, so the page was not reloaded.
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
});

test('the layout fits a phone screen', async ({ page }) => {
  await page.setViewportSize({ width: 375, height: 740 });
  await page.goto('/');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
});
