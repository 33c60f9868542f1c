import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

test('a new user chats, then finds the messages and tool calls on the analytics dashboard, changes the range and exports CSV', async ({ page }) => {
  // The assistant's tools go through the sandbox, which paces requests as Airtable does.
  test.setTimeout(120_000);
  const stamp = Date.now();

  await page.goto('/analytics');
  await expect(page).toHaveURL('/login?next=/analytics');

  await page.goto('/register?next=/chat');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await page.getByLabel('Email', { exact: true }).fill(`analytics-${stamp}@example.com`);
  await page.getByLabel('Password', { exact: true }).fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL('/chat');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);

  // Some activity: a message to the offline assistant, which calls a tool on the demo base.
  // The sandbox has one base, which a new conversation is about once the page has it.
  await expect(page.getByLabel('Base', { exact: true }).locator('option:checked')).toHaveText('Product launch (demo)');
  const message = page.getByRole('textbox', { name: 'Message' });
  await message.fill('list tables');
  await message.press('Enter');
  await expect(page).toHaveURL(/\/chat\/[^/]+$/);
  const log = page.getByRole('log');
  await expect(log.getByRole('group', { name: 'Tool call list_tables' }).first()).toContainText('Done');
  await expect(page.getByRole('button', { name: 'Send', exact: true })).toBeEnabled();

  // Each page the app shows is counted, by its path alone.
  const pageView = page.waitForRequest((r) => r.url().endsWith('/api/analytics/events') && r.method() === 'POST');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Analytics' }).click();
  await expect(page).toHaveURL('/analytics');
  const sent = await pageView;
  expect(sent.postDataJSON()).toEqual({ events: [{ name: 'page_view', properties: { path: '/analytics' } }] });
  expect((await sent.response())?.status()).toBe(202);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Analytics');
  await expect(page.getByRole('link', { name: '7 d' })).toHaveAttribute('aria-current', 'true');

  // Events are written in batches, so the first look may come a moment early.
  const messages = page.getByTestId('kpi-messages');
  await expect(async () => {
    await page.reload();
    await expect(messages.locator('dd')).not.toHaveText('0', { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await expect(messages.locator('dd')).toHaveText(/^[1-9]/);
  await expect(page.getByTestId('kpi-tool-calls').locator('dd')).toHaveText(/^[1-9]/);
  await expect(page.getByTestId('kpi-cost').locator('dd')).toHaveText('$0.00');

  // The activity chart draws its data; the numbers are also in its hidden table.
  // Seven days are drawn by day: a bucket for each, and one for today's part.
  const activity = page.getByRole('img', { name: /^Messages and tool calls, per day/ });
  await expect(activity).toBeVisible();
  await expect(activity).toHaveAttribute('aria-label', /Messages total [1-9]/);
  await expect(activity.locator('path.chart-line')).toHaveCount(2);
  await expect(activity.locator('path.chart-line').first()).toHaveAttribute('d', /^M[\d.]+ [\d.]+ L/);
  await expect(activity.locator('rect.chart-hit')).toHaveCount(8);
  const airtable = page.getByRole('img', { name: /^Airtable requests and rate-limit waits/ });
  expect(await airtable.locator('rect.chart-bar').count()).toBeGreaterThan(0);
  // The offline assistant costs nothing: that chart says so instead of drawing an empty frame.
  const cost = page.getByRole('figure').filter({ hasText: 'Cost' }).filter({ hasText: 'No activity in this range.' });
  await expect(cost).toBeVisible();
  await expect(page.getByRole('region', { name: 'Top tools' })).toContainText('list_tables');

  // Hovering a bucket shows its values beside a guide line.
  const hits = activity.locator('rect.chart-hit');
  await hits.last().hover();
  await expect(activity.locator('.chart-hover')).toContainText('Messages:');

  // The last 24 hours, by link, keep their place in the address.
  await page.getByRole('link', { name: '24 h' }).click();
  await expect(page).toHaveURL('/analytics?range=24h');
  await expect(page.getByRole('link', { name: '24 h' })).toHaveAttribute('aria-current', 'true');
  await expect(messages.locator('dd')).toHaveText(/^[1-9]/);
  // A day is drawn by hour.
  const hourly = page.getByRole('img', { name: /^Messages and tool calls, per hour/ });
  await expect(hourly.locator('rect.chart-hit')).toHaveCount(25);

  // A custom range of dates, then back to 7 days.
  const today = new Date().toISOString().slice(0, 10);
  const range = page.getByRole('form', { name: 'Custom range' });
  await range.getByLabel('From').fill('2020-01-01');
  await range.getByLabel('To').fill(today);
  await range.getByRole('button', { name: 'Apply' }).click();
  await expect(page.getByRole('alert')).toContainText('longer than 366 days');
  await range.getByLabel('From').fill(today);
  await range.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(`/analytics?from=${today}&to=${today}`);
  await expect(messages.locator('dd')).toHaveText(/^[1-9]/);

  await page.getByRole('link', { name: '7 d' }).click();
  await expect(page).toHaveURL('/analytics?range=7d');
  await expect(messages.locator('dd')).toHaveText(/^[1-9]/);
  await expect(page.getByRole('img', { name: /^Messages and tool calls, per day/ })).toBeVisible();
  await page.screenshot({ path: 'screenshots/analytics.png', fullPage: true });

  // The export is a CSV file of what the page shows.
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export CSV' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^pyairtable-analytics-\d{4}-\d{2}-\d{2}-to-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = readFileSync((await file.path())!, 'utf8');
  expect(csv).toContain('list_tables');
});

test('an administrator sees every subsystem, the database and the Airtable limiter on the status page', async ({ page }) => {
  const password = 'correct horse battery';
  const admin = `status-admin-${Date.now()}@example.com`;
  // An admin made the way an operator would, with the CLI, on the server's own database.
  const dataDir = process.env.PW_DATA_DIR!;
  execFileSync('../target/debug/pyairtable', ['user', 'create', '--email', admin, '--admin'], {
    env: { DATABASE_URL: `sqlite://${dataDir}/pyairtable.db`, PYAIRTABLE_DATA_DIR: dataDir, PYAIRTABLE_USER_PASSWORD: password },
  });

  await page.goto('/status');
  await expect(page).toHaveURL('/login?next=/status');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await page.getByLabel('Email', { exact: true }).fill(admin);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL('/status');
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Status' })).toHaveAttribute('aria-current', 'page');

  const subsystems = page.getByRole('region', { name: 'Subsystems' });
  await expect(subsystems.getByRole('row').nth(1)).toBeVisible();
  await expect(subsystems.getByRole('rowheader', { name: 'database' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Database' })).toContainText(/\d+(\.\d)? (bytes|kB|MB|GB)/);
  await expect(page.getByTestId('event-queue-depth')).toHaveText(/^\d+$/);
  const jobs = page.getByRole('region', { name: 'Background jobs' });
  await expect(jobs).toContainText('Workers');
  await expect(jobs).toContainText('Running');
  await expect(jobs.getByTestId('jobs-waiting')).toHaveText(/^\d+$/);
  await expect(subsystems.getByRole('rowheader', { name: 'jobs' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Airtable rate limiter' })).toBeVisible();

  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await page.getByRole('button', { name: 'Refresh' }).click();
  await expect(page.getByRole('button', { name: 'Refresh' })).toBeEnabled();
  await page.screenshot({ path: 'screenshots/status.png', fullPage: true });
});
