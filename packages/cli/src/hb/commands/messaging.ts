import type { HeartbeatClient } from "@hb/client";
import { parseDuration } from "../../config/parse-duration.js";
import { clock } from "../format.js";

/** Reads standard input to the end (the payload when none is given and stdin is not a terminal). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** `hb pub SUBJECT PAYLOAD`: publishes `count` times (`{{n}}` in the payload becomes the message number). */
export async function pubCommand(client: HeartbeatClient, subject: string, payload: string, opts: { count?: string }, out: (t: string) => void): Promise<void> {
  const count = positive(opts.count ?? "1", "--count");
  for (let i = 1; i <= count; i++) await client.publish(subject, payload.replaceAll("{{n}}", String(i)));
  out(`published ${count} message${count === 1 ? "" : "s"} to ${subject}`);
}

/** `hb sub SUBJECT`: prints messages until `count` arrived, or Ctrl-C. */
export async function subCommand(
  client: HeartbeatClient,
  subject: string,
  opts: { count?: string; json?: boolean },
  out: (t: string) => void,
  signal: AbortSignal,
): Promise<void> {
  const max = opts.count === undefined ? Number.POSITIVE_INFINITY : positive(opts.count, "--count");
  const sub = client.subscribe(subject, { signal });
  await sub.ready;
  process.stderr.write(`subscribed to ${subject}\n`);
  let n = 0;
  try {
    for await (const m of sub) {
      n++;
      if (opts.json) out(JSON.stringify({ subject: m.subject, from: m.from, payload: m.text() }));
      else out(`[#${n}] ${clock(Date.now())} ${m.subject} from ${m.from || "(server)"}: ${m.text()}`);
      if (n >= max) break;
    }
  } catch (err) {
    if (!signal.aborted) throw err;
  }
}

/** `hb req SUBJECT PAYLOAD` (or `--node ID`): one request, prints the reply. */
export async function reqCommand(
  client: HeartbeatClient,
  target: string,
  payload: string,
  opts: { node?: boolean; timeout?: string },
  out: (t: string) => void,
): Promise<void> {
  const timeout = parseDuration(opts.timeout ?? "5s");
  if (timeout === undefined || timeout <= 0) throw new Error(`--timeout must be a duration such as 5s, got "${opts.timeout}"`);
  const started = performance.now();
  const reply = await client.request(opts.node ? { node: target } : { subject: target }, payload, { timeout });
  out(`reply from ${reply.from} in ${(performance.now() - started).toFixed(1)} ms: ${reply.text()}`);
}

/** `hb send NODE PAYLOAD`: one direct message. */
export async function sendCommand(client: HeartbeatClient, nodeId: string, payload: string, out: (t: string) => void): Promise<void> {
  await client.send(nodeId, payload);
  out(`sent to ${nodeId}`);
}

function positive(text: string, name: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got "${text}"`);
  return n;
}
