import { test, expect } from '@playwright/test';
import { createServer, type Server } from 'node:http';

// A stand-in for an OpenAI-compatible model on the port the server allows (see the config):
// it answers each chat completion with a one-line summary of the prompt's last line.
const llmPort = Number(process.env.PW_PORT ?? 18000) + 1;
let llm: Server;

test.beforeAll(async () => {
  llm = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const sent = JSON.parse(body || '{}');
      const prompt: string = sent.messages?.at(-1)?.content ?? '';
      const task = prompt.split(':').at(-1)?.trim() ?? '';
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({
        id: 'chatcmpl-e2e', object: 'chat.completion', created: 0, model: sent.model,
        choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: `In short: ${task}` } }],
        usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
      }));
    });
  });
  await new Promise<void>((resolve) => llm.listen(llmPort, '127.0.0.1', resolve));
});

test.afterAll(async () => {
  await new Promise((resolve) => llm.close(resolve));
});

test('a workflow made in the editor summarizes each new task with the LLM and writes it to the task', async ({ page }) => {
  test.setTimeout(120_000);
  const stamp = Date.now();
  const task = `Order badges ${stamp}`;

  await page.goto('/register?next=/settings');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await page.getByLabel('Email', { exact: true }).fill(`workflows-${stamp}@example.com`);
  await page.getByLabel('Password', { exact: true }).fill('correct horse battery');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page).toHaveURL('/settings');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);

  // The user's own model: the stand-in above.
  const settings = page.getByRole('region', { name: 'LLM provider' });
  await settings.getByLabel('Provider').selectOption('openai_compatible');
  await settings.getByLabel('Model').fill('summarizer-1');
  await settings.getByLabel('Endpoint').fill(`http://127.0.0.1:${llmPort}/v1`);
  await settings.getByLabel('API key').fill('sk-e2e-key');
  await settings.getByRole('button', { name: 'Save LLM settings' }).click();
  await expect(settings.getByRole('status')).toHaveText('LLM settings saved.');

  // The editor: a record trigger on Tasks, an LLM step, and a tool step that writes Notes.
  await page.goto('/workflows');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await expect(page.getByText('No workflows yet.')).toBeVisible();
  await page.getByRole('link', { name: 'New workflow' }).click();
  await expect(page).toHaveURL('/workflows/new');
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await page.getByLabel('Name', { exact: true }).fill('Summarize new tasks');
  await page.getByLabel('Trigger').selectOption('record');
  await page.getByLabel('Base', { exact: true }).selectOption({ label: 'Product launch (demo)' });
  await page.getByLabel('Table', { exact: true }).fill('Tasks');

  await page.getByLabel("New step's kind").selectOption('llm');
  await page.getByRole('button', { name: 'Add step' }).click();
  const summarize = page.getByRole('listitem', { name: 'Step llm1' });
  await summarize.getByLabel('Prompt').fill('Give a one-line summary of this task: {{ trigger.record.fields.Name }}');

  await page.getByLabel("New step's kind").selectOption('tool');
  await page.getByRole('button', { name: 'Add step' }).click();
  const save = page.getByRole('listitem', { name: 'Step tool1' });
  await save.getByLabel('Tool', { exact: true }).selectOption('update_records');
  // A template that reads a step that doesn't exist is caught when saving, at its step.
  await save.getByLabel('base_id *').fill('{{ trigger.base_id }}');
  await save.getByLabel('table *').fill('Tasks');
  await save.getByLabel('records *').fill('[{"id": "{{ trigger.record.id }}", "fields": {"Notes": "{{ steps.summary.output.text }}"}}]');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'not saved' })).toBeVisible();
  await expect(save.getByRole('alert')).toContainText('“summary” is not a step of this workflow');
  await save.getByLabel('records *').fill('[{"id": "{{ trigger.record.id }}", "fields": {"Notes": "{{ steps.llm1.output.text }}"}}]');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page).toHaveURL(/\/workflows\/[0-9a-f-]{36}$/);
  const workflowUrl = page.url();
  await expect(page.getByText('When a record is created in Tasks')).toBeVisible();
  await page.screenshot({ path: 'test-results/workflows-editor.png', fullPage: true });

  // A task made in the base browser starts a run.
  await page.goto('/bases');
  await page.getByRole('link', { name: 'Product launch (demo)' }).click();
  await page.getByRole('link', { name: 'Tasks', exact: true }).click();
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await page.getByRole('button', { name: 'New record' }).click();
  const form = page.getByRole('region', { name: 'New record' });
  await form.getByLabel('Name', { exact: true }).fill(task);
  await form.getByRole('button', { name: 'Create record' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Created' })).toContainText(`Created “${task}”`);

  // The run shows up on the workflow's page, and its view shows both steps done.
  await page.goto(workflowUrl);
  const runs = page.getByTestId('runs');
  await expect(async () => {
    await page.reload();
    await expect(runs.getByText('Succeeded')).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 60_000 });
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await runs.getByRole('link').first().click();
  await expect(page).toHaveURL(/\/workflows\/runs\//);
  const steps = page.getByRole('list', { name: 'Steps' });
  await expect(steps.getByRole('listitem', { name: 'Step llm1' })).toContainText(`In short: ${task}`);
  await expect(steps.getByRole('listitem', { name: 'Step tool1' })).toContainText('Done');
  await page.screenshot({ path: 'test-results/workflows-run.png', fullPage: true });

  // The task now carries the summary.
  await page.goto('/bases');
  await page.getByRole('link', { name: 'Product launch (demo)' }).click();
  await page.getByRole('link', { name: 'Tasks', exact: true }).click();
  await expect(page.locator('body[data-hydrated]')).toHaveCount(1);
  await page.getByRole('searchbox', { name: 'Search records' }).fill(task);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(page.getByRole('region', { name: 'Tasks records' })).toContainText(`In short: ${task}`);
  await page.screenshot({ path: 'test-results/workflows-base.png', fullPage: true });
});
