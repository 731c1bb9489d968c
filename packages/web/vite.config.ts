// Builds the UI into dist/, which the core serves at / (packages/server/src/http/web-ui.ts).
// `npm run dev -w @vantage/web` serves it with hot reload, the API proxied to a core on :8080.
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, assetsDir: "assets" },
  server: { proxy: { "/api": process.env.VANTAGE_CORE_URL ?? "http://127.0.0.1:8080" } },
});
