import fc from "fast-check";
import { ErrorCode, HbError, subjectProblem } from "@hb/codec";
import { describe, expect, it } from "vitest";
import { SubjectIndex } from "../src/routing/subject-index.js";

describe("subject rules (subjectProblem of @hb/codec, enforced by SubjectIndex.add)", () => {
  it("accepts subjects and patterns", () => {
    expect(subjectProblem("config.eu.fr", false)).toBeUndefined();
    expect(subjectProblem("config.*.fr", true)).toBeUndefined();
    expect(subjectProblem("config.>", true)).toBeUndefined();
  });
  it.each([
    ["", false], ["a..b", false], ["a.*", false], ["a.>.b", true], ["a.b*", true], ["a b", false], ["x".repeat(257), false],
    [Array.from({ length: 17 }, () => "t").join("."), false],
  ])("rejects %j (wildcards %s) with INVALID_ARGUMENT", (s, w) => {
    expect(subjectProblem(s, w)).toBeTypeOf("string");
    if (!w) return; // SubjectIndex takes patterns only
    try {
      new SubjectIndex<string>().add(s, "x");
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(HbError);
      expect((err as HbError).code).toBe(ErrorCode.INVALID_ARGUMENT);
    }
  });
});

describe("SubjectIndex", () => {
  it("matches exact, '*' and '>' patterns and nothing else", () => {
    const idx = new SubjectIndex<string>();
    idx.add("a.b.c", "exact");
    idx.add("a.*.c", "star");
    idx.add("a.>", "tail");
    idx.add(">", "all");
    idx.add("x.y", "other");
    expect([...idx.match("a.b.c")].sort()).toEqual(["all", "exact", "star", "tail"]);
    expect([...idx.match("a.z.c")].sort()).toEqual(["all", "star", "tail"]);
    expect([...idx.match("a")].sort()).toEqual(["all"]); // '>' needs at least one more token
    expect([...idx.match("a.b.c.d")].sort()).toEqual(["all", "tail"]);
    expect([...idx.match("b.b.c")]).toEqual(["all"]);
  });

  it("forgets removed subscribers and invalidates the cache", () => {
    const idx = new SubjectIndex<number>();
    idx.add("s.*", 1);
    expect(idx.match("s.t")).toEqual([1]);
    expect(idx.remove("s.*", 1)).toBe(true);
    expect(idx.match("s.t")).toEqual([]);
    expect(idx.size).toBe(0);
    expect(idx.remove("s.*", 1)).toBe(false);
  });

  it("agrees with a brute-force matcher on random patterns", () => {
    const tok = fc.constantFrom("a", "b", "c");
    const pat = fc.array(fc.oneof(tok, fc.constant("*")), { minLength: 1, maxLength: 4 })
      .chain((ts) => fc.boolean().map((tail) => (tail ? [...ts, ">"] : ts).join(".")));
    const subj = fc.array(tok, { minLength: 1, maxLength: 5 }).map((ts) => ts.join("."));
    const brute = (p: string, s: string) => {
      const pt = p.split(".");
      const st = s.split(".");
      for (let i = 0; i < pt.length; i++) {
        if (pt[i] === ">") return st.length > i;
        if (i >= st.length || (pt[i] !== "*" && pt[i] !== st[i])) return false;
      }
      return pt.length === st.length;
    };
    fc.assert(fc.property(fc.uniqueArray(pat, { maxLength: 8 }), fc.array(subj, { maxLength: 8 }), (patterns, subjects) => {
      const idx = new SubjectIndex<string>();
      for (const p of patterns) idx.add(p, p);
      for (const s of subjects) expect([...idx.match(s)].sort()).toEqual(patterns.filter((p) => brute(p, s)).sort());
    }));
  });
});
