import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ErrorCode, HbError } from "../src/index.js";
import { assertPublishSubject, isReservedSubject, subjectProblem } from "../src/subject.js";

describe("subjects (PROTOCOL.md §10.1–10.3)", () => {
  it.each([
    ["a", true, true],
    ["config.eu.fr", true, true],
    ["é.ü.日本", true, true],
    ["config.*.fr", false, true],
    ["config.>", false, true],
    [">", false, true],
    ["*", false, true],
    ["*.*.>", false, true],
    ["", false, false],
    [".a", false, false],
    ["a.", false, false],
    ["a..b", false, false],
    ["a.>.b", false, false],
    ["a*", false, false],
    ["x>y", false, false],
    ["a b", false, false],
    ["a\tb", false, false],
    ["a\u007fb", false, false],
    ["x".repeat(256), true, true],
    ["x".repeat(257), false, false],
    ["é".repeat(129), false, false], // 258 bytes
    [Array(16).fill("t").join("."), true, true],
    [Array(17).fill("t").join("."), false, false],
  ])("%j: concrete %s, pattern %s", (subject, concrete, pattern) => {
    expect(subjectProblem(subject, false) === undefined).toBe(concrete);
    expect(subjectProblem(subject, true) === undefined).toBe(pattern);
  });

  it("publishing: INVALID_ARGUMENT for a bad subject, FORBIDDEN for $hb.", () => {
    expect(() => assertPublishSubject("a.*")).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_ARGUMENT }) as unknown as Error);
    expect(() => assertPublishSubject("$hb.presence")).toThrow(expect.objectContaining({ code: ErrorCode.FORBIDDEN }) as unknown as Error);
    expect(() => assertPublishSubject("$hb.presence")).toThrow(HbError);
    expect(isReservedSubject("$hb.x")).toBe(true);
    expect(isReservedSubject("hb.x")).toBe(false);
    expect(subjectProblem(42, false)).toMatch(/must be a string/);
  });

  it("property: dot-joined tokens of allowed characters form a valid subject; a wildcard makes it a pattern only", () => {
    const token = fc.stringMatching(/^[A-Za-z0-9_\-$é]{1,8}$/).filter((t) => t !== "*" && t !== ">");
    fc.assert(
      fc.property(fc.array(token, { minLength: 1, maxLength: 16 }), fc.nat(15), (tokens, at) => {
        const subject = tokens.join(".");
        expect(subjectProblem(subject, false)).toBeUndefined();
        expect(subjectProblem(subject, true)).toBeUndefined();
        const i = at % tokens.length;
        const star = tokens.map((t, j) => (j === i ? "*" : t)).join(".");
        expect(subjectProblem(star, true)).toBeUndefined();
        expect(subjectProblem(star, false)).toMatch(/only allowed when subscribing/);
      }),
    );
  });
});
