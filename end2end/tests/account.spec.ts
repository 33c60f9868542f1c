import { test, expect } from '@playwright/test';

test('register, log out, fail a log-in, then log in', async ({ page }) => {
  const email = `ada-${Date.now()}@example.com`;
  const password = 'correct horse battery';

  await page.goto('/register');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();

  await expect(page).toHaveURL('/');
  const header = page.getByRole('banner');
  await expect(header).toContainText(email);

  await header.getByRole('button', { name: 'Log out' }).click();
  await expect(header.getByRole('link', { name: 'Log in' })).toBeVisible();

  await page.goto('/login');
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill('not the password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert')).toHaveText('The email or password is incorrect.');

  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL('/');
  await expect(header).toContainText(email);
  await page.screenshot({ path: 'screenshots/signed-in.png' });
});

test('registration explains a password that is too short', async ({ page }) => {
  await page.goto('/register');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await page.getByLabel('Email', { exact: true }).fill(`short-${Date.now()}@example.com`);
  // Skip the browser's own minlength check to see the server's message.
  await page.locator('input[name=password]').evaluate((el) => el.removeAttribute('minlength'));
  await page.getByLabel('Password', { exact: true }).fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('alert')).toHaveText('Use at least 10 characters.');
});
