import { fileURLToPath, URL } from "node:url";

import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The build lands inside the Python package, which serves it at `/` (`modelyard serve`).
const outDir = fileURLToPath(new URL("../src/modelyard/ui/static", import.meta.url));
// `npm run dev` proxies the API to a running `modelyard serve` (MODELYARD_URL, default port 8000).
const api = process.env.MODELYARD_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  resolve: { alias: { "@": fileURLToPath(new URL("./src", import.meta.url)) } },
  build: {
    outDir,
    emptyOutDir: true,
    chunkSizeWarningLimit: 700,
  },
  server: {
    proxy: { "/api": { target: api, changeOrigin: false } },
  },
});
