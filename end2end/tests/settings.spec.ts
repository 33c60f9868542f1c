import { test, expect } from '@playwright/test';
import { execFileSync } from 'node:child_process';

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
  await page.getByRole('combobox', { name: /Access/ }).selectOption('read');
  await page.getByRole('button', { name: 'Create key' }).click();
  const key = (await page.getByLabel('New API key').textContent())!.trim();
  expect(key).toMatch(/^pyat_/);
  await expect(page.getByRole('row', { name: /curl script/ })).toContainText('Read only');
  await page.screenshot({ path: 'screenshots/settings.png', fullPage: true });

  // The key works from outside the browser, as from curl.
  const listed = await request.post('/api/keys/list', { headers: { authorization: `Bearer ${key}` }, data: {} });
  expect(listed.status()).toBe(200);
  expect(JSON.stringify(await listed.json())).toContain('curl script');

  // The same key opens the tool catalog: a read-only key gets the read-only tools.
  await expect(page.getByTestId('mcp-url')).toHaveText(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
  const tools = await request.get('/api/tools', { headers: { authorization: `Bearer ${key}` } });
  expect(tools.status()).toBe(200);
  const catalog = (await tools.json()).tools as { name: string; annotations: { readOnlyHint: boolean } }[];
  expect(catalog.map((t) => t.name)).toContain('search_records');
  expect(catalog.every((t) => t.annotations.readOnlyHint)).toBe(true);

  page.once('dialog', (dialog) => dialog.accept());
  await page.getByRole('button', { name: 'Revoke curl script' }).click();
  await expect(page.getByText('No API keys yet.')).toBeVisible();
  const refused = await request.post('/api/keys/list', { headers: { authorization: `Bearer ${key}` }, data: {} });
  expect(refused.status()).toBe(401);
});

test('an administrator disables and enables an account on the users page', async ({ page, browser }) => {
  const password = 'correct horse battery';
  const admin = `admin-${Date.now()}@example.com`;
  // An admin made the way an operator would, with the CLI, on the server's own database.
  const dataDir = process.env.PW_DATA_DIR!;
  execFileSync('../target/debug/pyairtable', ['user', 'create', '--email', admin, '--admin'], {
    env: { DATABASE_URL: `sqlite://${dataDir}/pyairtable.db`, PYAIRTABLE_DATA_DIR: dataDir, PYAIRTABLE_USER_PASSWORD: password },
  });

  const member = `member-${Date.now()}@example.com`;
  const other = await browser.newPage();
  await other.goto('/register');
  await expect(other.locator('body[data-hydrated]')).toHaveCount(1);
  await other.getByLabel('Email', { exact: true }).fill(member);
  await other.getByLabel('Password', { exact: true }).fill(password);
  await other.getByRole('button', { name: 'Create account' }).click();
  await expect(other.getByRole('banner')).toContainText(member);
  // A member is not shown the page.
  await other.goto('/admin/users');
  await expect(other.getByRole('alert')).toHaveText('Only administrators can see this page.');
  await other.close();

  await page.goto('/admin/users');
  await expect(page).toHaveURL('/login?next=/admin/users');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await page.getByLabel('Email', { exact: true }).fill(admin);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).toHaveURL('/admin/users');

  const row = page.getByRole('row', { name: new RegExp(member) });
  await expect(row).toContainText('Active');
  await page.getByRole('button', { name: `Disable ${member}` }).click();
  await expect(row).toContainText('Disabled');
  await page.getByRole('button', { name: `Enable ${member}` }).click();
  await expect(row).toContainText('Active');

  // A reset link for the member, opened in a browser of theirs, sets a new password once.
  await page.getByRole('button', { name: `Make a password reset link for ${member}` }).click();
  const link = (await page.getByLabel('One-time link').textContent())!.trim();
  expect(link).toContain('/reset-password?token=');
  const theirs = await browser.newPage();
  await theirs.goto(link);
  await expect(theirs.locator('body[data-hydrated]')).toHaveCount(1);
  await theirs.getByLabel('Password', { exact: true }).fill('a brand new password');
  await theirs.getByRole('button', { name: 'Set password' }).click();
  await expect(theirs).toHaveURL('/login?reset=done');
  await expect(theirs.getByText('Your new password is set')).toBeVisible();
  await theirs.getByLabel('Email', { exact: true }).fill(member);
  await theirs.getByLabel('Password', { exact: true }).fill('a brand new password');
  await theirs.getByRole('button', { name: 'Log in' }).click();
  await expect(theirs.getByRole('banner')).toContainText(member);
  await theirs.goto(link);
  await expect(theirs.locator('body[data-hydrated]')).toHaveCount(1);
  await theirs.getByLabel('Password', { exact: true }).fill('yet another password');
  await theirs.getByRole('button', { name: 'Set password' }).click();
  await expect(theirs.getByRole('alert')).toContainText('This link is not valid');
  await theirs.close();

  // An invitation is listed until it is withdrawn.
  const invites = page.getByRole('region', { name: 'Invitations' });
  await invites.getByRole('button', { name: 'Create an invitation link' }).click();
  await expect(invites.getByLabel('One-time link')).toContainText('/register?invite=');
  await expect(invites.getByTestId('pending-invites').getByRole('row')).toHaveCount(2);
  await page.screenshot({ path: 'screenshots/admin-users.png', fullPage: true });
  await invites.getByRole('button', { name: /Withdraw the invitation/ }).click();
  await expect(invites).toContainText('No invitation is waiting to be used.');
});

test('settings show the sandbox connection and this browser, and delete the account', async ({ page }) => {
  const email = `leaving-${Date.now()}@example.com`;
  const password = 'correct horse battery';
  await page.goto('/register');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL('/');

  await page.goto('/settings');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  const airtable = page.getByRole('region', { name: 'Airtable' });
  await expect(airtable).toContainText('You are working in your sandbox');
  await airtable.getByLabel('Personal access token').fill('not a token');
  await airtable.getByRole('button', { name: 'Save token' }).click();
  await expect(airtable.getByRole('alert')).toContainText('not an Airtable personal access token');

  const sessions = page.getByRole('region', { name: 'Active sessions' });
  await expect(sessions.getByText('This browser')).toBeVisible();
  await page.screenshot({ path: 'screenshots/settings.png', fullPage: true });

  const danger = page.getByRole('region', { name: 'Delete account' });
  await danger.getByLabel('Password').fill(password);
  await danger.getByLabel('I understand').check();
  await danger.getByRole('button', { name: 'Delete my account' }).click();
  await expect(page).toHaveURL('/');
  await expect(page.getByRole('banner').getByRole('link', { name: 'Log in' })).toBeVisible();

  await page.goto('/login');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert')).toHaveText('The email or password is incorrect.');
});

test('a user chooses an OpenAI-compatible LLM, keeps its key across a model change, and goes back to the default', async ({ page }) => {
  await page.goto('/register?next=/settings');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await page.getByLabel('Email', { exact: true }).fill(`llm-${Date.now()}@example.com`);
  await page.getByLabel('Password', { exact: true }).fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL('/settings');

  const section = page.getByRole('region', { name: 'LLM provider' });
  const summary = section.getByTestId('llm-summary');
  await expect(summary).toHaveText("You use the server's default: the offline assistant.");
  await expect(section.getByLabel('API key')).toHaveCount(0);

  await section.getByLabel('Provider').selectOption('openai_compatible');
  await section.getByLabel('Model').fill('llama3.1:8b');
  // A server on this machine is refused until the administrator allows its host.
  await section.getByLabel('Endpoint').fill('http://127.0.0.1:11434/v1');
  await section.getByLabel('API key').fill('sk-local-key-7781');
  await section.getByRole('button', { name: 'Save LLM settings' }).click();
  await expect(section.getByRole('alert')).toContainText('PYAIRTABLE_LLM_ALLOWED_HOSTS');
  await expect(summary).toHaveText("You use the server's default: the offline assistant.");

  await section.getByLabel('Endpoint').fill('https://llm.example.com/v1');
  await section.getByLabel('API key').fill('sk-local-key-7781');
  await section.getByRole('button', { name: 'Save LLM settings' }).click();
  await expect(summary).toHaveText('Your chat uses llama3.1:8b at https://llm.example.com/v1.');
  await expect(section).toContainText('A key ending in 7781 is saved.');
  // The key itself is never put back in the page.
  expect(await page.content()).not.toContain('sk-local-key-7781');

  // A new model, with the key left empty, keeps the key; the choice survives a reload.
  await section.getByLabel('Model').fill('qwen2.5:14b');
  await section.getByRole('button', { name: 'Save LLM settings' }).click();
  await expect(summary).toContainText('qwen2.5:14b');
  await page.reload();
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await expect(summary).toHaveText('Your chat uses qwen2.5:14b at https://llm.example.com/v1.');
  await expect(section).toContainText('A key ending in 7781 is saved.');

  // An endpoint that is not a web address is explained, and the form keeps what was typed.
  await section.getByLabel('Endpoint').fill('ftp://files.example.com');
  await section.getByRole('button', { name: 'Save LLM settings' }).click();
  await expect(section.getByRole('alert')).toContainText('http:// or https://');
  await expect(section.getByLabel('Endpoint')).toHaveValue('ftp://files.example.com');

  // Gemini without a key is refused; the Gemini fields stay on screen with the message.
  await section.getByLabel('Provider').selectOption('gemini');
  await section.getByRole('button', { name: 'Save LLM settings' }).click();
  await expect(section.getByRole('alert')).toContainText('Gemini needs an API key');
  await expect(section.getByLabel('API key')).toBeVisible();
  await expect(summary).toHaveText('Your chat uses qwen2.5:14b at https://llm.example.com/v1.');

  await section.getByRole('button', { name: "Use the server's default" }).click();
  await expect(summary).toHaveText("You use the server's default: the offline assistant.");
});
