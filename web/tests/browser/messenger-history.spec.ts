import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { api, expect, gateway, newPerson, signInToMessenger, test } from './fixtures'

const COUNT = 5000

test('scrolling up through 5,000 messages loads every page with no gap and no duplicate, smoothly', async ({ open }) => {
  test.setTimeout(300_000)
  const [ali, bahar] = [await newPerson('Ali'), await newPerson('Bahar')]
  const { conversation } = await api<{ conversation: string }>('/chats/single', { token: ali.token, body: { user_id: bahar.id } })
  // Seeded straight into the gateway's database (5,000 sends through the API take minutes here).
  const seeding = Date.now()
  const chatId = conversation.slice('single:'.length)
  const seeded = spawnSync(
    process.env.GOFTOGU_BROWSER_PYTHON as string,
    [resolve(import.meta.dirname, 'seed_history.py'), process.env.GOFTOGU_BROWSER_DATA_DIR as string, chatId, ali.id, bahar.id, String(COUNT)],
    { encoding: 'utf-8' },
  )
  expect(seeded.status, seeded.stderr).toBe(0)
  const seedMs = Date.now() - seeding
  console.log('seeded', COUNT, 'in', seedMs, 'ms')
  const { page } = await open({ viewport: { width: 1200, height: 900 } })
  await signInToMessenger(page, bahar, `/chat/${conversation}`)
  await expect(page.locator('.message .body', { hasText: `seeded ${COUNT - 1}` }).first()).toBeVisible()

  // Watch the main thread while scrolling: long tasks and frames.
  await page.evaluate(() => {
    const w = window as unknown as { __perf: { longTasks: number[]; frames: number; start: number; maxRows: number; dupes: number } }
    w.__perf = { longTasks: [], frames: 0, start: performance.now(), maxRows: 0, dupes: 0 }
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) w.__perf.longTasks.push(entry.duration)
    }).observe({ type: 'longtask', buffered: false })
    const tick = () => {
      w.__perf.frames++
      const rows = document.querySelectorAll('.virtual [data-seq]')
      w.__perf.maxRows = Math.max(w.__perf.maxRows, rows.length)
      const seqs = new Set<string>()
      for (const row of Array.from(rows)) {
        const seq = (row as HTMLElement).dataset.seq as string
        if (seqs.has(seq)) w.__perf.dupes++
        seqs.add(seq)
      }
      requestAnimationFrame(tick)
    }
    requestAnimationFrame(tick)
  })

  // Scroll up as a reader would (wheel), collecting what is drawn, until the beginning.
  const seen = new Map<number, string>()
  const collect = async () => {
    const rows = await page.locator('.virtual [data-seq]').evaluateAll((nodes) =>
      nodes.map((node) => [Number((node as HTMLElement).dataset.seq), node.querySelector('.body')?.textContent ?? ''] as const),
    )
    for (const [seq, text] of rows) seen.set(seq, text)
  }
  const log = page.getByRole('log')
  await log.hover()
  await collect()
  const started = Date.now()
  for (let step = 0; step < 3000; step++) {
    await page.mouse.wheel(0, -900)
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))))
    await collect()
    if (step % 10 === 0 && (await page.getByTestId('history-top').textContent()) === 'The beginning of the conversation') {
      const top = await log.evaluate((element) => element.scrollTop)
      if (top === 0) break
    }
  }
  await collect()
  const scrollMs = Date.now() - started
  const perf = await page.evaluate(() => {
    const w = window as unknown as { __perf: { longTasks: number[]; frames: number; start: number; maxRows: number; dupes: number } }
    const seconds = (performance.now() - w.__perf.start) / 1000
    const tasks = w.__perf.longTasks
    return {
      seconds: Math.round(seconds * 10) / 10,
      fps: Math.round(w.__perf.frames / seconds),
      long_tasks: tasks.length,
      long_task_total_ms: Math.round(tasks.reduce((sum, d) => sum + d, 0)),
      longest_task_ms: Math.round(Math.max(0, ...tasks)),
      max_rows_in_dom: w.__perf.maxRows,
      duplicate_rows_seen: w.__perf.dupes,
    }
  })
  await expect(page.getByTestId('history-top')).toHaveText('The beginning of the conversation')

  // Every message once: 5,000 distinct seqs, their contents exactly the seeded set, in seq order.
  const seqs = [...seen.keys()].sort((a, b) => a - b)
  const missing = Array.from({ length: COUNT }, (_, i) => i + 1).filter((seq) => !seen.has(seq))
  expect(missing, 'seqs never drawn').toEqual([])
  expect(seqs).toHaveLength(COUNT)
  const contents = seqs.map((seq) => seen.get(seq))
  expect(new Set(contents).size).toBe(COUNT)
  expect([...contents].sort()).toEqual(Array.from({ length: COUNT }, (_, i) => `seeded ${i}`).sort())
  const server = await api<{ items: { seq: number }[] }>(`/conversations/${conversation}/messages?after_seq=0&limit=200`, { token: ali.token })
  expect(seqs.slice(0, 200)).toEqual(server.items.map((m) => m.seq))
  expect(perf.duplicate_rows_seen).toBe(0)
  expect(perf.max_rows_in_dom).toBeLessThan(200) // only what is near the viewport is drawn

  const figures = { messages: COUNT, seed_ms: seedMs, scroll_wall_ms: scrollMs, ...perf, gateway: gateway() }
  writeFileSync(resolve(import.meta.dirname, '../../test-results/messenger-scroll.json'), JSON.stringify(figures, null, 2))
  console.log('messenger scroll:', JSON.stringify(figures))
})
