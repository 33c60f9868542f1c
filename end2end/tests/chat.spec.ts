import { test, expect } from '@playwright/test';

test('a new user asks the offline assistant about the demo base, approves a new record, and finds it in the base', async ({ page }) => {
  // The assistant's tools go through the sandbox, which paces requests as Airtable does.
  test.setTimeout(120_000);
  const stamp = Date.now();
  const task = `Launch post ${stamp}`;

  await page.goto('/chat');
  await expect(page).toHaveURL('/login?next=/chat');

  await page.goto('/register?next=/chat');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await page.getByLabel('Email', { exact: true }).fill(`chat-${stamp}@example.com`);
  await page.getByLabel('Password', { exact: true }).fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL('/chat');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Chat' })).toHaveAttribute('aria-current', 'page');

  // A new conversation welcomes with examples, and names the offline assistant.
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('New conversation');
  await expect(page.getByRole('heading', { name: 'What the offline assistant understands' })).toBeVisible();
  await expect(page.getByTestId('chat-model')).toHaveText('Offline assistant');
  await expect(page.getByText('No conversations yet.')).toBeVisible();

  // The base, then the first question; the conversation gets its own address.
  await page.getByLabel('Base', { exact: true }).selectOption({ label: 'Product launch (demo)' });
  const message = page.getByRole('textbox', { name: 'Message' });
  const send = page.getByRole('button', { name: 'Send', exact: true });
  await page.getByRole('button', { name: 'list tables' }).click();
  await expect(message).toHaveValue('list tables');
  await send.click();
  await expect(page).toHaveURL(/\/chat\/[^/]+$/);

  const log = page.getByRole('log');
  await expect(log.getByRole('article', { name: 'You' }).first()).toHaveText(/list tables/);
  await expect(log.getByRole('group', { name: 'Tool call list_tables' }).first()).toContainText('Done');
  await expect(log.getByRole('article', { name: 'Assistant' }).last()).toContainText('Tasks');
  await expect(send).toBeEnabled();
  await expect(page.getByRole('list', { name: 'Conversations' }).getByRole('listitem')).toHaveCount(1);
  await expect(page.getByLabel('Base', { exact: true }).locator('option:checked')).toHaveText('Product launch (demo)');

  // A change waits for approval, in place; Enter sends.
  await message.fill(`add a record to Tasks with Name=${task}`);
  await message.press('Enter');
  const approval = log.getByRole('group', { name: 'Approval needed: create_records' });
  await expect(approval).toBeVisible();
  await expect(approval).toContainText(task);
  await page.screenshot({ path: 'screenshots/chat.png', fullPage: true });
  await approval.getByRole('button', { name: 'Allow once' }).click();
  await expect(approval).toHaveCount(0);
  await expect(log.getByRole('group', { name: 'Tool call create_records' }).last()).toContainText('Done');
  await expect(send).toBeEnabled();

  // The record is in the base.
  await page.goto('/bases');
  await page.getByRole('link', { name: 'Product launch (demo)' }).click();
  await page.getByRole('link', { name: 'Tasks', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Tasks');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await page.getByRole('searchbox', { name: 'Search records' }).fill(task);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  const rows = page.getByRole('region', { name: 'Tasks records' }).getByRole('row');
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(1).getByRole('rowheader')).toHaveText(task);
});

test('conversations start on the only base, and are searched, renamed in place and deleted after a confirmation', async ({ page }) => {
  test.setTimeout(60_000);
  const stamp = Date.now();
  await page.goto('/register?next=/chat');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await page.getByLabel('Email', { exact: true }).fill(`chat-list-${stamp}@example.com`);
  await page.getByLabel('Password', { exact: true }).fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL('/chat');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);

  // The sandbox has one base, so a new conversation is about it without choosing.
  await expect(page.getByLabel('Base', { exact: true }).locator('option:checked')).toHaveText('Product launch (demo)');
  const message = page.getByRole('textbox', { name: 'Message' });
  const log = page.getByRole('log');
  await message.fill('list tables');
  await message.press('Enter');
  await expect(page).toHaveURL(/\/chat\/[^/]+$/);
  await expect(log.getByRole('article', { name: 'Assistant' }).last()).toContainText('Tasks');

  await page.getByRole('link', { name: 'New conversation' }).click();
  await expect(page).toHaveURL('/chat');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('New conversation');
  await message.fill('count records in Tasks');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(page).toHaveURL(/\/chat\/[^/]+$/);
  await expect(log.getByRole('article', { name: 'You' })).toHaveCount(1);
  const list = page.getByRole('list', { name: 'Conversations' });
  await expect(list.getByRole('listitem')).toHaveCount(2);

  // Renamed in place; the header follows.
  await list.getByRole('button', { name: 'Rename count records in Tasks' }).click();
  const title = page.getByRole('textbox', { name: 'Conversation title' });
  await title.fill(`Task count ${stamp}`);
  await title.press('Enter');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Task count ${stamp}`);
  await expect(list.getByRole('link', { name: new RegExp(`Task count ${stamp}`) })).toHaveAttribute('aria-current', 'page');

  // The search narrows the list.
  const search = page.getByRole('searchbox', { name: 'Search conversations' });
  await search.fill(`count ${stamp}`);
  await expect(list.getByRole('listitem')).toHaveCount(1);
  await search.fill(`nothing like this ${stamp}`);
  await expect(page.getByText('No conversation matches your search.')).toBeVisible();
  await search.fill('');
  await expect(list.getByRole('listitem')).toHaveCount(2);

  // Deleting asks first; Cancel keeps it, confirming deletes it and starts a new conversation.
  await list.getByRole('button', { name: `Delete Task count ${stamp}` }).click();
  const dialog = page.getByRole('dialog', { name: 'Delete this conversation?' });
  await expect(dialog).toContainText(`Task count ${stamp}`);
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  await expect(list.getByRole('listitem')).toHaveCount(2);
  await list.getByRole('button', { name: `Delete Task count ${stamp}` }).click();
  await dialog.getByRole('button', { name: 'Delete conversation' }).click();
  await expect(dialog).toBeHidden();
  await expect(page).toHaveURL('/chat');
  await expect(page.getByRole('status').filter({ hasText: 'Deleted' })).toHaveText(`Deleted “Task count ${stamp}”.`);
  await expect(list.getByRole('listitem')).toHaveCount(1);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('New conversation');
});
