import { test, expect, Page } from '@playwright/test';

/** The Team table's rows as text, header included, from the base browser. */
async function teamRows(page: Page): Promise<string[]> {
  await page.goto('/bases');
  await page.getByRole('link', { name: 'Product launch (demo)' }).click();
  await page.getByRole('link', { name: 'Team', exact: true }).click();
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  const rows = page.getByRole('region', { name: 'Team records' }).getByRole('row');
  await expect(rows.nth(1)).toBeVisible();
  return rows.allInnerTexts();
}

test('the assistant adds three records and changes one; Undo all puts the table back, and a later edit is shown before it is overwritten', async ({ page }) => {
  // Every tool call goes through the sandbox, which paces requests as Airtable does.
  test.setTimeout(240_000);
  const stamp = Date.now();

  await page.goto('/register?next=/bases');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await page.getByLabel('Email', { exact: true }).fill(`changes-${stamp}@example.com`);
  await page.getByLabel('Password', { exact: true }).fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL('/bases');
  const before = await teamRows(page);

  await page.goto('/chat');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await page.getByLabel('Base', { exact: true }).selectOption({ label: 'Product launch (demo)' });
  const log = page.getByRole('log');
  const message = page.getByRole('textbox', { name: 'Message' });
  const send = page.getByRole('button', { name: 'Send', exact: true });
  const ask = async (text: string) => {
    await expect(send).toBeEnabled();
    await message.fill(text);
    await send.click();
  };
  const approve = async (tool: string) => {
    const approval = log.getByRole('group', { name: `Approval needed: ${tool}` });
    await approval.getByRole('button', { name: 'Allow once' }).click();
    await expect(approval).toHaveCount(0);
    await expect(log.getByRole('group', { name: `Tool call ${tool}` }).last()).toContainText('Done');
  };

  // An existing member, to change.
  await ask('show 1 records from Team');
  const listing = log.getByRole('group', { name: 'Tool call list_records' }).last();
  await expect(listing).toContainText('Done');
  await listing.getByText('Result').click();
  const listed = JSON.parse(await listing.locator('details pre').innerText());
  const member = listed.records[0];

  for (const name of ['A', 'B', 'C']) {
    await ask(`add a record to Team with Name=Undo ${name} ${stamp}`);
    await approve('create_records');
  }
  await ask(`update ${member.id} in Team set Name=Changed ${stamp}`);
  await approve('update_records');
  await expect(send).toBeEnabled();

  // Each write offers its own Undo; the header undoes them all.
  await expect(log.getByRole('group', { name: 'Tool call create_records' }).first().getByRole('button', { name: 'Undo' })).toBeVisible();
  await page.getByRole('button', { name: 'Undo all changes in this conversation' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Undone:' })).toHaveText('Undone: removed 3 created records, restored 1 changed record.');
  await page.screenshot({ path: 'screenshots/changes-undo.png', fullPage: true });
  const conversation = page.url();

  expect(await teamRows(page)).toEqual(before);

  // The changes page lists them, undone.
  await page.goto('/changes');
  const changes = page.getByTestId('changes');
  await expect(changes.getByRole('row')).toHaveCount(5);
  await expect(changes.getByRole('row', { name: /Update a record in Team/ })).toContainText('Undone');

  // A record written by the assistant, then edited in the base browser.
  await page.goto(conversation);
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await ask(`add a record to Team with Name=Conflict ${stamp}`);
  await approve('create_records');
  await teamRows(page);
  const row = page.getByRole('region', { name: 'Team records' }).getByRole('row', { name: new RegExp(`Conflict ${stamp}`) });
  await row.getByRole('rowheader').getByRole('button').click();
  const editor = page.getByRole('textbox', { name: 'Edit Name' });
  await editor.fill(`Conflict ${stamp} (edited)`);
  await editor.press('Enter');
  await expect(editor).toHaveCount(0);

  await page.goto(conversation);
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  const card = log.getByRole('group', { name: 'Tool call create_records' }).last();
  await card.getByRole('button', { name: 'Undo' }).click();
  const conflict = card.getByRole('alert');
  await expect(conflict).toContainText('1 field changed since');
  await expect(conflict.getByRole('row', { name: /Name/ })).toContainText(`Conflict ${stamp} (edited)`);
  await page.screenshot({ path: 'screenshots/changes-conflict.png', fullPage: true });
  await conflict.getByRole('button', { name: 'Undo anyway' }).click();
  await expect(card.getByRole('status')).toHaveText('Undone: removed 1 created record.');
  expect(await teamRows(page)).toEqual(before);
});
