import type { Clock } from "../core/ports/clock.js";
import type { FrameHandlers } from "../core/ports/frame-handlers.js";
import type { ServerCounters } from "../core/ports/server-stats.js";
import type { ResolvedServerOptions } from "../options/server-options.js";
import type { Registrations } from "./registrations.js";
import type { Session } from "./session.js";
import type { SessionRecord } from "./session-record.js";

/** What every {@link Session} of a server shares: built once by the core. */
export interface SessionContext {
  /** The server's options. */
  readonly options: ResolvedServerOptions;
  /** The server's counters. */
  readonly stats: ServerCounters;
  /** Times. */
  readonly clock: Clock;
  /** Registration of a Hello's node, resume, and the end of sessions. */
  readonly registrations: Registrations;
  /** The parts' frame handlers (see {@link FrameHandlers}). */
  readonly frames: FrameHandlers<Session, SessionRecord>;
  /** Proof of life for the connection's own node: any frame it sends (`heartbeat`: a Heartbeat frame). */
  heard(record: SessionRecord, now: number, heartbeat: boolean): void;
  /** A connection was welcomed: it may subscribe and receives broadcasts. */
  opened(session: Session): void;
  /** A welcomed connection closed: its subscriptions end. */
  closed(session: Session): void;
}
