// A real gateway (`goftogu serve`, embedded backends, a fresh data directory, a
// free port) and a second origin serving a shop page that embeds the widget.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createWriteStream, existsSync, mkdtempSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const ROOT = resolve(import.meta.dirname, '../../..')
const PYTHON = resolve(process.env.GOFTOGU_PYTHON || join(ROOT, '.venv/bin/python'))
export const ADMIN = { username: 'browser-admin', password: 'correct-horse-battery-42' }

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  const { port } = server.address() as AddressInfo
  await new Promise((done) => server.close(done))
  return port
}

/** The shop page: hostile CSS included, which must not reach the widget. */
export function hostPage(gateway: string, lang = 'en', topic: string | null = null): string {
  const dir = lang === 'fa' ? 'rtl' : 'ltr'
  return `<!doctype html><html lang="${lang}" dir="${dir}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Shop</title><link rel="icon" href="data:,">
<style>* { font-family: serif !important; color: #000 } button { background: red !important } iframe { border: 9px solid red }</style>
</head><body><main><h1>Shop</h1><p>A page on another origin.</p></main>
<script src="${gateway}/widget.js" data-goftogu-url="${gateway}"${topic ? ` data-goftogu-topic="${topic.replace(/[^a-z0-9-]/g, '')}"` : ''} async></script></body></html>`
}

function run(args: string[], env: NodeJS.ProcessEnv): void {
  const result = spawnSync(PYTHON, ['-m', 'goftogu', ...args], { cwd: ROOT, env, encoding: 'utf-8' })
  if (result.status !== 0) throw new Error(`goftogu ${args[0]} failed: ${result.stderr ?? result.error}`)
}

async function waitHealthy(url: string, child: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`goftogu serve exited; see ${log}`)
    try {
      if ((await fetch(`${url}/healthz`)).ok) return
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 200))
  }
  throw new Error(`goftogu serve did not answer /healthz within 60 s; see ${log}`)
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: run make .venv/.installed`)
  const dataDir = mkdtempSync(join(tmpdir(), 'goftogu-browser-'))
  const [port, hostPort] = [await freePort(), await freePort()]
  const gateway = `http://127.0.0.1:${port}`
  const host = `http://127.0.0.1:${hostPort}`
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GOFTOGU_DATA_DIR: dataDir,
    GOFTOGU_ENV: 'test',
    GOFTOGU_LOG_FORMAT: 'text',
    GOFTOGU_WIDGET_ORIGINS: JSON.stringify([host]),
    GOFTOGU_RATE_LOGIN_PER_IP: '10000/60',
    GOFTOGU_RATE_LOGIN_PER_ACCOUNT: '10000/60',
    GOFTOGU_RATE_REGISTER_PER_IP: '10000/60',
    GOFTOGU_RATE_VISITOR_PER_IP: '10000/60',
    GOFTOGU_PASSWORD_HASH_MEMORY_KIB: '1024',
    GOFTOGU_PASSWORD_HASH_TIME_COST: '1',
    GOFTOGU_PUBLIC_URL: gateway,
  }
  for (const name of Object.keys(env)) {
    // The suite's own services are not this gateway's: embedded backends only.
    if (/^GOFTOGU_(TEST_|DATABASE_URL|MONGODB_URL|REDIS_URL|BROKER_URL|SMTP_URL)/.test(name)) delete env[name]
  }
  run(['migrate'], env)
  run(['create-admin', '--username', ADMIN.username, '--email', 'browser-admin@example.com', '--password', ADMIN.password], env)
  const log = join(dataDir, 'gateway.log')
  const output = createWriteStream(log)
  const child = spawn(PYTHON, ['-m', 'goftogu', 'serve', '--port', String(port)], { cwd: ROOT, env })
  child.stdout?.pipe(output)
  child.stderr?.pipe(output)
  await waitHealthy(gateway, child, log)

  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', host)
    if (url.pathname !== '/') {
      response.writeHead(404).end()
      return
    }
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
    response.end(hostPage(gateway, url.searchParams.get('lang') ?? 'en', url.searchParams.get('topic')))
  })
  await new Promise<void>((done) => server.listen(hostPort, '127.0.0.1', done))

  process.env.GOFTOGU_BROWSER_GATEWAY = gateway
  process.env.GOFTOGU_BROWSER_HOST = host
  process.env.GOFTOGU_BROWSER_LOG = log
  process.env.GOFTOGU_BROWSER_DATA_DIR = dataDir
  process.env.GOFTOGU_BROWSER_PYTHON = PYTHON
  return async () => {
    await new Promise((done) => server.close(done))
    child.kill('SIGTERM')
    await new Promise((done) => {
      if (child.exitCode !== null) return done(null)
      child.once('exit', done)
      setTimeout(() => child.kill('SIGKILL'), 15_000)
    })
  }
}
