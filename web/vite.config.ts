// The app's build: two pages (the console at index.html, the widget's iframe at
// widget/index.html) sharing chunks, written into the Python package so the wheel
// carries them. The loader (/widget.js) has its own build: vite.loader.config.ts.
import { readFileSync, writeFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { createRequire } from 'node:module'
import { dirname, resolve } from 'node:path'
import { defineConfig, type Plugin } from 'vite'

const require = createRequire(import.meta.url)
export const OUT_DIR = resolve(import.meta.dirname, '../src/goftogu/webapp/dist')

/** Swagger UI for /docs, from the swagger-ui-dist package: hashed assets plus a
 * docs.json naming them, so the gateway serves the API explorer with nothing
 * loaded from another host. */
function swaggerUi(): Plugin {
  return {
    name: 'goftogu-swagger-ui',
    apply: 'build',
    generateBundle() {
      const dist = dirname(require.resolve('swagger-ui-dist/package.json'))
      const emit = (file: string) =>
        this.getFileName(
          this.emitFile({ type: 'asset', name: file, source: readFileSync(resolve(dist, file)) }),
        )
      const manifest = {
        js: '/' + emit('swagger-ui-bundle.js'),
        css: '/' + emit('swagger-ui.css'),
        favicon: '/favicon.svg',
      }
      this.emitFile({ type: 'asset', fileName: 'docs.json', source: JSON.stringify(manifest) })
    },
  }
}

/** gzip copies of the static files (the gateway sends them to browsers that
 * accept gzip): compressed once at build time instead of on every request. */
export function precompress(): Plugin {
  return {
    name: 'goftogu-precompress',
    apply: 'build',
    writeBundle(options, bundle) {
      for (const file of Object.keys(bundle)) {
        if (!/\.(js|css|svg|json)$/.test(file)) continue
        const path = resolve(options.dir ?? OUT_DIR, file)
        writeFileSync(`${path}.gz`, gzipSync(readFileSync(path), { level: 9 }))
      }
    },
  }
}

export default defineConfig({
  plugins: [swaggerUi(), precompress()],
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: OUT_DIR,
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: {
      input: {
        console: resolve(import.meta.dirname, 'index.html'),
        widget: resolve(import.meta.dirname, 'widget/index.html'),
      },
    },
  },
  server: {
    // `npm run dev` against a gateway on :8000
    proxy: {
      '/api': 'http://127.0.0.1:8000',
      '/socket.io': { target: 'http://127.0.0.1:8000', ws: true },
    },
  },
})
