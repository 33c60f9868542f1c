import { test, expect } from '@playwright/test';

test('a CSV dropped on /files is mapped (one column skipped, one new single select), imported to 100%, and its records are in the base browser; then a text file attached in the chat becomes records', async ({ page }) => {
  // The import runs through the sandbox, paced as Airtable paces requests.
  test.setTimeout(180_000);
  const stamp = Date.now();

  await page.goto('/register?next=/files');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await page.getByLabel('Email', { exact: true }).fill(`files-${stamp}@example.com`);
  await page.getByLabel('Password', { exact: true }).fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL('/files');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);

  const rows = ['Name,Team,Hours,Secret'];
  for (let i = 1; i <= 30; i++) rows.push(`Person ${i},${i % 2 ? 'Ops' : 'Sales'},${i}.5,hide ${i}`);
  await page.getByTestId('upload').setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(rows.join('\n') + '\n') });

  // The file's page: its first rows and their inferred types.
  await expect(page).toHaveURL(/\/files\/[0-9a-f-]+$/);
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await expect(page.getByRole('heading', { name: 'people.csv' })).toBeVisible();
  const preview = page.getByTestId('preview');
  await expect(preview.getByRole('row')).toHaveCount(11);
  await expect(preview.getByRole('columnheader', { name: 'Team' })).toContainText('Single select');

  // Into a new table: Team as a new single-select field named Squad, Secret skipped.
  await page.getByRole('combobox', { name: 'Table', exact: true }).selectOption({ label: 'A new table' });
  await page.getByLabel("New table's name").fill(`People ${stamp}`);
  await page.getByLabel('Field for Secret').selectOption({ label: 'Skip this column' });
  await page.getByLabel('New field name for Team').fill('Squad');
  await page.getByLabel('Type for Team').selectOption({ label: 'Single select' });
  await page.getByRole('button', { name: 'Import', exact: true }).click();

  const card = page.getByTestId('import').first();
  await expect(card).toBeVisible();
  await expect(card.getByRole('progressbar', { name: 'Import progress' })).toBeVisible();
  await expect(card).toContainText('100%', { timeout: 120_000 });
  await expect(card).toContainText('Imported');
  await expect(card).toContainText('30 of 30 rows');
  await page.screenshot({ path: 'test-results/files-imported.png', fullPage: true });

  // The records, in the base browser.
  await card.getByRole('link', { name: `People ${stamp}` }).click();
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  const region = page.getByRole('region', { name: `People ${stamp} records` });
  await expect(region.getByRole('row').nth(1)).toBeVisible();
  await expect(region).toContainText('Person 1');
  await expect(region).toContainText('Sales');
  await expect(region).not.toContainText('hide 1');
  await expect(region.getByRole('columnheader', { name: 'Squad' })).toBeVisible();

  // A text file attached in the chat: the offline assistant makes a record of each line.
  await page.goto('/chat');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await page.getByLabel('Base', { exact: true }).selectOption({ label: 'Product launch (demo)' });
  const lines = [`Call the printer ${stamp}`, `Order badges ${stamp}`, `Book the room ${stamp}`];
  await page.getByTestId('attach').setInputFiles({ name: 'actions.txt', mimeType: 'text/plain', buffer: Buffer.from(lines.map((l) => `- ${l}`).join('\n') + '\n') });
  const attached = page.getByRole('list', { name: 'Attached files' }).first();
  await expect(attached).toContainText('actions.txt');
  const message = page.getByRole('textbox', { name: 'Message' });
  await message.fill('add a record to Tasks for each line of the attached file');
  await page.screenshot({ path: 'test-results/chat-attaching.png' });
  await message.press('Enter');
  const log = page.getByRole('log');
  await expect(log.getByRole('article', { name: 'You' }).last().getByRole('link', { name: 'actions.txt' })).toBeVisible();
  const approval = log.getByRole('group', { name: 'Approval needed: create_records' });
  await expect(approval).toContainText(lines[2]);
  await page.screenshot({ path: 'test-results/chat-attachment.png', fullPage: true });
  await approval.getByRole('button', { name: 'Allow once' }).click();
  await expect(log.getByRole('group', { name: 'Tool call create_records' }).last()).toContainText('Done');
  await expect(log.getByRole('article', { name: 'Assistant' }).last()).toContainText('3');
  await log.getByRole('article', { name: 'You' }).last().scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'test-results/chat-attached.png' });

  // An import started from the chat shows its progress there.
  await message.fill(`import people.csv into "Crew ${stamp}"`);
  await message.press('Enter');
  const importing = log.getByRole('group', { name: 'Approval needed: import_file' });
  await importing.getByRole('button', { name: 'Allow once' }).click();
  const chatCard = log.getByRole('group', { name: 'Tool call import_file' }).getByTestId('import');
  await expect(chatCard).toContainText('100%', { timeout: 60_000 });
  await expect(chatCard).toContainText('30 of 30 rows');
  await expect(chatCard.getByRole('link', { name: `Crew ${stamp}` })).toBeVisible();
  await chatCard.scrollIntoViewIfNeeded();
  await page.screenshot({ path: 'test-results/chat-import.png' });

  await page.goto('/bases');
  await page.getByRole('link', { name: 'Product launch (demo)' }).click();
  await page.getByRole('link', { name: 'Tasks', exact: true }).click();
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await page.getByRole('searchbox', { name: 'Search records' }).fill(String(stamp));
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  const tasks = page.getByRole('region', { name: 'Tasks records' });
  for (const line of lines) await expect(tasks).toContainText(line);
});
