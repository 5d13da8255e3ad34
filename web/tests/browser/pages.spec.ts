import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { expect, gateway, hostOrigin, test } from './fixtures'

test('the API explorer at /docs loads nothing from another host', async ({ open }) => {
  const { page } = await open()
  const requested: string[] = []
  page.on('request', (request) => requested.push(request.url()))
  await page.goto(`${gateway()}/docs`)
  await expect(page.locator('.swagger-ui .info .title')).toContainText('goftogu')
  await expect(page.getByText('/api/v1/support/chats').first()).toBeVisible()
  expect(requested.filter((url) => !url.startsWith(gateway()) && !url.startsWith('data:'))).toEqual([])
  const html = await (await fetch(`${gateway()}/docs`)).text()
  expect(html.match(/(?:src|href)="(https?:)?\/\/[^"]*"/g) ?? []).toEqual([])
})

test('client routes get the app, unknown files the JSON error, and assets are cacheable', async () => {
  for (const path of ['/', '/console', '/console/chats/x', '/support/chats/x']) {
    const response = await fetch(`${gateway()}${path}`)
    expect(response.status, path).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-cache')
    expect(await response.text()).toContain('<div id="app">')
  }
  for (const path of ['/api/v1/nothing', '/assets/nothing.js', '/socket.io-nothing.js', '/readyz/x', '/x.txt']) {
    const response = await fetch(`${gateway()}${path}`)
    expect(response.status, path).toBe(404)
    expect((await response.json()).error.code).toBe('not_found')
  }
  const index = await (await fetch(`${gateway()}/`)).text()
  const asset = index.match(/\/assets\/[^"]+\.js/)?.[0] as string
  const response = await fetch(`${gateway()}${asset}`)
  expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
  expect(response.headers.get('content-encoding')).toBe('gzip')
})

test('first load of the widget: bytes on the wire and time to interactive', async ({ open }) => {
  const { page } = await open()
  const sizes: Record<string, number> = {}
  page.on('response', async (response) => {
    if (!response.url().startsWith(gateway())) return
    const sizesOf = await response.request().sizes()
    sizes[new URL(response.url()).pathname] = sizesOf.responseBodySize
  })
  await page.goto(`${hostOrigin()}/`)
  await page.getByRole('button', { name: 'Chat with us' }).click()
  await expect(page.frameLocator('[data-goftogu-widget] iframe').getByLabel('Your name')).toBeVisible()
  // The iframe exists (and has navigated) only once the form shows: look for it after that.
  const frame = page.frames().find((item) => item.url().startsWith(`${gateway()}/widget/`))
  expect(frame).toBeDefined()
  const timing = await frame?.evaluate(() => {
    const navigation = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming
    const interactive = performance.getEntriesByName('goftogu:interactive')[0]
    return {
      dom_interactive_ms: Math.round(navigation.domInteractive),
      load_event_ms: Math.round(navigation.loadEventEnd),
      widget_interactive_ms: Math.round(interactive?.startTime ?? -1),
    }
  })
  expect(timing?.widget_interactive_ms).toBeGreaterThan(0)
  const total = Object.values(sizes).reduce((sum, size) => sum + size, 0)
  const figures = { transferred_body_bytes: total, files: sizes, ...timing }
  writeFileSync(resolve(import.meta.dirname, '../../test-results/widget-first-load.json'), JSON.stringify(figures, null, 2))
  console.log('widget first load:', JSON.stringify(figures))
})
