import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The dashboard, built into dist/ui and served by the server at /ui/ (src/http/dashboard.ts).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/ui/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/ui', import.meta.url)),
    emptyOutDir: true,
    // Operators' browsers are recent; no legacy build.
    target: 'es2022',
    chunkSizeWarningLimit: 600,
  },
});
