import { describe, expect, it } from "vitest";
import { jsonLineLogger } from "../../src/workers/json-line-logger.js";
import { relayWorkerLog } from "../../src/workers/worker-log.js";

describe("jsonLineLogger (worker → primary log records without pino)", () => {
  it("writes pino-shaped JSON lines at or above its level, errors serialised", () => {
    const lines: string[] = [];
    const log = jsonLineLogger("info", { memberId: "w1" }, (l) => lines.push(l));
    log.debug({ a: 1 }, "hidden");
    log.warn({ err: Object.assign(new Error("boom"), { code: "ECONNRESET" }) }, "careful");
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith("\n")).toBe(true);
    const rec = JSON.parse(lines[0] as string);
    expect(rec).toMatchObject({ level: 40, memberId: "w1", msg: "careful", err: { type: "Error", message: "boom", code: "ECONNRESET" } });
  });

  it("changes level while running, and refuses unknown levels", () => {
    const lines: string[] = [];
    const log = jsonLineLogger("silent", {}, (l) => lines.push(l));
    log.error({}, "dropped");
    log.level = "debug";
    log.debug({}, "kept");
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(["kept"]);
    expect(() => {
      log.level = "loud";
    }).toThrow(/unknown log level "loud"/);
  });

  it("its records are relayed by the primary at their level", () => {
    const seen: string[] = [];
    const primary = {
      debug: (_o: object, m?: string) => seen.push(`debug ${m}`),
      info: (_o: object, m?: string) => seen.push(`info ${m}`),
      warn: (o: object, m?: string) => seen.push(`warn ${m} ${(o as { memberId?: string }).memberId}`),
      error: (_o: object, m?: string) => seen.push(`error ${m}`),
    };
    const log = jsonLineLogger("debug", {}, (l) => relayWorkerLog(primary, l, "w3"));
    log.warn({ memberId: "w3" }, "slow");
    log.error({}, "bad");
    expect(seen).toEqual(["warn slow w3", "error bad"]);
  });
});
