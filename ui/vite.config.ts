import { defineConfig } from "vite";

export default defineConfig({
  clearScreen: false,
  // Relative asset URLs: the same build is the app's (served at /) and the web console's
  // (served by \`stepmint serve\` at /_stepmint/ui/).
  base: "./",
  build: { outDir: "dist", target: "es2022", emptyOutDir: true },
});
