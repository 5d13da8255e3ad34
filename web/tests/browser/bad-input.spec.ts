import type { Frame, Page } from '@playwright/test'
import { expect, gateway, goOnline, messages, newOperator, openWidget, signIn, startChat, test, write } from './fixtures'

test('the widget refuses a missing name, an empty message and a huge paste with words', async ({ open }) => {
  const { page } = await open()
  const widget = await openWidget(page)
  await widget.getByRole('button', { name: 'Start chatting' }).click()
  await expect(widget.getByRole('alert')).toHaveText('Please tell us your name.')
  await startChat(widget, 'Tara')

  await widget.getByLabel('Message').press('Enter')
  await expect(widget.getByRole('alert')).toHaveText('Write something first.')
  await widget.getByLabel('Message').fill('   ')
  await widget.getByRole('button', { name: 'Send' }).click()
  await expect(widget.getByRole('alert')).toHaveText('Write something first.')

  const huge = 'x'.repeat(16_001)
  await widget.getByLabel('Message').fill(huge)
  await widget.getByLabel('Message').press('Enter')
  await expect(widget.getByRole('alert')).toHaveText(
    'This message is 16,001 characters long; at most 16,000 fit.',
  )
  await expect(widget.locator('.message')).toHaveCount(0) // nothing was sent
  await expect(widget.getByLabel('Message')).toHaveValue(huge) // nor lost

  await widget.getByLabel('Message').fill('A normal question')
  await widget.getByLabel('Message').press('Enter')
  await expect(messages(widget, 'A normal question')).toHaveCount(1)
  await expect(widget.getByRole('alert')).toHaveCount(0)
})

test('a lost session sends the operator back to sign in with a message, never a blank page', async ({ open }) => {
  const operator = await newOperator('Parisa')
  const { page, allow } = await open()
  allow(/status of 401|ERR_INTERNET_DISCONNECTED|WebSocket connection/)
  await signIn(page, operator)
  await goOnline(page)
  // The session is revoked elsewhere while this page is away (revocation is
  // immediate: a connected page would hear session:ended), and its access token
  // no longer works.
  const away = await loseSession(page, 'goftogu.console.session')
  await page.goto(away) // the console's first calls meet a 401, and the refresh fails
  await expect(page.getByRole('alert')).toHaveText('Your session ended. Please sign in again.')
  await expect(page.getByLabel('Username or email')).toBeVisible()
  await signIn(page, operator) // and back in
})

test("a visitor whose session is gone starts again, told why", async ({ open }) => {
  const { page, allow } = await open()
  allow(/status of 401|ERR_INTERNET_DISCONNECTED|WebSocket connection/)
  const widget = await openWidget(page)
  await startChat(widget, 'Babak')
  await write(widget, 'hello')
  await expect(messages(widget, 'hello')).toHaveCount(1)
  const frame = page.frames().find((item) => item.url().startsWith(`${gateway()}/widget/`))
  const shop = await loseSession(frame as Frame, 'goftogu.widget.session', page)
  await page.goto(shop)
  const again = await openWidget(page)
  await expect(again.getByRole('alert')).toHaveText('Your previous chat could not be restored. Please start again.')
  await startChat(again, 'Babak')
  await write(again, 'hello again')
  await expect(messages(again, 'hello again')).toHaveCount(1)
})

/** Log the stored session out from outside the page while it is offline, leave
 * it a token that no longer works, and leave the app (to about:blank, so no copy
 * of it runs when the network is back). Returns the address to come back to. */
async function loseSession(where: Page | Frame, key: string, page?: Page): Promise<string> {
  const top = page ?? (where as Page)
  const address = top.url()
  const context = top.context()
  await context.setOffline(true)
  const session = JSON.parse((await where.evaluate((name) => localStorage.getItem(name), key)) as string)
  const response = await fetch(`${gateway()}/api/v1/auth/logout`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${session.accessToken}` },
    body: JSON.stringify({ refresh_token: session.refreshToken }),
  })
  expect(response.status).toBe(204)
  await where.evaluate(
    ([name, value]) => localStorage.setItem(name as string, value as string),
    [key, JSON.stringify({ ...session, accessToken: 'not-a-token' })],
  )
  // Leave the app before the network is back (else its socket would reconnect
  // first, or a reloaded copy would use up the stale session before the test looks).
  await top.goto('about:blank')
  await context.setOffline(false)
  return address
}
