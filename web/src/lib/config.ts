// What the gateway tells the page about itself, in <meta name="goftogu-config">
// (filled in when it serves the page; defaults for `npm run dev`).
export interface RuntimeConfig {
  maxMessageLength: number
  widgetOrigins: string[]
  /** the largest file an upload may hold (shown before uploading) */
  maxAttachmentBytes: number
  /** VAPID keys are configured: Web Push can be offered */
  pushConfigured: boolean
}

const DEFAULTS: RuntimeConfig = {
  maxMessageLength: 16000,
  widgetOrigins: [],
  maxAttachmentBytes: 20 * 1024 * 1024,
  pushConfigured: false,
}

export function readConfig(doc: Document = document): RuntimeConfig {
  const raw = doc.querySelector('meta[name="goftogu-config"]')?.getAttribute('content')
  if (!raw || raw.startsWith('__')) return DEFAULTS
  try {
    return { ...DEFAULTS, ...(JSON.parse(raw) as Partial<RuntimeConfig>) }
  } catch {
    return DEFAULTS
  }
}
