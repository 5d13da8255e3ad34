import { crc32, deflateSync } from 'node:zlib'
import { ADMIN } from './global-setup'
import { api, bubbles, conversation, expect, expectAccessible, newPerson, say, screenshot, signInToMessenger, test } from './fixtures'

/** A real PNG of random pixels (incompressible, so an upload of it takes a while). */
function noisePng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4)
    length.writeUInt32BE(data.length)
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(body))
    return Buffer.concat([length, body, crc])
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header[8] = 8 // bit depth
  header[9] = 2 // RGB
  const raw = Buffer.alloc((width * 3 + 1) * height)
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 2654435761) >>> 24
  for (let y = 0; y < height; y++) raw[y * (width * 3 + 1)] = 0
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 0 })),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

async function singleChat(a: { token: string }, b: { id: string }): Promise<string> {
  const chat = await api<{ conversation: string }>('/chats/single', { token: a.token, body: { user_id: b.id } })
  return chat.conversation
}

test('C is cut off while A sends 20: all 20 arrive once and in order, and what C typed offline is sent once', async ({ open }) => {
  const [ali, cyrus] = [await newPerson('Ali'), await newPerson('Cyrus')]
  const address = await singleChat(ali, cyrus)
  const { page: a } = await open({ viewport: { width: 1200, height: 1400 } })
  const { page: c, allow } = await open({ viewport: { width: 1200, height: 1400 } })
  allow(/ERR_INTERNET_DISCONNECTED|WebSocket connection|Failed to load resource/)
  await signInToMessenger(a, ali, `/chat/${address}`)
  await signInToMessenger(c, cyrus, `/chat/${address}`)
  await say(a, 'before the cut')
  await expect(bubbles(c, 'before the cut')).toHaveCount(1)

  await c.context().setOffline(true)
  await expect(c.getByTestId('connection')).toContainText('Offline')
  await say(c, 'typed offline')
  await expect(c.locator('.message.pending')).toHaveCount(1)
  for (let n = 1; n <= 20; n++) await say(a, `while you were away ${n}`)
  await expect(bubbles(a, 'while you were away 20')).toHaveCount(1)

  await c.context().setOffline(false)
  await expect(c.getByTestId('connection')).toHaveCount(0)
  await expect(bubbles(c, 'while you were away 20')).toHaveCount(1)
  await expect(c.locator('.message.pending')).toHaveCount(0)
  await expect(bubbles(a, 'typed offline')).toHaveCount(1)
  const seen = (await c.locator('.message .body').allTextContents()).filter((text) => text.startsWith('while you were away'))
  expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => `while you were away ${i + 1}`))
  await expect(bubbles(c, 'typed offline')).toHaveCount(1)
  // Stored once: the history holds it once.
  const history = await api<{ items: { content: string }[] }>(`/conversations/${address}/messages?limit=100`, { token: ali.token })
  expect(history.items.filter((m) => m.content === 'typed offline')).toHaveLength(1)
  expect(history.items).toHaveLength(22)
})

test('an image is uploaded with a progress bar and previewed on the other side', async ({ open }) => {
  const [ali, bahar] = [await newPerson('Ali'), await newPerson('Bahar')]
  const address = await singleChat(ali, bahar)
  const { page: a } = await open({ viewport: { width: 1200, height: 900 } })
  const { page: b } = await open({ viewport: { width: 1200, height: 900 } })
  await signInToMessenger(a, ali, `/chat/${address}`)
  await signInToMessenger(b, bahar, `/chat/${address}`)
  await expect(a.getByText(/Up to 20 MB per file/)).toBeVisible() // the limit, before any upload
  // A slow uplink, so that the progress is seen moving.
  const cdp = await a.context().newCDPSession(a)
  await cdp.send('Network.enable')
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 1_500_000 })
  const png = noisePng(1000, 1000) // ~3 MB
  await a.getByTestId('file-input').setInputFiles({ name: 'noise.png', mimeType: 'image/png', buffer: png })
  const progress = a.getByTestId('upload-progress')
  await expect(progress).toBeVisible()
  await expect
    .poll(async () => Number(await progress.getAttribute('value')), { intervals: [50] })
    .toBeGreaterThan(0)
  const midway = Number(await progress.getAttribute('value'))
  expect(midway).toBeLessThan(1)
  await expect.poll(async () => Number(await progress.getAttribute('value'))).toBe(1)
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 })
  await a.getByRole('textbox', { name: 'Message' }).fill('a picture')
  await a.getByRole('button', { name: 'Send' }).click()
  const image = b.getByRole('img', { name: 'Image noise.png' })
  await expect(image).toBeVisible()
  await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(1000)
  await expect(bubbles(b, 'a picture')).toHaveCount(1)
  await screenshot(b, 'messenger-image')
})

test('an admin disables C: C is signed out at once and cannot sign in again', async ({ open }) => {
  const cyrus = await newPerson('Cyrus')
  const { page: c, allow } = await open()
  allow(/status of 403 .*auth\/login/) // the refused sign-in of a disabled account
  await signInToMessenger(c, cyrus)
  const { page: admin } = await open({ viewport: { width: 1200, height: 900 } })
  await signInToMessenger(admin, ADMIN, '/admin/users', (page) => page.getByTestId('users'))
  await expect(admin.getByRole('heading', { name: 'Users' })).toBeVisible()
  await admin.getByLabel('Search users').fill(cyrus.username)
  const row = admin.getByTestId('users').locator(`tr[data-user="${cyrus.username}"]`)
  await expect(row).toBeVisible()
  await expectAccessible(admin, 'admin users')
  await screenshot(admin, 'admin-users')
  await row.getByRole('button', { name: 'Disable Cyrus' }).click()
  await expect(row).toContainText('disabled')
  await expect(c.getByText('Your account has been disabled. Contact an administrator.')).toBeVisible()
  await c.getByLabel('Username or email').fill(cyrus.username)
  await c.getByLabel('Password').fill(cyrus.password)
  await c.getByRole('button', { name: 'Sign in' }).click()
  await expect(c.getByRole('alert')).toContainText('disabled by an administrator')
  await row.getByRole('button', { name: 'Enable Cyrus' }).click()
  await expect(row).toContainText('enabled')
  // the health page: backends, version, counts
  await admin.getByRole('link', { name: 'Health' }).click()
  await expect(admin.getByTestId('backends')).toContainText('database')
  await expect(admin.getByTestId('version')).toContainText('Version')
  await expect(admin.getByTestId('counts')).toContainText('Live sessions')
  await expectAccessible(admin, 'admin health')
  await screenshot(admin, 'admin-health')
})
