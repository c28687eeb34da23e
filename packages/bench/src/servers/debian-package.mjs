// Installs a Debian package when its binary is missing (bench:peers runs
// from a fresh clone): `apt-get install`, through sudo unless root.
import { execFileSync, spawnSync } from "node:child_process";

const has = (binary) => spawnSync("sh", ["-c", `command -v ${binary}`], { stdio: "ignore" }).status === 0;

/** Makes `binary` available, installing Debian package `pkg` if needed; returns its path. */
export function ensureDebianPackage(pkg, binary) {
  if (!has(binary)) {
    console.error(`bench: ${binary} not found, installing the Debian package ${pkg} (apt-get)…`);
    const sudo = process.getuid?.() === 0 ? [] : ["sudo"];
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    execFileSync(sudo[0] ?? "apt-get", [...(sudo.length ? ["apt-get"] : []), "update", "-q"], { stdio: "inherit", env });
    execFileSync(sudo[0] ?? "apt-get", [...(sudo.length ? ["apt-get"] : []), "install", "-y", "-q", "--no-install-recommends", pkg], { stdio: "inherit", env });
  }
  return execFileSync("sh", ["-c", `command -v ${binary}`], { encoding: "utf8" }).trim();
}
