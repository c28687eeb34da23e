// The shape of @hb/server's public entry points (issue 12): the root exports
// what an application needs and stays small; advanced option types live in
// type-only subpaths; every subpath is wired the same way everywhere.
import { readFileSync } from "node:fs";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const read = (rel: string) => readFileSync(new URL(rel, import.meta.url), "utf8");

/** Most names the root (`@hb/server`) may export: at most half of the 81 it had before issue 12. */
const MAX_ROOT_EXPORTS = 40;

interface EntryExports {
  names: string[];
  /** Names exported as values (not `export type`). */
  values: string[];
  /** `export *` clauses (their names cannot be counted here). */
  stars: number;
}

// What a module file exports, read from its syntax (its `export … from` and exported declarations).
function exportsOf(rel: string): EntryExports {
  const file = ts.createSourceFile(rel, read(rel), ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: EntryExports = { names: [], values: [], stars: 0 };
  for (const st of file.statements) {
    if (ts.isExportDeclaration(st)) {
      const clause = st.exportClause;
      if (clause === undefined || !ts.isNamedExports(clause)) {
        out.stars++;
        continue;
      }
      for (const el of clause.elements) {
        out.names.push(el.name.text);
        if (!st.isTypeOnly && !el.isTypeOnly) out.values.push(el.name.text);
      }
    } else if (ts.canHaveModifiers(st) && ts.getModifiers(st)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) {
      const name = (st as ts.DeclarationStatement).name;
      if (name !== undefined && ts.isIdentifier(name)) out.names.push(name.text);
    }
  }
  return out;
}

const manifest = JSON.parse(read("../package.json")) as { exports: Record<string, string | { types: string; default: string }> };
// Subpath → its source entry, from the tsup entries (dist/<name>.js ← src/…).
const tsupEntries = Object.fromEntries(
  [...read("../tsup.config.ts").matchAll(/^\s*"?([\w-]+)"?: "(src\/[\w/-]+\.ts)",$/gm)].map((m) => [m[1] as string, m[2] as string]),
);
const subpaths = Object.keys(manifest.exports).filter((k) => k !== "./package.json");

describe("@hb/server's entry points", () => {
  it(`the root exports at most ${MAX_ROOT_EXPORTS} names, each listed by name`, () => {
    const root = exportsOf("../src/index.ts");
    expect(root.stars, "no `export *` in the root").toBe(0);
    expect(new Set(root.names).size).toBe(root.names.length);
    expect(root.names.length, root.names.join(", ")).toBeLessThanOrEqual(MAX_ROOT_EXPORTS);
    expect(root.values).toEqual(["HeartbeatServer"]);
  });

  it("@hb/server/auth and @hb/server/bus are types only, and share no name with the root", () => {
    const root = new Set(exportsOf("../src/index.ts").names);
    for (const rel of ["../src/auth.ts", "../src/bus.ts"]) {
      const sub = exportsOf(rel);
      expect(sub.stars, rel).toBe(0);
      expect(sub.names.length, rel).toBeGreaterThan(0);
      expect(sub.values, `${rel} exports types only`).toEqual([]);
      expect(
        sub.names.filter((n) => root.has(n)),
        `${rel} names also exported by the root`,
      ).toEqual([]);
    }
    expect(exportsOf("../src/auth.ts").names).toEqual(expect.arrayContaining(["AuthOptions", "PermissionRule", "AuthenticateHook"]));
    expect(exportsOf("../src/bus.ts").names).toEqual(expect.arrayContaining(["BusLink", "BusEnvelope", "BusHandlers"]));
  });

  it("every subpath of package.json is built by tsup, resolved by tsconfig and vitest, and documented by TypeDoc unless internal", () => {
    const tsconfig = read("../../../tsconfig.json");
    const vitest = read("../../../vitest.config.ts");
    const typedoc = JSON.parse(read("../typedoc.json")) as { entryPoints: string[] };
    expect(subpaths).toEqual(expect.arrayContaining([".", "./auth", "./bus", "./redis", "./memory", "./admin", "./internal"]));
    for (const sub of subpaths) {
      const target = manifest.exports[sub];
      expect(typeof target, sub).toBe("object");
      const { types, default: js } = target as { types: string; default: string };
      const name = (js.match(/^\.\/dist\/([\w-]+)\.js$/) as RegExpMatchArray)[1] as string;
      expect(types, sub).toBe(`./dist/${name}.d.ts`);
      const source = tsupEntries[name];
      expect(source, `tsup entry for ${sub}`).toBeDefined();
      if (sub === ".") continue;
      const specifier = `@hb/server${sub.slice(1)}`;
      expect(tsconfig, `tsconfig paths: ${specifier}`).toContain(`"${specifier}": [\n        "packages/server/${source}"`);
      expect(vitest, `vitest alias: ${specifier}`).toContain(`@hb\\/server\\/${sub.slice(2)}$/, replacement: file("server/${source}")`);
      if (sub !== "./internal") expect(typedoc.entryPoints, `TypeDoc entry point for ${sub}`).toContain(source);
    }
  });
});
