// The transports' pure pieces, and both transports against fake back ends: the console's
// control API over fetch and the app's Tauri commands answer the screens the same types.
import { describe, expect, it, vi } from "vitest";
import { callUrl, errorMessage, httpApi, parseSse, readSse, segment, tauriApi, tokenFromHash, type Endpoint, type ProbeProgress, type RequestRecord, type SseEvent } from "../src/api";

describe("URL building", () => {
  it("percent-encodes each segment as the Rust side does", () => {
    expect(segment("acme")).toBe("acme");
    expect(segment("a-b_c.d~e")).toBe("a-b_c.d~e");
    expect(segment("a b/c?d#e")).toBe("a%20b%2Fc%3Fd%23e");
    expect(segment("x!*'()")).toBe("x%21%2A%27%28%29");
    expect(segment("é")).toBe("%C3%A9");
    expect(segment(".")).toBe("%2E");
    expect(segment("..")).toBe("%2E%2E");
    expect(segment("...")).toBe("...");
  });
  it("joins segments under the control prefix, query values encoded and blanks left out", () => {
    expect(callUrl("status")).toBe("/_stepmint/v1/status");
    expect(callUrl("retireKey", ["../admin", "k/1"])).toBe("/_stepmint/v1/workspaces/..%2Fadmin/keys/k%2F1");
    expect(callUrl("requests", [], { since: 12, limit: undefined })).toBe("/_stepmint/v1/requests?since=12");
    expect(callUrl("mint", [], { history: true })).toBe("/_stepmint/v1/tokens?history=true");
    expect(() => callUrl("retireKey", ["only-one"])).toThrow(/needs/);
    expect(() => callUrl("status", ["extra"])).toThrow(/takes 0/);
  });
});

describe("server-sent events", () => {
  it("reads named events, joins data lines, skips comments and data-less events", () => {
    const { events, rest } = parseSse(": hello\n\nevent: progress\ndata: {\"done\":1}\n\ndata: a\ndata: b\nid: 7\n\nevent: ping\n\nevent: report\ndata: {");
    expect(events).toEqual([
      { event: "progress", data: '{"done":1}' },
      { event: "message", data: "a\nb", id: "7" },
    ]);
    expect(rest).toBe("event: report\ndata: {");
  });
  it("takes CRLF and CR line ends, and a field without a space after the colon", () => {
    expect(parseSse("event:x\r\ndata:1\r\n\r\ndata: 2\r\rdata: 3\n\n").events).toEqual([
      { event: "x", data: "1" },
      { event: "message", data: "2" },
      { event: "message", data: "3" },
    ]);
  });
  it("keeps a CR at the end of a chunk, which may be half of a CRLF", () => {
    const first = parseSse("data: x\r");
    expect(first.events).toEqual([]);
    const second = parseSse(`${first.rest}\ndata: y\r\n\r\n`);
    expect(second.events).toEqual([{ event: "message", data: "x\ny" }]);
  });
  it("reads a byte stream split anywhere, even inside a UTF-8 character, and a last event without its blank line", async () => {
    const bytes = new TextEncoder().encode("event: a\ndata: é1\n\nevent: b\ndata: 2");
    const chunks = [bytes.slice(0, 14), bytes.slice(14, 15), bytes.slice(15, 22), bytes.slice(22)];
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const ch of chunks) c.enqueue(ch);
        c.close();
      },
    });
    const seen: SseEvent[] = [];
    await readSse(body, (e) => seen.push(e));
    expect(seen).toEqual([{ event: "a", data: "é1" }, { event: "b", data: "2" }]);
  });
});

describe("error answers", () => {
  it("show the message, prefixed with the field when there is one", () => {
    expect(errorMessage(400, '{"error":"invalid_input","message":"must be at least 1","field":"fail_next"}')).toBe("fail_next: must be at least 1");
    expect(errorMessage(404, '{"error":"not_found","message":"no workspace `x`"}')).toBe("no workspace `x`");
    expect(errorMessage(500, '{"error":"internal"}')).toBe("internal");
  });
  it("fall back to the status and the start of the body", () => {
    expect(errorMessage(502, "<html>bad gateway</html>", "Bad Gateway")).toBe("HTTP 502 Bad Gateway: <html>bad gateway</html>");
    expect(errorMessage(503, "")).toBe("HTTP 503");
    expect(errorMessage(401, "")).toMatch(/^HTTP 401 \(open the console link/);
  });
});

describe("the console token in the fragment", () => {
  it("is taken out, the rest of the fragment kept", () => {
    expect(tokenFromHash("#token=abc")).toEqual({ token: "abc", hash: "" });
    expect(tokenFromHash("#token=a%2Bb&view=log")).toEqual({ token: "a+b", hash: "#view=log" });
    expect(tokenFromHash("#view=log&token=t")).toEqual({ token: "t", hash: "#view=log" });
  });
  it("is null when absent or empty", () => {
    expect(tokenFromHash("")).toEqual({ token: null, hash: "" });
    expect(tokenFromHash("#section")).toEqual({ token: null, hash: "#section" });
    expect(tokenFromHash("#token=")).toEqual({ token: null, hash: "" });
  });
});

// ---------------------------------------------------------------------------------------------

type Call = { url: string; method: string; headers: Record<string, string>; body: unknown };

function json(v: unknown, status = 200): Response {
  return new Response(JSON.stringify(v), { status, headers: { "content-type": "application/json" } });
}

function sse(text: string | string[], status = 200): Response {
  const parts = Array.isArray(text) ? text : [text];
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const p of parts) c.enqueue(new TextEncoder().encode(p));
      c.close();
    },
  });
  return new Response(body, { status, headers: { "content-type": "text/event-stream" } });
}

/** A fake fetch: `route` answers each call; every call is recorded. */
function fakeFetch(route: (c: Call) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fn = async (url: string, init: RequestInit) => {
    const c: Call = { url, method: init.method ?? "GET", headers: init.headers as Record<string, string>, body: init.body === undefined ? undefined : JSON.parse(String(init.body)) };
    calls.push(c);
    return route(c);
  };
  return { fn, calls };
}

const key = (kid: string, state = "active") => ({ kid, alg: "RS256", created: 0, published: true, state });

describe("the console transport (fetch)", () => {
  it("sends the bearer token when one is known, and none otherwise", async () => {
    const f = fakeFetch(() => json({ cases: [] }));
    await httpApi(f.fn, () => "s3cret").cases();
    await httpApi(f.fn, () => null).cases();
    expect(f.calls[0].headers.Authorization).toBe("Bearer s3cret");
    expect("Authorization" in f.calls[1].headers).toBe(false);
  });
  it("unwraps list answers and fetches the keys again after each key change", async () => {
    const f = fakeFetch((c) => {
      if (c.method === "GET" && c.url.endsWith("/keys")) return json({ keys: [key("new"), key("old", "retiring")] });
      if (c.url.endsWith("/history")) return json({ history: [{ id: 1 }] });
      if (c.url.endsWith("/trust")) return json({ lines: "export A=1\n" });
      if (c.url.endsWith("/recipes")) return json({ toml: 'name = "x"\n' });
      return json({ whatever: true });
    });
    const api = httpApi(f.fn);
    expect((await api.rotateKey("a b", 60)).map((k) => k.kid)).toEqual(["new", "old"]);
    expect(f.calls.slice(0, 2).map((c) => `${c.method} ${c.url}`)).toEqual(["POST /_stepmint/v1/workspaces/a%20b/keys/rotate", "GET /_stepmint/v1/workspaces/a%20b/keys"]);
    expect(f.calls[0].body).toEqual({ overlap: 60 });
    await api.rotateKey("acme");
    expect(f.calls[2].body).toEqual({ overlap: null });
    await api.addKey("acme", "ES256", { staged: true, publishIn: 30 });
    expect(f.calls[4]).toMatchObject({ method: "POST", url: "/_stepmint/v1/workspaces/acme/keys", body: { alg: "ES256", staged: true, publish_in: 30 } });
    await api.addKey("acme", "EdDSA");
    expect(f.calls[6].body).toEqual({ alg: "EdDSA", staged: false, publish_in: null });
    await api.retireKey("acme", "k/../1");
    expect(f.calls[8]).toMatchObject({ method: "DELETE", url: "/_stepmint/v1/workspaces/acme/keys/k%2F..%2F1" });
    expect(await api.history()).toEqual([{ id: 1 }]);
    expect(await api.trustLines()).toBe("export A=1\n");
    expect(await api.recipeFromRequest({ branch: "main" }, "x")).toBe('name = "x"\n');
    expect(f.calls[f.calls.length - 1].body).toEqual({ request: { branch: "main" }, name: "x" });
  });
  it("mints into the history and inspects with explicit nulls", async () => {
    const f = fakeFetch(() => json({ token: "t" }));
    const api = httpApi(f.fn);
    await api.mint({ branch: "main" });
    expect(f.calls[0]).toMatchObject({ method: "POST", url: "/_stepmint/v1/tokens?history=true", body: { branch: "main" } });
    await api.inspect("a.b.c");
    expect(f.calls[1]).toMatchObject({ method: "POST", url: "/_stepmint/v1/inspect", body: { token: "a.b.c", workspace: null, policy: null } });
    await api.inspect("a.b.c", "acme", { leeway: 5 });
    expect(f.calls[2].body).toEqual({ token: "a.b.c", workspace: "acme", policy: { leeway: 5 } });
  });
  it("sets and clears faults on the right paths", async () => {
    const f = fakeFetch((c) => (c.method === "DELETE" ? json({ cleared: 1, faults: [] }) : json({ faults: [{ workspace: "acme", endpoint: "jwks", fault: { status: 503 } }] })));
    const api = httpApi(f.fn);
    expect(await api.setFault("acme", "jwks", { status: 503 })).toEqual([{ workspace: "acme", endpoint: "jwks", fault: { status: 503 } }]);
    expect(f.calls[0]).toMatchObject({ method: "PUT", url: "/_stepmint/v1/faults/acme/jwks", body: { status: 503 } });
    expect(await api.faults()).toHaveLength(1);
    expect(await api.clearFaults("acme", "jwks")).toEqual({ cleared: 1, faults: [] });
    await api.clearFaults("acme");
    await api.clearFaults();
    expect(f.calls.slice(2).map((c) => `${c.method} ${c.url}`)).toEqual(["DELETE /_stepmint/v1/faults/acme/jwks", "DELETE /_stepmint/v1/faults/acme", "DELETE /_stepmint/v1/faults"]);
    await expect(api.clearFaults(null, "jwks")).rejects.toThrow(/needs its workspace/);
  });
  it("turns an error answer into its message, and an unreachable server into a sentence", async () => {
    const bad = httpApi(fakeFetch(() => json({ error: "invalid_input", message: "reset and hang exclude each other", field: "hang" }, 400)).fn);
    await expect(bad.setFault("acme", "jwks", { reset: true, hang: true })).rejects.toThrow("hang: reset and hang exclude each other");
    const away = httpApi(async () => {
      throw new TypeError("Failed to fetch");
    });
    await expect(away.status()).rejects.toThrow("cannot reach the issuer (Failed to fetch)");
  });
  it("refuses the app-only commands with a pointer to restarting serve", async () => {
    const f = fakeFetch(() => json({}));
    const api = httpApi(f.fn);
    for (const p of [api.start(), api.stop(), api.restart(), api.addWorkspace("x"), api.removeWorkspace("x"), api.saveCa("/tmp/ca.pem")]) {
      await expect(p).rejects.toThrow(/restart `stepmint serve`/);
    }
    expect(f.calls).toEqual([]);
  });
  it("runs a probe from its event stream: progress to the callback, the report returned", async () => {
    const report = { baseline: "baseline accepted", rows: [], findings: [], fuzz: null, summary: { total: 0, passed: 0, failed: 0, skipped: 0, findings: 0 }, junit: "", json: null };
    const f = fakeFetch(() =>
      sse([
        'event: progress\ndata: {"phase":"cases","done":1,"total":2,"findings":0,"rate":0}\n\n',
        'event: progress\ndata: {"phase":"fuzz","done":5,"total":null,"findi',
        'ngs":1,"rate":50}\n\nevent: report\ndata: ',
        `${JSON.stringify(report)}\n\n`,
      ]),
    );
    const seen: ProbeProgress[] = [];
    const got = await httpApi(f.fn).probe({ url: "http://127.0.0.1:1/", fuzz: 5 }, (p) => seen.push(p));
    expect(got).toEqual(report);
    expect(seen.map((p) => `${p.phase}:${p.done}`)).toEqual(["cases:1", "fuzz:5"]);
    expect(f.calls[0]).toMatchObject({ method: "POST", url: "/_stepmint/v1/probe", body: { url: "http://127.0.0.1:1/", fuzz: 5 } });
    expect(f.calls[0].headers.Accept).toBe("text/event-stream");
  });
  it("fails a probe on an error event, on a stream without a report, and on an error answer", async () => {
    await expect(httpApi(fakeFetch(() => sse('event: error\ndata: {"message":"give either a URL or a command"}\n\n')).fn).probe({})).rejects.toThrow("give either a URL or a command");
    await expect(httpApi(fakeFetch(() => sse('event: progress\ndata: {"phase":"cases","done":1,"total":1,"findings":0,"rate":0}\n\n')).fn).probe({})).rejects.toThrow(/without a report/);
    await expect(httpApi(fakeFetch(() => json({ error: "invalid_input", message: "unknown field `x`", field: "x" }, 400)).fn).probe({})).rejects.toThrow("x: unknown field `x`");
  });
});

const rec = (id: number, endpoint: Endpoint = "jwks"): RequestRecord => ({ id, time: "2030-01-01T00:00:00.000Z", peer: null, method: "GET", path: "/keys.json", status: 200, user_agent: null, endpoint, workspace: "acme", duration_ms: 1 });

describe("watching the request log in the console", () => {
  it("delivers the backlog, then streamed records, once each and in order, without control traffic", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const f = fakeFetch(async (c) => {
      if (c.url.includes("/requests/stream")) {
        const body = new ReadableStream<Uint8Array>({
          async start(ctl) {
            // Streamed before the backlog answers: 3 overlaps it, 4 is new; then 5 is the console's own call, 6 new.
            ctl.enqueue(new TextEncoder().encode(`data: ${JSON.stringify(rec(3))}\n\ndata: ${JSON.stringify(rec(4))}\n\n`));
            await gate;
            ctl.enqueue(new TextEncoder().encode(`data: ${JSON.stringify(rec(5, "control"))}\n\ndata: ${JSON.stringify(rec(6, "discovery"))}\n\n`));
          },
        });
        return new Response(body, { headers: { "content-type": "text/event-stream" } });
      }
      await new Promise((r) => setTimeout(r, 20));
      return json({ requests: [rec(2), rec(3)], next: 3 });
    });
    const got: number[] = [];
    const stop = httpApi(f.fn, () => "t", 10_000).watchRequests(1, (rs) => got.push(...rs.map((r) => r.id)));
    await vi.waitFor(() => expect(got).toEqual([2, 3, 4]));
    release();
    await vi.waitFor(() => expect(got).toEqual([2, 3, 4, 6]));
    stop();
    expect(f.calls.map((c) => c.url)).toEqual(["/_stepmint/v1/requests/stream", "/_stepmint/v1/requests?since=1"]);
    expect(f.calls[0].headers.Authorization).toBe("Bearer t");
  });
  it("fetches what the stream skipped after a lagged event, holding newer records meanwhile", async () => {
    let fetches = 0;
    const f = fakeFetch(async (c) => {
      if (c.url.includes("/requests/stream")) return sse([`data: ${JSON.stringify(rec(1))}\n\n`, 'event: lagged\ndata: {"skipped":2}\n\n', `data: ${JSON.stringify(rec(4))}\n\n`]);
      // The first look at the log comes before anything was logged; the next sees it all.
      fetches++;
      await new Promise((r) => setTimeout(r, 20));
      const since = Number(new URL(c.url, "https://x").searchParams.get("since"));
      const all = fetches === 1 ? [] : [rec(1), rec(2), rec(3), rec(4)].filter((r) => r.id > since);
      return json({ requests: all, next: all.length ? all[all.length - 1].id : since });
    });
    const got: number[] = [];
    const stop = httpApi(f.fn, () => null, 10_000).watchRequests(0, (rs) => got.push(...rs.map((r) => r.id)));
    await vi.waitFor(() => expect(got).toEqual([1, 2, 3, 4]));
    stop();
    // (The stream then ends, so polling takes over from 4.)
    expect(f.calls.map((c) => c.url).slice(0, 3)).toEqual(["/_stepmint/v1/requests/stream", "/_stepmint/v1/requests?since=0", "/_stepmint/v1/requests?since=0"]);
  });
  it("falls back to polling when the stream is refused", async () => {
    let polls = 0;
    const f = fakeFetch((c) => {
      if (c.url.includes("/stream")) return json({ error: "not_found", message: "no stream" }, 404);
      polls++;
      return json(polls === 1 ? { requests: [rec(1)], next: 1 } : { requests: [rec(2)], next: 2 });
    });
    const got: number[] = [];
    const stop = httpApi(f.fn, () => null, 5).watchRequests(0, (rs) => got.push(...rs.map((r) => r.id)));
    await vi.waitFor(() => expect(got).toEqual([1, 2]));
    stop();
    expect(f.calls[1].url).toBe("/_stepmint/v1/requests?since=0");
    expect(f.calls[2].url).toBe("/_stepmint/v1/requests?since=1");
  });
});

describe("the app transport (Tauri commands)", () => {
  it("names the commands and their arguments as the Rust side takes them, unwrapping {faults}", async () => {
    const calls: [string, Record<string, unknown> | undefined][] = [];
    const invoke = async <T>(cmd: string, args?: Record<string, unknown>): Promise<T> => {
      calls.push([cmd, args]);
      return (cmd.startsWith("fault") && cmd !== "fault_clear" ? { faults: [] } : cmd === "fault_clear" ? { cleared: 2, faults: [] } : []) as T;
    };
    const api = tauriApi(invoke, async () => () => {});
    expect(await api.faults()).toEqual([]);
    expect(await api.setFault("acme", "jwks", { status: 503 })).toEqual([]);
    expect(await api.clearFaults()).toEqual({ cleared: 2, faults: [] });
    await api.addKey("acme", "ES256", { staged: true, publishIn: 30 });
    await api.retireKey("acme", "k1");
    await api.rotateKey("acme", null);
    expect(calls).toEqual([
      ["faults", undefined],
      ["fault_set", { workspace: "acme", endpoint: "jwks", fault: { status: 503 } }],
      ["fault_clear", { workspace: null, endpoint: null }],
      ["add_key", { workspace: "acme", alg: "ES256", staged: true, publishIn: 30 }],
      ["retire_key", { workspace: "acme", kid: "k1" }],
      ["rotate_key", { workspace: "acme", overlap: undefined }],
    ]);
  });
  it("listens to probe-progress for the run only, and stops listening when it fails too", async () => {
    const events: string[] = [];
    let emit: (p: ProbeProgress) => void = () => {};
    const listen = async <T>(event: string, fn: (e: { payload: T }) => void) => {
      events.push(`listen ${event}`);
      emit = (p) => fn({ payload: p as T });
      return () => events.push("unlisten");
    };
    const invoke = async <T>(cmd: string): Promise<T> => {
      events.push(`invoke ${cmd}`);
      emit({ phase: "cases", done: 1, total: 1, findings: 0, rate: 0 });
      if (events.filter((e) => e.startsWith("invoke")).length > 1) throw "no relying party";
      return { baseline: "baseline accepted" } as T;
    };
    const api = tauriApi(invoke, listen);
    const seen: string[] = [];
    expect(await api.probe({}, (p) => seen.push(p.phase))).toEqual({ baseline: "baseline accepted" });
    await expect(api.probe({}, (p) => seen.push(p.phase))).rejects.toBe("no relying party");
    expect(events).toEqual(["listen probe-progress", "invoke probe", "unlisten", "listen probe-progress", "invoke probe", "unlisten"]);
    expect(seen).toEqual(["cases", "cases"]);
  });
});
