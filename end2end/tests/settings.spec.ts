import { test, expect } from '@playwright/test';

test('settings asks to sign in, then creates, uses and revokes an API key', async ({ page, request }) => {
  await page.goto('/settings');
  await expect(page).toHaveURL('/login?next=/settings');

  const email = `keys-${Date.now()}@example.com`;
  await page.goto('/register?next=/settings');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL('/settings');
  await expect(page.getByRole('heading', { name: 'Settings' })).toBeVisible();
  await expect(page.getByText('No API keys yet.')).toBeVisible();

  await page.getByLabel('Key name').fill('curl script');
  await page.getByLabel('Access').selectOption('read');
  await page.getByRole('button', { name: 'Create key' }).click();
  const key = (await page.getByLabel('New API key').textContent())!.trim();
  expect(key).toMatch(/^pyat_/);
  await expect(page.getByRole('row', { name: /curl script/ })).toContainText('Read only');
  await page.screenshot({ path: 'screenshots/settings.png', fullPage: true });

  // The key works from outside the browser, as from curl.
  const listed = await request.post('/api/keys/list', { headers: { authorization: `Bearer ${key}` }, data: {} });
  expect(listed.status()).toBe(200);
  expect(JSON.stringify(await listed.json())).toContain('curl script');

  page.once('dialog', (dialog) => dialog.accept());
  await page.getByRole('button', { name: 'Revoke curl script' }).click();
  await expect(page.getByText('No API keys yet.')).toBeVisible();
  const refused = await request.post('/api/keys/list', { headers: { authorization: `Bearer ${key}` }, data: {} });
  expect(refused.status()).toBe(401);
});
