// The widget page's side of the postMessage channel with the host page's loader.
// Messages are accepted only from the parent window, from an allowed origin
// (GOFTOGU_WIDGET_ORIGINS, which also rules who may frame this page at all);
// nothing but UI state crosses: never a token.
export type HostMessage = { type: 'goftogu:open' } | { type: 'goftogu:closed' }
export type WidgetMessage =
  | { type: 'goftogu:ready' }
  | { type: 'goftogu:close' }
  | { type: 'goftogu:unread'; count: number }

export function allowedOrigin(origin: string, allowed: string[], own: string): boolean {
  return origin === own || allowed.includes('*') || allowed.includes(origin)
}

export class HostBridge {
  #hostOrigin: string | null = null

  constructor(
    private readonly allowed: string[],
    private readonly onMessage: (message: HostMessage) => void,
  ) {
    if (window.parent === window) return // opened on its own, not embedded
    const referrer = document.referrer ? new URL(document.referrer).origin : null
    const ancestor = location.ancestorOrigins?.[0] ?? referrer
    if (ancestor && allowedOrigin(ancestor, allowed, location.origin)) this.#hostOrigin = ancestor
    window.addEventListener('message', (event) => {
      if (event.source !== window.parent || event.origin !== this.#hostOrigin) return
      const data = event.data as { type?: unknown }
      if (data?.type === 'goftogu:open' || data?.type === 'goftogu:closed') this.onMessage(data as HostMessage)
    })
  }

  get embedded(): boolean {
    return this.#hostOrigin !== null
  }

  post(message: WidgetMessage): void {
    if (this.#hostOrigin) window.parent.postMessage(message, this.#hostOrigin)
  }
}
