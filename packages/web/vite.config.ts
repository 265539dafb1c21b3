import react from '@vitejs/plugin-react';
import { defaultClientConditions, defineConfig } from 'vite';

// The server serves dist/ at `/` (with index.html for client-side routes), under a CSP of
// `script-src 'self'`: everything is bundled into files of our own, nothing inline, nothing
// from another host. `npm run dev` proxies the API to a server on the default port.
export default defineConfig({
  plugins: [react()],
  base: '/',
  // Workspace packages are bundled from their TypeScript sources (their "source" export).
  resolve: { conditions: ['source', ...defaultClientConditions] },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8470' } },
});
