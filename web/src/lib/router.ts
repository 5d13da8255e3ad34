// Client routes: the path is state; links and screens call navigate().
import { Store } from './store'

export const path = new Store<string>(typeof location === 'undefined' ? '/' : location.pathname)

export function navigate(to: string, replace = false): void {
  if (to === location.pathname) return
  if (replace) history.replaceState(null, '', to)
  else history.pushState(null, '', to)
  path.set(to)
}

if (typeof window !== 'undefined') {
  window.addEventListener('popstate', () => path.set(location.pathname))
}

/** ``/console/chats/:id`` -> {id}; null when the pattern does not match. */
export function match(pattern: string, actual: string): Record<string, string> | null {
  const want = pattern.split('/').filter(Boolean)
  const got = actual.split('/').filter(Boolean)
  if (want.length !== got.length) return null
  const params: Record<string, string> = {}
  for (const [index, part] of want.entries()) {
    const value = got[index] as string
    if (part.startsWith(':')) params[part.slice(1)] = decodeURIComponent(value)
    else if (part !== value) return null
  }
  return params
}
