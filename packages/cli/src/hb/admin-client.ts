/** A failure talking to the admin endpoint, with a message for people (exit status 1). */
export class AdminError extends Error {
  override readonly name = "AdminError";
}

/**
 * The `hb` CLI's client of hb-server's admin endpoint (`/v1/*`): plain
 * HTTP with the optional bearer token. Observing through it never makes
 * the CLI a node: `hb nodes`, `hb node`, `hb watch` and `hb stats` do not
 * appear in presence.
 */
export class AdminClient {
  readonly #base: URL;
  readonly #token: string | undefined;

  /**
   * @param base - the admin endpoint, e.g. `http://127.0.0.1:9502`
   * @throws AdminError for a malformed URL
   */
  constructor(base: string, token: string | undefined) {
    try {
      this.#base = new URL(base.endsWith("/") ? base : `${base}/`);
    } catch {
      throw new AdminError(`--admin must be a URL such as http://127.0.0.1:9502, got "${base}"`);
    }
    this.#token = token;
  }

  /** GETs a JSON endpoint; `undefined` for 404 when `allow404`. */
  async get<T>(path: string, params: [string, string][] = [], allow404 = false): Promise<T | undefined> {
    const url = this.#url(path, params);
    const res = await this.#fetch(url);
    const body = (await res.json().catch(() => ({}))) as { error?: string };
    if (res.status === 404 && allow404) return undefined;
    if (!res.ok) throw new AdminError(`${url.pathname}: HTTP ${res.status}: ${body.error ?? res.statusText}`);
    return body as T;
  }

  /**
   * Follows a Server-Sent Events endpoint, calling `onMessage` with each
   * parsed `data`, until `signal` aborts (resolves) or the stream ends
   * (resolves too: the caller decides whether to reconnect).
   */
  async stream(path: string, params: [string, string][], onMessage: (data: unknown) => void, signal: AbortSignal): Promise<void> {
    const url = this.#url(path, params);
    const res = await this.#fetch(url, signal);
    if (!res.ok || res.body === null) {
      const body = (await res.json().catch(() => ({}))) as { error?: string };
      throw new AdminError(`${url.pathname}: HTTP ${res.status}: ${body.error ?? res.statusText}`);
    }
    let buffer = "";
    try {
      for await (const chunk of res.body.pipeThrough(new TextDecoderStream())) {
        buffer += chunk;
        for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block
            .split("\n")
            .filter((l) => l.startsWith("data:"))
            .map((l) => l.slice(5).trimStart())
            .join("\n");
          if (data !== "") onMessage(JSON.parse(data));
        }
      }
    } catch (err) {
      if (!signal.aborted) throw err;
    }
  }

  #url(path: string, params: [string, string][]): URL {
    const url = new URL(path.replace(/^\//, ""), this.#base);
    for (const [k, v] of params) url.searchParams.append(k, v);
    return url;
  }

  async #fetch(url: URL, signal?: AbortSignal): Promise<Response> {
    try {
      return await fetch(url, { signal, headers: this.#token === undefined ? {} : { authorization: `Bearer ${this.#token}` } });
    } catch (err) {
      if (signal?.aborted) throw err;
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new AdminError(`cannot reach the admin endpoint at ${this.#base.origin} (${cause}): is hb-server running with its admin port? (--admin or HB_ADMIN_URL)`);
    }
  }
}
