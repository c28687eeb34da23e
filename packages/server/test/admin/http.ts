// Small HTTP helpers for the admin endpoint tests (Node's fetch, real sockets on loopback).

/** GET `url`; resolves with the status, the headers and the body (parsed when JSON). */
export async function get(url: string, token?: string): Promise<{ status: number; headers: Headers; body: any; text: string }> {
  const res = await fetch(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  const text = await res.text();
  const body = (res.headers.get("content-type") ?? "").startsWith("application/json") ? JSON.parse(text) : text;
  return { status: res.status, headers: res.headers, body, text };
}

/** The value of an unlabelled (or exactly labelled) sample in Prometheus text, or undefined. */
export function sample(text: string, series: string): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    if (line.slice(0, at) === series) return Number(line.slice(at + 1));
  }
  return undefined;
}

/** An open Server-Sent Events stream: the parsed `data` of every message so far. */
export interface EventStream {
  messages: any[];
  close(): void;
}

/** Opens `url` as an event stream (resolves once the response headers arrived). */
export async function openEvents(url: string, token?: string): Promise<EventStream> {
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  if (res.status !== 200 || res.body === null) throw new Error(`event stream: HTTP ${res.status}: ${await res.text()}`);
  const messages: any[] = [];
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block
            .split("\n")
            .filter((l) => l.startsWith("data: "))
            .map((l) => l.slice(6))
            .join("\n");
          if (data !== "") messages.push(JSON.parse(data));
          end = buffer.indexOf("\n\n");
        }
      }
    } catch {
      // aborted
    }
  })();
  return { messages, close: () => controller.abort() };
}

/** Polls the async `check` every 50 ms until it holds; fails after `timeoutMs` naming `what`. */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
