import { defineConfig } from "vite";

export default defineConfig({
  clearScreen: false,
  // Relative asset URLs: the same build is the app's (served at /) and the web console's
  // (served by \`stepmint serve\` at /_stepmint/ui/).
  base: "./",
  // Relative asset URLs: the same build is served at the app's root and at the issuer's
  // /_stepmint/ui/ (the web console).
  base: "./",
  build: { outDir: "dist", target: "es2022", emptyOutDir: true },
});
