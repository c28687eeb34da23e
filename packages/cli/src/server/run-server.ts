import { type HeartbeatServerEvents, HeartbeatServer, type NodeEvent } from "@hb/server";
import { AdminServer } from "@hb/server/admin";
import { RedisBus } from "@hb/server/redis";
import { ConfigError } from "../config/config-error.js";
import { type CliConfig, type ConfigSources, resolveConfig } from "../config/resolve-config.js";
import { createLogger } from "./create-logger.js";
import { type DemoFleet, startDemoFleet } from "./demo-fleet.js";
import { reloadConfig } from "./reload-config.js";

const PRESENCE = ["nodeJoined", "nodeLeft", "nodeSuspect", "nodeRecovered", "nodeTimeout"] as const satisfies readonly (keyof HeartbeatServerEvents)[];

/**
 * Runs hb-server until SIGTERM or SIGINT: the node port, the admin endpoint
 * (when enabled), the Redis bus (when `redis.url` is set) and the demo
 * fleet (when `demo`). SIGTERM / SIGINT drain: `/readyz` turns 503, every
 * node gets GoAway and `closeTimeout` to leave, then the process exits 0 (a
 * second signal exits at once with 1). SIGHUP re-reads the config sources
 * and applies what can change live, logging what it did.
 *
 * @returns when the server has stopped
 */
export async function runServer(config: CliConfig, sources: ConfigSources, version: string): Promise<void> {
  const logger = createLogger(config.log.level, config.log.format);
  const bus = config.redis === undefined ? undefined : new RedisBus({ ...config.redis, logger });
  const server = new HeartbeatServer({ ...config.server, logger, ...(bus === undefined ? {} : { bus }) });
  const admin = config.admin === undefined ? undefined : new AdminServer(server, { ...config.admin, version });
  let demo: DemoFleet | undefined;
  let running = config;
  let stopping = false;

  const stop = async (signal: string): Promise<void> => {
    if (stopping) {
      logger.warn({ signal }, "second signal while draining: exiting now");
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal, closeTimeout: server.options.closeTimeout }, "draining: GoAway to every node");
    admin?.markDraining();
    await demo?.stop();
    await server.close();
    await admin?.close();
    logger.info({}, "hb-server stopped");
  };
  const stopped = new Promise<void>((resolve) => {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      process.on(signal, () => {
        stop(signal).then(resolve, (err: unknown) => {
          logger.error({ err }, "shutdown failed");
          process.exitCode = 1;
          resolve();
        });
      });
    }
  });
  process.on("SIGHUP", () => {
    if (stopping) return;
    let next: CliConfig;
    try {
      next = resolveConfig(sources);
    } catch (err) {
      const message = err instanceof ConfigError ? err.message : String(err);
      logger.error({ error: message }, "SIGHUP: reload failed, keeping the running configuration");
      return;
    }
    const { applied, needsRestart } = reloadConfig(running, next, server, logger);
    // Settings that need a restart keep their running value, so that the next reload reports them again.
    const entries = new Map(next.entries);
    for (const path of needsRestart) {
      const old = running.entries.get(path);
      if (old === undefined) entries.delete(path);
      else entries.set(path, old);
    }
    running = { ...running, entries, server: { ...running.server, auth: next.server.auth, permissions: next.server.permissions }, log: { ...running.log, level: next.log.level } };
    // Certificates are re-read on every SIGHUP (rotated in place, same paths).
    const tls = next.server.tls;
    if (tls !== undefined && running.server.tls !== undefined) {
      server.reloadTls(tls).then(
        () => logger.info({ cert: next.entries.get("tls.cert")?.value }, "SIGHUP: TLS certificate and key reloaded"),
        (err: unknown) => logger.error({ error: err instanceof Error ? err.message : String(err) }, "SIGHUP: TLS reload failed, keeping the running certificate"),
      );
    }
    const what = Object.keys(applied).length === 0 ? "nothing to apply" : "applied live";
    logger.info({ file: sources.file, applied, needsRestart }, `SIGHUP: configuration reloaded: ${what}${needsRestart.length > 0 ? `; needs a restart: ${needsRestart.join(", ")}` : ""}`);
  });

  if (config.demo) {
    for (const name of PRESENCE) {
      server.on(name, (e: NodeEvent) => logger.info({ nodeId: e.nodeId, reason: e.reason, labels: e.labels }, name));
    }
  }
  try {
    const adminAddress = await admin?.listen();
    const address = await server.listen();
    const adminUrl = adminAddress === undefined ? undefined : `http://${urlHost(adminAddress.address)}:${adminAddress.port}/`;
    logger.info(
      {
        version,
        serverId: server.options.serverId,
        host: address.address,
        port: address.port,
        workers: server.options.workerCount,
        adminPort: adminAddress?.port,
        bus: bus?.kind,
        config: sources.file,
      },
      "hb-server ready",
    );
    if (adminUrl !== undefined) {
      logger.info({ url: adminUrl, metrics: `${adminUrl}metrics` }, admin?.options.dashboard ? `dashboard: ${adminUrl}` : `admin: ${adminUrl}`);
    }
    if (config.demo) demo = await startDemoFleet(connectHost(address.address), address.port, logger);
  } catch (err) {
    logger.error({ err }, "hb-server could not start");
    await admin?.close();
    await server.close();
    process.exitCode = 1;
    return;
  }
  await stopped;
}

// The address to reach a listener bound to every interface.
function connectHost(address: string): string {
  if (address === "0.0.0.0") return "127.0.0.1";
  if (address === "::") return "::1";
  return address;
}

function urlHost(address: string): string {
  const host = connectHost(address);
  return host.includes(":") ? `[${host}]` : host;
}
