import { defineConfig } from "vite";

export default defineConfig({
  clearScreen: false,
  build: { outDir: "dist", target: "es2022", emptyOutDir: true },
});
