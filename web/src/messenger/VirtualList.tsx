// A scrolling list that renders only the rows in (and near) the viewport, so a
// conversation of 100,000 messages costs what a screenful costs. Rows have
// different heights: each is measured once it has been drawn (an estimate until
// then), and the row at the top of the viewport stays where it is when rows are
// added above it (older pages) or change height. At the bottom, it follows new rows.
import type { ComponentChildren } from 'preact'
import { useCallback, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks'

export interface VirtualRow {
  key: string
}

const ESTIMATE = 64
const OVERSCAN = 800
const NEAR_TOP = 1200

export interface VirtualHandle {
  scrollToKey: (key: string) => void
  scrollToBottom: () => void
}

export function VirtualList<T extends VirtualRow>({
  rows,
  render,
  onNearTop,
  onBottomChange,
  handle,
  label,
  header,
  isAnchor,
}: {
  isAnchor?: (row: T) => boolean
  rows: T[]
  render: (row: T) => ComponentChildren
  onNearTop?: () => void
  onBottomChange?: (atBottom: boolean) => void
  handle?: { current: VirtualHandle | null }
  label: string
  header?: ComponentChildren
}) {
  const viewport = useRef<HTMLDivElement>(null)
  const heights = useRef(new Map<string, number>())
  const [version, setVersion] = useState(0)
  const [scroll, setScroll] = useState({ top: 0, height: 600 })
  const stick = useRef(true)
  const anchor = useRef<{ key: string; delta: number } | null>(null)
  const frame = useRef(0)

  const headerHeight = header ? 48 : 0
  const offsets = useMemo(() => {
    const tops = new Float64Array(rows.length + 1)
    let y = headerHeight
    for (let index = 0; index < rows.length; index++) {
      tops[index] = y
      y += heights.current.get((rows[index] as T).key) ?? ESTIMATE
    }
    tops[rows.length] = y
    return tops
  }, [rows, version, headerHeight])
  const indexByKey = useMemo(() => new Map(rows.map((row, index) => [row.key, index])), [rows])
  const total = offsets[rows.length] ?? 0

  const firstAt = (y: number): number => {
    let low = 0
    let high = rows.length - 1
    while (low < high) {
      const middle = (low + high + 1) >> 1
      if ((offsets[middle] ?? 0) <= y) low = middle
      else high = middle - 1
    }
    return Math.max(0, low)
  }
  const start = rows.length ? firstAt(scroll.top - OVERSCAN) : 0
  let end = start
  while (end < rows.length && (offsets[end] ?? 0) < scroll.top + scroll.height + OVERSCAN) end++

  const remember = (element: HTMLDivElement) => {
    const atBottom = element.scrollHeight - element.scrollTop - element.clientHeight < 8
    if (atBottom !== stick.current) onBottomChange?.(atBottom)
    stick.current = atBottom
    if (rows.length) {
      // The first row at the top that keeps its place among its neighbours (not a
      // separator: a day's separator moves up when older rows of that day arrive).
      let index = firstAt(element.scrollTop)
      while (index < rows.length - 1 && isAnchor && !isAnchor(rows[index] as T)) index++
      const row = rows[index]
      if (row) anchor.current = { key: row.key, delta: element.scrollTop - (offsets[index] ?? 0) }
    }
  }

  const onScroll = () => {
    const element = viewport.current
    if (!element) return
    remember(element)
    if (element.scrollTop < NEAR_TOP) onNearTop?.()
    cancelAnimationFrame(frame.current)
    frame.current = requestAnimationFrame(() =>
      setScroll({ top: element.scrollTop, height: element.clientHeight }),
    )
  }

  useLayoutEffect(() => {
    const element = viewport.current
    if (!element) return
    // 1. Measure what was drawn; a changed height means laying out again first.
    let changed = false
    for (const child of element.querySelectorAll<HTMLElement>('[data-row]')) {
      const key = child.dataset.row as string
      const height = child.offsetHeight
      if (height > 0 && heights.current.get(key) !== height) {
        heights.current.set(key, height)
        changed = true
      }
    }
    if (changed) {
      setVersion((value) => value + 1)
      return
    }
    // 2. Keep the reader's place: the bottom, or the row at the top of the viewport.
    if (stick.current) {
      element.scrollTop = element.scrollHeight
    } else if (anchor.current) {
      const index = indexByKey.get(anchor.current.key)
      if (index !== undefined) {
        const wanted = (offsets[index] ?? 0) + anchor.current.delta
        if (Math.abs(element.scrollTop - wanted) > 1) element.scrollTop = wanted
      }
    }
    if (element.clientHeight !== scroll.height || Math.abs(element.scrollTop - scroll.top) > OVERSCAN / 2) {
      setScroll({ top: element.scrollTop, height: element.clientHeight })
    }
    if (element.scrollTop < NEAR_TOP && !stick.current) onNearTop?.()
    if (stick.current && element.scrollHeight <= element.clientHeight) onNearTop?.()
  })

  const scrollToKey = useCallback(
    (key: string) => {
      const element = viewport.current
      const index = indexByKey.get(key)
      if (!element || index === undefined) return
      stick.current = false
      onBottomChange?.(false)
      anchor.current = { key, delta: -48 }
      element.scrollTop = (offsets[index] ?? 0) - 48
      setScroll({ top: element.scrollTop, height: element.clientHeight })
    },
    [indexByKey, offsets],
  )
  if (handle) {
    handle.current = {
      scrollToKey,
      scrollToBottom: () => {
        const element = viewport.current
        if (!element) return
        stick.current = true
        onBottomChange?.(true)
        element.scrollTop = element.scrollHeight
      },
    }
  }

  return (
    <div class="virtual" ref={viewport} onScroll={onScroll} tabIndex={0} role="log" aria-label={label}>
      <div class="virtual-space" style={{ blockSize: `${total}px` }}>
        {header && <div class="virtual-header">{header}</div>}
        {rows.slice(start, end).map((row, offset) => (
          <div
            key={row.key}
            data-row={row.key}
            class="virtual-row"
            style={{ insetBlockStart: `${offsets[start + offset] ?? 0}px` }}
          >
            {render(row)}
          </div>
        ))}
      </div>
    </div>
  )
}
