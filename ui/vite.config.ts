// Builds the UI into ui/dist, served by the gateway at /ui/ (exchange/api/ui.py).
// `npm run dev` serves it with hot reload and passes the API through to a local `carbonx demo`.
import { defineConfig } from "vite";

const api = "http://127.0.0.1:8000"; // `carbonx demo`'s default address

export default defineConfig({
  base: "/ui/",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 250 },
  server: {
    proxy: {
      "/v1/ws": { target: api.replace(/^http/, "ws"), ws: true },
      "/v1": api,
    },
  },
});
