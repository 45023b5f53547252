import { defineConfig } from 'vite';

// Built into dist/ and served by the gateway under /dashboard/ with every
// asset local (src/http/dashboard.ts). No dev server is needed to use it.
export default defineConfig({
  base: '/dashboard/',
  oxc: { jsx: { runtime: 'automatic' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    // One chart library, tree-shaken to what the panels use.
    chunkSizeWarningLimit: 900,
  },
});
