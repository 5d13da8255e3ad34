// Browser tests: Debian's Chromium (scripts/browser installs it) driven by
// Playwright against a real `goftogu serve` and a host page on another origin,
// both started by tests/browser/global-setup.ts.
import { existsSync } from 'node:fs'
import { defineConfig } from '@playwright/test'

const chromium = process.env.GOFTOGU_CHROMIUM || '/usr/bin/chromium'
if (!existsSync(chromium)) {
  throw new Error(`${chromium} is missing: run scripts/browser install (the tests need Debian's chromium)`)
}

export default defineConfig({
  testDir: 'tests/browser',
  globalSetup: './tests/browser/global-setup.ts',
  // One gateway and one routing desk for every test: tests take turns.
  workers: 1,
  fullyParallel: false,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    browserName: 'chromium',
    launchOptions: {
      executablePath: chromium,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
    trace: 'off',
    screenshot: 'only-on-failure',
  },
})
