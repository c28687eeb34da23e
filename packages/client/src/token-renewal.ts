import type { TokenProvider } from "./client-options.js";

/** Share of a credential's lifetime after which it is renewed (PROTOCOL.md §5.8 recommends 3/4). */
export const RENEW_AT_SHARE = 0.75;
/** Shortest and longest wait before trying a failed renewal again, ms. */
const RETRY_MIN = 250;
const RETRY_MAX = 30_000;

/** What a {@link TokenRenewal} needs from its client. */
export interface TokenRenewalHost {
  /** Sends `Renew { token }` on the current connection. */
  sendRenew(token: string): void;
  /** A renewal failed (the provider threw, or the server refused); it is retried while time is left. */
  failed(error: Error): void;
}

/**
 * Renews a connection's credential before it expires (PROTOCOL.md §5.8):
 * when 3/4 of its lifetime has passed, asks the {@link TokenProvider} for a
 * fresh one and hands it to the host to send as `Renew`; one renewal at a
 * time. A failure (provider error, refusal) is retried after a quarter of
 * the time left until expiry plus grace (250 ms .. 30 s), until none is
 * left; then the server closes the connection with `TOKEN_EXPIRED` and the
 * client reconnects with a fresh credential. One instance per client; every
 * connection starts it again.
 */
export class TokenRenewal {
  readonly #provider: TokenProvider;
  readonly #host: TokenRenewalHost;
  #timer: NodeJS.Timeout | undefined;
  #expiresAt: number | undefined;
  #grace = 0;
  #pending = false;
  // Bumped by stop(): a provider call that resolves after it is ignored.
  #generation = 0;

  /**
   * @param provider - where fresh credentials come from
   * @param host - sends Renew, hears of failures
   */
  constructor(provider: TokenProvider, host: TokenRenewalHost) {
    this.#provider = provider;
    this.#host = host;
  }

  /** Whether a Renew was sent and not answered yet. */
  get pending(): boolean {
    return this.#pending;
  }

  /**
   * Plans renewals for a new connection whose credential expires in
   * `expiresInMs` (0: never) and is kept `graceMs` longer unrenewed.
   */
  start(expiresInMs: number, graceMs: number): void {
    this.stop();
    this.#grace = graceMs;
    this.#plan(expiresInMs);
  }

  /** The server accepted the Renew; the new credential expires in `expiresInMs` (0: never). */
  renewed(expiresInMs: number): void {
    this.#pending = false;
    clearTimeout(this.#timer);
    this.#plan(expiresInMs);
  }

  /** The server refused the Renew. */
  refused(error: Error): void {
    this.#pending = false;
    this.#host.failed(error);
    this.#retry();
  }

  /** Stops (connection lost, client closed). */
  stop(): void {
    this.#generation++;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending = false;
    this.#expiresAt = undefined;
  }

  #plan(expiresInMs: number): void {
    if (!(expiresInMs > 0)) {
      this.#expiresAt = undefined;
      return;
    }
    this.#expiresAt = performance.now() + expiresInMs;
    this.#schedule(expiresInMs * RENEW_AT_SHARE);
  }

  #schedule(ms: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#renew(), Math.max(0, Math.ceil(ms)));
  }

  #retry(): void {
    if (this.#expiresAt === undefined) return;
    const left = this.#expiresAt + this.#grace - performance.now();
    if (left <= 0) return;
    this.#schedule(Math.min(left, Math.max(RETRY_MIN, Math.min(RETRY_MAX, left / 4))));
  }

  async #renew(): Promise<void> {
    this.#timer = undefined;
    const generation = this.#generation;
    let token: unknown;
    try {
      token = await this.#provider();
      if (typeof token !== "string") throw new TypeError(`the token provider returned ${typeof token}, not a string`);
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#host.failed(err instanceof Error ? err : new Error(String(err)));
      this.#retry();
      return;
    }
    if (generation !== this.#generation) return;
    this.#pending = true;
    this.#host.sendRenew(token);
  }
}
