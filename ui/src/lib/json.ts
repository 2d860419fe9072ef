// JSON editors: parsing with line/column errors, and the merge rules the issuer uses.

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export type Parsed =
  | { ok: true; value: JsonObject }
  | { ok: false; message: string; line: number; column: number };

/** Line and column (1-based) of a character offset in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split("\n");
  return { line: lines.length, column: lines[lines.length - 1].length + 1 };
}

/** Where a JSON.parse error points, across engines' message formats. */
function errorOffset(text: string, message: string): number {
  const pos = /position (\d+)/.exec(message);
  if (pos) return Number(pos[1]);
  const lc = /line (\d+) column (\d+)/.exec(message);
  if (lc) {
    const lines = text.split("\n");
    let off = 0;
    for (let i = 0; i < Number(lc[1]) - 1 && i < lines.length; i++) off += lines[i].length + 1;
    return off + Number(lc[2]) - 1;
  }
  return text.length;
}

/** Parses an editor's text as a JSON object. Empty text is `{}`. */
export function parseObject(text: string): Parsed {
  if (text.trim() === "") return { ok: true, value: {} };
  try {
    const value = JSON.parse(text) as Json;
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      return { ok: false, message: "must be a JSON object ({ ... })", line: 1, column: 1 };
    }
    return { ok: true, value };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const at = lineColumn(text, errorOffset(text, message));
    return { ok: false, message, ...at };
  }
}

/** Merges `over` into `base` as the issuer does: `null` removes a member, anything else replaces or adds it. */
export function merge(base: JsonObject, over: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** Splits a list field (commas or new lines) into trimmed, non-empty entries. */
export function splitList(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Splits a field with one entry a line (commas kept) into trimmed, non-empty entries. */
export function splitLines(text: string): string[] {
  return text
    .split("\n")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Parses `KEY=PATTERN` lines into claim conditions for the validator's policy. */
export function parseConditions(text: string): { claim: string; like: string }[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .map((l) => {
      const i = l.indexOf("=");
      if (i <= 0) throw new Error(`"${l}": expected KEY=PATTERN`);
      return { claim: l.slice(0, i).trim(), like: l.slice(i + 1).trim() };
    });
}
