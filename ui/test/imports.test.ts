// The import graph of ui/src: no circles, and the layers lib and generated <- api <- state/nav <- screens <- main.
// Screens once imported main.ts (and main.ts them), so importing a screen ran the bootstrap.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const src = resolve(dirname(fileURLToPath(import.meta.url)), "../src");

type Graph = Record<string, string[]>;

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith(".ts") ? [p] : [];
  });
}

/** Relative specifiers of `from "./x"`, `import "./x"` and `import("./x")`. */
function specifiers(code: string): string[] {
  const out: string[] = [];
  for (const m of code.matchAll(/\bfrom\s*["'](\.{1,2}\/[^"']+)["']|\bimport\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) out.push(m[1] ?? m[2]);
  return out;
}

/** The graph of ui/src, keyed by paths relative to it ("screens/crafter.ts"); assets are left out. */
function buildGraph(): Graph {
  const graph: Graph = {};
  for (const file of tsFiles(src)) {
    const from = relative(src, file);
    graph[from] = [];
    for (const spec of specifiers(readFileSync(file, "utf8"))) {
      // A query (`?raw`) selects how Vite loads the file, not which file.
      const base = resolve(dirname(file), spec.replace(/\?.*$/, ""));
      const target = [base, `${base}.ts`, join(base, "index.ts")].find((p) => existsSync(p) && statSync(p).isFile());
      if (!target) throw new Error(`${from}: "${spec}" resolves to no file`);
      if (target.endsWith(".ts")) graph[from].push(relative(src, target));
    }
  }
  return graph;
}

/** The first cycle found, as a path that ends where it starts; null when the graph is a DAG. */
function findCycle(graph: Graph): string[] | null {
  const done = new Set<string>();
  const stack: string[] = [];
  const visit = (node: string): string[] | null => {
    const at = stack.indexOf(node);
    if (at >= 0) return [...stack.slice(at), node];
    if (done.has(node)) return null;
    stack.push(node);
    for (const next of graph[node] ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    done.add(node);
    return null;
  };
  for (const node of Object.keys(graph).sort()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

/** Layer of a file: a file may import only from its own layer or below. */
function layer(file: string): number {
  if (file.startsWith("lib/") || file.startsWith("generated/")) return 0;
  if (file === "api.ts") return 1;
  if (file === "state.ts" || file === "nav.ts") return 2;
  if (file.startsWith("screens/")) return 3;
  if (file === "main.ts") return 4;
  throw new Error(`${file}: no layer; add it to imports.test.ts`);
}

describe("import graph helpers", () => {
  it("finds a cycle and its path, and none in a DAG", () => {
    expect(findCycle({ "a.ts": ["b.ts"], "b.ts": ["c.ts"], "c.ts": ["a.ts"] })).toEqual(["a.ts", "b.ts", "c.ts", "a.ts"]);
    expect(findCycle({ "a.ts": ["a.ts"] })).toEqual(["a.ts", "a.ts"]);
    expect(findCycle({ "a.ts": ["b.ts", "c.ts"], "b.ts": ["c.ts"], "c.ts": [] })).toBeNull();
  });
  it("reads static, side-effect and dynamic relative imports, not packages", () => {
    const code = 'import { a } from "./a";\nimport type { B } from "../lib/b";\nimport "./style.css";\nconst c = import("./c");\nimport { invoke } from "@tauri-apps/api/core";';
    expect(specifiers(code)).toEqual(["./a", "../lib/b", "./style.css", "./c"]);
  });
});

describe("ui/src imports", () => {
  const graph = buildGraph();

  it("are read (the graph is not empty)", () => {
    expect(graph["main.ts"]).toEqual(expect.arrayContaining(["nav.ts", "state.ts", "screens/crafter.ts", "screens/probe.ts"]));
    expect(graph["screens/inspector.ts"]).toEqual(expect.arrayContaining(["api.ts", "lib/json.ts", "state.ts"]));
  });
  it("form no cycle", () => {
    const cycle = findCycle(graph);
    if (cycle) throw new Error(`import cycle: ${cycle.join(" -> ")}`);
  });
  it("go only down the layers lib <- api <- state/nav <- screens <- main", () => {
    const wrong = Object.entries(graph).flatMap(([from, tos]) => tos.filter((to) => layer(to) > layer(from)).map((to) => `${from} -> ${to}`));
    expect(wrong).toEqual([]);
  });
  it("never reach main.ts, which only boots", () => {
    expect(Object.entries(graph).filter(([, tos]) => tos.includes("main.ts")).map(([from]) => from)).toEqual([]);
  });
});
