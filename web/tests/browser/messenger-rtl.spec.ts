import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { api, bubbles, expect, expectAccessible, gateway, newPerson, say, screenshot, signInToMessenger, test } from './fixtures'

const direction = (element: Element) => getComputedStyle(element).direction

test('Persian and mixed Persian/English messages render right to left in the messenger', async ({ open }) => {
  const [maryam, reza] = [await newPerson('مریم'), await newPerson('رضا')]
  const { conversation } = await api<{ conversation: string }>('/chats/single', { token: maryam.token, body: { user_id: reza.id } })
  const { page: m } = await open({ locale: 'fa-IR', viewport: { width: 1200, height: 800 } })
  const { page: r } = await open({ locale: 'fa-IR', viewport: { width: 1200, height: 800 } })
  await signInToMessenger(m, maryam, `/chat/${conversation}`)
  await signInToMessenger(r, reza, `/chat/${conversation}`)
  await expect(m.locator('html')).toHaveAttribute('dir', 'rtl')
  const persian = 'سلام رضا، جلسه فردا ساعت ۱۰ است.'
  const mixed = 'لینک جلسه: Google Meet، ساعت 10:30'
  const english = 'See you at 10:30 in the Google Meet room.'
  await say(m, persian)
  await say(m, mixed)
  await say(r, english)
  for (const text of [persian, mixed]) {
    await expect(bubbles(r, text)).toHaveCount(1)
    expect(await bubbles(r, text).evaluate(direction)).toBe('rtl')
  }
  await expect(bubbles(m, english)).toHaveCount(1)
  expect(await bubbles(m, english).evaluate(direction)).toBe('ltr') // dir="auto": the text's own direction
  // My messages sit at the inline end: on the left in a right-to-left layout.
  const mine = await bubbles(m, persian).boundingBox()
  const theirs = await bubbles(m, english).boundingBox()
  expect(mine && theirs && mine.x < theirs.x).toBe(true)
  await expect(m.getByRole('heading', { name: 'رضا' })).toBeVisible()
  await expect(m.getByRole('button', { name: 'بفرست' })).toBeVisible()
  await expectAccessible(m, 'messenger in Persian')
  await screenshot(m, 'messenger-rtl')
})

test('first load of the messenger: bytes on the wire and time to a usable conversation', async ({ open, browser }) => {
  const [ali, bahar] = [await newPerson('Ali'), await newPerson('Bahar')]
  const { conversation } = await api<{ conversation: string }>('/chats/single', { token: ali.token, body: { user_id: bahar.id } })
  await api(`/conversations/${conversation}/messages`, { token: bahar.token, body: { client_id: 'hello', content: 'hello Ali' } })
  const { page: first } = await open()
  await signInToMessenger(first, ali, `/chat/${conversation}`)
  const storage = await first.context().storageState()
  const context = await browser.newContext({ storageState: storage })
  try {
    const page = await context.newPage()
    const sizes: Record<string, number> = {}
    page.on('response', async (response) => {
      if (!response.url().startsWith(gateway()) || response.url().includes('/socket.io/')) return
      const path = new URL(response.url()).pathname
      if (path.startsWith('/api/')) return
      sizes[path] = (await response.request().sizes()).responseBodySize
    })
    await page.goto(`${gateway()}/chat/${conversation}`)
    await expect(bubbles(page, 'hello Ali')).toBeVisible()
    const timing = await page.evaluate(() => {
      const navigation = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming
      return { dom_interactive_ms: Math.round(navigation.domInteractive), conversation_shown_ms: Math.round(performance.now()) }
    })
    const total = Object.values(sizes).reduce((sum, size) => sum + size, 0)
    const figures = { transferred_body_bytes: total, files: sizes, ...timing }
    writeFileSync(resolve(import.meta.dirname, '../../test-results/messenger-first-load.json'), JSON.stringify(figures, null, 2))
    console.log('messenger first load:', JSON.stringify(figures))
    expect(total).toBeLessThan(120_000)
  } finally {
    await context.close()
  }
})
