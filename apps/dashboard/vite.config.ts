import { defineConfig } from 'vite';

// Built into dist/ and served by the gateway under /dashboard/ with every
// asset local (src/http/dashboard.ts). No dev server is needed to use it.
export default defineConfig({
  base: '/dashboard/',
  // Always React's production build, whatever NODE_ENV the build inherits (npm lifecycle
  // scripts may run with NODE_ENV=development: that gave a 903 kB bundle with StrictMode's
  // double effects instead of 699 kB).
  mode: 'production',
  define: { 'process.env.NODE_ENV': JSON.stringify('production') },
  oxc: { jsx: { runtime: 'automatic', development: false } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    // One chart library, tree-shaken to what the panels use.
    chunkSizeWarningLimit: 900,
  },
});
