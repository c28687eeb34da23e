/**
 * Why this process cannot give each worker its own listening socket with
 * `SO_REUSEPORT` (`net` `listen({ reusePort: true })`), or `undefined` when
 * it can: Linux (where the kernel spreads new connections over the sockets
 * sharing a port) and Node.js ≥ 22.12 (or ≥ 23.1), which added the option.
 * Elsewhere a multi-process server falls back to `node:cluster`'s
 * round-robin, and says so in its log.
 */
export function reusePortUnsupported(): string | undefined {
  if (process.platform !== "linux") {
    return `SO_REUSEPORT balances connections over processes only on Linux (this is ${process.platform})`;
  }
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  if (major < 22 || (major === 22 && minor < 12) || (major === 23 && minor < 1)) {
    return `listen({ reusePort }) needs Node.js >= 22.12 (this is ${process.versions.node})`;
  }
  return undefined;
}
