import { test, expect } from '@playwright/test';

test('a new user browses the demo base, edits, searches, creates and deletes records', async ({ page }) => {
  // One long journey against the sandbox, which paces requests as Airtable does.
  test.setTimeout(120_000);
  const stamp = Date.now();

  await page.goto('/register?next=/bases');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await page.getByLabel('Email', { exact: true }).fill(`bases-${stamp}@example.com`);
  await page.getByLabel('Password', { exact: true }).fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL('/bases');
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Bases' })).toHaveAttribute('aria-current', 'page');

  // The bases: the demo base, marked as the sandbox.
  const demo = page.getByRole('link', { name: 'Product launch (demo)' });
  await expect(demo).toBeVisible();
  await expect(page.getByRole('listitem').filter({ has: demo })).toContainText('Sandbox');
  await demo.click();

  // The base's tables.
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Product launch (demo)');
  for (const name of ['Team', 'Customers', 'Tasks', 'Milestones']) {
    await expect(page.getByRole('link', { name, exact: true })).toBeVisible();
  }
  await expect(page.getByRole('row', { name: /Tasks/ })).toContainText('Everything that must happen before launch day.');
  await page.getByRole('link', { name: 'Tasks', exact: true }).click();

  // The grid: 70 tasks, 25 a page.
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Tasks');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  const grid = page.getByRole('region', { name: 'Tasks records' });
  const rows = grid.getByRole('row');
  await expect(rows).toHaveCount(26);
  await expect(page.getByText('Page 1 · Records 1–25')).toBeVisible();
  const pages = page.getByRole('navigation', { name: 'Pages' });
  await pages.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByText('Page 2 · Records 26–50')).toBeVisible();
  await pages.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByText('Page 3 · Records 51–70')).toBeVisible();
  await expect(rows).toHaveCount(21);
  await expect(pages.getByRole('button', { name: 'Next' })).toBeDisabled();
  await pages.getByRole('button', { name: 'Previous' }).click();
  await pages.getByRole('button', { name: 'Previous' }).click();
  await expect(page.getByText('Page 1 · Records 1–25')).toBeVisible();

  // Sorting by a column: ascending, then descending.
  const taskNumber = grid.getByRole('columnheader', { name: 'Task #' });
  await taskNumber.getByRole('button').click();
  await expect(taskNumber).toHaveAttribute('aria-sort', 'ascending');
  await taskNumber.getByRole('button').click();
  await expect(taskNumber).toHaveAttribute('aria-sort', 'descending');
  await expect(rows.nth(1)).toContainText('70');
  await taskNumber.getByRole('button').click();
  await expect(taskNumber).toHaveAttribute('aria-sort', 'none');

  // The schema, in its own tab.
  await page.getByRole('tab', { name: /Fields/ }).click();
  const fields = page.getByRole('tabpanel', { name: /Fields/ });
  await expect(fields.getByRole('row', { name: /^Name Primary/ })).toContainText('Single line text');
  await expect(fields.getByRole('row', { name: /^Status/ })).toContainText('Todo, In progress, Blocked, Done');
  await expect(fields.getByRole('row', { name: /^Owner/ })).toContainText('Links to Team');
  await page.getByRole('tab', { name: 'Records' }).click();

  // Editing a task's name in place; it is still there after a reload.
  const firstTask = rows.nth(1).getByRole('rowheader');
  const oldName = (await firstTask.innerText()).trim();
  await firstTask.getByRole('button').click();
  const editor = page.getByRole('textbox', { name: 'Edit Name' });
  await expect(editor).toHaveValue(oldName);
  const newName = `${oldName} (edited ${stamp})`;
  await editor.fill(newName);
  await editor.press('Enter');
  await expect(editor).toHaveCount(0);
  await expect(firstTask).toHaveText(newName);
  // The columns' headers were scrolled to for clicking; show the grid from its start.
  await grid.evaluate((el) => el.scrollTo(0, 0));
  await page.screenshot({ path: 'screenshots/bases.png', fullPage: true });

  await page.reload();
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await expect(rows.nth(1).getByRole('rowheader')).toHaveText(newName);

  // A value the field can't take is explained in the cell, and the typed text stays; Escape cancels.
  const estimate = rows.nth(1).getByTitle('Edit Estimate (hours)');
  const oldEstimate = (await estimate.innerText()).trim();
  await estimate.click();
  const estimateEditor = page.getByRole('textbox', { name: 'Edit Estimate (hours)' });
  await estimateEditor.fill('lots');
  await estimateEditor.press('Enter');
  await expect(rows.nth(1).getByRole('alert')).toContainText('cannot accept');
  await expect(estimateEditor).toHaveValue('lots');
  await estimateEditor.press('Escape');
  await expect(estimateEditor).toHaveCount(0);
  await expect(rows.nth(1).getByTitle('Edit Estimate (hours)')).toHaveText(oldEstimate);

  // Searching the text fields.
  const search = page.getByRole('searchbox', { name: 'Search records' });
  await search.fill(`edited ${stamp}`);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(1).getByRole('rowheader')).toHaveText(newName);
  await page.getByRole('button', { name: 'Clear search' }).click();
  await expect(rows).toHaveCount(26);

  // Filtering: Status is Blocked.
  await page.getByLabel('Filter field').selectOption('Status');
  await page.getByLabel('Filter operator').selectOption('is');
  await page.getByLabel('Filter value').fill('Blocked');
  await page.getByRole('button', { name: 'Apply filter' }).click();
  await expect(page.getByText(/^Page 1 · Records 1–(\d+)$/)).not.toHaveText('Page 1 · Records 1–25');
  for (const row of await rows.all()) {
    if (await row.getByRole('rowheader').count()) await expect(row).toContainText('Blocked');
  }
  await page.getByRole('button', { name: 'Clear filter' }).click();
  await expect(rows).toHaveCount(26);

  // Creating a record; typed text such as "12" fills the number field.
  const task = `E2E task ${stamp}`;
  await page.getByRole('button', { name: 'New record' }).click();
  const form = page.getByRole('region', { name: 'New record' });
  await form.getByLabel('Name', { exact: true }).fill(task);
  await form.getByLabel('Status', { exact: true }).selectOption('Todo');
  await form.getByLabel('Estimate (hours)').fill('12');
  await form.getByLabel('Tags').fill('QA, Docs');
  await form.getByRole('button', { name: 'Create record' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Created' })).toContainText(`Created “${task}”`);
  await expect(form).toHaveCount(0);

  await search.fill(task);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(1)).toContainText('12.0');
  await expect(rows.nth(1)).toContainText('Todo');

  // Deleting it asks first; Cancel keeps it, confirming deletes it.
  await grid.getByRole('button', { name: `Delete ${task}` }).click();
  const dialog = page.getByRole('dialog', { name: 'Delete this record?' });
  await expect(dialog).toContainText(task);
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  await expect(rows).toHaveCount(2);
  await grid.getByRole('button', { name: `Delete ${task}` }).click();
  await dialog.getByRole('button', { name: 'Delete record' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByText('No records match your search or filter.')).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: 'Deleted' })).toContainText(`Deleted “${task}”`);
});

test('the base browser asks signed-out visitors to log in, and explains bad addresses', async ({ page }) => {
  await page.goto('/bases');
  await expect(page).toHaveURL('/login?next=/bases');

  await page.goto('/register?next=/bases/not-a-base');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await page.getByLabel('Email', { exact: true }).fill(`bases-errors-${Date.now()}@example.com`);
  await page.getByLabel('Password', { exact: true }).fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL('/bases/not-a-base');
  await expect(page.getByRole('alert')).toContainText('“not-a-base” is not a base ID');

  await page.goto('/bases/appAAAAAAAAAAAAAA/tblAAAAAAAAAAAAAA');
  await expect(page.getByRole('alert')).toHaveText('That base, table or record was not found.');
  await expect(page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'Bases' })).toBeVisible();
});
