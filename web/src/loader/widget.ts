// /widget.js: what a host page includes to get the support widget.
//
//   <script src="https://HOST/widget.js" data-goftogu-url="https://HOST" async></script>
//
// (data-goftogu-topic="sales" sends the conversations to that team.)
//
// It adds a launcher button (in a shadow root, so the page's CSS cannot reach it)
// and, on first open, an iframe of our own origin: the chat lives there, with its
// tokens in that origin's storage, out of the host page's reach. The two talk only
// by postMessage, each checking the other's origin and window. No framework.
;(() => {
  const script =
    (document.currentScript as HTMLScriptElement | null) ??
    document.querySelector<HTMLScriptElement>('script[data-goftogu-url]')
  if (!script || (window as unknown as { __goftogu?: boolean }).__goftogu) return
  ;(window as unknown as { __goftogu?: boolean }).__goftogu = true
  const base = (script.dataset.goftoguUrl || new URL(script.src).origin).replace(/\/+$/, '')
  const origin = new URL(base).origin
  const persian = (script.dataset.lang || navigator.language || '').toLowerCase().startsWith('fa')
  const label = persian ? 'گفتگو با ما' : 'Chat with us'

  const host = document.createElement('div')
  host.setAttribute('data-goftogu-widget', '')
  const root = host.attachShadow({ mode: 'open' })
  root.innerHTML = `<style>
    :host { all: initial; }
    button { position: fixed; inset-block-end: 20px; inset-inline-end: 20px; z-index: 2147483646;
      inline-size: 56px; block-size: 56px; border-radius: 50%; border: 0; cursor: pointer;
      background: #1f6f5c; color: #fff; box-shadow: 0 4px 14px rgba(0,0,0,.25); display: grid; place-items: center; }
    button:focus-visible { outline: 3px solid #f5b400; outline-offset: 3px; }
    svg { inline-size: 26px; block-size: 26px; }
    iframe { position: fixed; inset-block-end: 88px; inset-inline-end: 20px; z-index: 2147483647;
      inline-size: 370px; block-size: min(600px, calc(100vh - 110px)); border: 0; border-radius: 12px;
      box-shadow: 0 8px 30px rgba(0,0,0,.3); background: #fff; color-scheme: normal; }
    iframe[hidden] { display: none; }
    @media (max-width: 480px) {
      iframe { inset: 0; inline-size: 100vw; block-size: 100vh; border-radius: 0; }
      :host([data-open]) button { display: none; }
    }
  </style>
  <button type="button" aria-expanded="false" aria-label="${label}" title="${label}">
    <svg viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" d="M4 4h16v11H9l-5 4V4z"/></svg>
  </button>`
  const launcher = root.querySelector('button') as HTMLButtonElement
  let frame: HTMLIFrameElement | null = null
  let ready = false
  let open = false

  const post = (message: { type: string }) => {
    if (frame?.contentWindow && ready) frame.contentWindow.postMessage(message, origin)
  }
  const setOpen = (next: boolean) => {
    open = next
    if (next && !frame) {
      frame = document.createElement('iframe')
      const topic = script.dataset.goftoguTopic
      frame.src = `${base}/widget/${topic ? `?topic=${encodeURIComponent(topic)}` : ''}`
      frame.title = label
      frame.setAttribute('allow', '')
      root.appendChild(frame)
    }
    if (frame) frame.hidden = !next
    host.toggleAttribute('data-open', next)
    launcher.setAttribute('aria-expanded', String(next))
    if (next) {
      frame?.focus()
      post({ type: 'goftogu:open' })
    } else {
      post({ type: 'goftogu:closed' })
      launcher.focus()
    }
  }
  launcher.addEventListener('click', () => setOpen(!open))
  window.addEventListener('message', (event) => {
    if (event.origin !== origin || !frame || event.source !== frame.contentWindow) return
    const data = event.data as { type?: string }
    if (data?.type === 'goftogu:ready') {
      ready = true
      if (open) post({ type: 'goftogu:open' })
    } else if (data?.type === 'goftogu:close') {
      setOpen(false)
    }
  })
  const attach = () => document.body.appendChild(host)
  if (document.body) attach()
  else document.addEventListener('DOMContentLoaded', attach)
})()
