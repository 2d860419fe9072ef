// `ui/dist` is committed so that every build of the binary embeds the console (see build.rs):
// this fails when it is not exactly what `npm run build` makes from the sources today.
// Fix: `npm run build` and commit ui/dist.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "vite";
import { afterAll, expect, test } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const fresh = mkdtempSync(join(tmpdir(), "stepmint-dist-"));
afterAll(() => rmSync(fresh, { recursive: true, force: true }));

function tree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p, "latin1"));
    }
  };
  walk(dir);
  return out;
}

test("the committed ui/dist is the build of ui/src", { timeout: 60_000 }, async () => {
  await build({ root, logLevel: "silent", build: { outDir: fresh, emptyOutDir: true } });
  const want = tree(fresh);
  const have = tree(join(root, "dist"));
  expect([...have.keys()].sort(), "ui/dist's files (run `npm run build` in ui/)").toEqual(
    [...want.keys()].sort(),
  );
  for (const [name, text] of want) {
    expect(have.get(name) === text, `ui/dist/${name} is stale (run \`npm run build\` in ui/)`).toBe(true);
  }
});
