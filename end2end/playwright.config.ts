import { defineConfig } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The Makefile picks a free port; every Playwright process reads the same one.
const port = Number(process.env.PW_PORT ?? 18000);
const baseURL = `http://127.0.0.1:${port}`;
// A fresh data folder per run: its own SQLite database and secrets.
const dataDir = process.env.PW_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'pyairtable-e2e-'));
process.env.PW_DATA_DIR = dataDir;

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: true,
  workers: 2,
  reporter: [['list']],
  use: {
    baseURL,
    trace: 'retain-on-failure',
    launchOptions: {
      // Debian's Chromium; Playwright never downloads a browser here.
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: {
    command: '../target/debug/pyairtable serve',
    url: `${baseURL}/api/health`,
    reuseExistingServer: false,
    timeout: 60_000,
    env: {
      PYAIRTABLE_BIND: `127.0.0.1:${port}`,
      PYAIRTABLE_DATA_DIR: dataDir,
      DATABASE_URL: `sqlite://${dataDir}/pyairtable.db`,
      PYAIRTABLE_SITE_ROOT: '../target/site',
      // Airtable's limits stay on; a short penalty keeps clients that meet a 429 (Airtable's
      // own JavaScript client has no limiter) within a test's time.
      PYAIRTABLE_SANDBOX_PENALTY_SECONDS: '1',
      // The workflows test's stand-in for an OpenAI-compatible model listens on the next port;
      // every other local endpoint stays refused.
      PYAIRTABLE_LLM_ALLOWED_HOSTS: `127.0.0.1:${port + 1}`,
      // Record triggers look every second, so a test sees its run soon.
      PYAIRTABLE_WORKFLOW_RECORD_POLL_SECONDS: '1',
    },
  },
});
