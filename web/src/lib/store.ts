// A tiny observable value: stores hold state, components subscribe with useStore.
import { useEffect, useState } from 'preact/hooks'

export type Listener<T> = (value: T) => void

export class Store<T> {
  #value: T
  readonly #listeners = new Set<Listener<T>>()

  constructor(initial: T) {
    this.#value = initial
  }

  get value(): T {
    return this.#value
  }

  set(next: T): void {
    if (Object.is(next, this.#value)) return
    this.#value = next
    for (const listener of [...this.#listeners]) listener(next)
  }

  /** Merge a partial change into an object state. */
  patch(this: Store<T & object>, change: Partial<T>): void {
    this.set({ ...this.#value, ...change })
  }

  subscribe(listener: Listener<T>): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }
}

/** The store's current value; the component renders again when it changes. */
export function useStore<T>(store: Store<T>): T {
  const [value, setValue] = useState(store.value)
  useEffect(() => {
    setValue(() => store.value) // changed between render and subscription
    return store.subscribe((next) => setValue(() => next))
  }, [store])
  return value
}
