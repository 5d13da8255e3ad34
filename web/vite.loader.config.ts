// /widget.js: the loader a host page includes. No framework, one small IIFE,
// a fixed name (the snippet points at it), added to the app's build directory.
import { resolve } from 'node:path'
import { defineConfig } from 'vite'
import { OUT_DIR, precompress } from './vite.config.ts'

export default defineConfig({
  publicDir: false,
  plugins: [precompress()],
  build: {
    outDir: OUT_DIR,
    emptyOutDir: false,
    target: 'es2020',
    lib: {
      entry: resolve(import.meta.dirname, 'src/loader/widget.ts'),
      name: 'goftoguWidget',
      formats: ['iife'],
      fileName: () => 'widget.js',
    },
  },
})
