// What the gateway tells the page about itself, in <meta name="goftogu-config">
// (filled in when it serves the page; defaults for `npm run dev`).
export interface RuntimeConfig {
  maxMessageLength: number
  widgetOrigins: string[]
}

const DEFAULTS: RuntimeConfig = { maxMessageLength: 16000, widgetOrigins: [] }

export function readConfig(doc: Document = document): RuntimeConfig {
  const raw = doc.querySelector('meta[name="goftogu-config"]')?.getAttribute('content')
  if (!raw || raw.startsWith('__')) return DEFAULTS
  try {
    return { ...DEFAULTS, ...(JSON.parse(raw) as Partial<RuntimeConfig>) }
  } catch {
    return DEFAULTS
  }
}
