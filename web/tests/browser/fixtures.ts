// What every browser test gets: the gateway's address, people to sign in as,
// pages that fail the test on any console error, and a clean desk afterwards.
import AxeBuilder from '@axe-core/playwright'
import { type Browser, type BrowserContextOptions, expect, type FrameLocator, type Page, test as base } from '@playwright/test'
import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { ADMIN } from './global-setup'

export const gateway = () => process.env.GOFTOGU_BROWSER_GATEWAY as string
export const hostOrigin = () => process.env.GOFTOGU_BROWSER_HOST as string
const PASSWORD = 'staple-lantern-orbit-77'

async function api<T>(path: string, init: { method?: string; token?: string; body?: unknown } = {}): Promise<T> {
  const response = await fetch(`${gateway()}/api/v1${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: {
      'Content-Type': 'application/json',
      ...(init.token ? { Authorization: `Bearer ${init.token}` } : {}),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  })
  const text = await response.text()
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${response.status} ${text}`)
  return (text ? JSON.parse(text) : null) as T
}

export async function login(username: string, password: string): Promise<{ access_token: string; refresh_token: string; user: { id: string } }> {
  return api('/auth/login', { body: { login: username, password } })
}

async function adminToken(): Promise<string> {
  return (await login(ADMIN.username, ADMIN.password)).access_token
}

export interface Operator {
  id: string
  username: string
  password: string
  name: string
}

let counter = 0
/** A new operator (created by the admin through the API), with a display name. */
export async function newOperator(name: string): Promise<Operator> {
  const username = `op${Date.now().toString(36)}${counter++}`
  const user = await api<{ id: string }>('/admin/users', {
    token: await adminToken(),
    body: { username, email: `${username}@example.com`, password: PASSWORD, role: 'operator' },
  })
  const tokens = await login(username, PASSWORD)
  await api('/users/me', { method: 'PATCH', token: tokens.access_token, body: { display_name: name } })
  return { id: user.id, username, password: PASSWORD, name }
}

/** Close whatever a test left open, so that the next one starts with an empty queue.
 * A close can lose a race with routing (409 conflict): go round until none is left. */
export async function closeEverything(): Promise<void> {
  const token = await adminToken()
  for (let round = 0; round < 50; round++) {
    const open: string[] = []
    for (const status of ['PENDING', 'OPEN']) {
      const page = await api<{ items: { id: string }[] }>(`/support/chats?status=${status}&limit=100`, { token })
      open.push(...page.items.map((chat) => chat.id))
    }
    if (open.length === 0) return
    for (const id of open) await api(`/support/chats/${id}/close`, { method: 'POST', token }).catch(() => undefined)
  }
  throw new Error('conversations left open after 50 rounds of closing')
}

export interface Opened {
  page: Page
  /** console errors (or page errors) that the test expects, as patterns */
  allow: (pattern: RegExp) => void
}

type Fixtures = {
  open: (options?: BrowserContextOptions) => Promise<Opened>
}

export const test = base.extend<Fixtures>({
  open: async ({ browser }, use) => {
    const opened: Array<{ errors: string[]; allowed: RegExp[]; close: () => Promise<void> }> = []
    await use(async (options = {}) => openPage(browser, options, opened))
    for (const item of opened) await item.close()
    await closeEverything() // after the pages are gone, so that none of them opens another
    const unexpected = opened.flatMap((item) =>
      item.errors.filter((error) => !item.allowed.some((pattern) => pattern.test(error))),
    )
    expect(unexpected, 'console errors').toEqual([])
  },
})

async function openPage(
  browser: Browser,
  options: BrowserContextOptions,
  opened: Array<{ errors: string[]; allowed: RegExp[]; close: () => Promise<void> }>,
): Promise<Opened> {
  const context = await browser.newContext({ locale: 'en-US', ...options })
  const page = await context.newPage()
  const record = { errors: [] as string[], allowed: [] as RegExp[], close: () => context.close() }
  page.on('console', (message) => {
    if (message.type() === 'error') record.errors.push(`${message.text()} @ ${message.location().url}`)
  })
  page.on('pageerror', (error) => record.errors.push(`pageerror: ${error.message}`))
  opened.push(record)
  return { page, allow: (pattern) => record.allowed.push(pattern) }
}

// --- the console ---------------------------------------------------------------

export async function signIn(page: Page, operator: { username: string; password: string }): Promise<void> {
  await page.goto(`${gateway()}/`)
  await page.getByLabel('Username or email').fill(operator.username)
  await page.getByLabel('Password').fill(operator.password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page.getByTestId('mine')).toBeAttached()
}

export async function goOnline(page: Page): Promise<void> {
  await page.getByRole('combobox', { name: 'Availability' }).selectOption('online')
  await expect(page.getByTestId('load')).toHaveText(/Load 0 of 3/)
  await expect(page.getByTestId('connection')).toHaveCount(0)
}

// --- the widget ------------------------------------------------------------------

export async function openWidget(page: Page, query = ''): Promise<FrameLocator> {
  await page.goto(`${hostOrigin()}/${query}`)
  await page.getByRole('button', { name: /Chat with us|گفتگو با ما/ }).click()
  return page.frameLocator('[data-goftogu-widget] iframe')
}

export async function startChat(frame: FrameLocator, name: string, email?: string): Promise<void> {
  await frame.getByLabel('Your name').fill(name)
  if (email) await frame.getByLabel('Email (optional)').fill(email)
  await frame.getByRole('button', { name: 'Start chatting' }).click()
  await expect(frame.getByLabel('Message')).toBeVisible()
}

export async function write(where: Page | FrameLocator, text: string): Promise<void> {
  const box = where.getByLabel('Message')
  await box.fill(text)
  await box.press('Enter')
}

export function messages(where: Page | FrameLocator, text: string | RegExp) {
  return where.locator('.message:not(.pending) .body', { hasText: text })
}

// --- checks --------------------------------------------------------------------

export async function expectAccessible(page: Page, name: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze()
  const serious = results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${name}: ${violation.id} (${violation.impact}): ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`)
  expect(serious).toEqual([])
}

const SHOTS = resolve(import.meta.dirname, '../../test-results/screenshots')
/** Screenshots for the README: test-results/screenshots (`make screenshots` copies them to docs/). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true })
  await page.screenshot({ path: resolve(SHOTS, `${name}.png`) })
}

export { expect }

// --- the messenger ---------------------------------------------------------------

export interface Person {
  id: string
  username: string
  password: string
  name: string
  token: string
}

/** A registered customer with a display name (and a token for seeding through the API). */
export async function newPerson(name: string, prefix = 'u'): Promise<Person> {
  const username = `${prefix}${Date.now().toString(36)}${counter++}`
  await api('/auth/register', { body: { username, email: `${username}@example.com`, password: PASSWORD } })
  const tokens = await login(username, PASSWORD)
  await api('/users/me', { method: 'PATCH', token: tokens.access_token, body: { display_name: name } })
  return { id: tokens.user.id, username, password: PASSWORD, name, token: tokens.access_token }
}

export async function asAdmin(): Promise<string> {
  return adminToken()
}

export { api }

export async function signInToMessenger(
  page: Page,
  person: { username: string; password: string },
  path = '/chat',
  landmark: (page: Page) => ReturnType<Page['getByTestId']> = (p) => p.getByTestId('conversations'),
): Promise<void> {
  await page.goto(`${gateway()}${path}`)
  await page.getByLabel(/Username or email|نام کاربری یا ایمیل/).fill(person.username)
  await page.getByLabel(/^(Password|گذرواژه)$/).fill(person.password)
  await page.getByRole('button', { name: /^(Sign in|ورود)$/ }).click()
  await expect(landmark(page)).toBeAttached()
}

/** The conversation list's entry whose title matches. */
export function conversation(page: Page, title: string | RegExp) {
  return page.getByTestId('conversations').getByRole('link', { name: title })
}

export function bubbles(page: Page, text: string | RegExp) {
  return page.locator('.message:not(.pending) .body', { hasText: text })
}

export async function say(page: Page, text: string): Promise<void> {
  const box = page.getByRole('textbox', { name: /^(Message|پیام)$/ })
  await box.fill(text)
  await box.press('Enter')
}
