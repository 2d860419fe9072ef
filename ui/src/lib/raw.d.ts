// Vite's `?raw` imports: a file's text, bundled into the build (the example policies).
declare module "*?raw" {
  const text: string;
  export default text;
}
